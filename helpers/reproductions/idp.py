"""Reproductions of the identity provider's errors: /oauth/token, /authorize, /userinfo, sign-up, pages."""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests

from ..exceptions import FlowError
from ..flows import pkce_pair, sandbox_social_login, start_authorization
from .common import (TIMEOUT, ada, authorize, clock_moved, hosted_login, login, pkce_params, recipe, reproduces,
                     response_of, signup, target, throwaway, token_request)

if TYPE_CHECKING:
    from ..sandbox import Sandbox


# -- /oauth/token ---------------------------------------------------------------------------------
def _web_secret(sb: "Sandbox") -> dict[str, str]:
    return {"client_id": sb.web_client_id, "client_secret": sb.web_client_secret}


def _m2m(sb: "Sandbox") -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": sb.m2m_client_id, "client_secret": sb.m2m_client_secret}


recipe("idp-token-wrong-credentials", lambda sb: token_request(sb, {
    "grant_type": "password", **_web_secret(sb), "username": ada(sb)[0], "password": "not-her-password"}))
recipe("idp-token-invalid-code", lambda sb: token_request(sb, {
    "grant_type": "authorization_code", "client_id": sb.spa_client_id, "code": "made-up-code",
    "redirect_uri": sb.redirect_uri, "code_verifier": pkce_pair()[0]}))


def _exchange(sb: "Sandbox", *, verifier: str | None = None, redirect_uri: str | None = None) -> requests.Response:
    """A real code + PKCE login, then the code exchanged with one thing changed."""
    request, callback = hosted_login(sb)
    return token_request(sb, {"grant_type": "authorization_code", "client_id": request.client_id,
                              "code": callback.params["code"], "redirect_uri": redirect_uri or request.redirect_uri,
                              "code_verifier": verifier or request.code_verifier})


recipe("idp-token-bad-verifier", lambda sb: _exchange(sb, verifier=pkce_pair()[0]))
recipe("idp-token-redirect-uri-mismatch", lambda sb: _exchange(sb, redirect_uri=sb.redirect_uri + "/elsewhere"))
recipe("idp-token-bad-refresh-token", lambda sb: token_request(sb, {
    "grant_type": "refresh_token", **_web_secret(sb), "refresh_token": "made-up-refresh-token"}))


@reproduces("idp-token-refresh-scope-exceeded")
def _refresh_more_scope(sb: "Sandbox") -> requests.Response:
    refresh = login(sb, scope="openid email offline_access").refresh_token
    return token_request(sb, {"grant_type": "refresh_token", **_web_secret(sb), "refresh_token": refresh,
                               "scope": "openid email profile offline_access"})


recipe("idp-token-bad-client", lambda sb: token_request(sb, {
    "grant_type": "password", "client_id": sb.web_client_id, "client_secret": "not-the-secret",
    "username": ada(sb)[0], "password": ada(sb)[1]}))
recipe("idp-token-service-not-found", lambda sb: token_request(sb, {
    "grant_type": "password", **_web_secret(sb), "username": ada(sb)[0], "password": ada(sb)[1],
    "audience": "https://unknown.example/"}))
recipe("idp-token-no-audience", lambda sb: token_request(sb, _m2m(sb)))


@reproduces("idp-token-client-not-authorized")
def _no_client_grant(sb: "Sandbox") -> requests.Response:
    def without_grants(tenant: dict[str, Any]) -> None:
        tenant["client_grants"] = []
    with throwaway(tenant=without_grants) as box:
        return token_request(box, {**_m2m(box), "audience": box.api_audience})


recipe("idp-token-scope-not-granted", lambda sb: token_request(sb, {
    **_m2m(sb), "audience": sb.api_audience, "scope": "write:notes"}))
recipe("idp-token-grant-not-allowed", lambda sb: token_request(sb, {
    "grant_type": "client_credentials", "client_id": sb.spa_client_id, "audience": sb.api_audience}))
recipe("idp-token-unsupported-grant-type", lambda sb: token_request(sb, {
    "grant_type": "magic", **_web_secret(sb)}))
recipe("idp-token-missing-parameter", lambda sb: token_request(sb, {}))


def _token_body(sb: "Sandbox", data: bytes, content_type: str) -> requests.Response:
    return requests.post(sb.idp_url + "oauth/token", data=data, headers={"Content-Type": content_type},
                         timeout=TIMEOUT)


