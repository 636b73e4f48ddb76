"""The token doctor: each known cause of "User is absent" (and of other refusals) is named by the first problem."""
from __future__ import annotations

import json
import secrets
import socket
import sqlite3

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers import flows
from helpers.config import target_from_sandbox
from helpers.doctor import CHECKS, STATUSES, Diagnosis, Finding, diagnose
from helpers.graphql import GraphQLClient, NotAuthorizedError
from helpers.tokens import decode_parts
from helpers.widgets import doctor_widget

SIGN_UP = ("mutation($user: UserCreateInput!) { userSignUpWithToken(user: $user) { id email } }")
OTHER_WORKSPACE = "cl0otherworkspace0000002"
PASSWORD = "doctor-sandbox-pass"
USER_CHECKS = ("email_case", "environment", "workspace", "email_changed", "self_signup", "signed_up")


# ------------------------------------------------------------------ helpers
def person(box, prefix: str, **profile) -> str:
    """A new database user at the sandbox identity provider (not in the API yet); returns the email."""
    email = f"{prefix}-{secrets.token_hex(4)}@example.com"
    flows.sign_up(target_from_sandbox(box), email, PASSWORD, **profile)
    return email


def id_token(box, email: str, scope: str = "openid profile email") -> str:
    return flows.password_realm(target_from_sandbox(box), email, PASSWORD, scope=scope).id_token


def ada(box, **kwargs) -> str:
    return flows.password_realm(target_from_sandbox(box), "ada@example.com", "ada-sandbox-pass", **kwargs).id_token


def sign_up_in_api(url: str, token: str, email: str, **names) -> dict:
    return GraphQLClient(url, token).execute(SIGN_UP, {"user": {"email": email, **names}})["userSignUpWithToken"]


def examine(box, token: str, endpoint: str | None = None, **options) -> Diagnosis:
    """diagnose() as a lesson calls it, plus the promises every diagnosis keeps."""
    options.setdefault("api_token", box.api_token)
    options.setdefault("now", box.clock.now())
    diagnosis = diagnose(token, endpoint or box.api_url, **options)
    assert [f.check for f in diagnosis.findings] == list(CHECKS)
    assert all(f.status in STATUSES and f.title and f.evidence and f.fix for f in diagnosis.findings)
    secrets_ = [token, options.get("api_token")] + [p[1] for p in options.get("also_check", ()) if isinstance(p, tuple)]
    shown = [f.title + f.evidence + f.fix for f in diagnosis.findings] + [diagnosis._repr_html_(), repr(diagnosis),
                                                                          diagnosis.table().to_string()]
    for secret in filter(None, secrets_):
        assert not any(secret in text for text in shown), "a finding repeats a token"
    return diagnosis


def cause(diagnosis: Diagnosis) -> str | None:
    return diagnosis.first_problem.check if diagnosis.first_problem else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the shape
def test_a_healthy_token_has_no_problem(sandbox):
    diagnosis = examine(sandbox, ada(sandbox), also_check=[sandbox.api_url + "_dev"])
    assert diagnosis.first_problem is None
    assert {f.status for f in diagnosis.findings} == {"ok"}
    table = diagnosis.table()
    assert list(table.columns) == ["check", "status", "evidence", "fix"] and list(table["check"]) == list(CHECKS)
    assert "No check found a problem" in diagnosis._repr_html_() and "<table" in diagnosis._repr_html_()
    assert "data for user" in diagnosis.finding("roles").evidence


def test_findings_are_validated_records():
    with pytest.raises(ValueError):
        Finding("jwt", "A JWT", "fine", "evidence", "fix")
    with pytest.raises(KeyError):
        Diagnosis("http://x/", []).finding("jwt")
    assert Diagnosis("http://x/", []).first_problem is None


