"""helpers.flows against the running sandbox: every flow over HTTP, its records, exchanges and errors."""
from __future__ import annotations

import ast
import base64
import hashlib
import re
import uuid
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from helpers.config import ConfigError, Target, target_from_sandbox
from helpers.flows import (
    AuthorizationRequest, Callback, FlowError, HttpExchange, TokenSet, client_credentials, exchange_code,
    implicit_login, logout_url, parse_callback, password_realm, pkce_pair, refresh, sandbox_login,
    sandbox_social_login, sign_up, start_authorization, userinfo,
)

ADA = ("ada@example.com", "ada-sandbox-pass")
ADA_SUB = "auth0|65f1c0de0000000000000001"


@pytest.fixture(scope="module")
def target(sandbox) -> Target:
    return target_from_sandbox(sandbox)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def unique_email() -> str:
    return f"flows-{uuid.uuid4().hex[:12]}@example.com"


def login_with_code(target, **kwargs) -> tuple[AuthorizationRequest, Callback, TokenSet]:
    request = start_authorization(target, **kwargs)
    callback = sandbox_login(request, *ADA)
    return request, callback, exchange_code(target, request, callback)


# -------------------------------------------------------------------- the module's own boundaries
def test_flows_never_import_sandbox_internals():
    source = Path(__file__).resolve().parents[1] / "helpers" / "flows.py"
    modules = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom):
            modules.add(("." * node.level) + (node.module or ""))
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    assert not any("sandbox" in m for m in modules), modules
    assert ".config" in modules and "requests" in modules


# -------------------------------------------------------------------- start_authorization
def test_pkce_pair_follows_rfc_7636_s256():
    verifier, challenge = pkce_pair()
    assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    assert challenge == expected and len(challenge) == 43
    assert pkce_pair()[0] != verifier


def test_start_authorization_builds_a_pkce_code_request_for_the_spa(target):
    request = start_authorization(target)
    assert request.url.startswith(target.authorization_endpoint + "?")
    params = query_of(request.url)
    assert params == {"response_type": "code", "client_id": target.spa_client_id, "redirect_uri": target.redirect_uri,
                      "scope": "openid profile email", "state": request.state, "nonce": request.nonce,
                      "code_challenge": request.code_challenge, "code_challenge_method": "S256"}
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert request.code_challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert (request.client_id, request.redirect_uri, request.response_type) == (
        target.spa_client_id, target.redirect_uri, "code")
    assert request.audience is None and request.response_mode is None
    other = start_authorization(target)
    assert {other.state, other.nonce, other.code_verifier}.isdisjoint({request.state, request.nonce,
                                                                       request.code_verifier})


def test_start_authorization_optional_parameters_and_implicit_without_pkce(target):
    request = start_authorization(target, client_id="someone", redirect_uri="http://localhost:8888/callback",
                                  scope="openid", audience=target.audience, response_type="token id_token",
                                  response_mode="form_post", connection="github", prompt="login")
    params = query_of(request.url)
    assert params["audience"] == target.audience and params["response_mode"] == "form_post"
    assert params["connection"] == "github" and params["prompt"] == "login" and params["client_id"] == "someone"
    assert params["redirect_uri"] == "http://localhost:8888/callback" and params["response_type"] == "token id_token"
    assert "code_challenge" not in params and request.code_verifier is None and request.code_challenge is None
    assert request.audience == target.audience and request.response_mode == "form_post"


def test_start_authorization_needs_a_spa_client(target):
    with pytest.raises(ConfigError, match="SPA_CLIENT_ID") as caught:
        start_authorization(replace(target, spa_client_id=None))
    assert caught.value.missing == ("SPA_CLIENT_ID",)


