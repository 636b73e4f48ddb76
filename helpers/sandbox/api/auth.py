"""Who is calling? The sandbox API's authentication, in 8base's order.

1. No ``Authorization`` header: the Guest role.
2. ``Bearer <API token>``: that token's roles.
3. ``Bearer <JWT>``: an ID token, verified against the workspace's Authentication Profiles
   (issuer = the profile's domain, audience = its client id, keys from the issuer's JWKS,
   fetched once and cached), then the user found by the token's ``email`` claim.

An encrypted token (JWE: Auth0's access token for a login without an audience) is refused with
``InvalidTokenError``; nobody but its identity provider can read it.

Verification is the one hardened verifier of :mod:`helpers.verify`; keys come from
:class:`helpers.jwks.JwksCache`. The JWKS of an issuer that no profile names is never fetched.
"""
from __future__ import annotations

import functools
import threading
from typing import Any

import jwt

from ...jwe import protected_header
from ...jwks import JwksCache, discovered_jwks_uri
from ...verify import REASONS, Expectations, TokenRejected, verify_token
from ..common.clock import Clock
from .errors import ENCRYPTED_TOKEN, ApiError, RequestRejected, invalid_token, token_expired
from .permissions import Caller
from .records import AuthProfile
from .seed import ApiSettings
from .store import EnvironmentDb

MAX_HEADER = 8192


def unknown_issuer() -> ApiError:
    return invalid_token("The token's issuer is not the domain of any Authentication Profile of this workspace.")


def malformed_header(reason: str) -> RequestRejected:
    return RequestRejected(400, ApiError("InvalidTokenError", "Invalid authorization header", {"authorization": reason}))


