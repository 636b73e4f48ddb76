"""Lessons 01-04, their solutions and the doctor cells of 06 on a generic OpenID Connect provider.

The provider is panva's node-oidc-provider (tests/oidc_provider), in both configurations: its defaults
(opaque access tokens, scope claims only in /userinfo) and resource indicators with JWT access tokens.
The .env names it as an ``oidc`` target with ``SANDBOX_API_TRUSTS_ISSUER=true``, so every GraphQL cell
goes through the sandbox's API trusting the provider's ID tokens. ``$BROWSER`` is a headless Chromium
(tests/scripted_chromium.py) that logs the test user in on the provider's own login page.
No cell may raise; cells that cannot run there print one line saying why; the cells that talk to the
provider show its tokens (its issuer, its test user) and the GraphQL cells the trusting API's answers.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.config import ENV_FILE_VARIABLE
from helpers.lessons import NOTEBOOKS
from tests.oidc_provider import RESOURCE, start_node_provider

pytestmark = pytest.mark.slow  # runs lessons end to end: `make test-fast` leaves it out

LESSONS = ["01-obtaining-tokens", "02-decoding-jwt-claims", "03-id-token-vs-access-token",
           "04-authenticated-graphql-calls"]
SOLUTIONS = [f"solutions/{lesson}-solutions" for lesson in LESSONS]
SKIP_MARKS = ("Skipped on your oidc", "Skipped: this cell needs")
# what shows that the cells really talked to the provider (and, for 04, to the API trusting it)
EVIDENCE = {
    "01-obtaining-tokens": ("lab-spa", "state unchanged: True", "nonce echoed: True"),
    "02-decoding-jwt-claims": ("lab-user-1", "accepted:", "(absent)"),  # sub; a JWK without alg
    "03-id-token-vs-access-token": ("lab-user-1", "UserNotFoundError: User is absent"),  # 8base's own details
    "04-authenticated-graphql-calls": ("an ID token for ada@oidc.example", "UserNotFoundError",
                                       "'userSignUpWithToken': {'email': 'ada@oidc.example'", "TokenExpiredError"),
    "06-case-study-user-is-absent": ("callback_iss", "the doctor on the ID token"),
}
MINIMUM_SHARE = 0.70  # of the code cells of lessons 01-04 that run on the provider (issue 13)


@pytest.fixture(scope="module", params=["defaults", "resource"])
def provider_env(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    provider = start_node_provider(request.param, folder)
    values = {"AUTH_FLOWS_TARGET": "oidc", "OIDC_ISSUER": provider.issuer, "SPA_CLIENT_ID": provider.spa_client_id,
              "REDIRECT_URI": provider.redirect_uri, "WEB_CLIENT_ID": provider.web_client_id,
              "WEB_CLIENT_SECRET": provider.web_client_secret, "LAB_USER_EMAIL": provider.user["email"],
              "LAB_USER_PASSWORD": provider.user["password"], "SANDBOX_API_TRUSTS_ISSUER": "true"}
    if request.param == "resource":
        values.update(API_AUDIENCE=RESOURCE, M2M_CLIENT_ID=provider.m2m_client_id,
                      M2M_CLIENT_SECRET=provider.m2m_client_secret)
    env_file = folder / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    browser = folder / "browser"  # webbrowser runs $BROWSER with the URL
    script = Path(__file__).with_name("scripted_chromium.py")
    browser.write_text(f"#!/bin/sh\nexec {sys.executable} {script} \"$1\"\n")
    browser.chmod(0o755)
    yield request.param, env_file, browser
    provider.stop()


def run(name: str, env_file: Path, browser: Path, monkeypatch) -> list:
    """Execute one notebook with the provider's settings; return its code cells (raises on any cell error)."""
    from tests.browser_support import require_chromium
    require_chromium()
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(env_file))
    monkeypatch.setenv("BROWSER", str(browser))
    path = NOTEBOOKS / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def printed(cell) -> str:
    return "".join(json.dumps(output) for output in cell.get("outputs", []))


def skipped(cell) -> bool:
    """A cell that said why it cannot run here, in one line, and did nothing else."""
    streams = [o for o in cell.outputs if o.output_type == "stream"]
    text = "".join(o.get("text", "") for o in streams)
    if not text.startswith(SKIP_MARKS):
        return False
    assert len(cell.outputs) == len(streams) and text.count("\n") == 1, cell.source[:80]
    return True


def test_lessons_01_to_04_run_on_the_provider_with_the_trusting_api(provider_env, monkeypatch):
    mode, env_file, browser = provider_env
    ran = total = 0
    for lesson in LESSONS:
        code = run(lesson, env_file, browser, monkeypatch)
        everything = "".join(printed(cell) for cell in code)
        for evidence in EVIDENCE[lesson]:
            assert evidence in everything, (lesson, evidence)
        assert "http://127.0.0.1:" in everything  # the provider's issuer, not the sandbox's localhost
        if lesson.startswith("03") and mode == "defaults":  # OIDC Core 5.4 shown, then 5.5's claims parameter
            assert "/userinfo has: ada@oidc.example" in everything
            assert "asked with the claims parameter: ada@oidc.example" in everything
        ran += sum(not skipped(cell) for cell in code)
        total += len(code)
    assert ran / total >= MINIMUM_SHARE, (mode, ran, total)


@pytest.mark.parametrize("solutions", SOLUTIONS)
def test_the_solutions_of_01_to_04_run_on_the_provider(solutions, provider_env, monkeypatch):
    _, env_file, browser = provider_env
    code = run(solutions, env_file, browser, monkeypatch)
    ran = [cell for cell in code[1:] if not skipped(cell)]
    assert ran and all(cell.outputs for cell in ran), "every solution cell that runs shows its answer"
    assert "127.0.0.1:" in "".join(printed(cell) for cell in code), "the logins went to the provider"


def test_the_doctor_cells_of_lesson_06_examine_a_login_on_the_provider(provider_env, monkeypatch):
    mode, env_file, browser = provider_env
    code = run("06-case-study-user-is-absent", env_file, browser, monkeypatch)
    report = "".join(printed(cell) for cell in code if "examine_login(" in cell.source)
    for evidence in EVIDENCE["06-case-study-user-is-absent"] + ("127.0.0.1:",):
        assert evidence in report, evidence
    if mode == "defaults":  # the two differences of the provider's defaults, explained
        assert "/userinfo has it" in report and "OpenID Connect Core \\u00a75.4" in report
        assert "not a JWT the app can read (opaque)" in report and "scope lacked email" in report
    else:
        assert "A JWT access token for https://notes.oidc.example/graphql" in report
