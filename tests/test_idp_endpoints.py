"""Every endpoint, grant and error shape of the sandbox identity provider, over real HTTP."""
from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from joserfc import jwe as JWE
from joserfc.errors import DecodeError
from joserfc.jwk import OctKey
from joserfc.registry import HeaderParameter

from helpers.sandbox.idp.tokens import at_hash
from helpers.sandbox.idp.seed import SeedError
from tests.idp_driver import (authorize_params, browser_login, callback_params, forms_of, request_url,
                              social_login)

ADA = ("ada@example.com", "ada-sandbox-pass")
READS_ISS = JWE.JWERegistry(header_registry={"iss": HeaderParameter("Issuer (RFC 7519 §5.3)", "str")})


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def header_of(token: str) -> dict:
    return jwt.get_unverified_header(token)


def verified(sandbox, token: str, audience) -> dict:
    """Claims of a token checked against the published JWKS (PyJWT's own client)."""
    key = jwt.PyJWKClient(sandbox.idp_url + ".well-known/jwks.json").get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=sandbox.idp_url)


def code_flow(sandbox, *, client_id=None, redirect_uri=None, login=ADA, **extra) -> tuple[dict, dict]:
    """Log in through the hosted page and redeem the code; returns (authorize params, token response)."""
    client_id = client_id or sandbox.spa_client_id
    redirect_uri = redirect_uri or sandbox.redirect_uri
    params = authorize_params(client_id, redirect_uri, **extra)
    answer = callback_params(browser_login(request_url(sandbox.idp_url, params), *login))
    assert answer["state"] == params["state"]
    body = {"grant_type": "authorization_code", "client_id": client_id, "code": answer["code"],
            "redirect_uri": redirect_uri, "code_verifier": params["_verifier"]}
    response = requests.post(sandbox.idp_url + "oauth/token", json=body)
    assert response.status_code == 200, response.text
    return params, response.json()


def token_request(sandbox, auth=None, as_json=True, **body) -> requests.Response:
    url = sandbox.idp_url + "oauth/token"
    return requests.post(url, json=body, auth=auth) if as_json else requests.post(url, data=body, auth=auth)


def password_realm(sandbox, **extra) -> requests.Response:
    body = {"grant_type": "http://auth0.com/oauth/grant-type/password-realm", "client_id": sandbox.web_client_id,
            "client_secret": sandbox.web_client_secret, "username": ADA[0], "password": ADA[1],
            "realm": sandbox.connection, "scope": "openid profile email offline_access",
            "audience": sandbox.api_audience}
    body.update(extra)
    return token_request(sandbox, **{k: v for k, v in body.items()})


# ------------------------------------------------------------------ discovery and JWKS
def test_discovery_names_every_endpoint_under_the_issuer(sandbox):
    doc = requests.get(sandbox.idp_url + ".well-known/openid-configuration").json()
    assert doc["issuer"] == sandbox.idp_url and doc["issuer"].endswith("/")
    for field, path in [("authorization_endpoint", "authorize"), ("token_endpoint", "oauth/token"),
                        ("userinfo_endpoint", "userinfo"), ("jwks_uri", ".well-known/jwks.json")]:
        assert doc[field] == sandbox.idp_url + path
    assert doc["response_types_supported"] == ["code", "id_token", "token id_token"]
    assert doc["subject_types_supported"] == ["public"]


def test_jwks_publishes_current_and_next_key_and_signs_with_the_first(sandbox):
    keys = requests.get(sandbox.idp_url + ".well-known/jwks.json").json()["keys"]
    assert len(keys) == 2
    assert all(set(k) == {"kty", "use", "alg", "kid", "n", "e"} for k in keys)
    token = password_realm(sandbox).json()["id_token"]
    assert header_of(token) == {"alg": "RS256", "typ": "JWT", "kid": keys[0]["kid"]}


