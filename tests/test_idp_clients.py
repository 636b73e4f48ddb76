"""Real client libraries, unchanged, against the sandbox identity provider.

Acceptance criterion proved here:

* auth0-python (``GetToken(..., protocol="http")``): ``login`` with the realm,
  ``client_credentials``, ``refresh_token`` and ``authorization_code_pkce`` work, and its
  ``TokenVerifier`` accepts the sandbox's ID tokens (and rejects expired ones, wrong nonces).
  Its ``Auth0Error`` carries Auth0's status codes, error codes and messages.
* Authlib's ``OAuth2Session`` completes authorization code + PKCE through the hosted login
  form (public SPA client, and confidential web client with HTTP Basic), and the ID token
  validates from discovery + JWKS with joserfc and ``authlib.oidc.core.CodeIDToken``.

The login form is driven by a plain ``requests.Session`` playing the browser
(``tests/idp_driver.browser_login``); the library under test only ever sees the URLs a real
app would see. The sandbox is shared by the whole test session, so sign-ups use unique emails.
"""
from __future__ import annotations

import base64
import json
import secrets
import time
import uuid

import pytest
import requests
from auth0.authentication import Database, GetToken, Users
from auth0.authentication import token_verifier as auth0_token_verifier
from auth0.authentication.exceptions import Auth0Error, TokenValidationError
from auth0.authentication.token_verifier import AsymmetricSignatureVerifier, TokenVerifier
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt as jose_jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from tests.idp_driver import authorize_params, browser_login, callback_params, request_url

FULL_SCOPE = "openid profile email offline_access"
SHARED_CALLBACK = "http://localhost:8888/callback"  # registered for both the SPA and the web client


# ------------------------------------------------------------------------------ helpers
def jwks_url(sandbox) -> str:
    return sandbox.idp_url + ".well-known/jwks.json"


def id_token_verifier(sandbox, audience: str) -> TokenVerifier:
    """auth0-python's ID-token verifier, configured as an app would configure it."""
    return TokenVerifier(signature_verifier=AsymmetricSignatureVerifier(jwks_url(sandbox)),
                         issuer=sandbox.idp_url, audience=audience)


def web_get_token(sandbox, secret: str | None = None) -> GetToken:
    return GetToken(sandbox.idp_domain, sandbox.web_client_id,
                    client_secret=secret or sandbox.web_client_secret, protocol="http")


def web_login(sandbox, email: str, password: str, **kwargs) -> dict:
    kwargs.setdefault("scope", FULL_SCOPE)
    kwargs.setdefault("audience", sandbox.api_audience)
    return web_get_token(sandbox).login(email, password, realm=sandbox.connection, **kwargs)


def user_id_of(sandbox, email: str) -> str:
    user = sandbox.idp.store.find_user(sandbox.connection, email)
    assert user is not None, email
    return user.user_id


def jwt_header(token: str) -> dict:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def unique_email() -> str:
    return f"client-test-{uuid.uuid4().hex}@example.com"


@pytest.fixture
def ada(sandbox) -> dict:
    user = sandbox.users[0]
    assert user["email"] == "ada@example.com"
    return user


@pytest.fixture
def metadata(sandbox) -> dict:
    response = requests.get(sandbox.idp_url + ".well-known/openid-configuration", timeout=5)
    assert response.status_code == 200
    return response.json()


