"""The identity provider's records: a pending authorization request, a login, a code, a session, a stored user."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from .seed import User

@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked ``/authorize`` request waiting for the user to log in (a login transaction)."""

    tx_id: str
    client_id: str
    redirect_uri: str
    response_types: frozenset[str]
    response_mode: str
    scope: tuple[str, ...]
    audience: str | None
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: str | None
    connection: str | None
    max_age: int | None
    expires_at: float


@dataclass(frozen=True)
class Login:
    """Who logged in, for which client and with what request: the input of token minting."""

    user_id: str
    client_id: str
    scope: tuple[str, ...]
    audience: str | None
    nonce: str | None = None
    sid: str | None = None
    auth_time: int | None = None
    include_auth_time: bool = False


@dataclass(frozen=True)
class AuthorizationCode:
    """A one-time code, bound to the client, the redirect URI and the PKCE challenge."""

    login: Login
    redirect_uri: str
    code_challenge: str | None
    expires_at: float


@dataclass(frozen=True)
class OpaqueAccessToken:
    """An access token issued without an audience (encrypted, or a random string): only ``/userinfo`` accepts it."""

    login: Login
    expires_at: float


@dataclass(frozen=True)
class Session:
    """The login session behind the ``auth0`` cookie (single sign-on, ``prompt=none``)."""

    sid: str
    user_id: str
    auth_time: int
    expires_at: float


@dataclass
class StoredUser:
    user: User
    password_salt: bytes = b""
    password_hash: bytes = b""


class UserExists(Exception):
    """The connection already has a user with this email."""


def new_id(nbytes: int = 24) -> str:
    """An unguessable identifier (base64url)."""
    return secrets.token_urlsafe(nbytes)