# -------------------------------------------------------------------- code flow in the simulated browser
def test_sandbox_login_and_exchange_code_yield_verified_tokens_for_ada(target):
    request, callback, tokens = login_with_code(target, audience=target.audience)
    assert callback.url.startswith(target.redirect_uri + "?") and set(callback.params) == {"code", "state"}
    assert callback.params["state"] == request.state
    hops = [(e.method, urlsplit(e.url).path, e.status) for e in callback.exchanges]
    assert hops == [("GET", "/authorize", 302), ("GET", "/u/login", 200), ("POST", "/u/login", 302)]
    assert callback.exchanges[-1].response_headers["location"] == callback.url

    signing_key = jwt.PyJWKClient(target.jwks_uri).get_signing_key_from_jwt(tokens.id_token)
    id_claims = jwt.decode(tokens.id_token, signing_key.key, algorithms=["RS256"], audience=target.spa_client_id,
                           issuer=target.issuer)
    assert id_claims["sub"] == ADA_SUB and id_claims["email"] == ADA[0] and id_claims["nonce"] == request.nonce
    access = claims(tokens.access_token)
    assert target.audience in access["aud"] and access["azp"] == target.spa_client_id and access["sub"] == ADA_SUB
    assert tokens.token_type == "Bearer" and tokens.expires_in == 86400 and tokens.refresh_token is None
    assert tokens.scope == "openid profile email" and tokens.raw["access_token"] == tokens.access_token

    sent = parse_qs(tokens.exchange.request_body)
    assert sent["grant_type"] == ["authorization_code"] and sent["code"] == [callback.params["code"]]
    assert sent["code_verifier"] == [request.code_verifier] and sent["redirect_uri"] == [target.redirect_uri]
    assert tokens.exchange.method == "POST" and tokens.exchange.url == target.token_endpoint
    assert tokens.exchange.status == 200


def test_the_login_exchange_hides_the_password_unless_asked(target):
    callback = sandbox_login(start_authorization(target), *ADA)
    post = callback.exchanges[-1]
    assert "password=ada-sandbox-pass" in post.request_body
    shown = post.as_text()
    assert "password=[redacted]" in shown and ADA[1] not in shown
    assert shown.startswith("POST /u/login HTTP/1.1\nHost: " + target.domain)
    assert "\nHTTP/1.1 302 Found\n" in shown and "location: http://localhost:3000/callback?code=" in shown
    assert ADA[1] in post.as_text(redact=False)


def test_the_token_exchange_text_redacts_the_verifier_and_shortens_tokens(target):
    request, _, tokens = login_with_code(target)
    shown = tokens.exchange.as_text()
    assert "code_verifier=[redacted]" in shown and request.code_verifier not in shown
    assert tokens.access_token not in shown and tokens.id_token not in shown
    assert f'"id_token":"{tokens.id_token[:12]}…"' in shown
    assert f'"access_token":"{tokens.access_token[:12]}…"' in shown
    raw = tokens.exchange.as_text(redact=False)
    assert request.code_verifier in raw and tokens.id_token in raw


def test_a_code_is_good_once(target):
    request = start_authorization(target)
    callback = sandbox_login(request, *ADA)
    exchange_code(target, request, callback)
    with pytest.raises(FlowError) as caught:
        exchange_code(target, request, callback)
    error = caught.value
    assert (error.status, error.error, error.description) == (403, "invalid_grant", "Invalid authorization code")
    assert str(error) == "invalid_grant: Invalid authorization code" and error.exchange.status == 403


def test_wrong_password_on_the_login_page_is_a_flow_error(target):
    with pytest.raises(FlowError) as caught:
        sandbox_login(start_authorization(target), ADA[0], "not-her-password")
    error = caught.value
    assert (error.status, error.error, error.description) == (400, "login_failed", "Wrong email or password.")
    assert error.exchange.method == "POST" and "not-her-password" not in error.exchange.as_text()


def test_a_state_that_does_not_match_is_refused_before_any_token_request(target):
    request = start_authorization(target)
    callback = sandbox_login(request, *ADA)
    forged = Callback(callback.url, dict(callback.params, state="attacker-state"), callback.exchanges)
    with pytest.raises(FlowError) as caught:
        exchange_code(target, request, forged)
    assert caught.value.error == "state_mismatch" and caught.value.status is None
    assert caught.value.exchange is callback.exchanges[-1]
    tokens = exchange_code(target, request, callback)  # the code was not spent by the refused attempt
    assert claims(tokens.id_token)["nonce"] == request.nonce