def test_rotation_signs_with_the_next_key_and_keeps_the_old_one_published(own_sandbox):
    sandbox = own_sandbox  # rotation must not change the session-wide sandbox
    before = password_realm(sandbox).json()["id_token"]
    old_kid, next_kid = [k["kid"] for k in requests.get(sandbox.idp_url + ".well-known/jwks.json").json()["keys"]]
    assert sandbox.rotate_keys() == next_kid
    after = password_realm(sandbox).json()["id_token"]
    kids = [k["kid"] for k in requests.get(sandbox.idp_url + ".well-known/jwks.json").json()["keys"]]
    assert header_of(after)["kid"] == next_kid and kids[0] == next_kid and old_kid in kids and len(kids) == 3
    assert verified(sandbox, before, sandbox.web_client_id)["sub"] == verified(sandbox, after, sandbox.web_client_id)["sub"]


# ------------------------------------------------------------------ /authorize and the login page
def test_authorize_redirects_to_the_hosted_login_page_with_a_form_and_social_buttons(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri)
    first = requests.get(request_url(sandbox.idp_url, params), allow_redirects=False)
    assert first.status_code == 302 and first.headers["location"].startswith("/u/login?state=")
    page = requests.get(sandbox.idp_url + first.headers["location"].lstrip("/"))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    form = forms_of(page.text)[0]
    assert form["method"] == "post" and set(form["fields"]) == {"state", "username", "password"}
    assert 'id="social-github"' in page.text and 'id="social-google-oauth2"' in page.text
    assert page.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_wrong_password_on_the_login_page_shows_auth0s_message_and_no_redirect(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri)
    answer = browser_login(request_url(sandbox.idp_url, params), ADA[0], "not-her-password")
    assert answer.status_code == 400 and "location" not in answer.headers
    assert "Wrong email or password." in answer.text


def test_code_flow_gives_id_token_for_the_client_and_access_token_for_the_api(sandbox):
    params, tokens = code_flow(sandbox, audience=sandbox.api_audience, scope="openid profile email offline_access")
    assert set(tokens) == {"access_token", "refresh_token", "id_token", "scope", "expires_in", "token_type"}
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 86400
    id_claims = verified(sandbox, tokens["id_token"], sandbox.spa_client_id)
    assert id_claims["aud"] == sandbox.spa_client_id and id_claims["nonce"] == params["nonce"]
    assert id_claims["email"] == ADA[0] and id_claims["sub"].startswith("auth0|")
    assert id_claims["exp"] - id_claims["iat"] == 36000 and isinstance(id_claims["iat"], int)
    assert "sid" in id_claims
    access = verified(sandbox, tokens["access_token"], sandbox.api_audience)
    assert access["aud"] == [sandbox.api_audience, sandbox.idp_url + "userinfo"]
    assert access["azp"] == sandbox.spa_client_id and access["scope"] == "openid profile email offline_access"
    assert "email" not in access and "gty" not in access


def test_email_claim_only_with_the_email_scope(sandbox):
    _, tokens = code_flow(sandbox, scope="openid profile")
    claims = claims_of(tokens["id_token"])
    assert "email" not in claims and "email_verified" not in claims and claims["name"] == "Ada Lovelace"
    _, tokens = code_flow(sandbox, scope="openid")
    assert set(claims_of(tokens["id_token"])) == {"iss", "aud", "sub", "iat", "exp", "sid", "nonce"}


def userinfo_of(sandbox, token: str) -> requests.Response:
    return requests.get(sandbox.idp_url + "userinfo", headers={"Authorization": "Bearer " + token}, timeout=10)


