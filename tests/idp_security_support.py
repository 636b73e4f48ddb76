"""Security cases of the sandbox identity provider (IdP side of OAuth 2.0 / OIDC): the shared helpers.

One test (or one parametrized table) per case IDP-01 .. IDP-31 of
``shared/reference/jwt-security-cases.md`` section 1.7, adjusted to the project's decisions
(the sandbox must behave like Auth0):

* ``invalid_grant`` at ``/oauth/token`` is HTTP **403**; a bad client secret is **401**
  ``{"error": "access_denied", "error_description": "Unauthorized"}``.
* The implicit flow is supported (``id_token`` and ``token id_token``, nonce required), so
  IDP-04 only refuses ``token`` alone and unknown types, IDP-05 refuses ``response_mode=query``
  for token-bearing responses (error sent in the fragment), IDP-23 refuses implicit without nonce.
* The password and password-realm grants exist for the confidential web client; IDP-20 checks
  ``grant_type`` missing (400 ``invalid_request``), unknown (400 ``unsupported_grant_type``) and
  not allowed for the client (403 ``unauthorized_client``).
* PKCE is S256 only and required for public clients; verifier failures are 403 ``invalid_grant``
  "Failed to verify code verifier".
* Error pages (unknown client, unregistered ``redirect_uri``, bad logout ``returnTo``) are HTML
  400 without a ``Location`` header and never echo the caller's text.

Not covered here: IDP-06 is a client-side check (only the IdP's part, echoing ``state``
unchanged, is tested); IDP-32 (mix-up) does not apply to a single IdP.

Every test talks HTTP to the session's sandbox (``sandbox`` fixture) with ``requests`` and
``allow_redirects=False`` so that ``Location`` headers can be read. The cases live in one file per family:
``tests/test_idp_security_authorize.py`` (IDP-01..09), ``_token.py`` (IDP-10..22), ``_sessions.py``
(IDP-23..28: nonce, logout, sessions, pages) and ``_keys.py`` (IDP-29..31).
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
from urllib.parse import urlsplit

import jwt
import requests

from tests.idp_driver import (
    authorize_params,
    browser_login,
    callback_params,
    request_url,
)

XSS = '"><script>alert(1)</script>'
EVIL = "https://evil.example/cb"
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
TIMEOUT = 10

# Error descriptions the server defines (helpers/sandbox/idp/: errors.py and the endpoint modules).
INVALID_CODE = "Invalid authorization code"
BAD_VERIFIER = "Failed to verify code verifier"
REDIRECT_URI_MISMATCH = "The redirect_uri does not match the one sent to /authorize."
BAD_REFRESH_TOKEN = "Unknown or invalid refresh token."
UNAUTHORIZED = "Unauthorized"
CALLBACK_MISMATCH = ("Callback URL mismatch. The provided redirect_uri is not in the list of allowed "
                     "callback URLs.")
UNKNOWN_CLIENT = "Unknown client."
PARAMETER_TWICE = "A parameter was sent more than once."
BAD_RETURN_TO = ('The "returnTo" querystring parameter is not defined as a valid URL in '
                 '"Allowed Logout URLs".')
PKCE_MISSING = "Missing required parameter: code_challenge (public clients must use PKCE)"
PKCE_METHOD = "code_challenge_method must be S256."
PKCE_CHALLENGE = "code_challenge must be 43 base64url characters (S256)."
UNSUPPORTED_RESPONSE_TYPE = "Supported response_type values: code, id_token, token id_token."
QUERY_MODE_WITH_TOKENS = "response_mode=query is not allowed when tokens are returned."
NONCE_MISSING = "Missing required parameter: nonce"
LOGIN_REQUIRED = "Login required"
GRANT_TYPES_DOC = "https://auth0.com/docs/clients/client-grant-types"


# ------------------------------------------------------------------------------------ helpers
def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _user(sandbox, index: int = 0) -> tuple[str, str]:
    user = sandbox.users[index]
    return user["email"], user["password"]


def _web_redirect(sandbox) -> str:
    """A callback registered for the confidential web client (read from the running seed)."""
    return sandbox.idp.seed.clients[sandbox.web_client_id].callbacks[0]


def _shared_redirect(sandbox) -> str:
    """A callback registered for both the SPA and the web client (for IDP-17)."""
    clients = sandbox.idp.seed.clients
    shared = [c for c in clients[sandbox.spa_client_id].callbacks if c in clients[sandbox.web_client_id].callbacks]
    assert shared, "the seed must have a callback URL shared by the SPA and the web client"
    return shared[0]


def _authorize(sandbox, params: dict, session: requests.Session | None = None, **kw) -> requests.Response:
    """GET /authorize without following redirects (``_``-prefixed helper keys are dropped)."""
    http = session or requests
    return http.get(request_url(sandbox.idp_url, params), allow_redirects=False, timeout=TIMEOUT, **kw)


def _spa_params(sandbox, **extra) -> dict:
    """The SPA's PKCE request; ``extra`` adds or replaces any parameter (client_id, redirect_uri too)."""
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri)
    params.update(extra)
    return params


