"""The error catalog: the CSV itself, explain() on every input shape, and every entry reproduced live."""
from __future__ import annotations

import csv
import dataclasses
import html
import json
import re
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from auth0.authentication.exceptions import Auth0Error

from helpers.catalog import CATALOG_FILE, CatalogEntry, UnknownError, catalog, entries, explain, search, url_params
from helpers.graphql import GraphQLCallError, InvalidTokenError
from helpers.reproductions import REPRODUCERS, reproduce
from helpers.sandbox.idp import errors as idp_errors
from helpers.verify import REASONS, TokenRejected

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["id", "code", "layer", "message", "http_status", "cause", "fix", "reproduce", "source"]
ENTRIES = entries()
BY_ID = {e.id: e for e in ENTRIES}
API_CODES = ("TokenExpiredError", "InvalidTokenError", "UserNotFoundError", "NotAuthorizedError",
             "EntityNotFoundError", "EntityExistsError", "ValidationError", "MissingHeaderError",
             "InvalidArgumentError", "ExternalServiceError")
# InternalError is only the API's answer to its own bugs (api/core.py, format_error): no input reaches it on purpose.


def response(status: int, body: Any = None, headers: dict[str, str] | None = None, text: str | None = None,
             url: str = "http://localhost/") -> requests.Response:
    """A requests.Response built by hand, for explain() without a server."""
    made = requests.Response()
    made.status_code = status
    made.url = url
    made.encoding = "utf-8"
    made.headers = requests.structures.CaseInsensitiveDict(headers or {})
    if body is not None:
        made.headers.setdefault("Content-Type", "application/json")
        made._content = json.dumps(body).encode()
    else:
        made._content = (text or "").encode()
    return made


# ------------------------------------------------------------------ the file
def test_the_csv_has_exactly_the_catalog_columns():
    with CATALOG_FILE.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == COLUMNS
    assert [f.name for f in dataclasses.fields(CatalogEntry)] == COLUMNS
    frame = catalog()
    assert list(frame.columns) == COLUMNS and len(frame) == len(ENTRIES)
    assert str(frame["http_status"].dtype) == "Int64"


def test_ids_are_unique_slugs_that_say_layer_and_endpoint():
    ids = [e.id for e in ENTRIES]
    assert len(ids) == len(set(ids))
    for entry in ENTRIES:
        assert re.fullmatch(r"(idp-[a-z0-9]+|api|client)(-[a-z0-9]+)+", entry.id), entry.id
        assert entry.where in {"token", "authorize", "page", "logout", "userinfo", "signup", "endpoint", "api",
                               "client"}
        assert entry.layer == {"idp": "identity provider", "api": "API", "client": "client"}[entry.id.split("-")[0]]


def test_every_cell_is_filled_except_where_the_answer_has_none():
    for entry in ENTRIES:
        for name, value in asdict(entry).items():
            if name == "http_status":
                no_http = entry.layer == "client" or entry.id.startswith("api-ws-")  # a WebSocket message, after 101
                assert (value is None) == no_http, entry.id
            else:
                assert isinstance(value, str) and value.strip() == value and value, (entry.id, name)


def test_statuses_fit_the_endpoints():
    for entry in ENTRIES:
        if entry.where == "authorize":
            assert entry.http_status == 302, entry.id
        elif entry.http_status is not None:
            assert 200 <= entry.http_status < 500 and entry.http_status != 302, entry.id
        if entry.where == "userinfo":
            assert entry.http_status == 401


def test_every_source_is_a_reference_and_sandbox_wording_is_said():
    for entry in ENTRIES:
        assert re.search(r"https?://|docs/sources\.md#[a-z0-9-]+|helpers/", entry.source), entry.id
        assert "shared" not in entry.source, entry.id  # the learner has the repository and public links only
    anchors = set(re.findall(r'<a id="([^"]+)"', (Path(__file__).parents[1] / "docs" / "sources.md").read_text()))
    cited = {a for entry in ENTRIES for a in re.findall(r"docs/sources\.md#([a-z0-9-]+)", entry.source)}
    assert cited and cited <= anchors, cited - anchors
    for constant in ("REDIRECT_URI_MISMATCH",):  # marked "sandbox wording" in idp/errors.py
        entry = next(e for e in ENTRIES if e.message == getattr(idp_errors, constant))
        assert "sandbox wording" in entry.source
    invalid_token = [e for e in ENTRIES if e.code == "InvalidTokenError"]
    assert all("sandbox wording" in e.source for e in invalid_token)  # 8base's own text is unknown