# ------------------------------------------------------------------ every cause of "User is absent"
def test_never_signed_up(sandbox):
    email = person(sandbox, "never")
    diagnosis = examine(sandbox, id_token(sandbox, email), also_check=[sandbox.api_url + "_dev"])
    assert cause(diagnosis) == "signed_up"
    assert diagnosis.finding("environment").status == "ok"  # looked in dev: not there either
    assert diagnosis.finding("self_signup").status == "ok"
    assert "userSignUpWithToken" in diagnosis.first_problem.fix
    assert diagnosis.finding("roles").status == "skipped"
    answer = diagnosis.finding("api_answer")
    assert answer.status == "problem" and "UserNotFoundError" in answer.evidence
    assert "api-user-absent" in answer.evidence


def test_scope_without_email(sandbox):
    diagnosis = examine(sandbox, ada(sandbox, scope="openid profile"))
    assert cause(diagnosis) == "email_claim"
    assert "scope" in diagnosis.first_problem.title and "email" in diagnosis.first_problem.fix
    assert all(diagnosis.finding(c).status == "skipped" for c in USER_CHECKS)


def test_email_changed_on_one_side_same_name(sandbox):
    family = "Changed" + secrets.token_hex(3)
    email = person(sandbox, "renamed", given_name="Doc", family_name=family)
    token = id_token(sandbox, email)
    user = sign_up_in_api(sandbox.api_url, token, email, firstName="Doc", lastName=family)
    sandbox.api.database(sandbox.workspace_id).update_user(user["id"], email=f"old-{secrets.token_hex(4)}@example.org")
    diagnosis = examine(sandbox, token)
    assert cause(diagnosis) == "email_changed"
    assert "same name" in diagnosis.first_problem.evidence and user["id"] in diagnosis.first_problem.evidence
    assert diagnosis.finding("signed_up").status == "skipped"


def test_email_changed_on_one_side_same_local_part(sandbox):
    email = person(sandbox, "moved")
    token = id_token(sandbox, email)
    user = sign_up_in_api(sandbox.api_url, token, email)
    sandbox.api.database(sandbox.workspace_id).update_user(user["id"], email=email.replace("@example.com", "@old.test"))
    diagnosis = examine(sandbox, token)
    assert cause(diagnosis) == "email_changed" and "local part" in diagnosis.first_problem.evidence


def test_email_case(own_sandbox):
    email = person(own_sandbox, "case")
    token = id_token(own_sandbox, email)
    user = sign_up_in_api(own_sandbox.api_url, token, email)
    stored = email[0].upper() + email[1:]
    own_sandbox.api.database(own_sandbox.workspace_id).update_user(user["id"], email=stored)
    diagnosis = examine(own_sandbox, token)
    assert cause(diagnosis) == "email_case" and stored in diagnosis.first_problem.evidence
    assert all(diagnosis.finding(c).status == "skipped" for c in USER_CHECKS[1:])

    own_sandbox.api.configure(email_case_sensitive=False)  # an API that matches emails case-insensitively
    tolerant = examine(own_sandbox, token)
    assert tolerant.first_problem is None and tolerant.finding("email_case").status == "warning"


def test_wrong_workspace(own_sandbox):
    other_url = own_sandbox.api_host + OTHER_WORKSPACE
    email = person(own_sandbox, "elsewhere")
    token = id_token(own_sandbox, email)
    sign_up_in_api(other_url, token, email)

    # the same api_token is not valid in another workspace: the doctor says what it could not see
    blind = examine(own_sandbox, token, also_check=[other_url])
    assert blind.finding("workspace").status == "unknown" and "not valid" in blind.finding("workspace").evidence
    assert cause(blind) == "signed_up" and "other workspaces" in blind.first_problem.evidence

    _, other_admin = own_sandbox.api.database(OTHER_WORKSPACE).create_api_token("doctor", ["Administrator"])
    diagnosis = examine(own_sandbox, token, also_check=[(other_url, other_admin)])
    assert cause(diagnosis) == "workspace" and OTHER_WORKSPACE in diagnosis.first_problem.evidence
    assert other_url in diagnosis.first_problem.fix