# ------------------------------------------------------------------------------ auth0-python: password realm
def test_login_with_realm_gives_id_token_the_token_verifier_accepts(sandbox, ada):
    tokens = web_login(sandbox, ada["email"], ada["password"])

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 86400
    assert tokens["scope"] == FULL_SCOPE
    assert isinstance(tokens["refresh_token"], str) and tokens["refresh_token"]
    header = jwt_header(tokens["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] in {k["kid"] for k in requests.get(jwks_url(sandbox), timeout=5).json()["keys"]}

    payload = id_token_verifier(sandbox, sandbox.web_client_id).verify(tokens["id_token"])
    assert payload["iss"] == sandbox.idp_url
    assert payload["aud"] == sandbox.web_client_id
    assert payload["sub"] == user_id_of(sandbox, ada["email"])
    assert payload["email"] == "ada@example.com"
    assert payload["email_verified"] is True
    assert payload["name"] == "Ada Lovelace"
    assert payload["exp"] - payload["iat"] == 36000
    assert "nonce" not in payload


def test_id_token_for_one_client_is_rejected_for_another(sandbox, ada):
    tokens = web_login(sandbox, ada["email"], ada["password"])
    with pytest.raises(TokenValidationError, match=r"Audience \(aud\) claim mismatch"):
        id_token_verifier(sandbox, sandbox.spa_client_id).verify(tokens["id_token"])


def test_login_access_token_is_an_api_jwt_with_userinfo_audience(sandbox, ada):
    tokens = web_login(sandbox, ada["email"], ada["password"])
    claims = AsymmetricSignatureVerifier(jwks_url(sandbox)).verify_signature(tokens["access_token"])

    assert claims["iss"] == sandbox.idp_url
    assert claims["sub"] == user_id_of(sandbox, ada["email"])
    assert claims["aud"] == [sandbox.api_audience, sandbox.idp_url + "userinfo"]
    assert claims["azp"] == sandbox.web_client_id
    assert claims["gty"] == "password"
    assert claims["scope"] == FULL_SCOPE
    assert claims["exp"] - claims["iat"] == 86400
    assert "email" not in claims  # access tokens carry the user id only


def test_login_without_audience_gives_an_encrypted_access_token_userinfo_reads(sandbox, ada):
    tokens = web_get_token(sandbox).login(ada["email"], ada["password"], scope="openid email",
                                          realm=sandbox.connection)
    assert tokens["access_token"].count(".") == 4  # not a JWT: Auth0's encrypted /userinfo token (JWE)
    assert "refresh_token" not in tokens  # no offline_access
    info = Users(sandbox.idp_domain, protocol="http").userinfo(tokens["access_token"])
    assert info == {"sub": user_id_of(sandbox, ada["email"]), "email": "ada@example.com", "email_verified": True}


def test_wrong_password_is_403_invalid_grant(sandbox, ada):
    with pytest.raises(Auth0Error) as caught:
        web_login(sandbox, ada["email"], "not-" + ada["password"])
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        403, "invalid_grant", "Wrong email or password.")
    assert str(caught.value) == "403: Wrong email or password."


def test_unknown_user_gets_the_same_answer_as_wrong_password(sandbox):
    with pytest.raises(Auth0Error) as caught:
        web_login(sandbox, unique_email(), "whatever-password")
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        403, "invalid_grant", "Wrong email or password.")


def test_bad_client_secret_is_401_access_denied(sandbox, ada):
    client = web_get_token(sandbox, secret="not-the-secret")
    with pytest.raises(Auth0Error) as caught:
        client.login(ada["email"], ada["password"], realm=sandbox.connection)
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        401, "access_denied", "Unauthorized")


def test_m2m_client_may_not_use_password_realm(sandbox, ada):
    client = GetToken(sandbox.idp_domain, sandbox.m2m_client_id, client_secret=sandbox.m2m_client_secret,
                      protocol="http")
    with pytest.raises(Auth0Error) as caught:
        client.login(ada["email"], ada["password"], realm=sandbox.connection)
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        403, "unauthorized_client",
        "Grant type 'http://auth0.com/oauth/grant-type/password-realm' not allowed for the client.")


# ------------------------------------------------------------------------------ auth0-python: refresh
def test_refresh_token_gives_new_tokens_without_rotation(sandbox, ada):
    first = web_login(sandbox, ada["email"], ada["password"])
    client = web_get_token(sandbox)

    refreshed = client.refresh_token(first["refresh_token"])
    assert "refresh_token" not in refreshed  # Auth0 without rotation: no new refresh token
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["token_type"] == "Bearer"
    assert refreshed["scope"] == FULL_SCOPE
    claims = AsymmetricSignatureVerifier(jwks_url(sandbox)).verify_signature(refreshed["access_token"])
    assert claims["gty"] == "refresh_token"
    assert claims["aud"] == [sandbox.api_audience, sandbox.idp_url + "userinfo"]
    payload = id_token_verifier(sandbox, sandbox.web_client_id).verify(refreshed["id_token"])
    assert payload["sub"] == user_id_of(sandbox, ada["email"])

    again = client.refresh_token(first["refresh_token"])  # still valid: not rotated
    assert again["access_token"]