recipe("idp-token-body-not-json", lambda sb: _token_body(sb, b"{oops", "application/json"))
recipe("idp-token-body-not-object", lambda sb: _token_body(sb, b"[]", "application/json"))
recipe("idp-token-content-type", lambda sb: _token_body(sb, b"grant_type=password", "text/plain"))
recipe("idp-token-form-unreadable", lambda sb: _token_body(sb, b"\xff\xfe", "application/x-www-form-urlencoded"))
recipe("idp-token-repeated-parameter", lambda sb: _token_body(
    sb, b"grant_type=password&grant_type=password", "application/x-www-form-urlencoded"))
recipe("idp-token-not-a-string", lambda sb: _token_body(sb, b'{"grant_type": 5}', "application/json"))
recipe("idp-token-two-client-auth", lambda sb: requests.post(
    sb.idp_url + "oauth/token", data={"grant_type": "client_credentials", "client_secret": sb.m2m_client_secret},
    auth=(sb.m2m_client_id, sb.m2m_client_secret), timeout=TIMEOUT))
recipe("idp-token-client-id-differs", lambda sb: requests.post(
    sb.idp_url + "oauth/token", data={"grant_type": "client_credentials", "client_id": sb.web_client_id},
    auth=(sb.m2m_client_id, sb.m2m_client_secret), timeout=TIMEOUT))
recipe("idp-token-bad-realm", lambda sb: token_request(sb, {
    "grant_type": "http://auth0.com/oauth/grant-type/password-realm", **_web_secret(sb),
    "username": ada(sb)[0], "password": ada(sb)[1], "realm": "github"}))
recipe("idp-token-too-large", lambda sb: _token_body(sb, b"padding=" + b"x" * 70_000,
                                                      "application/x-www-form-urlencoded"))
recipe("idp-token-wrong-method", lambda sb: requests.get(sb.idp_url + "oauth/token", timeout=TIMEOUT))
_BROWSER = {"Accept": "text/html,application/xhtml+xml"}  # what a browser's navigation asks for
recipe("idp-endpoint-not-found", lambda sb: requests.post(sb.idp_url + "oauth/token/", json={}, timeout=TIMEOUT))
recipe("idp-endpoint-method-not-allowed", lambda sb: requests.delete(sb.idp_url + "authorize", timeout=TIMEOUT))
recipe("idp-page-not-found", lambda sb: requests.get(sb.idp_url + "nosuch", headers=_BROWSER, timeout=TIMEOUT))
recipe("idp-page-method-not-allowed", lambda sb: requests.post(sb.idp_url + "authorize", data={}, headers=_BROWSER,
                                                               timeout=TIMEOUT))


# -- /authorize redirects and error pages ---------------------------------------------------------
def _spa_authorize(sb: "Sandbox", **changes: Any) -> requests.Response:
    return authorize(sb, **pkce_params(sb, **changes))


def _implicit(sb: "Sandbox", **changes: Any) -> requests.Response:
    implicit = {"response_type": "id_token", "pkce": False, "nonce": secrets.token_urlsafe(8)}
    return _spa_authorize(sb, **{**implicit, **changes})


recipe("idp-authorize-login-required", lambda sb: _spa_authorize(sb, prompt="none"))
recipe("idp-authorize-unsupported-response-type", lambda sb: _spa_authorize(sb, response_type="token"))
recipe("idp-authorize-service-not-found", lambda sb: _spa_authorize(sb, audience="https://unknown.example/"))


@reproduces("idp-authorize-user-denied")
def _user_denied(sb: "Sandbox") -> requests.Response:
    request = start_authorization(target(sb), connection="github")
    try:  # the simulated GitHub page, submitted without choosing an account
        sandbox_social_login(request, "github", account=None)
    except FlowError as refused:
        return response_of(refused.exchange)  # the identity provider's error redirect back to the app
    raise RuntimeError("the login went through: nothing to reproduce")


recipe("idp-authorize-grant-not-allowed", lambda sb: authorize(
    sb, response_type="id_token", client_id=sb.web_client_id, redirect_uri="http://localhost:5000/callback",
    scope="openid", nonce="n-0S6_WzA2Mj", state="catalog"))
