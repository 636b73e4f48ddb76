"""Security cases of the sandbox identity provider (IdP side of OAuth 2.0 / OIDC).

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
``allow_redirects=False`` so that ``Location`` headers can be read.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import threading
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import pytest
import requests

from tests.idp_driver import (
    authorize_params,
    browser_login,
    callback_params,
    forms_of,
    pkce_pair,
    request_url,
)

XSS = '"><script>alert(1)</script>'
EVIL = "https://evil.example/cb"
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
TIMEOUT = 10

# Error descriptions the server defines (idp_errors.py and idp_app.py).
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


# ============================================================================ /authorize checks
def test_IDP_01_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(sandbox):
    params = _spa_params(sandbox, redirect_uri=EVIL)
    _assert_error_page(_authorize(sandbox, params), "invalid_request", CALLBACK_MISMATCH, EVIL)


def test_IDP_01_redirect_uri_of_another_client_is_refused(sandbox):
    other = _web_redirect(sandbox)
    assert other not in sandbox.idp.seed.clients[sandbox.spa_client_id].callbacks
    _assert_error_page(_authorize(sandbox, _spa_params(sandbox, redirect_uri=other)),
                       "invalid_request", CALLBACK_MISMATCH)


def test_IDP_01_missing_redirect_uri_is_refused(sandbox):
    params = _spa_params(sandbox)
    del params["redirect_uri"]
    _assert_error_page(_authorize(sandbox, params), "invalid_request", CALLBACK_MISMATCH)


NEAR_MISSES = [
    "http://localhost:3000/callback/",                      # trailing slash
    "http://localhost:3000/callback/../x",                  # dot segments
    "http://localhost:3000/callback/../callback",           # normalises to the registered URL
    "http://localhost:3000/callback?x=1",                   # extra query
    "http://localhost:3000/callback#x",                     # fragment
    "http://localhost:3000/CALLBACK",                       # path case
    "http://LOCALHOST:3000/callback",                       # host case
    "HTTP://localhost:3000/callback",                       # scheme case
    "https://localhost:3000/callback",                      # scheme
    "http://localhost:3000@evil.example/callback",          # userinfo trick
    "http://localhost:3000\\@evil.example/callback",        # backslash userinfo trick
    "http://localhost.evil.example:3000/callback",          # host suffix
    "http://localhost:3000.evil.example/callback",          # port-looking host
    "http://localhost:3000/callback/%2e%2e/x",              # encoded dot segments
    "http://localhost:3000/callback/%2E%2E/callback",
    "http://localhost:3000/callback%2f..%2fx",              # encoded slash
    "http://localhost:3000/%63allback",                     # encoded letter
    "http://localhost:3000//callback",                      # double slash
    "http://localhost:3000/callback;x",                     # path parameter
    "http://localhost:3000/callback%00",                    # NUL
    "http://localhost:3000/callback ",                      # trailing space
    " http://localhost:3000/callback",                      # leading space
    "http://localhost:3001/callback",                       # other port (no loopback port exception)
    "http://localhost/callback",                            # default port
    "http://127.0.0.1:3000/callback",                       # same host, other spelling
    "http://[::1]:3000/callback",
    "//localhost:3000/callback",                            # scheme-relative
    "http://localhost:3000/*",                              # wildcard attempts
    "http://*:3000/callback",
    "http://*.example/callback",
]


@pytest.mark.parametrize("redirect_uri", NEAR_MISSES)
def test_IDP_02_redirect_uri_near_misses_are_refused(sandbox, redirect_uri):
    assert sandbox.redirect_uri == "http://localhost:3000/callback", "the table is written for this URL"
    params = _spa_params(sandbox, redirect_uri=redirect_uri)
    _assert_error_page(_authorize(sandbox, params), "invalid_request", CALLBACK_MISMATCH, redirect_uri.strip())


def test_IDP_02_redirect_uri_sent_twice_is_refused(sandbox):
    """Parameter pollution: the registered URL and an attacker's one in the same request."""
    params = {k: v for k, v in _spa_params(sandbox).items() if not k.startswith("_")}
    url = (sandbox.idp_url + "authorize?" + urlencode(params) + "&" + urlencode({"redirect_uri": EVIL}))
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    _assert_error_page(response, "invalid_request", PARAMETER_TWICE, EVIL)


@pytest.mark.parametrize("client_id", [None, "", "no-such-client", XSS], ids=["missing", "empty", "unknown", "xss"])
def test_IDP_03_missing_or_unknown_client_id_gets_an_error_page(sandbox, client_id):
    params = _spa_params(sandbox)
    if client_id is None:
        del params["client_id"]
    else:
        params["client_id"] = client_id
    _assert_error_page(_authorize(sandbox, params), "invalid_request", UNKNOWN_CLIENT, client_id or "")


def test_IDP_03_client_id_sent_twice_is_refused(sandbox):
    params = {k: v for k, v in _spa_params(sandbox).items() if not k.startswith("_")}
    url = sandbox.idp_url + "authorize?" + urlencode(params) + "&client_id=" + sandbox.web_client_id
    _assert_error_page(requests.get(url, allow_redirects=False, timeout=TIMEOUT), "invalid_request", PARAMETER_TWICE)