def test_bad_refresh_token_is_403_invalid_grant(sandbox):
    with pytest.raises(Auth0Error) as caught:
        web_get_token(sandbox).refresh_token("no-such-refresh-token")
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        403, "invalid_grant", "Unknown or invalid refresh token.")


# ------------------------------------------------------------------------------ auth0-python: client credentials
def test_client_credentials_token_names_the_client(sandbox):
    client = GetToken(sandbox.idp_domain, sandbox.m2m_client_id, client_secret=sandbox.m2m_client_secret,
                      protocol="http")
    tokens = client.client_credentials(sandbox.api_audience)

    assert set(tokens) == {"access_token", "scope", "expires_in", "token_type"}  # no id_token, no refresh
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 86400
    claims = AsymmetricSignatureVerifier(jwks_url(sandbox)).verify_signature(tokens["access_token"])
    assert claims["sub"] == sandbox.m2m_client_id + "@clients"
    assert claims["gty"] == "client-credentials"
    assert claims["aud"] == sandbox.api_audience
    assert claims["azp"] == sandbox.m2m_client_id
    assert claims["iss"] == sandbox.idp_url
    assert claims["scope"] == "read:notes"


def test_client_credentials_for_unknown_api_is_refused(sandbox):
    client = GetToken(sandbox.idp_domain, sandbox.m2m_client_id, client_secret=sandbox.m2m_client_secret,
                      protocol="http")
    with pytest.raises(Auth0Error) as caught:
        client.client_credentials("https://no-such-api.test/")
    assert (caught.value.status_code, caught.value.error_code) == (403, "access_denied")
    assert caught.value.message.startswith("Service not found")


def test_web_client_may_not_use_client_credentials(sandbox):
    with pytest.raises(Auth0Error) as caught:
        web_get_token(sandbox).client_credentials(sandbox.api_audience)
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        403, "unauthorized_client", "Grant type 'client_credentials' not allowed for the client.")


# ------------------------------------------------------------------------------ auth0-python: code + PKCE
def spa_code(sandbox, user: dict, **extra) -> tuple[dict, dict]:
    """Log in through the hosted form for the SPA client; return (request params, callback params)."""
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, **extra)
    answer = callback_params(browser_login(request_url(sandbox.idp_url, params), user["email"], user["password"]))
    assert answer["state"] == params["state"]
    assert "code" in answer, answer
    return params, answer


def test_authorization_code_pkce_with_spa_client(sandbox, ada):
    params, answer = spa_code(sandbox, ada, scope=FULL_SCOPE, audience=sandbox.api_audience)
    client = GetToken(sandbox.idp_domain, sandbox.spa_client_id, protocol="http")  # public: no secret
    tokens = client.authorization_code_pkce(params["_verifier"], answer["code"], sandbox.redirect_uri)

    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    verifier = id_token_verifier(sandbox, sandbox.spa_client_id)
    payload = verifier.verify(tokens["id_token"], nonce=params["nonce"])
    assert payload["nonce"] == params["nonce"]
    assert payload["aud"] == sandbox.spa_client_id
    assert payload["sub"] == user_id_of(sandbox, ada["email"])
    assert payload["email"] == ada["email"]
    assert isinstance(payload["sid"], str) and payload["sid"]

    with pytest.raises(TokenValidationError) as caught:
        verifier.verify(tokens["id_token"], nonce="not-the-nonce")
    assert str(caught.value) == (
        f'Nonce (nonce) claim mismatch in the ID token; expected "not-the-nonce", found "{params["nonce"]}"')

    claims = AsymmetricSignatureVerifier(jwks_url(sandbox)).verify_signature(tokens["access_token"])
    assert claims["azp"] == sandbox.spa_client_id
    assert "gty" not in claims  # Auth0 sets gty only for password, refresh_token, client-credentials


def test_pkce_with_wrong_verifier_is_rejected(sandbox, ada):
    _, answer = spa_code(sandbox, ada)
    client = GetToken(sandbox.idp_domain, sandbox.spa_client_id, protocol="http")
    other_verifier = generate_token(48)
    with pytest.raises(Auth0Error) as caught:
        client.authorization_code_pkce(other_verifier, answer["code"], sandbox.redirect_uri)
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        403, "invalid_grant", "Failed to verify code verifier")


