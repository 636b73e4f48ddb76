"""``python -m helpers.sandbox``: run the sandbox in the foreground.

The first line on stdout is one JSON object (``idp_url``, ``api_url``, ``spa_client_id``,
``m2m_client_id``, ``m2m_client_secret``, ``api_audience``, ``connection``, ``users``, ...).
Scripts read it; its keys are only ever added to. Ctrl-C or SIGTERM stops the servers.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .common.server import PortInUse
from .idp.seed import DEFAULT_TENANT_FILE, SeedError
from .runner import start_sandbox


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox's flags, shared by ``python -m helpers.sandbox`` and ``auth-flows-lab sandbox``."""
    parser.add_argument("--idp-port", type=int, default=0, help="identity provider port (0 = any free port)")
    parser.add_argument("--api-port", type=int, default=0, help="GraphQL API port (0 = any free port)")
    parser.add_argument("--app-port", type=int, default=0, help="sample single-page app port (0 = any free port)")
    parser.add_argument("--seed", default=str(DEFAULT_TENANT_FILE), help="identity provider seed file (JSON)")
    parser.add_argument("--data-dir", default=None,
                        help="keep the GraphQL API's databases in this folder (default: a temporary folder)")
    parser.add_argument("--trust-issuer", default=None, metavar="URL",
                        help="let the GraphQL API trust the ID tokens of this OpenID Connect issuer (exactly as its "
                             "discovery document spells it) through an Authentication Profile of its own")
    parser.add_argument("--trust-client-id", default=None, metavar="ID",
                        help="the client id those ID tokens are issued to (their aud); needed with --trust-issuer")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.sandbox", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Start the sandbox from parsed :func:`add_arguments` flags, print the JSON line, serve until stopped."""
    if (args.trust_issuer is None) != (args.trust_client_id is None):
        parser.error("--trust-issuer and --trust-client-id go together")
    if args.trust_issuer is not None and not args.trust_issuer.startswith(("https://", "http://")):
        parser.error("--trust-issuer must be the issuer URL, such as https://login.example.com/realms/lab")
    for name in ("idp_port", "api_port", "app_port"):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error(f"--{name.replace('_', '-')} must be between 0 and 65535")

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        sandbox = start_sandbox(idp_port=args.idp_port, api_port=args.api_port, seed_path=args.seed, quiet=False,
                                data_dir=args.data_dir, app_port=args.app_port, trust_issuer=args.trust_issuer,
                                trust_client_id=args.trust_client_id)
    except (PortInUse, SeedError, OSError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(sandbox.info()), flush=True)
    print(f"Sandbox identity provider on {sandbox.idp_url}, GraphQL API on {sandbox.api_url}, sample app on "
          f"{sandbox.sample_app_url}. Ctrl-C stops them.",
          file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        if not sandbox.running:
            print("sandbox: a server stopped unexpectedly", file=sys.stderr)
            return 1
    sandbox.stop()
    print("Sandbox stopped.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