def test_exchange_code_checks_the_callback_error_first(target):
    request = start_authorization(target)
    callback = Callback(target.redirect_uri + "?error=access_denied&state=other",
                        {"error": "access_denied", "error_description": "The user denied access.", "state": "other"},
                        ())
    with pytest.raises(FlowError) as caught:
        exchange_code(target, request, callback)
    assert (caught.value.error, caught.value.description) == ("access_denied", "The user denied access.")
    assert caught.value.status is None and caught.value.exchange is None


def test_exchange_code_without_a_code_says_so(target):
    request = start_authorization(target)
    with pytest.raises(FlowError, match="missing_code"):
        exchange_code(target, request, Callback(target.redirect_uri, {"state": request.state}, ()))


def test_error_redirect_from_authorize_is_a_flow_error(target):
    request = start_authorization(target, prompt="none")  # no session in a new browser
    with pytest.raises(FlowError) as caught:
        sandbox_login(request, *ADA)
    error = caught.value
    assert (error.status, error.error, error.description) == (302, "login_required", "Login required")
    assert "error=login_required" in error.exchange.response_headers["location"]
    assert f"state={request.state}" in error.exchange.response_headers["location"]


def test_unknown_audience_comes_back_as_access_denied(target):
    with pytest.raises(FlowError) as caught:
        sandbox_login(start_authorization(target, audience="https://nope.example/"), *ADA)
    assert (caught.value.error, caught.value.description) == ("access_denied", "Service not found")


def test_an_unregistered_redirect_uri_gets_the_error_page(target):
    request = start_authorization(target, redirect_uri="https://evil.example/callback")
    with pytest.raises(FlowError) as caught:
        sandbox_login(request, *ADA)
    assert caught.value.status == 400 and caught.value.error == "invalid_request"
    assert caught.value.description.startswith("Callback URL mismatch.")
    assert len(caught.value.exchange.response_body) > 0


def test_form_post_delivers_the_code_in_a_form(target):
    request = start_authorization(target, response_mode="form_post")
    callback = sandbox_login(request, *ADA)
    assert callback.url == target.redirect_uri and set(callback.params) == {"code", "state"}
    assert callback.exchanges[-1].status == 200 and 'name="code"' in callback.exchanges[-1].response_body
    tokens = exchange_code(target, request, callback)
    assert claims(tokens.id_token)["sub"] == ADA_SUB


def test_a_session_answers_prompt_none_and_web_message(target):
    browser = requests.Session()
    sandbox_login(start_authorization(target), *ADA, session=browser)
    silent = start_authorization(target, prompt="none")
    callback = sandbox_login(silent, "ignored@example.com", "ignored", session=browser)
    assert len(callback.exchanges) == 1 and callback.params["state"] == silent.state
    assert callback.exchanges[0].request_headers["Cookie"].startswith("auth0=")
    assert "auth0=[" not in callback.exchanges[0].as_text() and callback.exchanges[0].request_headers[
        "Cookie"] not in callback.exchanges[0].as_text()
    message = start_authorization(target, response_type="token id_token", response_mode="web_message", prompt="none")
    answer = sandbox_login(message, "ignored@example.com", "ignored", session=browser)
    assert answer.url == target.redirect_uri and answer.params["state"] == message.state
    assert claims(answer.params["id_token"])["nonce"] == message.nonce


# -------------------------------------------------------------------- social login
def test_social_login_through_the_simulated_github_page(target):
    request = start_authorization(target)
    callback = sandbox_social_login(request, "github")
    paths = [urlsplit(e.url).path for e in callback.exchanges]
    assert paths == ["/authorize", "/u/login", "/u/login/social", "/upstream/github/authorize",
                     "/upstream/github/authorize", "/login/callback"]
    assert parse_qs(callback.exchanges[4].request_body)["account"] == ["github|5830417"]
    id_claims = claims(exchange_code(target, request, callback).id_token)
    assert id_claims["sub"] == "github|5830417" and id_claims["email"] == "linus@example.com"