def _without_pkce(params: dict) -> dict:
    params = {k: v for k, v in params.items() if k not in ("code_challenge", "code_challenge_method")}
    params["_verifier"] = None
    return params


def _login(sandbox, params: dict, session: requests.Session | None = None, user: int = 0) -> requests.Response:
    email, password = _user(sandbox, user)
    return browser_login(request_url(sandbox.idp_url, params), email, password, session)


def _login_code(sandbox, params: dict | None = None, session: requests.Session | None = None) -> tuple[str, dict]:
    """Log the first demo user in through the hosted page; return (code, the authorize params)."""
    params = params if params is not None else _spa_params(sandbox)
    answer = _login(sandbox, params, session)
    back = callback_params(answer)
    assert answer.headers["location"].startswith(params["redirect_uri"] + "?")
    assert back.get("state") == params.get("state")
    assert "error" not in back, back
    return back["code"], params


def _token(sandbox, data: dict, **kw) -> requests.Response:
    """POST /oauth/token as a form; ``None`` values are left out."""
    body = {k: v for k, v in data.items() if v is not None}
    return requests.post(sandbox.idp_url + "oauth/token", data=body, allow_redirects=False, timeout=TIMEOUT, **kw)


def _redeem(sandbox, code: str, params: dict, **override) -> requests.Response:
    """Exchange ``code`` as the client of ``params`` would (override any field, ``None`` drops it)."""
    data = {"grant_type": "authorization_code", "client_id": params["client_id"], "code": code,
            "redirect_uri": params["redirect_uri"], "code_verifier": params.get("_verifier")}
    if params["client_id"] == sandbox.web_client_id:
        data["client_secret"] = sandbox.web_client_secret
    data.update(override)
    return _token(sandbox, data)


def _assert_oauth_error(response: requests.Response, status: int, error: str, description: str | None) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error, body
    if description is not None:
        assert body["error_description"] == description, body
    return body


def _page_fields(page: str) -> tuple[str, str]:
    """(error code, error description) shown on the IdP's HTML error page, unescaped."""
    code = re.search(r'<strong id="error-code">(.*?)</strong>', page, re.S)
    description = re.search(r'<span id="error-description">(.*?)</span>', page, re.S)
    assert code and description, page[:500]
    return html.unescape(code.group(1)), html.unescape(description.group(1))


def _assert_error_page(response: requests.Response, error: str, description: str, *echo: str) -> None:
    """An HTML 400 page, no redirect anywhere, and none of the caller's strings in the body."""
    assert response.status_code == 400, (response.status_code, response.headers.get("location"))
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert _page_fields(response.text) == (error, description)
    for text in echo:
        if text:
            assert text not in response.text
            assert html.escape(text) not in response.text
            assert html.escape(text, quote=False) not in response.text


def _assert_redirect_error(response: requests.Response, params: dict, error: str, description: str,
                           where: str) -> dict:
    """An error sent back to the registered redirect_uri, in the query or the fragment."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = response.headers["location"]
    redirect_uri = params["redirect_uri"]
    parts = urlsplit(location)
    if where == "query":
        assert location.startswith(redirect_uri + "?"), location
        assert parts.fragment == ""
    else:
        assert location.startswith(redirect_uri + "#"), location
        assert parts.query == "", "an answer of a token flow must never be in the query string"
    back = callback_params(response)
    expected = {"error": error, "error_description": description}
    if params.get("state") is not None:
        expected["state"] = params["state"]
    assert back == expected
    return back


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})



def _password_grant(sandbox, **override) -> dict:
    email, password = _user(sandbox)
    data = {"grant_type": "password", "client_id": sandbox.web_client_id,
            "client_secret": sandbox.web_client_secret, "username": email, "password": password,
            "scope": "openid"}
    data.update(override)
    return data