def test_every_api_code_has_an_entry():
    codes = {e.code for e in ENTRIES if e.layer == "API"}
    assert set(API_CODES) <= codes
    emitted = set()
    for path in (ROOT / "helpers" / "sandbox" / "api").glob("*.py"):
        emitted |= set(re.findall(r'ApiError\(\s*"(\w+)"', path.read_text()))
        emitted |= set(re.findall(r'"code": "(\w+)"', path.read_text()))
    assert "InternalError" in emitted  # the answer to the sandbox's own bugs: never catalogued, no input reaches it
    assert emitted - {"InternalError"} <= codes, emitted - codes


def test_every_identity_provider_code_and_observed_text_has_an_entry():
    source = "".join(path.read_text() for path in (ROOT / "helpers" / "sandbox" / "idp").glob("*.py"))
    emitted = set(re.findall(r'(?:OAuthError\(\d+, |SignupError\(|RedirectError\(|PageError\(|_error_params\()"(\w+)"',
                             source))
    codes = {e.code for e in ENTRIES if e.layer == "identity provider"}
    assert "server_error" in emitted  # the answer to the sandbox's own bugs (idp/app.py, bug): never catalogued
    assert emitted and emitted - {"server_error"} <= codes, emitted - codes
    messages = {e.message for e in ENTRIES}
    # DELETED_USER_REFRESH is the one text the sandbox cannot send: it has no way to delete a user
    for name in ("WRONG_CREDENTIALS", "INVALID_CODE", "BAD_VERIFIER", "BAD_REFRESH_TOKEN", "UNAUTHORIZED",
                 "NO_AUDIENCE", "SERVICE_NOT_FOUND", "LOGIN_REQUIRED", "USER_EXISTS", "REDIRECT_URI_MISMATCH"):
        assert getattr(idp_errors, name) in messages, name


def test_the_learner_relevant_verifier_sentences_are_catalogued():
    details = {text for e in ENTRIES for text in e.details.values()}
    for code in ("malformed", "too_large", "alg_not_allowed", "bad_header", "bad_signature", "not_yet_valid",
                 "bad_audience", "wrong_token_type"):
        assert REASONS[code] in details, code
    client = {e.message for e in ENTRIES if e.layer == "client"}
    assert {REASONS["bad_nonce"], REASONS["expired"], REASONS["bad_issuer"]} <= client


