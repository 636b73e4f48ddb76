"""The one hardened JWT verifier, used by the sandbox servers and by the lessons alike.

PyJWT does the cryptography and the standard claim checks (explicit ``algorithms``,
``issuer``, ``audience``, required claims). This module adds what PyJWT leaves to the caller
(token size, ``typ`` and ID-token vs access-token confusion, integer times read from a
controllable clock, a maximum lifetime, ``azp``, ``nonce``, ``sub`` length), refuses what a
misconfiguration would let through (``none``/HMAC algorithms, RSA keys under 2048 bits, an empty
issuer) and turns *every* failure, including crashes inside the decoder, into one
:class:`TokenRejected` with a fixed, catalogued code.
Messages never repeat text taken from the token.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal

import jwt
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from .exceptions import ID_TOKEN_WHERE_ACCESS_EXPECTED, REASONS, KeySourceUnavailable, TokenRejected

# The algorithms a token may carry, whatever a caller lists: public-key signatures only. Keys come from
# the issuer's *published* set, so "none" and HMAC (whose secret would be a public key) never make sense;
# a misconfigured ``algorithms=("RS256", "none"/"HS256")`` must still reject (catalog SIG-09..14).
PUBLIC_KEY_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                   "ES256", "ES256K", "ES384", "ES512", "EdDSA"})

TokenUse = Literal["id", "access"]
KeyLookup = Callable[[str | None], Any]
"""Return the public key for a ``kid`` (``None`` when the header has none).