@pytest.mark.parametrize("response_type, where", [
    ("token", "fragment"),
    ("foo", "fragment"),
    ("token token", "fragment"),
    ("code token", "query"),
    ("code id_token", "query"),
    ("code id_token token", "query"),
])
def test_IDP_04_unsupported_response_type_redirects_with_error(sandbox, response_type, where):
    params = _spa_params(sandbox, response_type=response_type)
    _assert_redirect_error(_authorize(sandbox, params), params, "unsupported_response_type",
                           UNSUPPORTED_RESPONSE_TYPE, where)


@pytest.mark.parametrize("response_type", ["id_token", "token id_token", "id_token token"])
def test_IDP_05_query_response_mode_with_tokens_is_refused_in_the_fragment(sandbox, response_type):
    params = _spa_params(sandbox, response_type=response_type, response_mode="query")
    _assert_redirect_error(_authorize(sandbox, params), params, "invalid_request", QUERY_MODE_WITH_TOKENS,
                           "fragment")


def test_IDP_05_token_alone_with_query_mode_answers_in_the_fragment(sandbox):
    params = _spa_params(sandbox, response_type="token", response_mode="query")
    _assert_redirect_error(_authorize(sandbox, params), params, "unsupported_response_type",
                           UNSUPPORTED_RESPONSE_TYPE, "fragment")


@pytest.mark.parametrize("state", ["plain-state", "a b&c=d#e/?%25+é", XSS])
def test_IDP_06_state_is_echoed_unchanged(sandbox, state):
    """The IdP half of IDP-06: ``state`` comes back byte for byte (the client checks it)."""
    params = _spa_params(sandbox, state=state)
    answer = _login(sandbox, params)
    assert callback_params(answer)["state"] == state


def test_IDP_06_no_state_sent_means_no_state_returned(sandbox):
    params = _spa_params(sandbox)
    del params["state"]
    back = callback_params(_login(sandbox, params))
    assert "state" not in back and "code" in back


def test_IDP_07_public_client_without_pkce_is_refused(sandbox):
    params = _without_pkce(_spa_params(sandbox))
    _assert_redirect_error(_authorize(sandbox, params), params, "invalid_request", PKCE_MISSING, "query")


def test_IDP_07_public_client_with_method_but_no_challenge_is_refused(sandbox):
    params = _without_pkce(_spa_params(sandbox))
    params["code_challenge_method"] = "S256"
    _assert_redirect_error(_authorize(sandbox, params), params, "invalid_request", PKCE_CHALLENGE, "query")


def test_IDP_07_confidential_client_may_omit_pkce(sandbox):
    """Positive control: the web client authenticates with its secret, PKCE is optional."""
    params = _without_pkce(authorize_params(sandbox.web_client_id, _web_redirect(sandbox)))
    code, params = _login_code(sandbox, params)
    response = _redeem(sandbox, code, params, code_verifier=None)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("method", ["plain", "s256", "S512", "sha256", "", None],
                         ids=["plain", "lowercase", "S512", "sha256", "empty", "missing"])
def test_IDP_08_only_S256_is_accepted(sandbox, method):
    verifier, challenge = pkce_pair()
    params = _spa_params(sandbox, code_challenge=verifier if method == "plain" else challenge)
    if method is None:
        del params["code_challenge_method"]
    else:
        params["code_challenge_method"] = method
    _assert_redirect_error(_authorize(sandbox, params), params, "invalid_request", PKCE_METHOD, "query")


@pytest.mark.parametrize("challenge", [
    "A" * 42,
    "A" * 44,
    "A" * 128,
    "A" * 42 + "+",
    "A" * 42 + "/",
    "A" * 42 + "=",
    _s256("x" * 43) + "=",
    "A" * 42 + ".",
    "A" * 42 + " ",
    "",
], ids=["len42", "len44", "len128", "plus", "slash", "padding", "padded-real", "dot", "space", "empty"])
def test_IDP_09_malformed_code_challenge_is_refused(sandbox, challenge):
    params = _spa_params(sandbox, code_challenge=challenge)
    _assert_redirect_error(_authorize(sandbox, params), params, "invalid_request", PKCE_CHALLENGE, "query")


# ============================================================================ /oauth/token: PKCE
def test_IDP_10_missing_code_verifier_is_refused(sandbox):
    code, params = _login_code(sandbox)
    _assert_oauth_error(_redeem(sandbox, code, params, code_verifier=None), 403, "invalid_grant", BAD_VERIFIER)


def test_IDP_11_wrong_code_verifier_is_refused_and_burns_the_code(sandbox):
    code, params = _login_code(sandbox)
    other, _ = pkce_pair()
    _assert_oauth_error(_redeem(sandbox, code, params, code_verifier=other), 403, "invalid_grant", BAD_VERIFIER)
    # No second guess: the right verifier now finds the code gone.
    _assert_oauth_error(_redeem(sandbox, code, params), 403, "invalid_grant", INVALID_CODE)


@pytest.mark.parametrize("verifier", [
    "a" * 42,
    "a" * 129,
    "a" * 42 + "!",
    "a" * 21 + " " + "a" * 21,
    "a" * 42 + "+",
    "a" * 42 + "/",
    "a" * 42 + "=",
    "a" * 42 + "é",
], ids=["len42", "len129", "bang", "space", "plus", "slash", "equals", "non-ascii"])
def test_IDP_12_malformed_code_verifier_is_refused_even_if_it_hashes_right(sandbox, verifier):
    """The challenge is the S256 of the malformed verifier itself, so only the format check can refuse it."""
    params = _spa_params(sandbox, code_challenge=_s256(verifier))
    params["_verifier"] = verifier
    code, params = _login_code(sandbox, params)
    _assert_oauth_error(_redeem(sandbox, code, params), 403, "invalid_grant", BAD_VERIFIER)