def test_wrong_environment(sandbox):
    dev_url = sandbox.api_url + "_dev"
    email = person(sandbox, "branch")
    token = id_token(sandbox, email)
    sign_up_in_api(dev_url, token, email)
    diagnosis = examine(sandbox, token, also_check=[dev_url, sandbox.api_host + OTHER_WORKSPACE])
    assert cause(diagnosis) == "environment"
    assert "environment dev" in diagnosis.first_problem.evidence and dev_url in diagnosis.first_problem.fix
    # the other way round: the app talks to dev, the user signed up in Master
    assert cause(examine(sandbox, ada(sandbox), endpoint=dev_url, also_check=[sandbox.api_url])) == "environment"


def test_sign_up_refused_by_self_sign_up(own_sandbox):
    db = own_sandbox.api.database(own_sandbox.workspace_id)
    db.set_self_signup(own_sandbox.auth_profile_id, "off")
    email = person(own_sandbox, "refused")
    token = id_token(own_sandbox, email)
    with pytest.raises(NotAuthorizedError):  # the app's sign-up call fails, and the app swallows the error
        sign_up_in_api(own_sandbox.api_url, token, email)
    diagnosis = examine(own_sandbox, token)
    assert cause(diagnosis) == "self_signup" and "selfSignUpEnabled false" in diagnosis.first_problem.evidence
    assert diagnosis.finding("signed_up").status == "skipped"

    db.set_self_signup(own_sandbox.auth_profile_id, "domains", ("company.test",))
    restricted = examine(own_sandbox, token)
    assert cause(restricted) == "self_signup" and "company.test" in restricted.first_problem.evidence

    db.set_self_signup(own_sandbox.auth_profile_id, "open")
    assert cause(examine(own_sandbox, token)) == "signed_up"


def test_access_token_instead_of_the_id_token(sandbox):
    target = target_from_sandbox(sandbox)
    tokens = flows.password_realm(target, "ada@example.com", "ada-sandbox-pass", audience=sandbox.api_audience)
    diagnosis = examine(sandbox, tokens.access_token)
    assert cause(diagnosis) == "token_type"
    assert diagnosis.first_problem.title == "Access token sent instead of the ID token"
    assert "scope" in diagnosis.first_problem.evidence and "/userinfo" in diagnosis.first_problem.evidence
    assert diagnosis.finding("signature").status == "skipped"
    machine = examine(sandbox, flows.client_credentials(target).access_token)
    assert cause(machine) == "token_type" and "Machine" in machine.first_problem.title


def test_a_role_that_cannot_read_its_own_user(own_sandbox):
    db = own_sandbox.api.database(own_sandbox.workspace_id)
    with sqlite3.connect(db.path) as conn:  # the Note Taker role loses Read on Users
        (raw,) = conn.execute("SELECT permissions FROM roles WHERE name = 'Note Taker'").fetchone()
        permissions = json.loads(raw)
        del permissions["data"]["Users"]["read"]
        conn.execute("UPDATE roles SET permissions = ? WHERE name = 'Note Taker'", (json.dumps(permissions),))
    conn.close()
    diagnosis = examine(own_sandbox, ada(own_sandbox))
    assert cause(diagnosis) == "roles"
    assert "Note Taker" in diagnosis.first_problem.evidence and "NotAuthorizedError" in diagnosis.first_problem.evidence
    assert diagnosis.finding("signed_up").status == "ok"


# ------------------------------------------------------------------ refusals before the user lookup
def test_an_expired_token(sandbox):
    token = ada(sandbox)
    sandbox.clock.advance(36_000 + 1)
    diagnosis = examine(sandbox, token)
    assert cause(diagnosis) == "expiry" and diagnosis.first_problem.title == "The token has expired"
    assert "TokenExpiredError" in diagnosis.first_problem.evidence
    assert diagnosis.finding("audience").status in ("ok", "warning")  # never blamed for the expiry
    assert diagnosis.finding("roles").status == "skipped"


def test_a_token_issued_in_the_future_is_clock_skew(sandbox):
    sandbox.clock.advance(600)
    token = ada(sandbox)
    sandbox.clock.reset()
    diagnosis = examine(sandbox, token)
    assert cause(diagnosis) == "expiry" and "Clock skew" in diagnosis.first_problem.title