def test_authorization_code_is_single_use(sandbox, ada):
    params, answer = spa_code(sandbox, ada)
    client = GetToken(sandbox.idp_domain, sandbox.spa_client_id, protocol="http")
    assert client.authorization_code_pkce(params["_verifier"], answer["code"], sandbox.redirect_uri)["id_token"]
    with pytest.raises(Auth0Error) as caught:
        client.authorization_code_pkce(params["_verifier"], answer["code"], sandbox.redirect_uri)
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        403, "invalid_grant", "Invalid authorization code")


# ------------------------------------------------------------------------------ auth0-python: sign-up and userinfo
def test_signup_then_login_with_the_new_user(sandbox):
    email, password = unique_email(), "signup-pass-" + secrets.token_hex(4)
    created = Database(sandbox.idp_domain, sandbox.spa_client_id, protocol="http").signup(
        email, password, sandbox.connection)
    assert created["email"] == email
    assert created["email_verified"] is False
    assert created["_id"] and "|" not in created["_id"]  # Auth0 returns the id without "auth0|"

    tokens = web_login(sandbox, email, password)
    payload = id_token_verifier(sandbox, sandbox.web_client_id).verify(tokens["id_token"])
    assert payload["sub"] == "auth0|" + created["_id"]
    assert payload["email"] == email
    assert payload["email_verified"] is False
    assert payload["name"] == email  # Auth0's default for database users
    assert payload["nickname"] == email.split("@")[0]


def test_duplicate_signup_is_400_user_exists(sandbox):
    database = Database(sandbox.idp_domain, sandbox.spa_client_id, protocol="http")
    email = unique_email()
    database.signup(email, "first-password-1", sandbox.connection)
    with pytest.raises(Auth0Error) as caught:
        database.signup(email.upper(), "second-password-2", sandbox.connection)  # emails compare case-insensitively
    assert (caught.value.status_code, caught.value.error_code) == (400, "user_exists")
    assert caught.value.message == ""  # auth0-python does not read the signup "description"


def test_signup_with_short_password_is_invalid_password(sandbox):
    with pytest.raises(Auth0Error) as caught:
        Database(sandbox.idp_domain, sandbox.spa_client_id, protocol="http").signup(
            unique_email(), "short", sandbox.connection)
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        400, "invalid_password", "Password is too weak")


def test_userinfo_with_api_access_token(sandbox, ada):
    tokens = web_login(sandbox, ada["email"], ada["password"])
    info = Users(sandbox.idp_domain, protocol="http").userinfo(tokens["access_token"])
    assert info["sub"] == user_id_of(sandbox, ada["email"])
    assert info["email"] == "ada@example.com"
    assert info["email_verified"] is True
    assert info["name"] == "Ada Lovelace"
    assert info["updated_at"] == "2026-01-15T09:30:00.000Z"


def test_userinfo_refuses_a_bad_token(sandbox):
    with pytest.raises(Auth0Error) as caught:
        Users(sandbox.idp_domain, protocol="http").userinfo("not-a-real-token")
    assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
        401, "a0.sdk.internal.unknown", "Unauthorized")  # Auth0 answers in plain text


def test_userinfo_refuses_an_expired_access_token(sandbox, ada):
    tokens = web_login(sandbox, ada["email"], ada["password"])
    sandbox.clock.advance(86400 + 1)
    try:
        with pytest.raises(Auth0Error) as caught:
            Users(sandbox.idp_domain, protocol="http").userinfo(tokens["access_token"])
    finally:
        sandbox.clock.reset()
    assert (caught.value.status_code, caught.value.message) == (401, "Unauthorized")


# ------------------------------------------------------------------------------ auth0-python: expiry and keys
def test_token_verifier_rejects_an_expired_id_token(sandbox, ada):
    # TokenVerifier compares exp with the real time.time(), so mint the token in the past.
    minted_at = sandbox.clock.freeze(time.time() - 40000)
    try:
        tokens = web_login(sandbox, ada["email"], ada["password"])
    finally:
        sandbox.clock.reset()
    verifier = id_token_verifier(sandbox, sandbox.web_client_id)
    with pytest.raises(TokenValidationError) as caught:
        verifier.verify(tokens["id_token"])
    expected_exp = int(minted_at) + 36000
    assert str(caught.value).startswith("Expiration Time (exp) claim error in the ID token; current time (")
    assert str(caught.value).endswith(f"is after expiration time ({expected_exp})")