@pytest.mark.parametrize("verifier", ["a" * 43, "a" * 128, "Az09-._~" * 16],
                         ids=["len43", "len128", "all-classes"])
def test_IDP_12_boundary_verifiers_are_accepted(sandbox, verifier):
    params = _spa_params(sandbox, code_challenge=_s256(verifier))
    params["_verifier"] = verifier
    code, params = _login_code(sandbox, params)
    assert _redeem(sandbox, code, params).status_code == 200


def test_IDP_13_pkce_downgrade_is_refused(sandbox):
    """No challenge at /authorize (confidential client), but a code_verifier at the token endpoint."""
    params = _without_pkce(authorize_params(sandbox.web_client_id, _web_redirect(sandbox)))
    code, params = _login_code(sandbox, params)
    verifier, _ = pkce_pair()
    _assert_oauth_error(_redeem(sandbox, code, params, code_verifier=verifier), 403, "invalid_grant", BAD_VERIFIER)


# ============================================================================ /oauth/token: codes
def test_IDP_14_code_replay_is_refused_and_revokes_the_refresh_token(sandbox):
    code, params = _login_code(sandbox, _spa_params(sandbox, scope="openid offline_access"))
    first = _redeem(sandbox, code, params)
    assert first.status_code == 200, first.text
    refresh_token = first.json()["refresh_token"]
    refresh = {"grant_type": "refresh_token", "client_id": sandbox.spa_client_id, "refresh_token": refresh_token}
    assert _token(sandbox, refresh).status_code == 200, "the refresh token works before the replay"

    _assert_oauth_error(_redeem(sandbox, code, params), 403, "invalid_grant", INVALID_CODE)
    _assert_oauth_error(_token(sandbox, refresh), 403, "invalid_grant", BAD_REFRESH_TOKEN)


def test_IDP_14_code_replay_also_revokes_the_opaque_access_token(sandbox):
    code, params = _login_code(sandbox, _spa_params(sandbox, scope="openid email"))
    first = _redeem(sandbox, code, params)
    access = {"Authorization": "Bearer " + first.json()["access_token"]}
    assert requests.get(sandbox.idp_url + "userinfo", headers=access, timeout=TIMEOUT).status_code == 200
    _assert_oauth_error(_redeem(sandbox, code, params), 403, "invalid_grant", INVALID_CODE)
    assert requests.get(sandbox.idp_url + "userinfo", headers=access, timeout=TIMEOUT).status_code == 401


def test_web_message_to_an_origin_that_is_not_allowed_falls_back_to_a_redirect(sandbox):
    """The web client has no Allowed Web Origins: no page may post a message to (or be framed by) it."""
    redirect = _web_redirect(sandbox)
    params = authorize_params(sandbox.web_client_id, redirect, response_mode="web_message")
    answer = _authorize(sandbox, params)
    assert answer.status_code == 302 and "postMessage" not in answer.text
    back = callback_params(answer)
    assert back["error"] == "invalid_request" and back["state"] == params["state"]
    assert answer.headers["location"].startswith(redirect + "?")


def test_IDP_15_concurrent_redemptions_give_exactly_one_success(sandbox):
    code, params = _login_code(sandbox)
    barrier = threading.Barrier(10)
    results: list[requests.Response] = []
    lock = threading.Lock()

    def redeem() -> None:
        barrier.wait()
        response = _redeem(sandbox, code, params)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=redeem) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 10
    assert sorted(r.status_code for r in results) == [200] + [403] * 9
    for response in results:
        if response.status_code == 403:
            _assert_oauth_error(response, 403, "invalid_grant", INVALID_CODE)


def test_IDP_16_expired_code_is_refused(sandbox):
    code, params = _login_code(sandbox)
    sandbox.clock.advance(601)
    _assert_oauth_error(_redeem(sandbox, code, params), 403, "invalid_grant", INVALID_CODE)


def test_IDP_16_code_is_valid_within_its_lifetime(sandbox):
    sandbox.clock.freeze()
    code, params = _login_code(sandbox)
    sandbox.clock.advance(599)
    assert _redeem(sandbox, code, params).status_code == 200


def test_IDP_17_code_of_the_spa_redeemed_by_the_web_client_is_refused(sandbox):
    params = authorize_params(sandbox.spa_client_id, _shared_redirect(sandbox))
    code, params = _login_code(sandbox, params)
    response = _redeem(sandbox, code, params, client_id=sandbox.web_client_id,
                       client_secret=sandbox.web_client_secret)
    _assert_oauth_error(response, 403, "invalid_grant", INVALID_CODE)


def test_IDP_17_code_of_the_web_client_redeemed_by_the_spa_is_refused(sandbox):
    params = authorize_params(sandbox.web_client_id, _shared_redirect(sandbox))
    code, params = _login_code(sandbox, params)
    response = _redeem(sandbox, code, params, client_id=sandbox.spa_client_id, client_secret=None)
    _assert_oauth_error(response, 403, "invalid_grant", INVALID_CODE)


@pytest.mark.parametrize("redirect_uri", [None, "other-registered", "http://localhost:3000/callback/", EVIL],
                         ids=["missing", "other-registered", "trailing-slash", "evil"])