def test_without_audience_the_access_token_is_a_jwe_only_userinfo_reads(sandbox):
    """Current Auth0 tenants: five parts, {"alg":"dir","enc":"A256GCM","iss":...} (joserfc reads the header)."""
    _, tokens = code_flow(sandbox, scope="openid email")
    token = tokens["access_token"]
    assert token.count(".") == 4 and token.split(".")[1] == ""  # "dir": no encrypted key
    header = JWE.extract_compact(token.encode(), READS_ISS).protected
    assert header == {"alg": "dir", "enc": "A256GCM", "iss": sandbox.idp_url}
    with pytest.raises(DecodeError):  # nobody else holds the key: another one fails the authentication tag
        JWE.decrypt_compact(token, OctKey.generate_key(256), registry=READS_ISS)
    info = userinfo_of(sandbox, token)
    assert info.status_code == 200
    assert info.json() == {"sub": "auth0|65f1c0de0000000000000001", "email": ADA[0], "email_verified": True}
    header_b64, key, iv, ciphertext, tag = token.split(".")
    flipped = ".".join([header_b64, key, iv, ciphertext, ("A" if tag[0] != "A" else "B") + tag[1:]])
    assert userinfo_of(sandbox, flipped).status_code == 401  # the tag authenticates the whole token
    sandbox.clock.advance(86400)
    try:
        expired = userinfo_of(sandbox, token)
    finally:
        sandbox.clock.advance(-86400)
    assert expired.status_code == 401 and 'error_description="The token has expired."' in expired.headers[
        "www-authenticate"]


def test_a_jwe_from_another_provider_is_refused_at_userinfo(sandbox, own_sandbox):
    _, foreign = code_flow(own_sandbox, scope="openid email")
    assert userinfo_of(own_sandbox, foreign["access_token"]).status_code == 200
    assert userinfo_of(sandbox, foreign["access_token"]).status_code == 401


def test_the_tenant_setting_gives_an_older_tenants_short_opaque_token(sandbox):
    sandbox.idp.configure(userinfo_token_format="opaque")
    try:
        _, tokens = code_flow(sandbox, scope="openid email")
    finally:
        sandbox.idp.configure(userinfo_token_format="jwe")
    assert tokens["access_token"].count(".") == 0 and len(tokens["access_token"]) == 32
    assert userinfo_of(sandbox, tokens["access_token"]).json()["email"] == ADA[0]
    with pytest.raises(SeedError, match="userinfo_token_format"):
        sandbox.idp.configure(userinfo_token_format="random")
    assert sandbox.idp.seed.settings.userinfo_token_format == "jwe"


def test_implicit_id_token_flow_answers_in_the_fragment_with_the_nonce(sandbox):
    params = {"response_type": "id_token", "client_id": sandbox.spa_client_id, "redirect_uri": sandbox.redirect_uri,
              "scope": "openid email", "state": "s-1", "nonce": "n-1"}
    answer = browser_login(request_url(sandbox.idp_url, params), *ADA)
    location = urlsplit(answer.headers["location"])
    assert location.query == "" and location.fragment
    fragment = callback_params(answer)
    assert set(fragment) == {"id_token", "state"} and fragment["state"] == "s-1"
    claims = verified(sandbox, fragment["id_token"], sandbox.spa_client_id)
    assert claims["nonce"] == "n-1" and "at_hash" not in claims


def test_token_id_token_flow_as_the_8base_sdk_uses_it(sandbox):
    params = {"response_type": "token id_token", "client_id": sandbox.spa_client_id,
              "redirect_uri": sandbox.redirect_uri, "scope": "openid email profile", "state": "s-2", "nonce": "n-2"}
    fragment = callback_params(browser_login(request_url(sandbox.idp_url, params), *ADA))
    assert set(fragment) == {"access_token", "scope", "expires_in", "token_type", "id_token", "state"}
    assert fragment["expires_in"] == "7200" and fragment["token_type"] == "Bearer"
    claims = verified(sandbox, fragment["id_token"], sandbox.spa_client_id)
    assert claims["at_hash"] == at_hash(fragment["access_token"]) and claims["nonce"] == "n-2"


def test_at_hash_matches_the_oidc_test_vector():
    assert at_hash("dNZX1hEZ9wBCzNL40Upu646bdzQA") == "wfgvmE9VxjAudsl9lc6TqA"


def test_form_post_answers_with_an_auto_submitting_form(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, response_mode="form_post")
    answer = browser_login(request_url(sandbox.idp_url, params), *ADA)
    assert answer.status_code == 200
    form = forms_of(answer.text)[0]
    assert form["action"] == sandbox.redirect_uri and form["method"] == "post"
    assert set(form["fields"]) == {"code", "state"} and form["fields"]["state"] == params["state"]


