"""Minting tokens shaped like Auth0's: ID tokens, access tokens (JWT, encrypted JWE or opaque) and their claims."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.registry import HeaderParameter
from jwt.utils import base64url_encode

from ..common.clock import Clock
from ..common.keys import KeyRing
from .records import Login
from .seed import Seed, User
from .store import IdpStore

OIDC_SCOPES = ("openid", "profile", "email", "offline_access")


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64url_encode(digest[:16]).decode()


def picture_for(user: User) -> str:
    """Gravatar-style picture URL with an Auth0 fallback avatar, as Auth0 sets for database users."""
    if user.picture:
        return user.picture
    email_hash = hashlib.md5(user.email.strip().lower().encode()).hexdigest()  # noqa: S324 - Gravatar's scheme
    fallback = quote(f"https://cdn.auth0.com/avatars/{user.email[:2].lower()}.png", safe="")
    return f"https://s.gravatar.com/avatar/{email_hash}?s=480&r=pg&d={fallback}"


def user_claims(user: User, scope: tuple[str, ...]) -> dict[str, Any]:
    """The profile and email claims the granted scopes allow (Auth0 drops the rest)."""
    claims: dict[str, Any] = {}
    if "profile" in scope:
        values = {
            "given_name": user.given_name,
            "family_name": user.family_name,
            "nickname": user.nickname,
            "name": user.name,
            "picture": picture_for(user),
            "locale": user.locale,
            "updated_at": user.updated_at,
        }
        claims.update({k: v for k, v in values.items() if v is not None})
    if "email" in scope:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    return claims


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    expires_in: int
    scope: tuple[str, ...]


class UserinfoCipher:
    """Encrypts the claims of ``/userinfo`` access tokens as Auth0 does: compact JWE, ``dir`` + ``A256GCM``, the
    issuer in the protected header; the key is made here, never leaves this object and dies with the process."""

    REGISTRY = jwe.JWERegistry(header_registry={"iss": HeaderParameter("Issuer (RFC 7519 §5.3)", "str")},
                               algorithms=["dir", "A256GCM"])

    def __init__(self, issuer: str) -> None:
        self._header = {"alg": "dir", "enc": "A256GCM", "iss": issuer}
        self._key = OctKey.generate_key(256)

    def encrypt(self, claims: dict[str, Any]) -> str:
        return jwe.encrypt_compact(self._header, json.dumps(claims).encode(), self._key, registry=self.REGISTRY)

    def decrypt(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this cipher encrypted; ``None`` for any other value (never raises)."""
        try:
            found = jwe.decrypt_compact(token, self._key, registry=self.REGISTRY)
            claims = json.loads(found.plaintext or b"")
        except (JoseError, ValueError, TypeError, KeyError):  # (binascii.Error is a ValueError)
            return None
        return claims if found.protected == self._header and isinstance(claims, dict) else None


class TokenMinter:
    """Signs tokens for one identity provider (its issuer, keys, seed and clock)."""

    def __init__(self, issuer: str, seed: Seed, keys: KeyRing, clock: Clock, store: IdpStore) -> None:
        self.issuer = issuer
        self.seed = seed
        self.keys = keys
        self.clock = clock
        self.store = store
        self.cipher = UserinfoCipher(issuer)

    @property
    def userinfo_audience(self) -> str:
        return self.issuer + "userinfo"

    def granted_scope(self, requested: tuple[str, ...], audience: str | None) -> tuple[str, ...]:
        """OIDC scopes plus the API's own scopes that were asked for; unknown scopes are dropped."""
        api_scopes = self.seed.apis[audience].scopes if audience in self.seed.apis else ()
        return tuple(s for s in dict.fromkeys(requested) if s in OIDC_SCOPES or s in api_scopes)

    def id_token(self, login: Login, access_token: str | None = None) -> str:
        """An ID token for the client: ``aud`` = client id, claims filtered by scope."""
        user = self.store.user(login.user_id)
        assert user is not None
        now = self.clock.now_int()
        claims = user_claims(user, login.scope)
        claims.update(
            iss=self.issuer,
            aud=login.client_id,
            sub=user.user_id,
            iat=now,
            exp=now + self.seed.settings.id_token_lifetime,
        )
        if login.sid:
            claims["sid"] = login.sid
        if login.include_auth_time and login.auth_time is not None:
            claims["auth_time"] = login.auth_time
        if login.nonce is not None:
            claims["nonce"] = login.nonce
        if access_token is not None:
            claims["at_hash"] = at_hash(access_token)
        return self.keys.sign(claims)

    def user_access_token(self, login: Login, gty: str | None = None, implicit: bool = False) -> IssuedAccessToken:
        """A user's access token: a JWT for a custom API, else a ``/userinfo`` token, encrypted (JWE) or opaque as
        the tenant setting ``userinfo_token_format`` says."""
        scope = self.granted_scope(login.scope, login.audience)
        if login.audience is None:
            settings = self.seed.settings
            lifetime = settings.userinfo_token_lifetime_implicit if implicit else settings.userinfo_token_lifetime
            if settings.userinfo_token_format == "opaque":
                return IssuedAccessToken(self.store.issue_opaque_token(login, lifetime), lifetime, scope)
            now = self.clock.now_int()
            token = self.cipher.encrypt({"iss": self.issuer, "sub": login.user_id, "aud": self.userinfo_audience,
                                         "iat": now, "exp": now + lifetime, "scope": " ".join(scope),
                                         "azp": login.client_id})
            self.store.remember_userinfo_token(token, login, lifetime)  # a replayed code revokes it
            return IssuedAccessToken(token, lifetime, scope)
        api = self.seed.apis[login.audience]
        now = self.clock.now_int()
        audience: str | list[str] = [api.identifier, self.userinfo_audience] if "openid" in scope else api.identifier
        claims: dict[str, Any] = {"iss": self.issuer, "sub": login.user_id, "aud": audience, "iat": now}
        claims["exp"] = now + api.token_lifetime
        if gty:
            claims["gty"] = gty
        claims["scope"] = " ".join(scope)
        claims["azp"] = login.client_id
        return IssuedAccessToken(self.keys.sign(claims), api.token_lifetime, scope)

    def machine_access_token(self, client_id: str, audience: str, scope: tuple[str, ...]) -> IssuedAccessToken:
        """A client-credentials token: ``sub`` = ``<client_id>@clients``, ``gty`` = client-credentials."""
        api = self.seed.apis[audience]
        now = self.clock.now_int()
        claims = {
            "iss": self.issuer,
            "sub": f"{client_id}@clients",
            "aud": audience,
            "iat": now,
            "exp": now + api.token_lifetime,
            "scope": " ".join(scope),
            "gty": "client-credentials",
            "azp": client_id,
        }
        return IssuedAccessToken(self.keys.sign(claims), api.token_lifetime, scope)
