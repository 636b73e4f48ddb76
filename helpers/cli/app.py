"""``auth-flows-lab``: the token tools and the doctor in a terminal or in CI (argparse; see README "Command line").

Each subcommand reads its input, calls the helpers the lessons use (nothing is written again here) and
prints through :mod:`helpers.cli.text`. Exit status: 0 it works, 1 it does not (refused, not a JWT, a
cause found, no catalog entry), 2 bad usage. Every error is one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Callable, NoReturn, TextIO

from . import text
from ..catalog import CatalogEntry, UnknownError, entries, explain
from ..doctor import diagnose
from ..exceptions import CliError
from ..jwks import JwksCache, discovered_jwks_uri
from ..sandbox import __main__ as sandbox_main
from ..tokens import NotAJwt, decode_parts, kind_of
from ..tokens import explain as explain_claims
from ..verify import Expectations, KeySourceUnavailable, TokenRejected, verify_token

PROG = "auth-flows-lab"
API_TOKEN_ENV = "AUTH_FLOWS_LAB_API_TOKEN"
MAX_INPUT = 1_000_000  # characters read from stdin at most
# Refusals the API reports under another code than InvalidTokenError: verifier code -> catalog id
API_ROW_OF = {"key_unavailable": "api-jwks-unavailable"}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see `{self.prog} --help`)", text.USAGE)


class Io:
    """Where a command reads and writes, and the secrets it was given (shortened in human output)."""

    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO, as_json: bool) -> None:
        self.stdin, self.stdout, self.stderr, self.as_json = stdin, stdout, stderr, as_json
        self.secrets: list[str] = []
        self.stdin_used = False
        self.later: list[str] = []  # notes printed after the result (an error stays one line)

    def note(self, line: str) -> None:
        print(text.redact(line, self.secrets), file=self.stderr, flush=True)

    def result(self, data: dict[str, Any], human: str) -> None:
        """Print the JSON line (``--json``) or the human text, secrets shortened."""
        print(text.dumps(data) if self.as_json else text.redact(human, self.secrets), file=self.stdout, flush=True)
        for line in self.later:
            self.note(line)

    def read(self, value: str, what: str, command: str, secret: bool = True) -> str:
        """A value given as an argument, or ``-``: read from stdin (a secret is never echoed on a terminal)."""
        if value == "-":
            if self.stdin_used:
                raise CliError("only one value can be read from stdin (-)", text.USAGE)
            self.stdin_used = True
            got = self._from_stdin(what, secret)
        else:
            got = value
            if secret and _is_terminal(self.stdin):
                self.later.append(text.HISTORY_NOTE.format(command=command))
        got = got.strip()
        if secret and got[:7].lower() == "bearer ":  # copied with the Authorization header's scheme
            got = got[7:].strip()
        if not got:
            raise CliError(f"no {what} was given" + (" on stdin" if value == "-" else ""), text.USAGE)
        if secret:
            self.secrets.append(got)
        return got

    def _from_stdin(self, what: str, secret: bool) -> str:
        if not _is_terminal(self.stdin):
            got = self.stdin.read(MAX_INPUT + 1)
            if len(got) > MAX_INPUT:
                raise CliError(f"the {what} on stdin is longer than {MAX_INPUT} characters")
            return got
        if not secret:
            self.note(f"Paste the {what}, then press Ctrl-D on a line of its own:")
            return self.stdin.read(MAX_INPUT)
        return _read_hidden(self.stdin, lambda: self.note(
            f"Paste the {what} and press Enter (it is not shown, and it stays out of your shell history):"))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _read_hidden(stream: TextIO, prompt: Callable[[], None]) -> str:
    """One line from a terminal with echo off (what getpass does, but on this stream, not /dev/tty).

    The prompt comes once echo is off: what is typed after it is neither shown nor flushed."""
    try:
        import termios
        fd = stream.fileno()
        before = termios.tcgetattr(fd)
    except (ImportError, OSError, ValueError):  # not a POSIX terminal (Windows): read it visibly
        prompt()
        return stream.readline()
    quiet = list(before)
    quiet[3] &= ~termios.ECHO
    try:
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
        prompt()
        return stream.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, before)


# ---------------------------------------------------------------------- the subcommands
def decode(args: argparse.Namespace, io: Io) -> int:
    token = io.read(args.token, "token", "decode")
    try:
        parts = decode_parts(token)
    except NotAJwt as exc:
        raise CliError(f"not a JWT: {exc}") from None
    table = explain_claims(token, now=time.time())
    kind = kind_of(token)
    io.result(text.decoded(parts, kind, table), text.decoded_text(parts, kind, table))
    return text.WORKS


def refusal_entry(rejected: TokenRejected) -> CatalogEntry | None:
    """The catalog entry of a refusal: the client-side row of its code, else the API's row for the same
    verifier sentence (the sandbox API runs this very verifier and puts the sentence in ``details.token``)."""
    try:
        return explain(rejected)
    except UnknownError:
        pass
    if rejected.code in API_ROW_OF:
        return next(e for e in entries() if e.id == API_ROW_OF[rejected.code])
    as_api = {"code": "InvalidTokenError", "message": "Invalid token", "details": {"token": rejected.message}}
    try:
        entry = explain(as_api)
    except UnknownError:
        return None
    said = entry.details.get("token", "").rstrip(".")
    return entry if said and said == rejected.message.rstrip(".") else None


def _no_keys(_: str | None) -> Any:
    raise KeySourceUnavailable("no discovery document")


def verify(args: argparse.Namespace, io: Io) -> int:
    token = io.read(args.token, "token", "verify")
    jwks_uri = discovered_jwks_uri(args.issuer)
    keys: Callable[[str | None], Any] = JwksCache(jwks_uri).key_for if jwks_uri else _no_keys
    expect = Expectations(issuer=args.issuer, audience=args.audience, token_use=args.token_use)
    now = time.time()
    try:
        claims = verify_token(token, keys, expect, now=now)
    except TokenRejected as rejected:
        note = "" if jwks_uri or rejected.code != "key_unavailable" else (
            f"No discovery document at {args.issuer.rstrip('/')}/.well-known/openid-configuration names exactly "
            f"this issuer ({args.issuer}) with a jwks_uri; mind the trailing slash (Auth0's issuer ends with /).")
        entry = refusal_entry(rejected)
        io.result(text.refused(rejected, entry) | {"note": note}, text.refused_text(rejected, entry, note))
        return text.CAUSE_FOUND
    io.result(text.verified(claims), text.verified_text(claims, now))
    return text.WORKS


def doctor(args: argparse.Namespace, io: Io) -> int:
    token = io.read(args.token, "token", "doctor --token")
    api_token = (io.read(args.api_token, "API token", "doctor --api-token") if args.api_token
                 else os.environ.get(API_TOKEN_ENV) or None)
    if api_token:
        io.secrets.append(api_token)
    result = diagnose(token, args.endpoint, api_token=api_token, also_check=args.workspace)
    io.result(text.diagnosis(result), text.diagnosis_text(result))
    return text.doctor_status(result)


def explain_error(args: argparse.Namespace, io: Io) -> int:
    body_text = io.read(args.error, "error body", "explain", secret=False)
    try:
        body: Any = json.loads(body_text)
    except ValueError:
        if "error=" not in body_text:
            raise CliError("the error body is not JSON: give the whole GraphQL or OAuth answer "
                           "(or a callback URL with error=...)") from None
        body = body_text  # a callback URL: explain() reads its error parameters
    if isinstance(body, list):  # a GraphQL "errors" array on its own
        body = {"errors": body}
    if not isinstance(body, (dict, str)):
        raise CliError("the error body is JSON but not an object")
    try:
        entry = explain(body)
    except UnknownError as exc:
        raise CliError(f"no catalog entry: {exc}") from None
    io.result({"entry": text.entry_dict(entry)}, str(entry))
    return text.WORKS


def sandbox(args: argparse.Namespace, io: Io) -> int:
    """Exactly ``python -m helpers.sandbox``: its flags, its JSON line first (that line *is* the JSON)."""
    return sandbox_main.run(args, args.parser)


# ---------------------------------------------------------------------- the parser and main
def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="The Auth Flows Lab's token tools and token doctor, for a terminal "
                    "or CI. A token is read from stdin with -; see `auth-flows-lab COMMAND --help`.")
    parser.add_argument("--json", action="store_true", help="print one JSON object, for scripts")
    json_flag = Parser(add_help=False)
    json_flag.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                           help="print one JSON object, for scripts")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    def command(name: str, run: Callable[[argparse.Namespace, Io], int], help_: str) -> Parser:
        sub = commands.add_parser(name, parents=[json_flag], help=help_, description=help_)
        sub.set_defaults(run=run, parser=sub)
        return sub

    token_help = "the token, or - to read it from stdin (- keeps it out of your shell history)"
    sub = command("decode", decode, "Show a token's header and claims, times readable, each claim explained "
                  "(nothing is verified).")
    sub.add_argument("token", metavar="TOKEN|-", help=token_help)

    sub = command("verify", verify, "Verify a token with the one verifier, keys from the issuer's discovery "
                  "document; a refusal prints its catalog entry.")
    sub.add_argument("token", metavar="TOKEN|-", help=token_help)
    sub.add_argument("--issuer", required=True, help="the expected issuer, exactly (Auth0's ends with /)")
    sub.add_argument("--audience", required=True, help="the expected audience (an ID token's: the client id)")
    sub.add_argument("--token-use", choices=("id", "access"), default="id", help="an ID token (default) or an "
                     "access token")

    sub = command("doctor", doctor, "Why does my call fail? The ordered checks, the cause and the fix. Exit 0 "
                  "when the call works, 1 when it does not, 2 for bad usage.")
    sub.add_argument("--token", required=True, metavar="TOKEN|-", help=token_help)
    sub.add_argument("--endpoint", required=True, metavar="URL", help="the GraphQL endpoint the app calls")
    sub.add_argument("--workspace", action="append", default=[], metavar="URL",
                     help="another workspace or environment endpoint where the user may have signed up "
                          "(repeatable; read with the API token)")
    sub.add_argument("--api-token", metavar="TOKEN|-", help=f"an API token with workspace administration, to read "
                     f"the profiles and users (default: ${API_TOKEN_ENV})")

    sub = command("explain", explain_error, "Print the catalog entry of a GraphQL or OAuth error body.")
    sub.add_argument("error", metavar="ERROR_JSON|-", help="the error answer (JSON), or - to read it from stdin")

    sub = command("sandbox", sandbox, "Run the sandbox in the foreground, exactly as `python -m helpers.sandbox`: "
                  "its JSON line first.")
    sandbox_main.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run one subcommand; returns the exit status. Any failure is one line on stderr."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    io = Io(stdin, stdout, stderr, as_json=False)
    try:
        args = build_parser().parse_args(argv)
        io.as_json = args.json
        return args.run(args, io)
    except CliError as exc:
        io.note(f"{PROG}: error: {exc}")
        return exc.status
    except KeyboardInterrupt:
        io.note(f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as tools killed by SIGPIPE do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13
    except Exception as exc:  # the catch-all: a bug is one line too, never a traceback
        first = (str(exc).splitlines() or [""])[0][:200]
        io.note(f"{PROG}: error: unexpected {type(exc).__name__}: {first} (please report this)")
        return text.CAUSE_FOUND
