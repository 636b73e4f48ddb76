"""The one hardened verifier: every failure becomes a catalogued code, never a crash."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers.sandbox.common.keys import KeyRing
from helpers.verify import REASONS, Expectations, TokenRejected, verify_token

ISS, CID, NOW = "http://localhost:9999/", "client-1", 1_800_000_000
KEYS = KeyRing()
EXPECT = Expectations(issuer=ISS, audience=CID)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def lookup(kid):
    return KEYS.public_key(kid)


def claims(**change):
    base = {"iss": ISS, "sub": "auth0|1", "aud": CID, "iat": NOW - 10, "exp": NOW + 3600, "nonce": "n-1"}
    base.update(change)
    return {k: v for k, v in base.items() if v is not None}


def token(**change) -> str:
    return KEYS.sign(claims(**change))


def rejected(tok, expect=EXPECT, now=NOW) -> TokenRejected:
    with pytest.raises(TokenRejected) as info:
        verify_token(tok, lookup, expect, now=now)
    return info.value


def test_a_good_token_returns_its_claims():
    assert verify_token(token(), lookup, EXPECT, now=NOW)["sub"] == "auth0|1"


def test_bytes_are_accepted():
    assert verify_token(token().encode(), lookup, EXPECT, now=NOW)["aud"] == CID


def forged(header: dict, payload: dict, signature: str = "") -> str:
    return ".".join([b64u(json.dumps(header).encode()), b64u(json.dumps(payload).encode()), signature])


@pytest.mark.parametrize("make, code", [
    (lambda: token()[:-6] + "AAAAAA", "bad_signature"),
    (lambda: forged({"alg": "none", "typ": "JWT"}, claims()), "alg_not_allowed"),
    (lambda: forged({"alg": "HS256", "kid": KEYS.current.kid}, claims(), "abc"), "alg_not_allowed"),
    (lambda: token().rsplit(".", 1)[0], "malformed"),
    (lambda: "", "malformed"),
    (lambda: 123, "malformed"),
    (lambda: "a.b.c.d.e", "malformed"),
    (lambda: "x" * 9000, "too_large"),
    (lambda: token(exp=NOW - 1), "expired"),
    (lambda: token(exp=NOW), "expired"),
    (lambda: token(nbf=NOW + 600), "not_yet_valid"),
    (lambda: token(iat=NOW + 600), "not_yet_valid"),
    (lambda: token(exp="9999999999"), "bad_claim_type"),
    (lambda: token(exp=1.5e9), "bad_claim_type"),
    (lambda: token(iss="http://evil.example/"), "bad_issuer"),
    (lambda: token(iss=ISS.rstrip("/")), "bad_issuer"),
    (lambda: token(aud="other-client"), "bad_audience"),
    (lambda: token(aud=[CID, "other"]), "bad_audience"),
    (lambda: token(sub=None), "missing_claim"),
    (lambda: token(sub="x" * 300), "bad_claim_type"),
    (lambda: token(aud=["https://api/", ISS + "userinfo"], scope="openid", azp=CID), "wrong_token_type"),
    (lambda: KEYS.sign(claims(), headers={"typ": "at+jwt"}), "wrong_token_type"),
    (lambda: KEYS.sign(claims(), headers={"crit": ["exp"]}), "bad_header"),
    (lambda: forged({"alg": "RS256", "kid": 7}, claims(), "abc"), "bad_header"),
    (lambda: forged({"alg": "RS256", "kid": "unknown"}, claims(), "abc"), "bad_signature"),
])
def test_each_bad_token_gets_its_code(make, code):
    error = rejected(make())
    assert error.code == code and str(error) == REASONS[code]


def test_foreign_key_with_the_right_kid_is_a_bad_signature():
    import jwt
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tok = jwt.encode(claims(), attacker, algorithm="RS256", headers={"kid": KEYS.current.kid})
    assert rejected(tok).code == "bad_signature"


def test_nonce_and_leeway():
    assert rejected(token(), Expectations(ISS, CID, nonce="other")).code == "bad_nonce"
    assert verify_token(token(exp=NOW - 30), lookup, Expectations(ISS, CID, leeway=60), now=NOW)


def test_messages_never_repeat_the_token_or_its_header():
    evil = forged({"alg": "RS256", "kid": "<script>alert(1)</script>", "crit": ["<b>"]}, claims(), "abc")
    error = rejected(evil)
    assert "<script>" not in str(error) and evil not in str(error)


def test_the_wrong_token_type_message_names_both_directions():
    access = token(aud=["https://api/", ISS + "userinfo"], scope="openid", azp=CID)
    assert str(rejected(access)) == "This is an access token, but an ID token is expected here."
    id_where_access = Expectations(ISS, (CID, "https://api/"), token_use="access")
    assert str(rejected(token(), id_where_access)) == "This is an ID token, but an access token is expected here."