def test_social_login_with_a_connection_skips_the_login_page_and_picks_an_account_by_id(target):
    request = start_authorization(target, connection="google-oauth2")
    callback = sandbox_social_login(request, "google-oauth2", account="google-oauth2|103547991597142817347")
    assert urlsplit(callback.exchanges[1].url).path == "/upstream/google-oauth2/authorize"
    assert claims(exchange_code(target, request, callback).id_token)["sub"] == "google-oauth2|103547991597142817347"


def test_cancelling_on_the_provider_page_is_access_denied(target):
    request = start_authorization(target)
    with pytest.raises(FlowError) as caught:
        sandbox_social_login(request, "github", account=None)
    assert (caught.value.status, caught.value.error) == (302, "access_denied")
    assert caught.value.description == "The user denied access."


def test_social_login_with_an_unknown_account_or_connection(target):
    with pytest.raises(ValueError, match="github\\|5830417"):
        sandbox_social_login(start_authorization(target), "github", account=7)
    with pytest.raises(FlowError) as caught:
        sandbox_social_login(start_authorization(target), "twitter")
    assert caught.value.error == "connection_not_offered" and caught.value.status == 200


# -------------------------------------------------------------------- password-realm
def test_password_realm_sends_auth0_pythons_json_body(target):
    tokens = password_realm(target, *ADA)
    assert claims(tokens.id_token)["sub"] == ADA_SUB and claims(tokens.id_token)["aud"] == target.web_client_id
    assert tokens.scope == "openid profile email" and tokens.refresh_token is None
    exchange = tokens.exchange
    assert exchange.request_headers["Content-Type"] == "application/json"
    assert '"grant_type": "http://auth0.com/oauth/grant-type/password-realm"' in exchange.request_body
    assert f'"realm": "{target.connection}"' in exchange.request_body
    assert f'"client_id": "{target.web_client_id}"' in exchange.request_body
    shown = exchange.as_text()
    assert '"client_secret": "[redacted]"' in shown and '"password": "[redacted]"' in shown
    assert target.web_client_secret not in shown and ADA[1] not in shown
    assert "\nContent-Type: application/json\n" in shown


def test_password_realm_with_an_audience_gives_a_jwt_access_token(target):
    tokens = password_realm(target, *ADA, scope="openid", audience=target.audience)
    access = claims(tokens.access_token)
    assert access["gty"] == "password" and access["azp"] == target.web_client_id
    assert target.audience in access["aud"] and "email" not in claims(tokens.id_token)


def test_wrong_password_is_403_invalid_grant(target):
    with pytest.raises(FlowError) as caught:
        password_realm(target, ADA[0], "not-her-password")
    error = caught.value
    assert (error.status, error.error, error.description) == (403, "invalid_grant", "Wrong email or password.")
    assert str(error) == "invalid_grant: Wrong email or password."
    assert error.exchange.status == 403 and '"error":"invalid_grant"' in error.exchange.response_body


def test_password_realm_needs_the_web_client(target):
    with pytest.raises(ConfigError, match="WEB_CLIENT_SECRET"):
        password_realm(replace(target, web_client_secret=None), *ADA)


# -------------------------------------------------------------------- client credentials
def test_client_credentials_uses_basic_authentication(target):
    tokens = client_credentials(target)
    access = claims(tokens.access_token)
    assert access["sub"] == f"{target.m2m_client_id}@clients" and access["gty"] == "client-credentials"
    assert access["aud"] == target.audience and tokens.scope == "read:notes" and tokens.id_token is None
    exchange = tokens.exchange
    expected = base64.b64encode(f"{target.m2m_client_id}:{target.m2m_client_secret}".encode()).decode()
    assert exchange.request_headers["Authorization"] == f"Basic {expected}"
    assert "client_secret" not in exchange.request_body
    shown = exchange.as_text()
    assert "Authorization: Basic [redacted]" in shown and expected not in shown