def test_a_token_from_another_issuer(sandbox, own_sandbox):
    diagnosis = examine(sandbox, ada(own_sandbox))  # own_sandbox's identity provider: another issuer
    assert diagnosis.finding("signature").status == "ok"  # verified against its own issuer's keys
    assert cause(diagnosis) == "issuer_profile" and own_sandbox.idp_url in diagnosis.first_problem.evidence
    assert sandbox.idp_url in diagnosis.first_problem.evidence  # what the workspace trusts instead
    assert diagnosis.finding("audience").status == "skipped"


def test_a_forged_signature(sandbox):
    parts = decode_parts(ada(sandbox))
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(parts.payload, forger, algorithm="RS256", headers={"kid": parts.header["kid"]})
    diagnosis = examine(sandbox, forged)
    assert cause(diagnosis) == "signature" and "forged" in diagnosis.first_problem.evidence
    assert all(f.status == "skipped" for f in diagnosis.findings[3:-1])
    assert "InvalidTokenError" in diagnosis.finding("api_answer").evidence

    unknown_kid = jwt.encode(parts.payload, forger, algorithm="RS256", headers={"kid": "made-up"})
    assert "No key with kid" in examine(sandbox, unknown_kid).first_problem.evidence
    hmac = jwt.encode(parts.payload, "a guessed secret, long enough for HS256", algorithm="HS256")
    assert cause(examine(sandbox, hmac)) == "signature"


def test_the_audience_of_another_application(own_sandbox):
    profile = own_sandbox.api.database(own_sandbox.workspace_id)
    with sqlite3.connect(profile.path) as conn:  # the profile trusts only the SPA client
        conn.execute("UPDATE auth_profiles SET audiences = '[]'")
    conn.close()
    diagnosis = examine(own_sandbox, ada(own_sandbox))  # issued for the web client
    assert cause(diagnosis) == "audience" and own_sandbox.spa_client_id in diagnosis.first_problem.evidence


# ------------------------------------------------------------------ what cannot be known, and never raising
def test_without_an_api_token_the_doctor_says_what_it_cannot_know(sandbox):
    email = person(sandbox, "noadmin")
    diagnosis = examine(sandbox, id_token(sandbox, email), api_token=None)
    for check in ("email_case", "email_changed", "self_signup", "signed_up"):
        finding = diagnosis.finding(check)
        assert finding.status == "unknown" and "api_token" in finding.evidence + finding.fix, check
    assert "no api_token" in diagnosis.finding("signed_up").evidence
    assert diagnosis.finding("issuer_profile").status == "ok"  # inferred from the API's answer, and said so
    assert "not read" in diagnosis.finding("issuer_profile").evidence
    assert cause(diagnosis) == "api_answer" and "User is absent" in diagnosis.first_problem.title
    assert examine(sandbox, ada(sandbox), api_token=None).first_problem is None


def test_an_api_token_that_may_not_administer(sandbox):
    email = person(sandbox, "weakadmin")
    diagnosis = examine(sandbox, id_token(sandbox, email), api_token="not-an-api-token-of-this-workspace")
    assert diagnosis.finding("signed_up").status == "unknown"
    assert "not valid" in diagnosis.finding("email_case").evidence


def test_opaque_values(sandbox):
    api_token = examine(sandbox, sandbox.api_token)
    assert api_token.finding("jwt").status == "warning" and api_token.first_problem is None
    opaque = examine(sandbox, "O" * 32)
    assert cause(opaque) == "jwt" and "opaque" in opaque.first_problem.evidence
    assert all(f.status == "skipped" for f in opaque.findings[1:-1])


def test_the_encrypted_access_token_of_a_login_without_audience(sandbox):
    token = flows.password_realm(target_from_sandbox(sandbox), "ada@example.com", "ada-sandbox-pass").access_token
    diagnosis = examine(sandbox, token)
    finding = diagnosis.first_problem
    assert finding.check == "jwt" and finding.title == "An encrypted access token (JWE)"
    assert ("an access token issued without an audience: encrypted, only the identity provider can read it; "
            "send the ID token") in finding.evidence
    assert "alg dir, enc A256GCM, iss " + sandbox.idp_url in finding.evidence
    assert "InvalidTokenError" in finding.evidence
    assert "Send the ID token" in finding.fix
    assert all(f.status == "skipped" for f in diagnosis.findings[1:-1])
    assert diagnosis.finding("api_answer").status == "problem" and "api-token-encrypted" in diagnosis.finding(
        "api_answer").evidence