def test_entries_are_frozen_records_and_a_fresh_list_each_time():
    entry = ENTRIES[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.id = "changed"  # type: ignore[misc]
    assert entries() == ENTRIES and entries() is not entries()
    assert BY_ID["api-token-bad-signature"].headline == "Invalid token"
    assert BY_ID["api-token-bad-signature"].details == {"token": REASONS["bad_signature"]}
    assert BY_ID["api-user-absent"].details == {}
    assert "cause:" in str(BY_ID["api-user-absent"]) and "User is absent" in str(BY_ID["api-user-absent"])


def test_search_is_case_insensitive_over_every_text_column():
    found = search("USER IS ABSENT")
    assert "api-user-absent" in set(found["id"]) and list(found.columns) == COLUMNS
    assert "idp-token-bad-verifier" in set(search("pkce")["id"])  # found in cause / source
    assert set(search("IDENTITY PROVIDER")["layer"]) >= {"identity provider"}
    assert search("(no-such-text[").empty  # literal text, not a regular expression
    assert isinstance(search("x"), pd.DataFrame)


# ------------------------------------------------------------------ explain(), each input shape
def test_explain_a_graphql_error_dict_and_a_whole_answer():
    error = {"message": "User is absent", "locations": [{"line": 1, "column": 3}], "path": ["user"],
             "code": "UserNotFoundError", "details": {"user": "User is absent"}}
    assert explain(error).id == "api-user-absent"
    assert explain({"data": {"user": None}, "errors": [error, {"message": "other"}]}).id == "api-user-absent"


def test_explain_picks_the_entry_whose_details_match():
    def invalid(detail: str) -> dict:
        return {"message": "Invalid token", "code": "InvalidTokenError", "details": {"token": detail}}
    assert explain(invalid(REASONS["bad_signature"])).id == "api-token-bad-signature"
    assert explain(invalid(REASONS["malformed"])).id == "api-token-malformed"
    # a sentence the catalog does not list: the code alone decides (its first, most common entry)
    assert explain(invalid(REASONS["missing_claim"])).id == "api-token-access-token"
    assert explain({"message": "Token expired", "code": "TokenExpiredError",
                    "details": {"token": "jwt expired"}}).id == "api-token-expired"


def test_explain_an_oauth_body_a_signup_body_and_templates():
    assert explain({"error": "invalid_grant", "error_description": "Wrong email or password."}).id == \
        "idp-token-wrong-credentials"
    assert explain({"error": "invalid_request", "error_description": "Missing required parameter: code"}).id == \
        "idp-token-missing-parameter"
    assert explain({"error": "unauthorized_client", "error_description":
                    "Grant type 'password' not allowed for the client."}).id == "idp-token-grant-not-allowed"
    signup = {"name": "BadRequestError", "code": "user_exists", "description": "The user already exists.",
              "statusCode": 400}
    assert explain(signup).id == "idp-signup-user-exists"
    weak = {"name": "PasswordStrengthError", "code": "invalid_password", "description": {"rules": []},
            "message": "Password is too weak", "statusCode": 400}
    assert explain(weak).id == "idp-signup-invalid-password"
    assert explain({"name": "BadRequestError", "code": "invalid_body",
                    "description": "Missing required parameter: email"}).id == "idp-signup-missing-parameter"


def test_explain_understands_real_auth0_texts_that_add_details():
    real = {"error": "access_denied", "error_description": "Service not found: https://auth0-jwt-authorizer"}
    assert explain(real).id == "idp-token-service-not-found"
    grant = {"error": "access_denied", "error_description": 'Client is not authorized to access "https://x/api/v2/". '
             'You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2'}
    assert explain(grant).id == "idp-token-client-not-authorized"


def test_explain_a_callback_url_and_its_params():
    url = "http://localhost:3000/callback?error=login_required&error_description=Login%20required&state=abc"
    assert explain(url).id == "idp-authorize-login-required"
    fragment = "http://localhost:3000/callback#error=invalid_request&error_description=Missing+required+parameter%3A+nonce"
    assert explain(fragment).id == "idp-authorize-nonce-missing"
    params = {"error": "access_denied", "error_description": "Service not found", "state": "abc"}
    assert explain(params).id == "idp-authorize-service-not-found"  # a callback (state), not the token endpoint


def test_explain_a_response_uses_its_status_and_shape():
    body = {"error": "invalid_request", "error_description": "A parameter was sent more than once."}
    assert explain(response(400, body)).id == "idp-token-repeated-parameter"
    page = ('<div class="error" role="alert"><strong id="error-code">invalid_request</strong>: '
            '<span id="error-description">A parameter was sent more than once.</span></div>')
    assert explain(response(400, text=page, headers={"Content-Type": "text/html"})).id == "idp-page-repeated-parameter"
    redirect = response(302, headers={"Location": "http://localhost:3000/cb?error=access_denied&"
                                                  "error_description=Service+not+found&state=s"})
    assert explain(redirect).id == "idp-authorize-service-not-found"
    graphql_400 = {"data": None, "errors": [{"message": "Invalid authorization header", "code": "InvalidTokenError",
                                             "details": {"authorization": "Send one Authorization header, not several."}}]}
    assert explain(response(400, graphql_400)).id == "api-header-repeated"


def test_explain_the_plain_userinfo_401():
    plain = response(401, text="Unauthorized", headers={
        "Content-Type": "text/plain; charset=utf-8",
        "WWW-Authenticate": 'Bearer realm="Users", error="invalid_token", error_description="The token has expired."'})
    assert explain(plain).id == "idp-userinfo-expired"
    auth0 = response(401, text="Unauthorized", headers={  # Auth0's own text has no final period
        "WWW-Authenticate": 'Bearer realm="Users", error="invalid_token", error_description="The token has expired"'})
    assert explain(auth0).id == "idp-userinfo-expired"


def test_explain_exceptions_and_objects_with_code_or_error():
    call_error = InvalidTokenError("InvalidTokenError", "Invalid token", {"token": REASONS["wrong_token_type"]})
    assert explain(call_error).id == "api-token-access-token"
    assert call_error.explain().id == "api-token-access-token"
    assert explain(GraphQLCallError("InvalidArgumentError", "Syntax Error: Expected Name, found <EOF>.")).id == \
        "api-graphql-syntax"
    assert explain(TokenRejected("bad_nonce")).id == "client-nonce-mismatch"
    assert explain(Auth0Error(403, "invalid_grant", "Unknown or invalid refresh token.")).id == "idp-token-bad-refresh-token"

    class LibraryError(Exception):
        error = "mismatching_state"
        description = "CSRF Warning! State not equal in request and response."
    assert explain(LibraryError()).id == "client-state-mismatch"

    class Coded:
        code = "NotAuthorizedError"
        message = "You don't have permission to perform this operation"
    assert explain(Coded()).id == "api-not-authorized"
    failed = requests.HTTPError(response=response(403, {"error": "access_denied", "error_description": "Unauthorized"}))
    assert explain(failed).id == "idp-token-bad-client"


@pytest.mark.parametrize("error", [
    {"message": "Plan limit reached", "code": "BillingPlanLimitError"},
    {"error": "too_many_requests", "error_description": "Global limit has been reached"},
    {"data": {"user": None}},
    "http://localhost:3000/callback?code=abc&state=s",
    object(),
    Auth0Error(401, "a0.sdk.internal.unknown", "Unauthorized"),
])
def test_explain_raises_unknown_error_when_nothing_matches(error):
    with pytest.raises(UnknownError) as raised:
        explain(error)
    assert isinstance(raised.value, LookupError) and str(raised.value)


def test_unknown_error_names_the_code_and_how_to_search():
    with pytest.raises(UnknownError, match="BillingPlanLimitError.*search"):
        explain({"message": "Plan limit reached", "code": "BillingPlanLimitError"})


# ------------------------------------------------------------------ every entry, live
def _strings(answer: Any) -> list[str]:
    """Every text an answer carries: JSON string leaves, an error page, redirect parameters, WWW-Authenticate."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    if isinstance(answer, dict):
        walk(answer)
        return found
    if answer.headers.get("location"):
        walk(url_params(answer.headers["location"]))
    found.extend(re.findall(r'error_description="([^"]*)"', answer.headers.get("www-authenticate", "")))
    if "html" in answer.headers.get("content-type", ""):
        found.append(html.unescape(answer.text))
    else:
        try:
            walk(answer.json())
        except ValueError:
            found.append(answer.text)
    return found


def _says(strings: list[str], text: str) -> bool:
    pattern = "(?:.+?)".join(re.escape(part) for part in re.split(r"\{[^{}]+\}", text))
    return any(re.search(pattern, s) for s in strings)


@pytest.mark.parametrize("entry_id", [e.id for e in ENTRIES])
def test_every_entry_is_reproduced_live_and_explained_back(sandbox, entry_id):
    entry = BY_ID[entry_id]
    answer = reproduce(entry_id, sandbox)
    status = answer.status_code if isinstance(answer, requests.Response) else None
    assert status == entry.http_status
    assert explain(answer).id == entry_id
    strings = _strings(answer)  # the answer carries the catalogued text itself, not only the code
    assert _says(strings, entry.headline), strings
    for text in entry.details.values():
        assert _says(strings, text), strings
    assert not any("Traceback" in s for s in strings)


def test_every_entry_has_exactly_one_reproduction():
    assert set(REPRODUCERS) == set(BY_ID)
    with pytest.raises(UnknownError):
        reproduce("no-such-entry", None)  # type: ignore[arg-type]


def test_reproductions_put_the_shared_sandbox_back(sandbox):
    db = sandbox.api.database(sandbox.workspace_id)
    settings_before = sandbox.api.settings
    profiles_before = db.auth_profiles()
    for entry_id in ("api-token-expired", "api-token-not-yet-valid", "idp-userinfo-expired", "client-token-expired",
                     "api-self-signup-off", "api-token-email-unverified"):
        reproduce(entry_id, sandbox)
        assert not sandbox.clock.frozen and abs(sandbox.clock.now() - time.time()) < 5, entry_id
        assert sandbox.api.settings == settings_before, entry_id
        assert db.auth_profiles() == profiles_before, entry_id