def test_IDP_18_redirect_uri_must_match_at_the_token_endpoint(sandbox, redirect_uri):
    if redirect_uri == "other-registered":
        redirect_uri = next(c for c in sandbox.idp.seed.clients[sandbox.spa_client_id].callbacks
                            if c != sandbox.redirect_uri)
    code, params = _login_code(sandbox)
    response = _redeem(sandbox, code, params, redirect_uri=redirect_uri)
    _assert_oauth_error(response, 403, "invalid_grant", REDIRECT_URI_MISMATCH)


# ============================================================================ client authentication
def _password_grant(sandbox, **override) -> dict:
    email, password = _user(sandbox)
    data = {"grant_type": "password", "client_id": sandbox.web_client_id,
            "client_secret": sandbox.web_client_secret, "username": email, "password": password,
            "scope": "openid"}
    data.update(override)
    return data


def test_IDP_19_confidential_client_with_the_right_secret_is_accepted(sandbox):
    """Positive control for the refusals below."""
    assert _token(sandbox, _password_grant(sandbox)).status_code == 200
    basic = (sandbox.web_client_id, sandbox.web_client_secret)
    assert _token(sandbox, _password_grant(sandbox, client_secret=None), auth=basic).status_code == 200


@pytest.mark.parametrize("secret", [None, "wrong-secret", "sandbox-web-secret-not-for-production-us", ""],
                         ids=["missing", "wrong", "prefix", "empty"])
def test_IDP_19_wrong_or_missing_client_secret_in_the_body(sandbox, secret):
    response = _token(sandbox, _password_grant(sandbox, client_secret=secret))
    _assert_oauth_error(response, 401, "access_denied", UNAUTHORIZED)
    assert "access_token" not in response.text


def test_IDP_19_wrong_secret_with_basic_auth_gets_www_authenticate(sandbox):
    response = _token(sandbox, _password_grant(sandbox, client_secret=None),
                      auth=(sandbox.web_client_id, "wrong-secret"))
    _assert_oauth_error(response, 401, "access_denied", UNAUTHORIZED)
    assert response.headers["www-authenticate"].startswith("Basic")


def test_IDP_19_unknown_client_is_unauthorized(sandbox):
    response = _token(sandbox, _password_grant(sandbox, client_id="no-such-client"))
    _assert_oauth_error(response, 401, "access_denied", UNAUTHORIZED)


def test_IDP_19_m2m_client_with_wrong_secret(sandbox):
    data = {"grant_type": "client_credentials", "client_id": sandbox.m2m_client_id,
            "client_secret": "wrong-secret", "audience": sandbox.api_audience}
    _assert_oauth_error(_token(sandbox, data), 401, "access_denied", UNAUTHORIZED)


# ============================================================================ grant types
def test_IDP_20_missing_grant_type(sandbox):
    data = {"client_id": sandbox.m2m_client_id, "client_secret": sandbox.m2m_client_secret,
            "audience": sandbox.api_audience}
    _assert_oauth_error(_token(sandbox, data), 400, "invalid_request", "Missing required parameter: grant_type")