def test_client_credentials_for_an_unknown_api_is_access_denied(target):
    with pytest.raises(FlowError) as caught:
        client_credentials(target, audience="https://nope.example/")
    assert (caught.value.status, caught.value.error, caught.value.description) == (
        403, "access_denied", "Service not found")


# -------------------------------------------------------------------- refresh
def test_refresh_returns_a_new_access_token(target, sandbox):
    sandbox.clock.freeze()
    _, _, first = login_with_code(target, scope="openid email offline_access", audience=target.audience)
    assert first.refresh_token
    sandbox.clock.advance(60)
    second = refresh(target, first.refresh_token)
    assert second.access_token != first.access_token
    assert claims(second.access_token)["iat"] == claims(first.access_token)["iat"] + 60
    assert claims(second.id_token)["sub"] == ADA_SUB and "nonce" not in claims(second.id_token)
    assert parse_qs(second.exchange.request_body)["grant_type"] == ["refresh_token"]
    assert first.refresh_token not in second.exchange.as_text()
    assert second.refresh_token and second.refresh_token != first.refresh_token  # the SPA's tokens rotate
    narrower = refresh(target, second.refresh_token, scope="openid")
    assert narrower.scope == "openid"


def test_refresh_with_the_web_client_sends_its_secret(target):
    first = password_realm(target, *ADA, scope="openid offline_access")
    second = refresh(target, first.refresh_token, client_id=target.web_client_id)
    assert parse_qs(second.exchange.request_body)["client_secret"] == [target.web_client_secret]
    assert claims(second.id_token)["aud"] == target.web_client_id
    with pytest.raises(FlowError) as caught:  # the refresh token belongs to the web client, not the SPA
        refresh(target, first.refresh_token)
    assert (caught.value.status, caught.value.error) == (403, "invalid_grant")


def test_an_unknown_refresh_token_is_invalid_grant(target):
    with pytest.raises(FlowError) as caught:
        refresh(target, "not-a-refresh-token")
    assert (caught.value.status, caught.value.error, caught.value.description) == (
        403, "invalid_grant", "Unknown or invalid refresh token.")


# -------------------------------------------------------------------- implicit
def test_implicit_login_returns_tokens_in_the_fragment(target):
    request, callback = implicit_login(target, *ADA)
    assert "#" in callback.url and "?" not in callback.url and parse_callback(callback.url) == callback.params
    assert {"id_token", "access_token", "token_type", "state"} <= set(callback.params)
    assert callback.params["state"] == request.state and request.code_verifier is None
    id_claims = claims(callback.params["id_token"])
    assert id_claims["nonce"] == request.nonce and id_claims["sub"] == ADA_SUB and "at_hash" in id_claims
    location = callback.exchanges[-1].as_text()
    assert callback.params["id_token"] not in location and callback.params["id_token"][:12] + "…" in location


def test_implicit_id_token_only(target):
    request, callback = implicit_login(target, *ADA, response_type="id_token", scope="openid")
    assert set(callback.params) == {"id_token", "state"}
    assert claims(callback.params["id_token"])["nonce"] == request.nonce


# -------------------------------------------------------------------- parse_callback
def test_parse_callback_reads_query_fragment_and_blank_values():
    assert parse_callback("http://localhost:3000/callback?code=abc&state=x%20y") == {"code": "abc", "state": "x y"}
    assert parse_callback("http://localhost:3000/callback?ignored=1#id_token=t&state=s") == {"id_token": "t",
                                                                                          "state": "s"}
    assert parse_callback("http://localhost:3000/callback?error=access_denied&error_description=") == {
        "error": "access_denied", "error_description": ""}
    assert parse_callback("http://localhost:3000/callback") == {}


