"""What the identity provider remembers between requests: users, codes, sessions, refresh tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field, replace
from typing import Iterable

from ..common.clock import Clock
from .records import (AuthorizationCode, AuthorizationRequest, Login, OpaqueAccessToken, Session, StoredUser,
                      UserExists, new_id)
from .refresh import RefreshTokens
from .seed import Seed, User

@dataclass
class IdpStore:
    """All mutable state of one identity provider. Every method is atomic (one lock)."""

    seed: Seed
    clock: Clock
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _users: dict[str, StoredUser] = field(default_factory=dict, repr=False)
    _transactions: dict[str, AuthorizationRequest] = field(default_factory=dict, repr=False)
    _codes: dict[str, AuthorizationCode] = field(default_factory=dict, repr=False)
    _redeemed_codes: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _opaque_tokens: dict[str, OpaqueAccessToken] = field(default_factory=dict, repr=False)
    _sessions: dict[str, Session] = field(default_factory=dict, repr=False)
    _upstream_codes: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    refresh_tokens: RefreshTokens = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.refresh_tokens = RefreshTokens(self.clock)
        for user in self.seed.users:
            self.add_user(replace(user))

    # users -------------------------------------------------------------------------------
    def add_user(self, user: User) -> User:
        """Store a user; a database user's password is kept only as a salted hash. Raises :class:`UserExists`
        when the connection has a user with this email (checked under the lock: two racing sign-ups of one
        email give one user and one ``user_exists``, as one after the other would)."""
        stored = StoredUser(user)
        if user.password is not None:
            stored.password_salt = secrets.token_bytes(16)
            stored.password_hash = self._hash(user.password, stored.password_salt)
            user.password = None
        with self._lock:
            if user.user_id in self._users:
                raise ValueError(f"user {user.user_id} exists")
            if self._find(user.connection, user.email) is not None:
                raise UserExists(user.connection)
            self._users[user.user_id] = stored
        return user

    def user(self, user_id: str) -> User | None:
        with self._lock:
            stored = self._users.get(user_id)
        return stored.user if stored else None

    def find_user(self, connection: str, email: str) -> User | None:
        """The user of ``connection`` with this email (Auth0 compares emails case-insensitively)."""
        with self._lock:
            return self._find(connection, email)

    def _find(self, connection: str, email: str | None) -> User | None:
        wanted = (email or "").strip().lower()
        for stored in self._users.values():
            if wanted and stored.user.connection == connection and (stored.user.email or "").lower() == wanted:
                return stored.user
        return None

    def users_of(self, connection: str) -> list[User]:
        with self._lock:
            return [s.user for s in self._users.values() if s.user.connection == connection]

    def check_password(self, connection: str, email: str, password: str) -> User | None:
        """The user if the password is right, else ``None`` (same work either way)."""
        found = self.find_user(connection, email)
        with self._lock:
            stored = self._users.get(found.user_id) if found else None
        salt = stored.password_salt if stored and stored.password_hash else b"\0" * 16
        digest = self._hash(password, salt)
        if stored and stored.password_hash and hmac.compare_digest(digest, stored.password_hash):
            return stored.user
        return None

    def _hash(self, password: str, salt: bytes) -> bytes:
        # Sandbox cost: a real provider uses a slow hash (bcrypt) with a high work factor.
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, self.seed.settings.password_hash_iterations)

    # login transactions ------------------------------------------------------------------
    def save_transaction(self, request: AuthorizationRequest) -> None:
        with self._lock:
            self._transactions[request.tx_id] = request

    def transaction(self, tx_id: str) -> AuthorizationRequest | None:
        with self._lock:
            request = self._transactions.get(tx_id)
        if request and request.expires_at <= self.clock.now():
            return None
        return request

    def finish_transaction(self, tx_id: str) -> AuthorizationRequest | None:
        """Take a transaction out (single use)."""
        with self._lock:
            request = self._transactions.pop(tx_id, None)
        if request and request.expires_at <= self.clock.now():
            return None
        return request

    # authorization codes -----------------------------------------------------------------
    def issue_code(self, code: AuthorizationCode) -> str:
        value = new_id(32)
        with self._lock:
            self._codes[value] = code
        return value

    def redeem_code(self, value: str) -> AuthorizationCode | None:
        """Consume a code atomically; ``None`` if unknown, expired or already used.

        A replayed code also revokes the refresh and opaque access tokens issued from its first
        redemption (RFC 9700 §4.2.4).
        """
        with self._lock:
            code = self._codes.pop(value, None)
            if code is None:
                for token in self._redeemed_codes.get(value, []):
                    self.refresh_tokens.revoke(token)  # a rotating one with its whole family
                    self._opaque_tokens.pop(token, None)
                return None
            self._redeemed_codes[value] = []
        if code.expires_at <= self.clock.now():
            return None
        return code

    def link_tokens_to_code(self, code_value: str, tokens: Iterable[str | None]) -> None:
        """Remember the refresh and opaque tokens a code gave, to revoke them if the code is replayed."""
        with self._lock:
            self._redeemed_codes.setdefault(code_value, []).extend(t for t in tokens if t)

    # opaque access tokens (refresh tokens: ``self.refresh_tokens``) --------------------------
    def issue_opaque_token(self, login: Login, lifetime: int) -> str:
        value = new_id(24)
        self.remember_userinfo_token(value, login, lifetime)
        return value

    def remember_userinfo_token(self, value: str, login: Login, lifetime: int) -> None:
        """Keep a ``/userinfo`` access token (opaque or encrypted) until it expires or a replayed code revokes it."""
        with self._lock:
            self._opaque_tokens[value] = OpaqueAccessToken(login, self.clock.now() + lifetime)

    def opaque_token(self, value: str) -> OpaqueAccessToken | None:
        with self._lock:
            token = self._opaque_tokens.get(value)
        if token and token.expires_at <= self.clock.now():
            return None
        return token

    # sessions ----------------------------------------------------------------------------
    def open_session(self, user_id: str) -> Session:
        now = self.clock.now()
        session = Session(new_id(24), user_id, int(now), now + self.seed.settings.session_lifetime)
        with self._lock:
            self._sessions[session.sid] = session
        return session

    def session(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
        if session and session.expires_at <= self.clock.now():
            return None
        return session

    def close_session(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    # the simulated upstream (social) provider --------------------------------------------
    def issue_upstream_code(self, tx_id: str, user_id: str) -> str:
        value = new_id(16)
        with self._lock:
            self._upstream_codes[value] = (tx_id, user_id)
        return value

    def redeem_upstream_code(self, value: str) -> tuple[str, str] | None:
        with self._lock:
            return self._upstream_codes.pop(value, None)
