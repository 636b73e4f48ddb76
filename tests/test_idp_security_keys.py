"""Security cases of the sandbox IdP: keys, discovery and the tokens it mints (IDP-29 .. IDP-31).

The cases of shared/reference/jwt-security-cases.md section 1.7 and the decisions they follow:
tests/idp_security_support.py.
"""
from __future__ import annotations

import base64
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from tests.idp_driver import callback_params
from tests.idp_security_support import (PRIVATE_JWK_MEMBERS, TIMEOUT, _claims, _login, _login_code, _password_grant,
                                        _redeem, _spa_params, _token, _without_pkce)


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