# -------------------------------------------------------------------- userinfo
def test_userinfo_returns_ada(target):
    tokens = password_realm(target, *ADA)
    info = userinfo(target, tokens.access_token)
    assert info["sub"] == ADA_SUB and info["email"] == ADA[0] and info["email_verified"] is True


def test_userinfo_refuses_a_bad_token_with_401_invalid_token(target):
    with pytest.raises(FlowError) as caught:
        userinfo(target, "not-a-token")
    error = caught.value
    assert (error.status, error.error) == (401, "invalid_token")
    assert error.description == "The access token is invalid or does not grant the openid scope."
    assert error.exchange.response_headers["www-authenticate"].endswith(f'error_description="{error.description}"')
    assert "Authorization: Bearer not-a-token" in error.exchange.as_text()


def test_userinfo_with_a_machine_token_is_refused(target):
    with pytest.raises(FlowError) as caught:
        userinfo(target, client_credentials(target).access_token)
    assert caught.value.status == 401 and caught.value.error == "invalid_token"
    shown = caught.value.exchange.as_text()
    token = caught.value.exchange.request_headers["Authorization"].split()[1]
    assert f"Authorization: Bearer {token[:12]}…" in shown and token not in shown


# -------------------------------------------------------------------- logout
def test_logout_url_goes_only_to_a_registered_return_to(target):
    url = logout_url(target, "http://localhost:3000/")
    assert url.startswith(target.logout_endpoint + "?")
    assert query_of(url) == {"returnTo": "http://localhost:3000/", "client_id": target.spa_client_id}
    allowed = requests.get(url, allow_redirects=False, timeout=5)
    assert allowed.status_code == 302 and allowed.headers["location"] == "http://localhost:3000/"
    refused = requests.get(logout_url(target, "https://evil.example/"), allow_redirects=False, timeout=5)
    assert refused.status_code == 400 and "Allowed Logout URLs" in refused.text
    web = logout_url(target, "http://localhost:5000/", client_id=target.web_client_id)
    assert requests.get(web, allow_redirects=False, timeout=5).headers["location"] == "http://localhost:5000/"


def test_logout_ends_the_session(target):
    browser = requests.Session()
    sandbox_login(start_authorization(target), *ADA, session=browser)
    browser.get(logout_url(target, "http://localhost:3000/"), allow_redirects=False, timeout=5)
    with pytest.raises(FlowError, match="login_required"):
        sandbox_login(start_authorization(target, prompt="none"), *ADA, session=browser)


def test_logout_url_for_a_generic_oidc_provider(target):
    oidc = replace(target, kind="oidc", logout_endpoint="https://idp.test/logout")
    assert query_of(logout_url(oidc, "http://localhost:3000/")) == {
        "client_id": target.spa_client_id, "post_logout_redirect_uri": "http://localhost:3000/"}
    with pytest.raises(ConfigError):
        logout_url(replace(oidc, logout_endpoint=None), "http://localhost:3000/")


# -------------------------------------------------------------------- sign-up
def test_sign_up_creates_a_user_who_can_log_in(target):
    email = unique_email()
    created = sign_up(target, email, "a-long-enough-password", given_name="Grace", user_metadata={"plan": "free"})
    assert created["email"] == email and created["email_verified"] is False and created["given_name"] == "Grace"
    assert created["user_metadata"] == {"plan": "free"} and created["_id"]
    tokens = password_realm(target, email, "a-long-enough-password")
    assert claims(tokens.id_token)["sub"] == "auth0|" + created["_id"]


def test_sign_up_twice_is_user_exists(target):
    email = unique_email()
    sign_up(target, email, "a-long-enough-password")
    with pytest.raises(FlowError) as caught:
        sign_up(target, email, "a-long-enough-password")
    error = caught.value
    assert (error.status, error.error, error.description) == (400, "user_exists", "The user already exists.")
    shown = error.exchange.as_text()
    assert "a-long-enough-password" not in shown and '"password": "[redacted]"' in shown
    assert shown.startswith("POST /dbconnections/signup HTTP/1.1")