def test_prompt_none_without_a_session_says_login_required(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, prompt="none")
    answer = callback_params(requests.get(request_url(sandbox.idp_url, params), allow_redirects=False))
    assert answer == {"error": "login_required", "error_description": "Login required", "state": params["state"]}


def test_prompt_none_with_the_session_cookie_answers_silently_and_web_message_posts_to_the_app(sandbox):
    browser = requests.Session()
    browser_login(request_url(sandbox.idp_url, authorize_params(sandbox.spa_client_id, sandbox.redirect_uri)),
                  *ADA, session=browser)
    silent = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, prompt="none")
    answer = callback_params(browser.get(request_url(sandbox.idp_url, silent), allow_redirects=False))
    assert set(answer) == {"code", "state"}
    web = {"response_type": "token id_token", "client_id": sandbox.spa_client_id, "prompt": "none",
           "redirect_uri": sandbox.redirect_uri, "response_mode": "web_message", "state": "w-1", "nonce": "n-3"}
    page = browser.get(request_url(sandbox.idp_url, web), allow_redirects=False)
    assert page.status_code == 200 and 'type: "authorization_response"' in page.text
    assert '"http://localhost:3000"' in page.text and '"state": "w-1"' in page.text
    assert "window.opener || window.parent" in page.text  # a popup answers its opener, an iframe its parent
    assert page.headers["content-security-policy"] == "frame-ancestors http://localhost:3000"


def test_social_login_goes_through_the_simulated_provider_and_yields_its_identity(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, scope="openid profile email")
    answer = callback_params(social_login(request_url(sandbox.idp_url, params), "github"))
    body = {"grant_type": "authorization_code", "client_id": sandbox.spa_client_id, "code": answer["code"],
            "redirect_uri": sandbox.redirect_uri, "code_verifier": params["_verifier"]}
    claims = claims_of(requests.post(sandbox.idp_url + "oauth/token", json=body).json()["id_token"])
    assert claims["sub"] == "github|5830417" and claims["email"] == "linus@example.com"


def test_connection_parameter_skips_the_login_page(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, connection="google-oauth2")
    first = requests.get(request_url(sandbox.idp_url, params), allow_redirects=False)
    assert first.headers["location"].startswith("/upstream/google-oauth2/authorize?state=")
    answer = callback_params(social_login(request_url(sandbox.idp_url, params), "google-oauth2"))
    body = {"grant_type": "authorization_code", "client_id": sandbox.spa_client_id, "code": answer["code"],
            "redirect_uri": sandbox.redirect_uri, "code_verifier": params["_verifier"]}
    claims = claims_of(requests.post(sandbox.idp_url + "oauth/token", json=body).json()["id_token"])
    assert claims["sub"] == "google-oauth2|103547991597142817347" and claims["locale"] == "en"


def test_denying_on_the_provider_page_returns_access_denied_to_the_app(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, connection="github")
    browser = requests.Session()
    page = browser.get(request_url(sandbox.idp_url, params))
    form = forms_of(page.text)[0]
    back = browser.post(sandbox.idp_url + form["action"].lstrip("/"), data=dict(form["fields"], account=""),
                        allow_redirects=False)
    answer = callback_params(browser.get(sandbox.idp_url + back.headers["location"].lstrip("/"), allow_redirects=False))
    assert answer["error"] == "access_denied" and answer["state"] == params["state"]


def test_unknown_audience_is_access_denied_service_not_found(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, audience="https://nope.example/")
    answer = callback_params(requests.get(request_url(sandbox.idp_url, params), allow_redirects=False))
    assert answer["error"] == "access_denied" and answer["error_description"].startswith("Service not found")
    assert "nope.example" not in answer["error_description"]


