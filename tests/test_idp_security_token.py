"""Security cases of the sandbox IdP at /oauth/token: PKCE, codes, clients, grant types (IDP-10 .. IDP-22).

The cases of shared/reference/jwt-security-cases.md section 1.7 and the decisions they follow:
tests/idp_security_support.py.
"""
from __future__ import annotations

import threading

import pytest
import requests

from tests.idp_driver import authorize_params, callback_params, pkce_pair
from tests.idp_security_support import (BAD_REFRESH_TOKEN, BAD_VERIFIER, EVIL, GRANT_TYPES_DOC, INVALID_CODE,
                                        REDIRECT_URI_MISMATCH, TIMEOUT, UNAUTHORIZED, _assert_oauth_error, _authorize,
                                        _claims, _login_code, _password_grant, _redeem, _s256, _shared_redirect,
                                        _spa_params, _token, _user, _web_redirect, _without_pkce)


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