def test_sign_up_with_a_weak_password(target):
    with pytest.raises(FlowError) as caught:
        sign_up(target, unique_email(), "short")
    assert (caught.value.error, caught.value.status) == ("invalid_password", 400)
    assert caught.value.description == "Password is too weak: * At least 8 characters in length"


def test_sign_up_is_auth0_only(target):
    with pytest.raises(ConfigError, match="Auth0"):
        sign_up(replace(target, kind="oidc"), unique_email(), "a-long-enough-password")


# -------------------------------------------------------------------- HttpExchange.as_text
def test_as_text_renders_and_redacts_a_hand_made_exchange():
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    exchange = HttpExchange(
        method="POST", url="http://localhost:1234/oauth/token?x=1",
        request_headers={"Host": "ignored", "Authorization": f"Bearer {jwt_like}", "Cookie": "auth0=abcdefghijklmnopq"},
        request_body="grant_type=refresh_token&refresh_token=rt-0123456789abcdef&client_secret=s3cr3t",
        status=200, response_headers={"Content-Type": "text/html", "Set-Cookie": "auth0=zyxwvutsrqponmlk; Path=/"},
        response_body=f'<input type="hidden" name="id_token" value="{jwt_like}">')
    shown = exchange.as_text()
    assert shown.splitlines()[:2] == ["POST /oauth/token?x=1 HTTP/1.1", "Host: localhost:1234"]
    assert "Host: ignored" not in shown and "HTTP/1.1 200 OK" in shown
    assert f"Authorization: Bearer {jwt_like[:12]}…" in shown
    assert "Cookie: auth0=abcdefghijkl…" in shown and "Set-Cookie: auth0=zyxwvutsrqpo…; Path=/" in shown
    assert "refresh_token=rt-012345678…" in shown and "client_secret=[redacted]" in shown and "s3cr3t" not in shown
    assert f'name="id_token" value="{jwt_like[:12]}…"' in shown and jwt_like not in shown
    raw = exchange.as_text(redact=False)
    assert jwt_like in raw and "s3cr3t" in raw and "abcdefghijklmnopq" in raw


def test_flow_error_message_and_fields():
    error = FlowError(403, "invalid_grant", "Wrong email or password.")
    assert str(error) == "invalid_grant: Wrong email or password." and error.exchange is None
    assert isinstance(error, Exception)


def test_check_issuer_compares_a_present_iss_and_requires_a_promised_one(sandbox):
    import dataclasses

    from helpers.config import target_from_sandbox
    from helpers.flows import FlowError, check_issuer
    target = target_from_sandbox(sandbox)
    check_issuer(target, {"code": "c"})  # Auth0 and the sandbox send no iss and promise none
    check_issuer(target, {"code": "c", "iss": target.issuer})
    with pytest.raises(FlowError) as other:
        check_issuer(target, {"code": "c", "iss": target.issuer.rstrip("/")})  # byte for byte
    assert other.value.error == "iss_mismatch"
    with pytest.raises(FlowError) as missing:
        check_issuer(dataclasses.replace(target, iss_parameter_supported=True), {"code": "c"})
    assert missing.value.error == "iss_missing"


def test_the_audience_goes_out_as_the_targets_parameter(sandbox):
    import dataclasses
    from urllib.parse import parse_qsl, urlsplit

    from helpers.config import target_from_sandbox
    target = target_from_sandbox(sandbox)
    sent = dict(parse_qsl(urlsplit(start_authorization(target, audience="https://api/").url).query))
    assert sent["audience"] == "https://api/" and "resource" not in sent
    standard = dataclasses.replace(target, audience_parameter="resource")
    sent = dict(parse_qsl(urlsplit(start_authorization(standard, audience="https://api/", claims='{"id_token":{}}').url).query))
    assert sent["resource"] == "https://api/" and "audience" not in sent and sent["claims"] == '{"id_token":{}}'
