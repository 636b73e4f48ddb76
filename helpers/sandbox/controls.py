"""The Sandbox handle's public controls over its API's settings, key caches and the provider's signing key:
what lessons and tests change or read, so that none of them reaches into the servers' internals."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from .api.seed import MASTER, SELF_SIGNUP_MODES, ApiSettings

if TYPE_CHECKING:
    from helpers.jwks import JwksCache

    from .api.core import GraphQLApi
    from .common.server import BackgroundServer
    from .idp.provider import IdentityProvider

SETTING_NAMES = frozenset(f.name for f in fields(ApiSettings))


class SandboxControls:
    """Mixed into :class:`helpers.sandbox.runner.Sandbox` (which provides ``api``, ``idp`` and the servers)."""

    api: GraphQLApi
    idp: IdentityProvider
    workspace_id: str
    auth_profile_id: str
    _servers: list[BackgroundServer]

    # ------------------------------------------------------------------ the API's settings (data/sandbox/api.json)
    def api_setting(self, name: str) -> Any:
        """The API's current value of one setting (``jwks_cache_ttl``, ``email_case_sensitive``, ...)."""
        _known(name)
        return getattr(self.api.settings, name)

    def set_api_setting(self, name: str, value: Any) -> Any:
        """Change one API setting live; the API's key caches start empty. Returns the previous value."""
        return self.set_api_settings(**{name: value})[name]

    def set_api_settings(self, **changes: Any) -> dict[str, Any]:
        """Change several API settings live; the key caches start empty. Returns their previous values."""
        for name in changes:
            _known(name)
        previous = {name: getattr(self.api.settings, name) for name in changes}
        self.api.configure(**changes)
        return previous

    @contextmanager
    def api_settings(self, **changes: Any) -> Iterator[None]:
        """``with sandbox.api_settings(jwks_cache_ttl=0): ...``: the settings changed inside the block and put
        back after it, even on an error (each change starts the key caches empty)."""
        previous = self.set_api_settings(**changes)
        try:
            yield
        finally:
            self.api.configure(**previous)

    def empty_key_caches(self) -> None:
        """Forget every public key the API has fetched (as a restart would): the next token fetches again."""
        self.api.configure()

    # ------------------------------------------------------------------ what the API's key caches did
    def key_caches(self) -> dict[str, JwksCache]:
        """The API's key cache of each issuer it has met so far (``helpers.jwks.JwksCache``: ``jwks_uri``,
        ``ttl``, ``cooldown``, ``timeout``, ``stale_for``, ``stats()``)."""
        return self.api.authenticator.caches()

    def jwks_fetches(self) -> int:
        """JWKS fetches made so far by the API's key caches (since the last settings change)."""
        return sum(cache.stats().fetches for cache in self.key_caches().values())

    # ------------------------------------------------------------------ the API's own steps, one at a time
    def verify_as_api(self, id_token: str) -> dict[str, Any]:
        """The claims of an ID token, checked by the API's own code for the lab workspace (its Authentication
        Profiles, its key cache). A token the API refuses raises the error it would answer (``.code``,
        ``.message``, ``.details``, as in the GraphQL answer)."""
        claims, _profile = self.api.authenticator.verify_id_token(id_token, self.api.database(self.workspace_id))
        return claims

    def find_user(self, email: str, case_sensitive: bool = True,
                  environment: str = MASTER) -> dict[str, Any] | None:
        """The lab workspace's user with this email (the API's own lookup), as a dict; ``None`` if none."""
        user = self.api.database(self.workspace_id, environment).user_by_email(email, case_sensitive)
        return None if user is None else {"id": user.id, "email": user.email}

    def add_api_token(self, name: str, roles: list[str] | tuple[str, ...],
                      workspace_id: str | None = None) -> str:
        """A new API token of a workspace (the lab's by default) with these roles, as 8base's console makes
        (Settings > API Tokens). Returns the token's value, shown once."""
        _record, value = self.api.database(workspace_id or self.workspace_id).create_api_token(name, list(roles))
        return value

    # ------------------------------------------------------------------ what an administrator edits in the console
    def change_user_email(self, email: str, new_email: str, environment: str = MASTER) -> None:
        """Change the email of the lab workspace's user with this email (exactly as stored), as an administrator
        does in the console (User Management > user); the identity provider is not told."""
        db = self.api.database(self.workspace_id, environment)
        user = db.user_by_email(email, case_sensitive=True)
        if user is None:
            raise ValueError(f"no user has the email {email!r}")
        db.update_user(user.id, email=new_email)

    def set_self_signup(self, mode: str, email_domains: tuple[str, ...] | list[str] = (),
                        profile_id: str | None = None, environment: str = MASTER) -> tuple[str, tuple[str, ...]]:
        """An Authentication Profile's Self Signup setting (the lab profile by default): ``open``, ``off``, or
        ``domains`` with ``email_domains``. Returns the previous ``(mode, email_domains)``, to put it back."""
        if mode not in SELF_SIGNUP_MODES:
            raise ValueError(f"self sign-up must be one of {SELF_SIGNUP_MODES}")
        if (mode == "domains") != bool(email_domains):
            raise ValueError("email_domains go with mode 'domains', and it needs at least one")
        profile_id = profile_id or self.auth_profile_id
        db = self.api.database(self.workspace_id, environment)
        profile = next((p for p in db.auth_profiles() if p.id == profile_id), None)
        if profile is None:
            raise ValueError(f"no Authentication Profile has the id {profile_id!r}")
        db.set_self_signup(profile_id, mode, tuple(email_domains))
        return profile.self_signup, profile.email_domains

    # ------------------------------------------------------------------ the identity provider
    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        """A token signed with the provider's current key (RS256, its ``kid``) over exactly these claims: for
        lessons that show what the API does with a well-signed token whose claims are wrong."""
        return self.idp.keys.sign(claims, headers)

    def stop_identity_provider(self) -> None:
        """Take the identity provider down (its server only; the API keeps running): an outage."""
        self._servers[0].stop()


def _known(name: str) -> None:
    if name not in SETTING_NAMES:
        raise ValueError(f"the sandbox API has no setting {name!r}")