def test_evidence_never_contains_the_token(sandbox):
    token = ada(sandbox)
    pasted = examine(sandbox, f"  Bearer {token}\n")
    assert pasted.first_problem is None and "Bearer" in pasted.finding("jwt").evidence
    examine(sandbox, token + "x")  # a broken signature: the evidence names the token's parts, never the token


def test_never_raises(sandbox):
    closed = f"http://localhost:{free_port()}/"
    down = diagnose(ada(sandbox), closed + "cl0nosuchworkspace", api_token="whatever-admin-token")
    unreached = down.finding("api_answer")
    assert unreached.status == "unknown" and "could not be reached" in unreached.evidence
    assert down.finding("issuer_profile").status == "unknown"
    for token, endpoint in ((None, sandbox.api_url), ("", ""), ("a.b.c", "not a url"), ("x" * 10_000, closed)):
        assert len(diagnose(token, endpoint).findings) == len(CHECKS)
    from helpers.sandbox.common.keys import KeyRing
    keys_out_of_reach = KeyRing().sign({"iss": closed, "sub": "auth0|1", "aud": sandbox.spa_client_id,
                                        "email": "ada@example.com", "iat": 1, "exp": 2_000_000_000})
    unreachable = examine(sandbox, keys_out_of_reach)
    assert unreachable.finding("signature").status == "unknown"
    assert cause(unreachable) == "issuer_profile"


def test_the_widget_diagnoses_a_pasted_token(sandbox):
    widget = doctor_widget(endpoint=sandbox.api_url, api_token=sandbox.api_token)
    token_box, endpoint_box, admin_box, button, out = widget.children
    assert "Paste a token" in out.outputs[0]["data"]["text/html"]
    token_box.value = id_token(sandbox, person(sandbox, "widget"))
    button.click()
    shown = out.outputs[0]["data"]
    assert len(out.outputs) == 1 and "signed_up" in shown["text/html"] and "Never signed up" in shown["text/plain"]
    assert token_box.value not in shown["text/html"] and admin_box.value not in shown["text/html"]
    endpoint_box.value = ""
    button.click()
    assert "Paste a token" in out.outputs[0]["data"]["text/html"]


def test_the_doctor_talks_http_only():
    import ast
    from pathlib import Path

    import helpers.doctor

    modules = set()
    package = Path(helpers.doctor.__file__).parent
    for node in (n for source in package.glob("*.py") for n in ast.walk(ast.parse(source.read_text()))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            continue  # the doctor's own modules (.facts, .report, ...)
        if isinstance(node, ast.ImportFrom):  # relative to helpers/: the package is one level deeper
            modules.add(("." * max(node.level - 1, 0)) + (node.module or ""))
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    assert not any("sandbox" in m for m in modules), modules
    assert {m for m in modules if m.startswith(".")} <= {".tokens", ".verify", ".jwks", ".graphql", ".catalog", ".exceptions", ".jwe"}


def test_bad_arguments_become_findings(sandbox):
    broken = diagnose(ada(sandbox), sandbox.api_url, also_check=[("only-a-url",), 42], now="noon")
    assert len(broken.findings) == len(CHECKS) and {f.status for f in broken.findings} == {"unknown"}


def test_the_preflight_reports_with_the_doctors_report_type(sandbox):
    """One report type (issue 14): the preflight's checks are the doctor's Finding, its report the doctor's Report."""
    from helpers.doctor import Report
    from helpers.preflight import preflight

    report = preflight(target_from_sandbox(sandbox))
    assert type(report) is Report is Diagnosis and all(type(check) is Finding for check in report.checks)
    assert report.ok and report.first_problem is None and list(report.table().columns)[0] == "settings"
    assert [f.check for f in report.findings] == [f.settings for f in report.checks]