# ------------------------------------------------------------------ /oauth/token
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "form"])
def test_password_realm_with_json_or_form_body(sandbox, as_json):
    body = {"grant_type": "http://auth0.com/oauth/grant-type/password-realm", "username": ADA[0],
            "password": ADA[1], "realm": sandbox.connection, "scope": "openid email", "audience": sandbox.api_audience}
    response = token_request(sandbox, auth=(sandbox.web_client_id, sandbox.web_client_secret), as_json=as_json, **body)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    access = claims_of(response.json()["access_token"])
    assert access["gty"] == "password" and access["azp"] == sandbox.web_client_id


def test_password_grant_uses_the_default_directory(sandbox):
    response = token_request(sandbox, grant_type="password", client_id=sandbox.web_client_id,
                             client_secret=sandbox.web_client_secret, username="ADA@example.com", password=ADA[1])
    assert response.status_code == 200
    assert claims_of(response.json()["id_token"])["sub"] == "auth0|65f1c0de0000000000000001"


def test_nulls_and_empty_strings_count_as_absent(sandbox):
    response = password_realm(sandbox, scope=None, audience=None)
    assert response.status_code == 200
    assert response.json()["access_token"].count(".") == 4  # no audience: encrypted (JWE)
    assert response.json()["scope"] == "openid"


@pytest.mark.parametrize("change, status, error, description", [
    ({"password": "wrong"}, 403, "invalid_grant", "Wrong email or password."),
    ({"username": "nobody@example.com"}, 403, "invalid_grant", "Wrong email or password."),
    ({"client_secret": "wrong"}, 401, "access_denied", "Unauthorized"),
    ({"client_id": "no-such-client"}, 401, "access_denied", "Unauthorized"),
    ({"username": None}, 400, "invalid_request", "Missing required parameter: username"),
    ({"realm": "github"}, 400, "invalid_request", None),
    ({"audience": "https://nope.example/"}, 403, "access_denied", "Service not found"),
])
def test_password_realm_errors_have_auth0s_shape(sandbox, change, status, error, description):
    response = password_realm(sandbox, **change)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error"] == error
    if description:
        assert body["error_description"] == description


def test_client_credentials_gives_a_machine_token(sandbox):
    response = token_request(sandbox, grant_type="client_credentials", client_id=sandbox.m2m_client_id,
                             client_secret=sandbox.m2m_client_secret, audience=sandbox.api_audience)
    body = response.json()
    assert set(body) == {"access_token", "scope", "expires_in", "token_type"}
    claims = verified(sandbox, body["access_token"], sandbox.api_audience)
    assert claims["sub"] == sandbox.m2m_client_id + "@clients" and claims["gty"] == "client-credentials"
    assert claims["aud"] == sandbox.api_audience and claims["scope"] == "read:notes"


@pytest.mark.parametrize("change, status, error, description", [
    ({"audience": None}, 403, "access_denied",
     "No audience parameter was provided, and no default audience has been configured"),
    ({"scope": "write:notes"}, 403, "access_denied", "Client has not been granted all requested scopes."),
    ({"client_id": "sandbox-spa-client", "client_secret": None}, 403, "unauthorized_client",
     "Grant type 'client_credentials' not allowed for the client."),
])
def test_client_credentials_errors(sandbox, change, status, error, description):
    body = {"grant_type": "client_credentials", "client_id": sandbox.m2m_client_id,
            "client_secret": sandbox.m2m_client_secret, "audience": sandbox.api_audience, **change}
    response = token_request(sandbox, **body)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"] == description


