"""The ``auth-flows-lab`` console script, run as installed (next to sys.executable) against a running sandbox."""
from __future__ import annotations

import io
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests

from helpers import flows
from helpers.cli import app, text
from helpers.config import target_from_sandbox
from helpers.doctor import CHECKS, Diagnosis, Finding
from helpers.sandbox import __main__ as sandbox_main
from helpers.tokens import decode_parts
from helpers.tokens import explain as explain_claims
from helpers.verify import REASONS, TokenRejected

SCRIPT = Path(sys.executable).with_name("auth-flows-lab")
PASSWORD = "cli-sandbox-pass"
# 8base's answer when no user has the token's email, exactly as a developer posted it
SEED_USER_ABSENT = {"data": {"user": None}, "errors": [{
    "message": "User is absent", "locations": [{"line": 1, "column": 3}], "path": ["user"],
    "code": "UserNotFoundError", "details": {"user": "User is absent"}}]}


def cli(*args: str, input: str | None = None, env: dict[str, str] | None = None,
        stdin: int | None = None) -> subprocess.CompletedProcess:
    """The installed script with these arguments; stdout and stderr as text."""
    assert SCRIPT.exists(), f"{SCRIPT} is missing: pip install -e . (pyproject.toml [project.scripts])"
    return subprocess.run([str(SCRIPT), *args], input=input, stdin=stdin, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def one_error_line(result: subprocess.CompletedProcess, status: int) -> str:
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("auth-flows-lab: error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def ada(sandbox) -> str:
    return flows.password_realm(target_from_sandbox(sandbox), "ada@example.com", "ada-sandbox-pass").id_token


@pytest.fixture(scope="module")
def newcomer(sandbox) -> str:
    """The ID token of a user who logged in at the identity provider but never signed up in the API."""
    email = f"cli-{secrets.token_hex(4)}@example.com"
    target = target_from_sandbox(sandbox)
    flows.sign_up(target, email, PASSWORD)
    return flows.password_realm(target, email, PASSWORD).id_token


def test_the_script_is_declared_and_installed_by_the_make_targets():
    root = Path(__file__).resolve().parents[1]
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"auth-flows-lab": "helpers.cli:main"}
    assert "-e ." in (root / "requirements.txt").read_text().splitlines()
    stamp = next(line for line in (root / "Makefile").read_text().splitlines() if line.startswith("$(STAMP):"))
    assert "pyproject.toml" in stamp.split(":", 1)[1]  # an existing .venv picks up a new script
    assert cli("--help").returncode == 0


# ------------------------------------------------------------------ decode
def test_decode_reads_stdin_and_explains_each_claim(ada):
    result = cli("decode", "-", input=ada + "\n")
    assert result.returncode == 0 and result.stderr == ""
    out = result.stdout
    assert "looks like an ID token" in out and "NOT verified" in out
    for claim in decode_parts(ada).payload:
        assert f"\n  {claim} " in out
    assert "Issuer: who made the token" in out and " UTC (in " in out  # meanings, readable times
    assert ada not in out and text.shorten(ada) in out and ada[:12] + "…" in out


def test_decode_json_before_or_after_the_command(ada):
    for args, given in ((("decode", "--json", "-"), ada), (("--json", "decode", "-"), f"Bearer {ada}\n")):
        result = cli(*args, input=given)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["header"]["alg"] == "RS256" and data["payload"]["email"] == "ada@example.com"
        exp = next(row for row in data["claims"] if row["claim"] == "exp")
        assert exp["readable"].endswith(")") and "UTC" in exp["readable"] and exp["meaning"]


def test_a_bad_token_is_one_line_and_no_traceback():
    for args, given in ((("decode", "not.a.jwt"), None), (("decode", "-"), "\x00\xff garbage"),
                        (("decode", "--json", "-"), "a.b.c")):
        line = one_error_line(cli(*args, input=given), 1)
        assert "not a JWT" in line


def test_a_token_argument_works_and_a_terminal_hears_why_stdin_is_better(ada):
    piped = cli("decode", ada, input="")
    assert piped.returncode == 0 and piped.stderr == ""  # a script's stdin is no terminal: no note
    main, terminal = os.openpty()
    try:
        typed = cli("decode", ada, stdin=terminal)
        mistyped = cli("decode", "not-a-token", stdin=terminal)
    finally:
        os.close(main), os.close(terminal)
    assert typed.returncode == 0 and "looks like an ID token" in typed.stdout
    assert "shell history" in typed.stderr and "decode -" in typed.stderr and ada not in typed.stderr
    assert "not a JWT" in one_error_line(mistyped, 1)  # an error stays one line: no note before it


def test_a_token_pasted_at_a_terminal_is_not_echoed(ada):
    main, terminal = os.openpty()
    try:
        process = subprocess.Popen([str(SCRIPT), "decode", "-"], stdin=terminal, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        prompt = process.stderr.readline()  # printed once echo is off
        assert "not shown" in prompt and "shell history" in prompt
        os.write(main, ada.encode() + b"\n")
        out, _ = process.communicate(timeout=60)
        echoed = b""
        while select.select([main], [], [], 0.2)[0]:
            echoed += os.read(main, 65536)
    finally:
        os.close(main), os.close(terminal)
    assert process.returncode == 0 and "looks like an ID token" in out and ada not in out
    assert ada[:40].encode() not in echoed


# ------------------------------------------------------------------ usage
@pytest.mark.parametrize("args, given, says", [
    ((), None, "required"),
    (("decode",), None, "TOKEN|-"),
    (("doctor", "--token", "-"), "x.y.z", "--endpoint"),
    (("doctor", "--token", "-", "--api-token", "-", "--endpoint", "http://localhost:1/"), "x", "only one"),
    (("decode", "-"), "  \n", "no token was given on stdin"),
    (("verify", "-", "--issuer", "http://localhost:1/"), "x", "--audience"),
    (("sandbox", "--idp-port", "70000"), None, "between 0 and 65535"),
])
def test_bad_usage_exits_2_with_one_line(args, given, says):
    assert says in one_error_line(cli(*args, input=given), 2)


# ------------------------------------------------------------------ verify
@pytest.mark.slow  # six runs of the command: ~10-13 s
def test_verify_with_keys_from_discovery(sandbox, ada):
    issuer, client = sandbox.idp_url, sandbox.web_client_id
    valid = cli("verify", "-", "--issuer", issuer, "--audience", client, input=ada)
    assert valid.returncode == 0 and valid.stdout.startswith("Valid") and "ada@example.com" in valid.stdout
    assert json.loads(cli("verify", "-", "--json", "--issuer", issuer, "--audience", client, input=ada).stdout) \
        ["claims"]["email"] == "ada@example.com"

    other = cli("verify", "-", "--issuer", issuer, "--audience", "someone-else", input=ada)
    assert other.returncode == 1 and other.stdout.startswith("Refused (bad_audience, claim aud)")
    assert "api-token-wrong-audience" in other.stdout and "fix:" in other.stdout
    refusal = json.loads(cli("--json", "verify", "-", "--issuer", issuer, "--audience", "x", input=ada).stdout)
    assert (refusal["valid"], refusal["code"], refusal["catalog"]["id"]) == (False, "bad_audience",
                                                                             "api-token-wrong-audience")

    no_slash = cli("verify", "-", "--issuer", issuer.rstrip("/"), "--audience", client, input=ada)
    assert no_slash.returncode == 1 and "key_unavailable" in no_slash.stdout
    assert "trailing slash" in no_slash.stdout and "api-jwks-unavailable" in no_slash.stdout

    tampered = cli("verify", "-", "--issuer", issuer, "--audience", client, input=ada[:-6] + "AAAAAA")
    assert tampered.returncode == 1 and "bad_signature" in tampered.stdout and "Traceback" not in tampered.stderr


def test_an_expired_token_is_refused_and_diagnosed(sandbox):
    sandbox.clock.advance(-11 * 3600)  # issued 11 hours ago: its 10 hours are over by the real clock
    old = flows.password_realm(target_from_sandbox(sandbox), "ada@example.com", "ada-sandbox-pass").id_token
    sandbox.clock.reset()
    refused = cli("--json", "verify", "-", "--issuer", sandbox.idp_url, "--audience", sandbox.web_client_id,
                  input=old)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["catalog"]["id"] == "client-token-expired"
    diagnosed = cli("doctor", "--token", "-", "--endpoint", sandbox.api_url, input=old)
    assert diagnosed.returncode == 1 and "Cause (expiry)" in diagnosed.stdout and old not in diagnosed.stdout


def test_every_refusal_finds_its_catalog_entry_or_says_none():
    found = {code: app.refusal_entry(TokenRejected(code)) for code in REASONS}
    assert found["key_unavailable"].id == "api-jwks-unavailable" and found["expired"].code == "expired"
    for code, entry in found.items():
        if entry is not None and entry.code == "InvalidTokenError":
            assert entry.details["token"].rstrip(".") == REASONS[code].rstrip(".")


# ------------------------------------------------------------------ doctor
def test_doctor_diagnoses_user_is_absent(sandbox, newcomer):
    admin = {app.API_TOKEN_ENV: sandbox.api_token}
    result = cli("doctor", "--token", "-", "--endpoint", sandbox.api_url, input=newcomer, env=admin)
    assert result.returncode == 1, result.stderr
    assert "Cause (signed_up): Never signed up in this environment." in result.stdout
    assert "userSignUpWithToken" in result.stdout
    assert newcomer not in result.stdout and sandbox.api_token not in result.stdout + result.stderr

    data = json.loads(cli("doctor", "--json", "--token", "-", "--endpoint", sandbox.api_url,
                          "--workspace", sandbox.api_url + "_dev", input=newcomer, env=admin).stdout)
    assert (data["works"], data["cause"]["check"]) == (False, "signed_up")
    assert [f["check"] for f in data["findings"]] == list(CHECKS)
    assert next(f for f in data["findings"] if f["check"] == "environment")["status"] == "ok"

    alone = cli("doctor", "--token", "-", "--endpoint", sandbox.api_url, input=newcomer,
                env={app.API_TOKEN_ENV: ""})  # without an admin token: the API's answer is the cause
    assert alone.returncode == 1 and "Cause (api_answer): UserNotFoundError: User is absent" in alone.stdout
    assert "api-user-absent" in alone.stdout


def test_doctor_exits_0_when_the_call_works(sandbox, ada):
    result = cli("doctor", "--token", "-", "--endpoint", sandbox.api_url, "--api-token", sandbox.api_token,
                 input=ada)
    assert result.returncode == 0 and "The call works" in result.stdout
    assert sandbox.api_token not in result.stdout
    unreachable = cli("--json", "doctor", "--token", "-", "--endpoint", "http://localhost:1/x", input=ada)
    assert unreachable.returncode == 1 and json.loads(unreachable.stdout)["works"] is False


# ------------------------------------------------------------------ explain
@pytest.mark.slow  # four runs of the command: ~5-6 s
def test_explain_knows_user_is_absent_in_both_shapes(sandbox, newcomer):
    live = requests.post(sandbox.api_url, json={"query": "{ user { id } }"}, timeout=10,
                         headers={"Authorization": f"Bearer {newcomer}"}).text
    assert json.loads(live)["errors"][0]["code"] == "UserNotFoundError"
    for body in (live, json.dumps(SEED_USER_ABSENT), json.dumps(SEED_USER_ABSENT["errors"])):
        result = cli("explain", "-", input=body)
        assert result.returncode == 0 and result.stdout.startswith("api-user-absent "), result.stderr
    assert json.loads(cli("explain", "--json", json.dumps(SEED_USER_ABSENT)).stdout)["entry"]["id"] == \
        "api-user-absent"


def test_explain_an_oauth_body_and_what_it_cannot(sandbox):
    answer = requests.post(sandbox.idp_url + "oauth/token", timeout=10, json={
        "grant_type": flows.PASSWORD_REALM_GRANT, "client_id": sandbox.web_client_id,
        "client_secret": sandbox.web_client_secret, "username": "ada@example.com", "password": "wrong",
        "realm": sandbox.connection, "scope": "openid"})
    result = cli("explain", "-", "--json", input=answer.text)
    assert result.returncode == 0 and json.loads(result.stdout)["entry"]["code"] == answer.json()["error"]
    assert "no catalog entry" in one_error_line(cli("explain", '{"error": "no_such_code_anywhere"}'), 1)
    assert "not JSON" in one_error_line(cli("explain", "-", input="<html>oops</html>"), 1)


# ------------------------------------------------------------------ sandbox
def test_sandbox_is_python_m_helpers_sandbox(tmp_path, sandbox):
    process = subprocess.Popen([str(SCRIPT), "sandbox", "--data-dir", str(tmp_path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        facts = json.loads(process.stdout.readline())
        assert set(facts) == set(sandbox.info()) and facts["data_dir"] == str(tmp_path)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "Sandbox stopped." in err
    ours = cli("sandbox", "--help").stdout
    for option in (a.option_strings[0] for a in _sandbox_parser()._actions if a.option_strings):
        assert option in ours


def _sandbox_parser():
    import argparse
    parser = argparse.ArgumentParser()
    sandbox_main.add_arguments(parser)
    return parser


# ------------------------------------------------------------------ the pure parts, directly
def test_shorten_and_redact():
    token = "eyJhbGciOiJSUzI1NiJ9." + "x" * 300 + ".sig"
    assert text.shorten(token) == f"eyJhbGciOiJS… ({len(token)} chars)"
    assert text.shorten("abcdefgh") == "ab… (8 chars)"  # a quarter at most of a short secret
    said = text.redact(f"Bearer {token} and secret-value-1", [token, "secret-value-1", None, "short"])
    assert token not in said and "secret-value-1" not in said and "sec… (14 chars)" in said


def test_an_unexpected_failure_is_one_line_with_the_token_shortened(monkeypatch):
    token = "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"
    monkeypatch.setattr(app, "decode_parts", lambda value: (_ for _ in ()).throw(RuntimeError(f"boom {value}\nmore")))
    out, err = io.StringIO(), io.StringIO()
    assert app.main(["decode", "-"], stdin=io.StringIO(token), stdout=out, stderr=err) == 1
    assert err.getvalue().count("\n") == 1 and "unexpected RuntimeError: boom" in err.getvalue()
    assert token not in err.getvalue() and out.getvalue() == ""


def _diagnosis(**statuses: str) -> Diagnosis:
    return Diagnosis("http://api.example/ws", [Finding(c, f"title {c}", statuses.get(c, "ok"), f"evidence {c}",
                                                       f"fix {c}") for c in CHECKS])


def test_diagnosis_text_and_status():
    assert text.doctor_status(_diagnosis()) == 0 and "The call works" in text.diagnosis_text(_diagnosis())
    absent = _diagnosis(signed_up="problem", roles="skipped", api_answer="problem")
    assert text.doctor_status(absent) == 1
    assert "Cause (signed_up): title signed_up." in text.diagnosis_text(absent)
    assert text.diagnosis(absent)["cause"]["fix"] == "fix signed_up"
    unknown = _diagnosis(api_answer="unknown")
    assert text.doctor_status(unknown) == 1 and "evidence api_answer fix api_answer" in text.diagnosis_text(unknown)


def test_decoded_text_lists_every_claim(ada):
    parts = decode_parts(ada)
    shown = text.decoded_text(parts, "ID token", explain_claims(ada, now=0))
    assert all(f"  {name} " in shown for name in [*parts.header, *parts.payload])
    assert shown.startswith(text.shorten(ada) + ": looks like an ID token") and ada not in shown