recipe("idp-authorize-web-origin-not-allowed", lambda sb: authorize(
    sb, response_type="code", client_id=sb.web_client_id, redirect_uri="http://localhost:5000/callback",
    scope="openid", response_mode="web_message", prompt="none", state="catalog"))
recipe("idp-authorize-tokens-in-query", lambda sb: _implicit(sb, response_mode="query"))
recipe("idp-authorize-openid-scope-required", lambda sb: _implicit(sb, scope="profile"))
recipe("idp-authorize-nonce-missing", lambda sb: _implicit(sb, nonce=None))
recipe("idp-authorize-pkce-required", lambda sb: _spa_authorize(sb, pkce=False))
recipe("idp-authorize-pkce-method", lambda sb: _spa_authorize(sb, code_challenge_method="plain"))
recipe("idp-authorize-pkce-challenge-format", lambda sb: _spa_authorize(sb, challenge="short"))
recipe("idp-authorize-connection-not-found", lambda sb: _spa_authorize(sb, connection="nosuchconnection"))
recipe("idp-authorize-bad-prompt", lambda sb: _spa_authorize(sb, prompt="select_account"))
recipe("idp-authorize-bad-max-age", lambda sb: _spa_authorize(sb, max_age="soon"))
recipe("idp-page-unknown-client", lambda sb: _spa_authorize(sb, client_id="nosuchclient"))
recipe("idp-page-callback-mismatch", lambda sb: _spa_authorize(sb, redirect_uri="http://localhost:9999/callback"))
recipe("idp-page-repeated-parameter", lambda sb: requests.get(
    sb.idp_url + "authorize?" + urlencode([("client_id", sb.spa_client_id), ("client_id", sb.spa_client_id)]),
    allow_redirects=False, timeout=TIMEOUT))
recipe("idp-page-login-expired", lambda sb: requests.get(sb.idp_url + "u/login", params={"state": "unknown"},
                                                          allow_redirects=False, timeout=TIMEOUT))
recipe("idp-logout-return-to", lambda sb: requests.get(
    sb.idp_url + "v2/logout", params={"client_id": sb.spa_client_id, "returnTo": "http://elsewhere.example/"},
    allow_redirects=False, timeout=TIMEOUT))


# -- /userinfo ------------------------------------------------------------------------------------
def _userinfo(sb: "Sandbox", token: str) -> requests.Response:
    return requests.get(sb.idp_url + "userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)


recipe("idp-userinfo-invalid-token", lambda sb: _userinfo(sb, "made-up-token"))
recipe("idp-userinfo-id-token", lambda sb: _userinfo(sb, login(sb).id_token))


@reproduces("idp-userinfo-expired")
def _userinfo_expired(sb: "Sandbox") -> requests.Response:
    access_token = login(sb, audience=sb.api_audience).access_token
    with clock_moved(sb, 86_400 + 1):
        return _userinfo(sb, access_token)


# -- /dbconnections/signup ------------------------------------------------------------------------
recipe("idp-signup-user-exists", lambda sb: signup(sb, {"email": ada(sb)[0], "password": "long-enough-pass"}))
recipe("idp-signup-invalid-password", lambda sb: signup(sb, {"email": "weak@example.com", "password": "short"}))
recipe("idp-signup-invalid-signup", lambda sb: signup(sb, {"email": "not-an-email", "password": "long-enough-pass"}))
recipe("idp-signup-missing-parameter", lambda sb: signup(sb, {"email": "nopass@example.com"}))
recipe("idp-signup-unknown-client", lambda sb: signup(sb, {"client_id": "nosuchclient", "email": "x@example.com",
                                                             "password": "long-enough-pass"}))
recipe("idp-signup-bad-body", lambda sb: requests.post(sb.idp_url + "dbconnections/signup", json=[],
                                                        timeout=TIMEOUT))
recipe("idp-signup-bad-field", lambda sb: signup(sb, {"email": "long@example.com", "password": "long-enough-pass",
                                                        "given_name": "A" * 301}))
recipe("idp-signup-bad-metadata", lambda sb: signup(sb, {"email": "meta@example.com", "password": "long-enough-pass",
                                                           "user_metadata": {f"k{i}": "v" for i in range(11)}}))
recipe("idp-signup-invalid-connection", lambda sb: signup(sb, {"email": "gh@example.com",
                                                                 "password": "long-enough-pass",
                                                                 "connection": "github"}))
