"""The sandbox GraphQL API's seed: settings, roles, workspaces (read from data/sandbox/api.json)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..common.seed_files import DATA_DIR, SeedError, fill_placeholders

DEFAULT_API_FILE = DATA_DIR / "api.json"
SCHEMA_FILE = DATA_DIR / "schema.graphql"
MASTER = "Master"
SELF_SIGNUP_MODES = ("open", "off", "domains")
TRUSTED_PROFILE_ID = "cl0labtrustedissuer00001"
TRUSTED_PROFILE_TYPE = "TRUSTED_ISSUER"  # sandbox behaviour: not one of 8base's profile types (trusted_profile)


@dataclass(frozen=True)
class ApiSettings:
    """How the sandbox API decides what 8base leaves undocumented, plus its JWKS cache policy."""

    email_case_sensitive: bool = True
    check_audience: bool = True
    signup_email_must_match_token: bool = True
    require_email_verified: bool = False
    self_signup_off_error: dict[str, str] = field(default_factory=lambda: {
        "code": "NotAuthorizedError", "message": "Self sign-up is not allowed for this authentication profile"})
    jwks_cache_ttl: float = 600
    jwks_cooldown: float = 30
    jwks_timeout: float = 3.0
    jwks_stale_for: float = 3600
    # How 8base finds an OpenID issuer's keys is not documented: False = Auth0's <issuer>.well-known/jwks.json,
    # True = the jwks_uri of the issuer's discovery document (read once per issuer; its issuer must match)
    jwks_from_discovery: bool = False
    token_leeway: int = 0
    max_body_bytes: int = 1_048_576
    max_query_tokens: int = 5_000  # lexical tokens of one query document (the introspection query has 163)
    max_query_depth: int = 12  # nested field levels, fragments expanded (``ofType`` chains do not count)
    max_aliases: int = 30  # aliased fields of one document, counted once per use of their fragment
    # Origins whose pages' scripts may call the API (CORS); 8base's own policy is not documented. "*" allows all.
    cors_allowed_origins: tuple[str, ...] = ("*",)
    # WebSocket subscriptions (issue 8): bounds on sockets, operations, the init handshake and queued events
    ws_max_sockets_per_client: int = 16  # open sockets per client address
    ws_max_operations_per_socket: int = 10  # running subscriptions on one socket
    ws_init_timeout: float = 5.0  # seconds (real time) between the handshake and connection_init
    ws_max_queued_events: int = 100  # events waiting to be sent to one subscription; more: the socket is closed
    ws_max_message_bytes: int = 65_536  # one client message


@dataclass(frozen=True)
class RoleSeed:
    name: str
    description: str
    permissions: dict[str, Any]


@dataclass(frozen=True)
class AuthProfileSeed:
    id: str
    name: str
    type: str
    domain: str
    client_id: str
    audiences: tuple[str, ...]
    self_signup: str
    self_signup_email_domains: tuple[str, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class WorkspaceSeed:
    id: str
    name: str
    environments: tuple[str, ...]
    authentication_profiles: tuple[AuthProfileSeed, ...]
    api_tokens: tuple[dict[str, Any], ...]
    users: tuple[dict[str, Any], ...]
    notes: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ApiSeed:
    settings: ApiSettings
    roles: tuple[RoleSeed, ...]
    workspaces: dict[str, WorkspaceSeed]

    @property
    def first_workspace(self) -> WorkspaceSeed:
        return next(iter(self.workspaces.values()))


def load_api_seed(facts: dict[str, str], path: str | Path = DEFAULT_API_FILE, **overrides: Any) -> ApiSeed:
    """Read the API seed, fill in the identity provider's facts, apply setting overrides."""
    raw = fill_placeholders(json.loads(Path(path).read_text(encoding="utf-8")), facts)
    settings_raw = {k: v for k, v in raw.get("settings", {}).items() if not k.startswith("_")}
    try:
        merged = {**settings_raw, **overrides}
        if isinstance(merged.get("cors_allowed_origins"), list):
            merged["cors_allowed_origins"] = tuple(merged["cors_allowed_origins"])
        settings = ApiSettings(**merged)
    except TypeError as exc:
        raise SeedError(f"api settings: {exc}") from None
    roles = tuple(RoleSeed(r["name"], r.get("description", ""), r.get("permissions", {})) for r in raw["roles"])
    role_names = {r.name for r in roles}
    for required in ("Guest", "Administrator"):
        if required not in role_names:
            raise SeedError(f"the API seed needs a {required} role")
    workspaces = {}
    for w in raw["workspaces"]:
        profiles = tuple(AuthProfileSeed(
            id=p["id"], name=p["name"], type=p.get("type", "AUTH0"), domain=p["domain"], client_id=p["client_id"],
            audiences=tuple(p.get("audiences", [])), self_signup=p.get("self_signup", "open"),
            self_signup_email_domains=tuple(p.get("self_signup_email_domains", [])), roles=tuple(p.get("roles", [])),
        ) for p in w.get("authentication_profiles", []))
        for profile in profiles:
            if profile.self_signup not in SELF_SIGNUP_MODES:
                raise SeedError(f"profile {profile.id}: self_signup must be one of {SELF_SIGNUP_MODES}")
            if not set(profile.roles) <= role_names:
                raise SeedError(f"profile {profile.id}: unknown role")
        environments = tuple(w.get("environments", [MASTER]))
        if MASTER not in environments:
            raise SeedError(f"workspace {w['id']}: the {MASTER} environment is required")
        workspaces[w["id"]] = WorkspaceSeed(w["id"], w["name"], environments, profiles,
                                            tuple(w.get("api_tokens", [])), tuple(w.get("users", [])),
                                            tuple(w.get("notes", [])))
    return ApiSeed(settings, roles, workspaces)


def trusted_profile(issuer: str, client_id: str) -> AuthProfileSeed:
    """An Authentication Profile that trusts ``issuer``'s ID tokens issued to ``client_id``.

    It works as 8base's "Your Auth0 Account" profile does (an ID token is accepted when its ``iss`` is
    the profile's domain and its ``aud`` the profile's client id, signed by a key the issuer publishes;
    the user is found by ``email``), but for any OpenID Connect issuer: sandbox behaviour. 8base's own
    "OpenID" profile type instead runs a ``getToken`` resolver the workspace deploys to exchange the
    authorization code (https://docs.8base.com/backend/app-services/authentication); the sandbox does
    not model that. The domain is the issuer written exactly (scheme included, no slash added).
    """
    return AuthProfileSeed(id=TRUSTED_PROFILE_ID, name="Trusted OpenID Connect issuer", type=TRUSTED_PROFILE_TYPE,
                           domain=issuer, client_id=client_id, audiences=(), self_signup="open",
                           self_signup_email_domains=(), roles=("Note Taker",))