def test_refresh_token_gives_new_tokens_and_keeps_the_refresh_token(sandbox):
    first = password_realm(sandbox).json()
    sandbox.clock.advance(60)
    response = token_request(sandbox, grant_type="refresh_token", client_id=sandbox.web_client_id,
                             client_secret=sandbox.web_client_secret, refresh_token=first["refresh_token"], scope="")
    body = response.json()
    assert response.status_code == 200 and "refresh_token" not in body
    assert claims_of(body["access_token"])["gty"] == "refresh_token"
    assert claims_of(body["id_token"])["iat"] == claims_of(first["id_token"])["iat"] + 60
    narrower = token_request(sandbox, grant_type="refresh_token", client_id=sandbox.web_client_id,
                             client_secret=sandbox.web_client_secret, refresh_token=first["refresh_token"],
                             scope="openid")
    assert narrower.json()["scope"] == "openid"
    wider = token_request(sandbox, grant_type="refresh_token", client_id=sandbox.web_client_id,
                          client_secret=sandbox.web_client_secret, refresh_token=first["refresh_token"],
                          scope="openid read:everything")
    assert wider.status_code == 403 and wider.json()["error"] == "access_denied"


def test_no_refresh_token_without_offline_access(sandbox):
    assert "refresh_token" not in password_realm(sandbox, scope="openid email").json()


@pytest.mark.parametrize("body, status, error, description", [
    ({}, 400, "invalid_request", "Missing required parameter: grant_type"),
    ({"grant_type": "urn:example:nope"}, 400, "unsupported_grant_type", "Unsupported grant type."),
    ({"grant_type": "authorization_code", "client_id": "sandbox-spa-client"}, 400, "invalid_request",
     "Missing required parameter: code"),
    ({"grant_type": "authorization_code", "client_id": "sandbox-spa-client", "code": "made-up",
      "redirect_uri": "http://localhost:3000/callback"}, 403, "invalid_grant", "Invalid authorization code"),
    ({"grant_type": "refresh_token", "client_id": "sandbox-spa-client", "refresh_token": "made-up"}, 403,
     "invalid_grant", "Unknown or invalid refresh token."),
    ({"grant_type": "password", "client_id": "sandbox-spa-client", "username": "a", "password": "b"}, 403,
     "unauthorized_client", "Grant type 'password' not allowed for the client."),
])
def test_token_endpoint_errors(sandbox, body, status, error, description):
    response = token_request(sandbox, **body)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"] == description


def test_unreadable_bodies_are_invalid_request_not_500(sandbox):
    url = sandbox.idp_url + "oauth/token"
    for data, content_type in [(b"{not json", "application/json"), (b"[1,2]", "application/json"),
                               (b"grant_type=a&grant_type=b", "application/x-www-form-urlencoded"),
                               (b"<xml/>", "text/xml"), (b'{"grant_type": 5}', "application/json")]:
        response = requests.post(url, data=data, headers={"Content-Type": content_type})
        assert response.status_code == 400 and response.json()["error"] == "invalid_request", data
    big = requests.post(url, data=b"a=" + b"x" * 70000, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413


# ------------------------------------------------------------------ /userinfo
def test_userinfo_with_the_api_access_token_and_expiry_by_the_sandbox_clock(sandbox):
    tokens = password_realm(sandbox).json()
    headers = {"Authorization": "Bearer " + tokens["access_token"]}
    info = requests.get(sandbox.idp_url + "userinfo", headers=headers)
    assert info.status_code == 200 and info.json()["email"] == ADA[0] and info.json()["nickname"] == "ada"
    sandbox.clock.advance(86400)
    expired = requests.get(sandbox.idp_url + "userinfo", headers=headers)
    assert expired.status_code == 401 and expired.text == "Unauthorized"
    assert expired.headers["www-authenticate"].startswith('Bearer realm="Users", error="invalid_token"')


@pytest.mark.parametrize("which", ["id_token", "none", "garbage", "m2m"])
def test_userinfo_refuses_what_is_not_a_user_access_token(sandbox, which):
    tokens = password_realm(sandbox).json()
    m2m = token_request(sandbox, grant_type="client_credentials", client_id=sandbox.m2m_client_id,
                        client_secret=sandbox.m2m_client_secret, audience=sandbox.api_audience).json()
    value = {"id_token": tokens["id_token"], "none": None, "garbage": "a.b.c", "m2m": m2m["access_token"]}[which]
    headers = {"Authorization": f"Bearer {value}"} if value else {}
    response = requests.get(sandbox.idp_url + "userinfo", headers=headers)
    assert response.status_code == 401 and response.text == "Unauthorized"
    assert "invalid_token" in response.headers["www-authenticate"]


# ------------------------------------------------------------------ logout
def test_logout_ends_the_session_and_redirects_to_the_registered_url(sandbox):
    browser = requests.Session()
    browser_login(request_url(sandbox.idp_url, authorize_params(sandbox.spa_client_id, sandbox.redirect_uri)),
                  *ADA, session=browser)
    out = browser.get(sandbox.idp_url + "v2/logout", params={"client_id": sandbox.spa_client_id,
                                                             "returnTo": "http://localhost:3000/"},
                      allow_redirects=False)
    assert out.status_code == 302 and out.headers["location"] == "http://localhost:3000/"
    silent = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, prompt="none")
    answer = callback_params(browser.get(request_url(sandbox.idp_url, silent), allow_redirects=False))
    assert answer["error"] == "login_required"