Raise ``KeyError`` when no published key matches, :class:`KeySourceUnavailable` when the
keys cannot be fetched at all.
"""


def issuer_of_profile_domain(domain: str) -> str:
    """The issuer an Authentication Profile's domain stands for.

    A bare host is an Auth0 domain: ``https://HOST/`` with the trailing slash, as Auth0 spells its issuer.
    A domain written with its scheme is taken as the issuer exactly (sandbox behaviour, for a foreign
    OpenID Connect issuer such as ``http://127.0.0.1:PORT``, which has no trailing slash).
    """
    if "://" in domain:
        return domain
    return "https://" + domain.rstrip("/") + "/"


@dataclass(frozen=True)
class Expectations:
    """What a valid token must look like for one verifier."""

    issuer: str
    audience: str | tuple[str, ...] | None  # None: do not check aud (a sandbox setting, never a default)
    token_use: TokenUse = "id"
    algorithms: tuple[str, ...] = ("RS256",)
    required: tuple[str, ...] = ("iss", "sub", "aud", "exp", "iat")
    leeway: int = 0
    nonce: str | None = None
    max_bytes: int = 8192
    max_sub_length: int = 255
    max_lifetime: int = 2_592_000  # exp - iat at most 30 days (Auth0's maximum for ID and access tokens)


TIME_CLAIMS = ("exp", "nbf", "iat")


def verify_token(token: str | bytes, keys: KeyLookup, expect: Expectations, now: float | None = None) -> dict[str, Any]:
    """Verify ``token`` and return its claims, or raise :class:`TokenRejected`."""
    try:
        return _verify(token, keys, expect, time.time() if now is None else now)
    except TokenRejected:
        raise
    except Exception:  # the catch-all: a decoder crash is a bad token, never a server error
        raise TokenRejected("malformed") from None


def _verify(token: str | bytes, keys: KeyLookup, expect: Expectations, now: float) -> dict[str, Any]:
    token = _as_text(token, expect.max_bytes)
    header = _header(token, expect)
    if not isinstance(expect.issuer, str) or not expect.issuer:
        raise TokenRejected("bad_issuer")  # a verifier configured without an issuer trusts no one (CLM-14)
    try:
        key = keys(header.get("kid"))
    except KeySourceUnavailable:
        raise TokenRejected("key_unavailable") from None
    except (KeyError, LookupError):
        raise TokenRejected("bad_signature") from None

    options = {
        "verify_exp": False,  # times are checked below against the injected clock
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": expect.audience is not None,
        "require": list(expect.required),
        "enforce_minimum_key_length": True,  # an RSA key under 2048 bits is refused, not warned about (SIG-19)
    }
    audience = [expect.audience] if isinstance(expect.audience, str) else expect.audience
    try:
        claims = jwt.decode(
            token, key, algorithms=list(expect.algorithms), issuer=expect.issuer,
            audience=list(audience) if audience is not None else None, options=options,
        )
    except jwt.InvalidAudienceError:
        # Signature and issuer are fine; say *why* the audience is wrong when it is a token-type mix-up.
        claims = jwt.decode(token, key, algorithms=list(expect.algorithms), options={**options, "verify_aud": False})
        _check_use(header, claims, expect)
        raise TokenRejected("bad_audience", claim="aud", expected=expect.audience, got=claims.get("aud")) from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenRejected("missing_claim", claim=exc.claim) from None
    except jwt.PyJWTError as exc:
        raise TokenRejected(_code_for(exc)) from None

    _check_use(header, claims, expect)
    _check_times(claims, expect, now)
    _check_subject_and_party(claims, expect)
    if expect.nonce is not None and claims.get("nonce") != expect.nonce:
        raise TokenRejected("bad_nonce", claim="nonce", expected=expect.nonce, got=claims.get("nonce"))
    return claims


def _as_text(token: str | bytes, max_bytes: int) -> str:
    if isinstance(token, bytes):
        token = token.decode("ascii")
    if not isinstance(token, str) or not token:
        raise TokenRejected("malformed")
    if len(token) > max_bytes:
        raise TokenRejected("too_large")
    if token.count(".") != 2:  # a JWE has five parts: encrypted tokens are out of scope
        raise TokenRejected("malformed")
    return token


@functools.lru_cache(maxsize=512)
def _unverified_header(token: str) -> dict[str, Any]:
    """PyJWT's unverified header of ``token``, remembered per token string (a client sends the same token on
    every request until it renews it). It only chooses the key: ``jwt.decode`` still parses and checks the
    whole token each time. Errors are not remembered. Callers must not change the returned dict."""
    return jwt.get_unverified_header(token)


def _header(token: str, expect: Expectations) -> dict[str, Any]:
    try:
        header = _unverified_header(token)
    except jwt.DecodeError:
        raise TokenRejected("malformed") from None
    except jwt.PyJWTError:  # a readable header with a parameter PyJWT refuses (crit, a non-string kid)
        raise TokenRejected("bad_header") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in expect.algorithms or alg not in PUBLIC_KEY_ALGORITHMS:
        raise TokenRejected("alg_not_allowed")
    if "kid" in header and not isinstance(header["kid"], str):
        raise TokenRejected("bad_header")
    if "crit" in header:
        raise TokenRejected("bad_header")
    return header


def _check_use(header: dict[str, Any], claims: dict[str, Any], expect: Expectations) -> None:
    """Tell ID tokens and access tokens apart (RFC 8725 §3.11): by ``typ`` and by their claims."""
    typ = str(header.get("typ", "JWT")).lower()
    looks_like_access = typ in ("at+jwt", "application/at+jwt") or "scope" in claims or "gty" in claims
    if expect.token_use == "id" and looks_like_access:
        raise TokenRejected("wrong_token_type", claim="typ", expected="an ID token", got="an access token")
    if expect.token_use == "access" and ("nonce" in claims or "at_hash" in claims) and "scope" not in claims:
        raise TokenRejected("wrong_token_type", claim="typ", expected="an access token", got="an ID token")


def _check_times(claims: dict[str, Any], expect: Expectations, now: float) -> None:
    for name in TIME_CLAIMS:
        if name in claims and (type(claims[name]) is not int or not 0 <= claims[name] < 2**40):
            raise TokenRejected("bad_claim_type", claim=name, expected="an integer NumericDate", got=claims[name])
    if "exp" in claims and claims["exp"] - claims.get("iat", int(now)) > expect.max_lifetime:
        # a 10-year-old iat with a valid exp, or an exp years ahead: no IdP issues such a token (CLM-09)
        raise TokenRejected("bad_claim_type", claim="exp", expected="a lifetime within the maximum", got=claims["exp"])
    if "exp" in claims and now >= claims["exp"] + expect.leeway:
        raise TokenRejected("expired", claim="exp", expected=f"later than {int(now)}", got=claims["exp"])
    for name in ("nbf", "iat"):
        if name in claims and claims[name] > now + expect.leeway:
            raise TokenRejected("not_yet_valid", claim=name, expected=f"at most {int(now)}", got=claims[name])


def _check_subject_and_party(claims: dict[str, Any], expect: Expectations) -> None:
    sub = claims.get("sub")
    if sub is not None and (not isinstance(sub, str) or not sub or len(sub) > expect.max_sub_length):
        raise TokenRejected("bad_claim_type", claim="sub", expected="a string of 1-255 characters")
    aud = claims.get("aud")
    allowed = (expect.audience,) if isinstance(expect.audience, str) else (expect.audience or ())
    if isinstance(aud, list) and len(aud) > 1 and expect.token_use == "id" and claims.get("azp") not in allowed:
        # OIDC Core 3.1.3.7 steps 4-5: several audiences need an azp naming us
        raise TokenRejected("bad_audience", claim="azp", expected=expect.audience, got=claims.get("azp"))


def _code_for(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "alg_not_allowed"
    if isinstance(exc, (jwt.InvalidSignatureError, jwt.InvalidKeyError)):
        return "bad_signature"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "bad_issuer"
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "not_yet_valid"
    if isinstance(exc, (InvalidSubjectError, InvalidJTIError, jwt.InvalidIssuedAtError)):
        return "bad_claim_type"
    if isinstance(exc, jwt.DecodeError):
        return "malformed"
    return "bad_header"
