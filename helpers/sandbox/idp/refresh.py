"""Refresh tokens as Auth0 keeps them: non-rotating, or rotating in families with reuse detection.

- Non-rotating (Auth0's default): a refresh grant returns no new refresh token; the old one keeps working.
- Rotating (https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation): each exchange spends
  the token and returns a new one of the same *family* (all tokens descending from one login). A spent token
  presented again is a breach: the whole family is revoked, the newest token included. Only during the
  application's reuse interval may the token just spent be exchanged once more (a retry after a lost answer).
- Switching the setting (https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation):
  with rotation on, exchanging a non-rotating token gives a rotating one and deletes the non-rotating tokens of
  the same application, API and user; with rotation off, exchanging a rotating token gives a non-rotating one
  and revokes its family.
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..common.clock import Clock
from .records import Login
from .seed import RotationPolicy


class RefreshRefused(Exception):
    """The refresh token is unknown, revoked, or was spent before (``reused``: its family is now revoked)."""

    def __init__(self, reused: bool = False) -> None:
        super().__init__("reused" if reused else "unknown")
        self.reused = reused


@dataclass
class StoredRefreshToken:
    login: Login
    family: str | None = None  # None: a non-rotating token
    parent: str | None = None  # the rotating token it replaced
    spent_at: float | None = None


@dataclass(frozen=True)
class Exchanged:
    """A granted exchange: the login the token stands for, and the refresh token to return (if any)."""

    login: Login
    refresh_token: str | None


class RefreshTokens:
    """Every refresh token of one identity provider. Each method is atomic (one lock)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, StoredRefreshToken] = {}
        self._families: dict[str, str] = {}  # family -> its newest (live) token

    def issue(self, login: Login, rotating: bool) -> str:
        """A new refresh token for a login (a new family when rotating)."""
        with self._lock:
            return self._issue(login, _new_family() if rotating else None)

    def peek(self, value: str) -> StoredRefreshToken | None:
        """The stored token (spent or not), without exchanging it."""
        with self._lock:
            return self._tokens.get(value)

    def exchange(self, value: str, policy: RotationPolicy, give_new: bool = True) -> Exchanged:
        """Spend or reuse ``value`` under the application's current setting; raises :class:`RefreshRefused`.

        ``give_new=False`` (a browser while rotation is off): no non-rotating token is handed out.
        """
        now = self._clock.now()
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                raise RefreshRefused()
            if token.family is None:
                if not policy.rotating:
                    return Exchanged(token.login, None)
                self._delete(lambda t: t.family is None and _same_grant(t.login, token.login))
                return Exchanged(token.login, self._issue(token.login, _new_family()))
            if token.spent_at is None:
                if not policy.rotating:
                    self._revoke_family(token.family)
                    return Exchanged(token.login, self._issue(token.login, None) if give_new else None)
                token.spent_at = now
                return Exchanged(token.login, self._issue(token.login, token.family, parent=value))
            newest = self._tokens[self._families[token.family]]
            if policy.rotating and newest.parent == value and now - token.spent_at <= policy.reuse_interval \
                    and policy.reuse_interval > 0:
                newest.spent_at = now  # replaced by the retry's answer: presenting it later is a reuse
                return Exchanged(token.login, self._issue(token.login, token.family, parent=value))
            self._revoke_family(token.family)
            raise RefreshRefused(reused=True)

    def revoke(self, value: str) -> None:
        """Revoke a token; a rotating one takes its whole family with it."""
        with self._lock:
            token = self._tokens.pop(value, None)
            if token is not None and token.family is not None:
                self._revoke_family(token.family)

    # ------------------------------------------------------------------ under the lock
    def _issue(self, login: Login, family: str | None, parent: str | None = None) -> str:
        value = secrets.token_urlsafe(32)
        self._tokens[value] = StoredRefreshToken(login, family, parent)
        if family is not None:
            self._families[family] = value
        return value

    def _revoke_family(self, family: str) -> None:
        self._delete(lambda t: t.family == family)
        self._families.pop(family, None)

    def _delete(self, doomed: Callable[[StoredRefreshToken], bool]) -> None:
        for value in [v for v, t in self._tokens.items() if doomed(t)]:
            del self._tokens[value]


def _new_family() -> str:
    return secrets.token_urlsafe(16)


def _same_grant(a: Login, b: Login) -> bool:
    """Same application, API (resource server) and user: what Auth0's migration rules group by."""
    return (a.client_id, a.audience, a.user_id) == (b.client_id, b.audience, b.user_id)