def test_token_verifier_follows_key_rotation_without_refetching(own_sandbox, ada, monkeypatch):
    sandbox = own_sandbox  # rotation must not change the session-wide sandbox
    verifier = id_token_verifier(sandbox, sandbox.web_client_id)
    before = web_login(sandbox, ada["email"], ada["password"])["id_token"]
    verifier.verify(before)  # fills the verifier's JWKS cache
    published_before = {k["kid"] for k in requests.get(jwks_url(sandbox), timeout=5).json()["keys"]}

    fetches = []
    real_get = auth0_token_verifier.requests.get

    def counting_get(*args, **kwargs):
        fetches.append(args[0] if args else kwargs.get("url"))
        return real_get(*args, **kwargs)

    monkeypatch.setattr(auth0_token_verifier.requests, "get", counting_get)

    old_kid = jwt_header(before)["kid"]
    new_kid = sandbox.rotate_keys()
    assert new_kid != old_kid
    assert new_kid in published_before  # the next key was published before it signed anything
    after = web_login(sandbox, ada["email"], ada["password"])["id_token"]
    assert jwt_header(after)["kid"] == new_kid

    assert verifier.verify(after)["sub"] == user_id_of(sandbox, ada["email"])
    assert verifier.verify(before)["sub"] == user_id_of(sandbox, ada["email"])  # old key still published
    assert fetches == []  # the cached JWKS already held the new key

    published_after = {k["kid"] for k in requests.get(jwks_url(sandbox), timeout=5).json()["keys"]}
    assert {old_kid, new_kid} <= published_after
    assert id_token_verifier(sandbox, sandbox.web_client_id).verify(before)["aud"] == sandbox.web_client_id


# ------------------------------------------------------------------------------ Authlib: code + PKCE
def test_discovery_metadata_points_at_the_sandbox(sandbox, metadata):
    issuer = sandbox.idp_url
    assert metadata["issuer"] == issuer
    assert metadata["authorization_endpoint"] == issuer + "authorize"
    assert metadata["token_endpoint"] == issuer + "oauth/token"
    assert metadata["userinfo_endpoint"] == issuer + "userinfo"
    assert metadata["jwks_uri"] == issuer + ".well-known/jwks.json"
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "client_secret_basic" in metadata["token_endpoint_auth_methods_supported"]


def authlib_login(sandbox, metadata, client: OAuth2Session, user: dict, **authorize_kwargs):
    """Authorization URL from Authlib, the login form in a separate 'browser', back to the callback.

    Returns (callback URL, state, code_verifier, nonce).
    """
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce, **authorize_kwargs)
    assert "code_challenge=" in url and "code_challenge_method=S256" in url
    answer = browser_login(url, user["email"], user["password"], session=requests.Session())
    assert answer.status_code == 302, answer.text[:300]
    callback = answer.headers["location"]
    assert callback.startswith(client.redirect_uri + "?")
    assert "error=" not in callback, callback  # check before fetch_token (Authlib would guess a grant)
    return callback, state, verifier, nonce


def validate_id_token(metadata, token: dict, client_id: str, nonce: str) -> CodeIDToken:
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
    decoded = jose_jwt.decode(token["id_token"], keys, registry=JWSRegistry(algorithms=["RS256"]))
    claims = CodeIDToken(decoded.claims, decoded.header,
                         {"iss": {"essential": True, "value": metadata["issuer"]},
                          "aud": {"essential": True, "value": client_id}},
                         {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]})
    claims.validate(leeway=60)
    return claims