def test_logout_without_return_to_uses_the_first_allowed_url_or_shows_a_page(sandbox):
    first = requests.get(sandbox.idp_url + "v2/logout", params={"client_id": sandbox.spa_client_id},
                         allow_redirects=False)
    assert first.status_code == 302 and first.headers["location"] == "http://localhost:3000/"
    page = requests.get(sandbox.idp_url + "v2/logout", allow_redirects=False)
    assert page.status_code == 200 and "You are logged out." in page.text


# ------------------------------------------------------------------ sign-up
def signup(sandbox, **change) -> requests.Response:
    body = {"client_id": sandbox.spa_client_id, "email": f"new-{uuid.uuid4().hex[:8]}@example.com",
            "password": "long-enough-pass", "connection": sandbox.connection, **change}
    return requests.post(sandbox.idp_url + "dbconnections/signup", json=body)


def test_signup_creates_a_user_who_can_log_in(sandbox):
    email = f"Mixed-{uuid.uuid4().hex[:8]}@Example.com"
    response = signup(sandbox, email=email, given_name="New", user_metadata={"plan": "free"})
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"_id", "email_verified", "email", "given_name", "user_metadata"}
    assert body["email"] == email.lower() and body["email_verified"] is False and len(body["_id"]) == 24
    tokens = password_realm(sandbox, username=email, password="long-enough-pass", scope="openid email").json()
    claims = claims_of(tokens["id_token"])
    assert claims["sub"] == "auth0|" + body["_id"] and claims["email_verified"] is False


@pytest.mark.parametrize("change, code, name", [
    ({"email": "ada@example.com"}, "user_exists", "BadRequestError"),
    ({"email": "ADA@EXAMPLE.COM"}, "user_exists", "BadRequestError"),
    ({"password": "short"}, "invalid_password", "PasswordStrengthError"),
    ({"email": None}, "invalid_body", "BadRequestError"),
    ({"email": "not-an-email"}, "invalid_signup", "BadRequestError"),
    ({"connection": "github"}, "invalid_connection", "BadRequestError"),
    ({"user_metadata": {"a": 1}}, "invalid_body", "BadRequestError"),
])
def test_signup_errors_have_the_dbconnections_shape(sandbox, change, code, name):
    response = signup(sandbox, **change)
    body = response.json()
    assert response.status_code == 400 and body["statusCode"] == 400
    assert body["code"] == code and body["name"] == name and "description" in body
    if code == "user_exists":
        assert body["description"] == "The user already exists."


def test_signup_with_a_broken_body_is_a_clean_400(sandbox):
    response = requests.post(sandbox.idp_url + "dbconnections/signup", data=b"{",
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_body"
    assert "Traceback" not in response.text and json.loads(response.text)["statusCode"] == 400


def test_issuer_is_identical_in_discovery_and_every_token(sandbox):
    doc = requests.get(sandbox.idp_url + ".well-known/openid-configuration").json()
    tokens = password_realm(sandbox).json()
    assert claims_of(tokens["id_token"])["iss"] == doc["issuer"] == claims_of(tokens["access_token"])["iss"]
