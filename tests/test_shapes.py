"""Every method x path on both servers answers in its server's shape (issue 16).

- The API: JSON in 8base's error shape (``errors[*]`` with ``message`` and a ``code``), never Starlette's
  ``text/plain`` 404/405, never a bare 307 for a trailing slash, never ``InternalError``.
- The identity provider: Auth0's OAuth error JSON (``error``, ``error_description``), the sign-up endpoint's own
  shape, its HTML error page where a browser is sent (``Accept: text/html``, and the pages a browser is sent to),
  a redirect that carries the answer, or ``/userinfo``'s plain ``Unauthorized`` with a ``WWW-Authenticate``
  challenge (what Auth0 sends there: shared reference auth0-protocol.md §3.1).
"""
from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import pytest

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "TRACE", "OPTIONS")
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
IDP_PATHS = (".well-known/openid-configuration", ".well-known/jwks.json", "authorize", "u/login", "u/login/social",
             "upstream/google-oauth2/authorize", "login/callback", "oauth/token", "userinfo", "v2/logout",
             "dbconnections/signup")
UNKNOWN = ("", "nosuch", "nosuch/", "a/b/c", "oauth", "oauth/token/extra", "%7E", "..%2f")


def send(url: str, method: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request exactly as given (no redirect followed, no body), with http.client (TRACE included)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, parts.path or "/", headers=headers or {})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def api_shaped(status: int, headers: dict[str, str], body: bytes, method: str) -> str | None:
    """What is wrong with an API answer (None: nothing)."""
    if "application/json" not in headers.get("content-type", ""):
        return f"content-type {headers.get('content-type')!r}"
    if method == "HEAD":
        return None if not body else f"HEAD {status} with {len(body)} bytes"  # the headers GET would have
    answer = json.loads(body)
    errors = answer.get("errors")
    if not errors:
        return None if status == 200 and "data" in answer else "no errors and no data"
    for error in errors:
        if not (isinstance(error.get("message"), str) and isinstance(error.get("code"), str)):
            return f"not 8base-shaped: {error}"
        if error["code"] == "InternalError":
            return "InternalError"
    return None if 200 <= status < 500 else f"status {status}"


def idp_shaped(path: str, status: int, headers: dict[str, str], body: bytes, method: str) -> str | None:
    """What is wrong with an identity provider answer (None: nothing)."""
    content_type = headers.get("content-type", "")
    if status < 300:
        return None
    if status < 400:
        return None if headers.get("location") else f"{status} without Location"
    if status >= 500:
        return f"status {status}"
    if method == "HEAD":
        return None if ("json" in content_type or "html" in content_type or path == "userinfo") else content_type
    if "text/html" in content_type:
        return None if re.search(rb'id="error-code">\w+</strong>', body) else "an HTML page without an error code"
    if path == "userinfo" and status == 401 and 'error="invalid_token"' in headers.get("www-authenticate", ""):
        return None  # Auth0's own /userinfo answer: plain "Unauthorized" and a Bearer challenge
    if "application/json" not in content_type:
        return f"content-type {content_type!r}"
    answer = json.loads(body)
    if path == "dbconnections/signup" and {"name", "code", "description", "statusCode"} <= set(answer):
        return None
    if isinstance(answer.get("error"), str) and isinstance(answer.get("error_description"), str):
        return None
    return f"not Auth0-shaped: {answer}"


def test_every_method_and_path_of_the_api_answers_in_8base_shape(sandbox):
    host = sandbox.api_host.rstrip("/")
    workspace = "/" + sandbox.workspace_id
    paths = ("", "/", workspace, workspace + "/", workspace + "_Master", workspace + "_Master/", workspace + "/extra",
             workspace + "/extra/", "/nosuchworkspace", "/a/b/c", "/%7E")
    wrong = {}
    for path in paths:
        for method in METHODS:
            for headers in ({}, {"workspace": sandbox.workspace_id}, BROWSER):
                status, answer_headers, body = send(host + path, method, headers)
                problem = api_shaped(status, answer_headers, body, method)
                if problem:
                    wrong[(method, path, tuple(headers))] = (status, problem, body[:120])
    assert not wrong, wrong


def test_the_api_answers_starlettes_own_404_and_405_with_codes(sandbox):
    status, headers, body = send(sandbox.api_url + "/extra", "POST")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "EntityNotFoundError"
    for method in ("PUT", "PATCH", "DELETE", "TRACE", "OPTIONS"):
        status, headers, body = send(sandbox.api_url, method)
        error = json.loads(body)["errors"][0]
        assert (status, headers["allow"], error["code"]) == (405, "POST", "InvalidArgumentError"), method
        assert error["message"] == "Send GraphQL requests with POST" and method not in json.dumps(error)


def test_a_trailing_slash_is_the_same_api_address(sandbox):
    status, _, body = send(sandbox.api_url + "/", "GET")
    assert status == 405 and json.loads(body)["errors"][0]["message"] == "Send GraphQL requests with POST"


@pytest.mark.parametrize("browser", [False, True], ids=["script", "browser"])
def test_every_method_and_path_of_the_identity_provider_answers_in_auth0_shape(sandbox, browser):
    wrong = {}
    for path in (*IDP_PATHS, *(p + "/" for p in IDP_PATHS), *UNKNOWN):
        for method in METHODS:
            status, headers, body = send(sandbox.idp_url + path, method, BROWSER if browser else None)
            problem = idp_shaped(path, status, headers, body, method)
            if problem:
                wrong[(method, path)] = (status, problem, body[:120])
    assert not wrong, wrong


def test_unknown_paths_and_methods_get_auth0_codes_json_or_page(sandbox):
    status, _, body = send(sandbox.idp_url + "nosuch", "POST")
    assert status == 404 and json.loads(body)["error"] == "not_found"
    status, headers, body = send(sandbox.idp_url + "authorize", "DELETE")
    assert status == 405 and json.loads(body)["error"] == "method_not_allowed" and "GET" in headers["allow"]
    status, headers, body = send(sandbox.idp_url + "oauth/token/", "POST", BROWSER)
    assert status == 404 and "text/html" in headers["content-type"] and b'id="error-code">not_found<' in body