def test_authlib_pkce_with_public_spa_client(sandbox, metadata, ada):
    client = OAuth2Session(sandbox.spa_client_id, scope=FULL_SCOPE, redirect_uri=sandbox.redirect_uri,
                           code_challenge_method="S256")
    assert client.token_endpoint_auth_method == "none"
    callback, state, verifier, nonce = authlib_login(sandbox, metadata, client, ada, audience=sandbox.api_audience)

    token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state,
                               code_verifier=verifier)
    assert token["token_type"] == "Bearer"
    assert token["refresh_token"]
    assert token["scope"] == FULL_SCOPE

    claims = validate_id_token(metadata, token, sandbox.spa_client_id, nonce)
    assert claims["sub"] == user_id_of(sandbox, ada["email"])
    assert claims["email"] == ada["email"]
    assert claims["nonce"] == nonce
    assert claims.header["alg"] == "RS256"

    access = jose_jwt.decode(token["access_token"],
                             KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json()),
                             registry=JWSRegistry(algorithms=["RS256"]))
    assert access.claims["aud"] == [sandbox.api_audience, sandbox.idp_url + "userinfo"]
    assert access.claims["azp"] == sandbox.spa_client_id

    info = client.get(metadata["userinfo_endpoint"]).json()  # the session now sends the bearer token
    assert info["sub"] == claims["sub"]


def test_authlib_id_token_with_tampered_nonce_fails_validation(sandbox, metadata, ada):
    client = OAuth2Session(sandbox.spa_client_id, scope="openid profile email", redirect_uri=sandbox.redirect_uri,
                           code_challenge_method="S256")
    callback, state, verifier, nonce = authlib_login(sandbox, metadata, client, ada)
    token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state,
                               code_verifier=verifier)
    validate_id_token(metadata, token, sandbox.spa_client_id, nonce)  # the right nonce passes
    with pytest.raises(InvalidClaimError) as caught:
        validate_id_token(metadata, token, sandbox.spa_client_id, nonce + "x")
    assert caught.value.claim == "nonce"


def test_authlib_pkce_with_confidential_web_client_uses_basic_auth(sandbox, metadata, ada):
    client = OAuth2Session(sandbox.web_client_id, sandbox.web_client_secret, scope=FULL_SCOPE,
                           redirect_uri=SHARED_CALLBACK, code_challenge_method="S256")
    assert client.token_endpoint_auth_method == "client_secret_basic"
    sent = []
    client.hooks["response"].append(lambda response, *args, **kwargs: sent.append(response.request))
    callback, state, verifier, nonce = authlib_login(sandbox, metadata, client, ada)

    token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state,
                               code_verifier=verifier)
    request = sent[-1]
    assert request.headers["Authorization"].startswith("Basic ")
    assert "client_secret" not in request.body and "client_id=" not in request.body

    claims = validate_id_token(metadata, token, sandbox.web_client_id, nonce)
    assert claims["aud"] == sandbox.web_client_id
    assert claims["sub"] == user_id_of(sandbox, ada["email"])
    assert token["access_token"].count(".") == 4  # no audience: an encrypted /userinfo token (JWE)

    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] == token["refresh_token"]  # Authlib keeps it: none was returned


def test_authlib_second_redemption_of_a_callback_is_invalid_grant(sandbox, metadata, ada):
    client = OAuth2Session(sandbox.spa_client_id, scope=FULL_SCOPE, redirect_uri=sandbox.redirect_uri,
                           code_challenge_method="S256")
    callback, state, verifier, _ = authlib_login(sandbox, metadata, client, ada)
    first = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state,
                               code_verifier=verifier)

    with pytest.raises(OAuthError) as caught:
        client.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state,
                           code_verifier=verifier)
    assert caught.value.error == "invalid_grant"
    assert caught.value.description == "Invalid authorization code"

    # RFC 9700 §4.2.4: a replayed code revokes the refresh token of its first redemption.
    with pytest.raises(OAuthError) as revoked:
        client.refresh_token(metadata["token_endpoint"], refresh_token=first["refresh_token"])
    assert revoked.value.error == "invalid_grant"
    assert revoked.value.description == "Unknown or invalid refresh token."


def test_authlib_unknown_audience_comes_back_as_error_redirect(sandbox, metadata, ada):
    client = OAuth2Session(sandbox.spa_client_id, scope="openid", redirect_uri=sandbox.redirect_uri,
                           code_challenge_method="S256")
    url, state = client.create_authorization_url(metadata["authorization_endpoint"],
                                                 code_verifier=generate_token(48), nonce=generate_token(20),
                                                 audience="https://no-such-api.test/")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    params = callback_params(answer)
    assert answer.headers["location"].startswith(sandbox.redirect_uri + "?")
    assert params["error"] == "access_denied"
    assert params["error_description"].startswith("Service not found")
    assert params["state"] == state
    assert "code" not in params