@pytest.mark.parametrize("grant_type", ["implicit", "foo", "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                        "Password", "authorization_code "])
def test_IDP_20_unknown_grant_type(sandbox, grant_type):
    data = _password_grant(sandbox, grant_type=grant_type)
    _assert_oauth_error(_token(sandbox, data), 400, "unsupported_grant_type", "Unsupported grant type.")


@pytest.mark.parametrize("client, grant_type", [
    ("spa", "password"),
    ("spa", "http://auth0.com/oauth/grant-type/password-realm"),
    ("spa", "client_credentials"),
    ("m2m", "password"),
    ("m2m", "authorization_code"),
    ("web", "client_credentials"),
])
def test_IDP_20_grant_not_allowed_for_the_client(sandbox, client, grant_type):
    client_id, secret = {
        "spa": (sandbox.spa_client_id, None),
        "m2m": (sandbox.m2m_client_id, sandbox.m2m_client_secret),
        "web": (sandbox.web_client_id, sandbox.web_client_secret),
    }[client]
    email, password = _user(sandbox)
    data = {"grant_type": grant_type, "client_id": client_id, "client_secret": secret, "username": email,
            "password": password, "realm": sandbox.connection, "audience": sandbox.api_audience,
            "code": "x" * 43, "redirect_uri": sandbox.redirect_uri}
    body = _assert_oauth_error(_token(sandbox, data), 403, "unauthorized_client",
                               f"Grant type '{grant_type}' not allowed for the client.")
    assert body.get("error_uri") == GRANT_TYPES_DOC


@pytest.mark.parametrize("grant_type", ["password", "http://auth0.com/oauth/grant-type/password-realm"])
def test_IDP_20_password_grants_work_for_the_confidential_web_client(sandbox, grant_type):
    response = _token(sandbox, _password_grant(sandbox, grant_type=grant_type, realm=sandbox.connection))
    assert response.status_code == 200, response.text
    assert _claims(response.json()["id_token"])["aud"] == sandbox.web_client_id


def test_IDP_20_password_grant_with_a_wrong_password(sandbox):
    response = _token(sandbox, _password_grant(sandbox, password="not-the-password"))
    _assert_oauth_error(response, 403, "invalid_grant", "Wrong email or password.")


# ============================================================================ token endpoint transport
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_IDP_21_token_endpoint_is_post_only(sandbox, method):
    query = {"grant_type": "client_credentials", "client_id": sandbox.m2m_client_id,
             "client_secret": sandbox.m2m_client_secret, "audience": sandbox.api_audience}
    response = requests.request(method, sandbox.idp_url + "oauth/token", params=query, timeout=TIMEOUT)
    _assert_oauth_error(response, 405, "method_not_allowed", "The token endpoint accepts POST only.")
    assert response.headers["allow"] == "POST"
    assert "access_token" not in response.text


def test_IDP_21_credentials_in_the_query_are_ignored(sandbox):
    """A POST whose secret rides in the URL: the secret is not read from there."""
    body = {"grant_type": "client_credentials", "client_id": sandbox.m2m_client_id,
            "audience": sandbox.api_audience}
    response = requests.post(sandbox.idp_url + "oauth/token", params={"client_secret": sandbox.m2m_client_secret},
                             data=body, timeout=TIMEOUT)
    _assert_oauth_error(response, 401, "access_denied", UNAUTHORIZED)


def test_IDP_21_everything_in_the_query_is_ignored(sandbox):
    query = {"grant_type": "client_credentials", "client_id": sandbox.m2m_client_id,
             "client_secret": sandbox.m2m_client_secret, "audience": sandbox.api_audience}
    response = requests.post(sandbox.idp_url + "oauth/token", params=query, timeout=TIMEOUT)
    _assert_oauth_error(response, 400, "invalid_request", "Missing required parameter: grant_type")


def _assert_no_store(response: requests.Response) -> None:
    assert response.headers.get("cache-control") == "no-store"
    assert response.headers.get("pragma") == "no-cache"
    assert response.headers["content-type"].startswith("application/json")


def test_IDP_22_successful_token_responses_are_not_cached(sandbox):
    code, params = _login_code(sandbox, _spa_params(sandbox, scope="openid offline_access"))
    by_code = _redeem(sandbox, code, params)
    refresh = _token(sandbox, {"grant_type": "refresh_token", "client_id": sandbox.spa_client_id,
                               "refresh_token": by_code.json()["refresh_token"]})
    machine = _token(sandbox, {"grant_type": "client_credentials", "client_id": sandbox.m2m_client_id,
                               "client_secret": sandbox.m2m_client_secret, "audience": sandbox.api_audience})
    password = _token(sandbox, _password_grant(sandbox))
    for response in (by_code, refresh, machine, password):
        assert response.status_code == 200, response.text
        _assert_no_store(response)
        assert response.json()["token_type"] == "Bearer"


def test_IDP_22_token_error_responses_are_not_cached(sandbox):
    errors = [
        _token(sandbox, {"grant_type": "authorization_code", "client_id": sandbox.spa_client_id,
                         "code": "nope", "redirect_uri": sandbox.redirect_uri}),                   # 403
        _token(sandbox, _password_grant(sandbox, client_secret="wrong")),                         # 401
        _token(sandbox, {"client_id": sandbox.spa_client_id}),                                    # 400
        _token(sandbox, {"grant_type": "foo", "client_id": sandbox.spa_client_id}),               # 400
        requests.get(sandbox.idp_url + "oauth/token", timeout=TIMEOUT),                           # 405
    ]
    assert [r.status_code for r in errors] == [403, 401, 400, 400, 405]
    for response in errors:
        _assert_no_store(response)


# ============================================================================ nonce and implicit
def test_IDP_23_nonce_round_trip_in_the_code_flow(sandbox):
    nonce = secrets.token_urlsafe(16) + "-._~"
    code, params = _login_code(sandbox, _spa_params(sandbox, nonce=nonce))
    response = _redeem(sandbox, code, params)
    assert response.status_code == 200
    assert _claims(response.json()["id_token"])["nonce"] == nonce


@pytest.mark.parametrize("response_type", ["id_token", "token id_token"])
def test_IDP_23_nonce_round_trip_in_the_implicit_flow(sandbox, response_type):
    nonce = secrets.token_urlsafe(16)
    params = _without_pkce(_spa_params(sandbox, response_type=response_type, nonce=nonce))
    answer = _login(sandbox, params)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(sandbox.redirect_uri + "#") and urlsplit(location).query == ""
    back = callback_params(answer)
    assert back["state"] == params["state"]
    claims = _claims(back["id_token"])
    assert claims["nonce"] == nonce
    assert claims["aud"] == sandbox.spa_client_id
    if "token" in response_type.split():
        assert back["token_type"] == "Bearer"
        digest = hashlib.sha256(back["access_token"].encode()).digest()
        assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    else:
        assert "access_token" not in back


@pytest.mark.parametrize("response_type", ["id_token", "token id_token"])
@pytest.mark.parametrize("nonce", [None, ""], ids=["missing", "empty"])
def test_IDP_23_implicit_without_nonce_is_refused(sandbox, response_type, nonce):
    params = _without_pkce(_spa_params(sandbox, response_type=response_type))
    if nonce is None:
        del params["nonce"]
    else:
        params["nonce"] = nonce
    _assert_redirect_error(_authorize(sandbox, params), params, "invalid_request", NONCE_MISSING, "fragment")


def test_IDP_23_implicit_without_nonce_in_form_post_mode(sandbox):
    params = _without_pkce(_spa_params(sandbox, response_type="id_token", response_mode="form_post"))
    del params["nonce"]
    response = _authorize(sandbox, params)
    assert response.status_code == 200 and "location" not in response.headers
    form = forms_of(response.text)[0]
    assert form["action"] == sandbox.redirect_uri and form["method"] == "post"
    assert form["fields"] == {"error": "invalid_request", "error_description": NONCE_MISSING,
                              "state": params["state"]}


# ============================================================================ logout and sessions
@pytest.mark.parametrize("client_id, return_to", [
    (None, "https://evil.example"),
    (None, "http://localhost:3000"),
    (None, "http://localhost:3000/@evil.example"),
    (None, "//evil.example/"),
    ("spa", "https://evil.example/"),
    ("spa", "http://localhost:3000//evil.example"),
    ("spa", "http://localhost:3000/?next=https://evil.example"),
    ("spa", "http://localhost:3000@evil.example/"),
    ("spa", "http://localhost:3000/callback"),          # a callback URL, not a logout URL
    ("spa", "http://localhost:5000/"),                  # the web client's logout URL
    ("spa", "HTTP://LOCALHOST:3000/"),
    ("spa", XSS),
])
def test_IDP_24_logout_return_to_not_registered_is_refused(sandbox, client_id, return_to):
    query = {"returnTo": return_to}
    if client_id:
        query["client_id"] = sandbox.spa_client_id
    response = requests.get(sandbox.idp_url + "v2/logout", params=query, allow_redirects=False, timeout=TIMEOUT)
    _assert_error_page(response, "invalid_request", BAD_RETURN_TO, return_to)


def test_IDP_24_logout_with_unknown_client_is_refused(sandbox):
    query = {"client_id": XSS, "returnTo": "http://localhost:3000/"}
    response = requests.get(sandbox.idp_url + "v2/logout", params=query, allow_redirects=False, timeout=TIMEOUT)
    _assert_error_page(response, "invalid_request", UNKNOWN_CLIENT, XSS)


def test_IDP_24_logout_to_a_registered_url_ends_the_session(sandbox):
    http = requests.Session()
    _login_code(sandbox, session=http)
    cookie = http.cookies.get("auth0")
    assert cookie

    return_to = sandbox.idp.seed.clients[sandbox.spa_client_id].allowed_logout_urls[0]
    response = http.get(sandbox.idp_url + "v2/logout", params={"client_id": sandbox.spa_client_id,
                                                               "returnTo": return_to},
                        allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert response.headers["location"] == return_to
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("auth0=") and "Max-Age=0" in set_cookie
    assert http.cookies.get("auth0") is None

    params = _spa_params(sandbox, prompt="none")
    _assert_redirect_error(_authorize(sandbox, params, http), params, "login_required", LOGIN_REQUIRED, "query")
    # The session is closed on the server too: replaying the old cookie does not log in.
    params = _spa_params(sandbox, prompt="none")
    replay = _authorize(sandbox, params, cookies={"auth0": cookie})
    _assert_redirect_error(replay, params, "login_required", LOGIN_REQUIRED, "query")


def test_prompt_none_with_a_live_session_answers_a_code_without_the_login_page(sandbox):
    http = requests.Session()
    _login_code(sandbox, session=http)
    params = _spa_params(sandbox, prompt="none")
    response = _authorize(sandbox, params, http)
    assert response.status_code == 302
    assert response.headers["location"].startswith(sandbox.redirect_uri + "?")
    back = callback_params(response)
    assert back["state"] == params["state"] and "error" not in back
    tokens = _redeem(sandbox, back["code"], params)
    assert tokens.status_code == 200
    assert _claims(tokens.json()["id_token"])["nonce"] == params["nonce"]


def test_prompt_none_without_a_session_answers_login_required(sandbox):
    params = _spa_params(sandbox, prompt="none")
    _assert_redirect_error(_authorize(sandbox, params), params, "login_required", LOGIN_REQUIRED, "query")


# ============================================================================ pages: headers and HTML
def _login_page(sandbox) -> requests.Response:
    return requests.get(request_url(sandbox.idp_url, _spa_params(sandbox)), timeout=TIMEOUT)


def _failed_login(sandbox) -> requests.Response:
    page = _login_page(sandbox)
    form = forms_of(page.text)[0]
    return requests.post(urljoin(page.url, form["action"]), allow_redirects=False, timeout=TIMEOUT,
                         data=dict(form["fields"], username=XSS, password="wrong"))


def _upstream_page(sandbox) -> requests.Response:
    return requests.get(request_url(sandbox.idp_url, _spa_params(sandbox, connection="github")), timeout=TIMEOUT)


def _form_post_page(sandbox) -> requests.Response:
    return _authorize(sandbox, _spa_params(sandbox, prompt="none", response_mode="form_post"))


PAGES = {
    "login page": _login_page,
    "login page after a wrong password": _failed_login,
    "simulated social provider page": _upstream_page,
    "error page: unknown client": lambda s: _authorize(s, _spa_params(s, client_id="nope")),
    "error page: redirect_uri mismatch": lambda s: _authorize(s, _spa_params(s, redirect_uri=EVIL)),
    "error page: unknown login transaction": lambda s: requests.get(s.idp_url + "u/login?state=nope",
                                                                    timeout=TIMEOUT),
    "error page: logout returnTo": lambda s: requests.get(s.idp_url + "v2/logout?returnTo=https://evil.example",
                                                          allow_redirects=False, timeout=TIMEOUT),
    "logged-out page": lambda s: requests.get(s.idp_url + "v2/logout", allow_redirects=False, timeout=TIMEOUT),
    "form_post response": _form_post_page,
}


@pytest.mark.parametrize("page", list(PAGES))
def test_IDP_27_pages_cannot_be_framed(sandbox, page):
    response = PAGES[page](sandbox)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers.get("content-security-policy") == "frame-ancestors 'none'"
    assert response.headers.get("x-frame-options") == "DENY"


@pytest.mark.parametrize("page", list(PAGES))
def test_IDP_25_pages_send_no_referrer(sandbox, page):
    response = PAGES[page](sandbox)
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in response.text


@pytest.mark.parametrize("page", ["login page", "simulated social provider page", "error page: unknown client",
                                  "form_post response"])
def test_IDP_25_pages_load_no_third_party_resources(sandbox, page):
    response = PAGES[page](sandbox)
    assert response.status_code in (200, 400)
    for tag in re.findall(r"<(?:script|img|link|iframe|object|embed|source|video|audio)\b[^>]*>", response.text, re.I):
        assert not re.search(r"""(?:src|href|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//""", tag, re.I), tag
    assert "@import" not in response.text and "url(" not in response.text


def _redirect_to_login(sandbox) -> requests.Response:
    return _authorize(sandbox, _spa_params(sandbox))


def _login_post(sandbox) -> requests.Response:
    return _login(sandbox, _spa_params(sandbox))


REDIRECTS = {
    "/authorize to the login page": (_redirect_to_login, "/u/login?"),
    "login form POST to the app": (_login_post, "http://localhost:3000/callback?"),
    "/authorize error to the app": (lambda s: _authorize(s, _spa_params(s, prompt="none")),
                                    "http://localhost:3000/callback?"),
    "logout to the app": (lambda s: requests.get(s.idp_url + "v2/logout",
                                                 params={"client_id": s.spa_client_id,
                                                         "returnTo": "http://localhost:3000/"},
                                                 allow_redirects=False, timeout=TIMEOUT), "http://localhost:3000/"),
}


@pytest.mark.parametrize("redirect", list(REDIRECTS))
def test_IDP_25_redirects_send_no_referrer(sandbox, redirect):
    make, prefix = REDIRECTS[redirect]
    response = make(sandbox)
    assert response.status_code == 302
    assert response.headers["location"].startswith(prefix)
    assert response.headers.get("referrer-policy") == "no-referrer"


def test_IDP_26_login_form_post_answers_302_never_307(sandbox):
    params = _spa_params(sandbox)
    response = _login(sandbox, params)
    assert response.status_code == 302
    assert response.headers["location"].startswith(sandbox.redirect_uri + "?code=")


def test_IDP_26_social_provider_form_post_answers_302_never_307(sandbox):
    page = _upstream_page(sandbox)
    form = forms_of(page.text)[0]
    name, value, _ = [b for b in form["buttons"] if b[1]][0]
    response = requests.post(urljoin(page.url, form["action"]), data=dict(form["fields"], **{name: value}),
                             allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).path == "/login/callback"


def test_IDP_26_replayed_login_post_gets_no_second_code(sandbox):
    """The login transaction behind the form is single-use: resubmitting it answers an error page."""
    page = _login_page(sandbox)
    form = forms_of(page.text)[0]
    email, password = _user(sandbox)
    data = dict(form["fields"], username=email, password=password)
    first = requests.post(urljoin(page.url, form["action"]), data=data, allow_redirects=False, timeout=TIMEOUT)
    assert first.status_code == 302
    again = requests.post(urljoin(page.url, form["action"]), data=data, allow_redirects=False, timeout=TIMEOUT)
    _assert_error_page(again, "invalid_request", "This login session is unknown or has expired.")


def test_IDP_26_wrong_password_rerenders_the_form_without_a_redirect(sandbox):
    response = _failed_login(sandbox)
    assert response.status_code == 400 and "location" not in response.headers
    message = re.search(r'<div class="error" role="alert" id="error-message">(.*?)</div>', response.text, re.S)
    assert message and html.unescape(message.group(1)) == "Wrong email or password."


def test_IDP_28_state_is_escaped_in_a_form_post_response(sandbox):
    params = _spa_params(sandbox, prompt="none", response_mode="form_post", state=XSS)
    response = _authorize(sandbox, params)
    assert response.status_code == 200
    assert XSS not in response.text and "<script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    form = forms_of(response.text)[0]
    assert form["action"] == sandbox.redirect_uri
    assert form["fields"] == {"error": "login_required", "error_description": LOGIN_REQUIRED, "state": XSS}


def test_IDP_28_state_is_escaped_in_a_successful_form_post_response(sandbox):
    params = _spa_params(sandbox, response_mode="form_post", state=XSS)
    response = _login(sandbox, params)
    assert response.status_code == 200
    assert XSS not in response.text and "<script>" not in response.text
    fields = forms_of(response.text)[0]["fields"]
    assert fields["state"] == XSS and set(fields) == {"code", "state"}


def test_IDP_28_state_cannot_break_out_of_the_web_message_script(sandbox):
    state = "</script><script>alert(1)</script>'\"&"
    params = _spa_params(sandbox, prompt="none", response_mode="web_message", state=state)
    response = _authorize(sandbox, params)
    assert response.status_code == 200
    assert response.text.count("<script") == 1 and response.text.count("</script>") == 1
    assert "alert(1)" in response.text  # present, but only as escaped data inside the JSON literal
    assert response.headers.get("content-security-policy") == "frame-ancestors http://localhost:3000"


def test_IDP_28_username_is_escaped_on_the_login_page(sandbox):
    response = _failed_login(sandbox)
    assert XSS not in response.text and "<script>" not in response.text
    assert forms_of(response.text)[0]["fields"]["username"] == XSS


@pytest.mark.parametrize("name, value, error, description", [
    ("audience", XSS, "access_denied", "Service not found"),
    ("connection", XSS, "invalid_request", "the connection was not found"),
    ("prompt", XSS, "invalid_request", "prompt must be none, login or consent."),
    ("max_age", XSS, "invalid_request", "max_age must be a number of seconds."),
    ("code_challenge_method", XSS, "invalid_request", PKCE_METHOD),
])
def test_IDP_28_authorize_errors_never_echo_the_callers_text(sandbox, name, value, error, description):
    params = _spa_params(sandbox, **{name: value})
    response = _authorize(sandbox, params)
    _assert_redirect_error(response, params, error, description, "query")
    assert "alert" not in parse_qs(urlsplit(response.headers["location"]).query)["error_description"][0]


# ============================================================================ keys, discovery, tokens
def _b64u_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def test_IDP_29_jwks_publishes_only_public_2048_bit_rs256_keys(sandbox):
    response = requests.get(sandbox.idp_url + ".well-known/jwks.json", timeout=TIMEOUT)
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) >= 1
    kids = [key["kid"] for key in keys]
    assert len(kids) == len(set(kids)), "every key needs a unique kid"
    for key in keys:
        assert not PRIVATE_JWK_MEMBERS & set(key), key.keys()
        assert set(key) <= {"kty", "use", "alg", "kid", "n", "e", "x5c", "x5t", "x5t#S256", "key_ops"}
        assert (key["kty"], key["use"], key["alg"]) == ("RSA", "sig", "RS256")
        assert isinstance(key["kid"], str) and key["kid"]
        assert _b64u_int(key["n"]).bit_length() >= 2048
        assert _b64u_int(key["e"]) == 65537
        jwt.PyJWK(key)  # a well-formed public JWK


@pytest.fixture(scope="module")
def discovery(sandbox) -> dict:
    response = requests.get(sandbox.idp_url + ".well-known/openid-configuration", timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def minted(sandbox) -> dict[str, str]:
    """One token of every kind the IdP mints, through its public endpoints."""
    tokens: dict[str, str] = {}
    audience = sandbox.api_audience
    code, params = _login_code(sandbox, _spa_params(sandbox, scope="openid profile email offline_access",
                                                    audience=audience))
    body = _redeem(sandbox, code, params).json()
    tokens["code: id_token"], tokens["code: access_token"] = body["id_token"], body["access_token"]
    body = _token(sandbox, {"grant_type": "refresh_token", "client_id": sandbox.spa_client_id,
                            "refresh_token": body["refresh_token"]}).json()
    tokens["refresh: id_token"], tokens["refresh: access_token"] = body["id_token"], body["access_token"]
    body = _token(sandbox, _password_grant(sandbox, audience=audience)).json()
    tokens["password: id_token"], tokens["password: access_token"] = body["id_token"], body["access_token"]
    body = _token(sandbox, {"grant_type": "client_credentials", "client_id": sandbox.m2m_client_id,
                            "client_secret": sandbox.m2m_client_secret, "audience": audience}).json()
    tokens["client_credentials: access_token"] = body["access_token"]
    params = _without_pkce(_spa_params(sandbox, response_type="token id_token", audience=audience))
    back = callback_params(_login(sandbox, params))
    tokens["implicit: id_token"], tokens["implicit: access_token"] = back["id_token"], back["access_token"]
    return tokens


TOKEN_KINDS = ["code: id_token", "code: access_token", "refresh: id_token", "refresh: access_token",
               "password: id_token", "password: access_token", "client_credentials: access_token",
               "implicit: id_token", "implicit: access_token"]


def test_IDP_30_discovery_metadata(sandbox, discovery):
    issuer = discovery["issuer"]
    assert issuer == sandbox.idp_url and issuer.endswith("/")
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "token" not in discovery["response_types_supported"]
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert discovery[name].startswith(issuer), name
    jwks_uri = urlsplit(discovery["jwks_uri"])
    assert (jwks_uri.scheme, jwks_uri.netloc) == (urlsplit(issuer).scheme, urlsplit(issuer).netloc)
    assert requests.get(discovery["jwks_uri"], timeout=TIMEOUT).json()["keys"]


@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_IDP_30_every_token_carries_the_discovery_issuer(discovery, minted, kind):
    payload = base64.urlsafe_b64decode(minted[kind].split(".")[1] + "==")
    assert _claims(minted[kind])["iss"] == discovery["issuer"]
    # Byte for byte, as it appears in the signed payload (no re-encoding, trailing slash kept).
    assert b'"iss":"' + discovery["issuer"].encode() + b'"' in payload


@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_IDP_31_tokens_are_rs256_with_a_published_kid(sandbox, discovery, minted, kind):
    token = minted[kind]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    jwks = requests.get(discovery["jwks_uri"], timeout=TIMEOUT).json()
    keys = {key["kid"]: key for key in jwks["keys"]}
    assert header.get("kid") in keys
    claims = _claims(token)
    audience = claims["aud"]
    jwt.decode(token, jwt.PyJWK(keys[header["kid"]]).key, algorithms=["RS256"], issuer=discovery["issuer"],
               audience=audience if isinstance(audience, str) else audience[0],
               options={"verify_exp": False, "verify_iat": False})