class Authenticator:
    """Turns request headers into a :class:`Caller`. Holds one JWKS cache per trusted issuer."""

    def __init__(self, settings: ApiSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._caches: dict[str, JwksCache] = {}

    def jwks_cache(self, issuer: str) -> JwksCache:
        """The cache for an issuer's keys (``<issuer>.well-known/jwks.json``, Auth0's layout, unless the
        ``jwks_from_discovery`` setting reads the URI from the issuer's discovery document)."""
        with self._lock:
            cache = self._caches.get(issuer)
        if cache is not None:
            return cache
        s = self.settings
        jwks_uri = self._discovered_jwks_uri(issuer) if s.jwks_from_discovery else issuer + ".well-known/jwks.json"
        with self._lock:
            cache = self._caches.get(issuer)
            if cache is None:
                cache = JwksCache(jwks_uri, ttl=s.jwks_cache_ttl, cooldown=s.jwks_cooldown,
                                  timeout=s.jwks_timeout, stale_for=s.jwks_stale_for)
                self._caches[issuer] = cache
            return cache

    def _discovered_jwks_uri(self, issuer: str) -> str:
        """The ``jwks_uri`` of the issuer's discovery document (OIDC Discovery §4; issuer identical, §4.3)."""
        jwks_uri = discovered_jwks_uri(issuer, timeout=self.settings.jwks_timeout)
        if jwks_uri is None:
            raise api_error_for(TokenRejected("key_unavailable"))
        return jwks_uri

    def caches(self) -> dict[str, JwksCache]:
        with self._lock:
            return dict(self._caches)

    # ------------------------------------------------------------------ the three paths
    def identify(self, authorization: list[str], token_in_query: bool, db: EnvironmentDb) -> Caller:
        """The caller of one request, or an :class:`ApiError` / :class:`RequestRejected`."""
        if len(authorization) > 1:
            raise malformed_header("Send one Authorization header, not several.")
        if not authorization:
            return self.guest(db)  # a token in the query string is never read (RFC 6750 §2.3)
        if token_in_query:
            raise malformed_header("Send the token in the Authorization header only, not also in the URL.")
        token = bearer_token(authorization[0])
        if token.count(".") == 2:
            return self._id_token_caller(token, db)
        if protected_header(token) is not None:  # an access token asked for without an audience (Auth0's JWE)
            raise invalid_token(ENCRYPTED_TOKEN)
        record = db.api_token(token)
        if record is None:
            raise invalid_token("The bearer value is neither a valid ID token nor an API token of this workspace.")
        return Caller("api_token", tuple(db.roles_of_token(record.id)), api_token_id=record.id)

    @staticmethod
    def guest(db: EnvironmentDb) -> Caller:
        role = db.role_named("Guest")
        return Caller("guest", (role,) if role else ())

    def _id_token_caller(self, token: str, db: EnvironmentDb) -> Caller:
        claims, profile = self.verify_id_token(token, db)
        email = claims.get("email")
        if self.settings.require_email_verified and claims.get("email_verified") is not True:
            # 8base's documented lookup uses the email alone; linking by an unverified email lets anyone
            # who registers a victim's address at the provider become that victim (catalog CLM-28).
            raise invalid_token("The token's email is not verified, and this API requires verified emails.")
        user = None
        if isinstance(email, str) and email:
            user = db.user_by_email(email, case_sensitive=self.settings.email_case_sensitive)
        if user is None:
            return Caller("unregistered", (), claims=claims, profile=profile)
        return Caller("user", tuple(db.roles_of_user(user.id)), user=user, claims=claims, profile=profile)

    def verify_id_token(self, token: str, db: EnvironmentDb) -> tuple[dict[str, Any], AuthProfile]:
        """Verify an ID token against the workspace's profiles; returns (claims, the matching profile)."""
        issuer = _unverified_issuer(token)
        profiles = [p for p in db.auth_profiles() if p.issuer == issuer]
        if not profiles:
            raise unknown_issuer()
        audiences = tuple(a for p in profiles for a in p.accepted_audiences)
        expect = Expectations(issuer=profiles[0].issuer, audience=audiences if self.settings.check_audience else None,
                              token_use="id", leeway=self.settings.token_leeway)
        cache = self.jwks_cache(profiles[0].issuer)
        try:
            claims = verify_token(token, cache.key_for, expect, now=self.clock.now())
        except TokenRejected as rejected:
            raise api_error_for(rejected) from None
        aud = claims.get("aud")
        token_audiences = aud if isinstance(aud, list) else [aud]
        profile = next((p for p in profiles if set(token_audiences) & set(p.accepted_audiences)), profiles[0])
        return claims, profile


def api_error_for(rejected: TokenRejected) -> ApiError:
    """The 8base error for a verifier verdict (``Token expired`` is 8base's exact wording)."""
    if rejected.code == "expired":
        return token_expired()
    if rejected.code == "key_unavailable":
        return ApiError("ExternalServiceError", "The identity provider's signing keys could not be fetched",
                        {"token": REASONS["key_unavailable"]})
    return invalid_token(rejected.message)


def bearer_token(header: str) -> str:
    """The token of ``Authorization: Bearer <token>`` (scheme case-insensitive, RFC 6750 §2.1 grammar)."""
    if len(header) > MAX_HEADER:
        raise invalid_token(REASONS["too_large"])
    scheme, _, rest = header.partition(" ")
    if scheme[:7].lower() == "bearer\t":
        raise malformed_header("Separate Bearer and the token with a space.")
    if scheme.lower() != "bearer":
        raise invalid_token("The Authorization header must read: Bearer <token>.")
    token = rest.lstrip(" ")
    if not token:
        raise malformed_header("The Authorization header has no token after Bearer.")
    if any(c in token for c in " \t,"):
        raise malformed_header("The Authorization header must carry exactly one token.")
    if not token.isascii() or not token.isprintable():
        raise invalid_token(REASONS["malformed"])
    return token


@functools.lru_cache(maxsize=512)
def _unverified_issuer(token: str) -> str | None:
    """The ``iss`` claim, read only to choose which profile's keys to verify with (then the one verifier checks
    the whole token). Remembered per token string, as a client repeats its token; errors are not remembered."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.DecodeError:
        raise invalid_token(REASONS["malformed"]) from None
    except Exception:  # a readable token whose header PyJWT refuses (crit, a non-string kid): as the verifier says
        raise invalid_token(REASONS["bad_header"]) from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        raise unknown_issuer()
    return issuer
