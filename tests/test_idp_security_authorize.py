"""Security cases of the sandbox IdP at /authorize (IDP-01 .. IDP-09).

The cases of shared/reference/jwt-security-cases.md section 1.7 and the decisions they follow:
tests/idp_security_support.py.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests

from tests.idp_driver import authorize_params, callback_params, pkce_pair
from tests.idp_security_support import (CALLBACK_MISMATCH, EVIL, PARAMETER_TWICE, PKCE_CHALLENGE, PKCE_METHOD,
                                        PKCE_MISSING, QUERY_MODE_WITH_TOKENS, TIMEOUT, UNKNOWN_CLIENT,
                                        UNSUPPORTED_RESPONSE_TYPE, XSS, _assert_error_page, _assert_redirect_error,
                                        _authorize, _login, _login_code, _redeem, _s256, _spa_params, _web_redirect,
                                        _without_pkce)


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
