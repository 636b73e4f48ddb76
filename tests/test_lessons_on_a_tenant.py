"""Lessons 01-06 against a tenant named in a settings file: sandbox-only cells skip and say why, the rest run.

The "tenant" is the second provider (data/sandbox/second-tenant.json) described by a .env as a generic
``oidc`` target; ``AUTH_FLOWS_ENV_FILE`` points the lessons' ``load_target()`` at it. Every lesson must
run top to bottom without an error, each cell guarded by ``target.needs_sandbox(...)`` must print its
skip message (never run), and the cells that can run on a tenant must really have talked to it.
Logins on a tenant go through :func:`helpers.flows.browser_login`; ``$BROWSER`` is
``tests/scripted_browser.py``, which plays the person at the browser.
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
from helpers.sandbox import SECOND_TENANT_FILE, launch_sandbox

pytestmark = pytest.mark.slow  # runs lessons end to end: `make test-fast` leaves it out

LESSONS = ["01-obtaining-tokens", "02-decoding-jwt-claims", "03-id-token-vs-access-token",
           "04-authenticated-graphql-calls", "05-error-catalog", "06-case-study-user-is-absent"]
SKIPPED = "Skipped on your oidc tenant"
# what must show that a lesson's tenant-capable cells really ran against the second provider
RAN_ON_THE_TENANT = {
    "01-obtaining-tokens": ("second-notes-spa", "second-notes-server", "second-notes-worker@clients"),
    "02-decoding-jwt-claims": ("Log in in your browser", "second-notes-spa", "mara@second.example"),
    "03-id-token-vs-access-token": ("second-notes-worker@clients", "ok: the profile of mara@second.example"),
    "04-authenticated-graphql-calls": ("an ID token for mara@second.example", "UserNotFoundError"),
    "05-error-catalog": ("api-user-absent",),
    "06-case-study-user-is-absent": ("This lesson always runs on the sandbox",),
}


@pytest.fixture(scope="module")
def tenant_env(tmp_path_factory):
    box = launch_sandbox(seed_path=SECOND_TENANT_FILE)
    user = box.users[0]
    values = {"AUTH_FLOWS_TARGET": "oidc", "OIDC_ISSUER": box.idp_url, "SPA_CLIENT_ID": box.spa_client_id,
              "REDIRECT_URI": box.redirect_uri, "WEB_CLIENT_ID": box.web_client_id,
              "WEB_CLIENT_SECRET": box.web_client_secret, "M2M_CLIENT_ID": box.m2m_client_id,
              "M2M_CLIENT_SECRET": box.m2m_client_secret, "API_AUDIENCE": box.api_audience,
              "CONNECTION": box.connection, "LAB_USER_EMAIL": user["email"], "LAB_USER_PASSWORD": user["password"],
              "GRAPHQL_URL": box.api_url, "AUTH_PROFILE_ID": box.auth_profile_id, "API_TOKEN": box.api_token,
              "AUDIENCE_PARAMETER": "audience"}  # an Auth0-shaped provider: it takes audience, not resource
    path = tmp_path_factory.mktemp("tenant") / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    browser = path.parent / "browser"  # webbrowser runs $BROWSER with the URL: one executable, no arguments
    browser.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).with_name('scripted_browser.py')} \"$1\"\n")
    browser.chmod(0o755)
    yield path, browser
    box.stop()


def text_of(cell) -> str:
    return "".join(json.dumps(output) for output in cell.get("outputs", []))


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_lesson_runs_on_a_tenant_and_skips_what_needs_the_sandbox(lesson, tenant_env, monkeypatch):
    env_file, browser = tenant_env
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(env_file))
    monkeypatch.setenv("BROWSER", str(browser))
    notebook = nbformat.read(NOTEBOOKS / f"{lesson}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # raises on any cell error
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    guarded = [cell for cell in code if cell.source.startswith(("if target.needs_sandbox(", "if target.needs_sandbox_api("))]
    for cell in guarded:
        printed = text_of(cell)
        what_to_set = "SANDBOX_API_TRUSTS_ISSUER=true" if "needs_sandbox_api" in cell.source else "AUTH_FLOWS_TARGET=sandbox"
        assert SKIPPED in printed and what_to_set in printed, cell.source[:80]
        streamed = "".join(o.get("text", "") for o in cell.outputs)
        assert all(o.output_type == "stream" for o in cell.outputs), cell.source[:80]
        assert streamed.startswith(SKIPPED) and streamed.count("\n") == 1, cell.source[:80]  # nothing else ran
    everything = "".join(text_of(cell) for cell in code)
    for evidence in RAN_ON_THE_TENANT[lesson]:
        assert evidence in everything, evidence
    if lesson != "06-case-study-user-is-absent":
        assert guarded, "a lesson on a tenant skips at least its sandbox-only cells"


# Notebooks that change the sandbox itself (its clock, settings, data, limits) run there whatever .env says,
# and say so in one line; on a tenant they must still run top to bottom.
ALWAYS_SANDBOX = ["10-authenticated-subscriptions", "solutions/05-error-catalog-solutions",
                  "solutions/06-case-study-user-is-absent-solutions", "solutions/07-security-pitfalls-solutions",
                  "solutions/08-caching-and-latency-solutions", "solutions/10-authenticated-subscriptions-solutions"]


@pytest.mark.parametrize("name", ALWAYS_SANDBOX)
def test_a_sandbox_only_notebook_says_so_on_a_tenant_and_runs(name, tenant_env, monkeypatch):
    env_file, browser = tenant_env
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(env_file))
    monkeypatch.setenv("BROWSER", str(browser))
    path = NOTEBOOKS / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()  # raises on any cell error
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "always run on the sandbox, whatever .env says" in text_of(first) or \
        "always runs on the sandbox, whatever .env says" in text_of(first)
