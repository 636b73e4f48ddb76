"""The sandbox tenant as records: clients, APIs, connections and users, read from data/sandbox/."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..common.seed_files import DATA_DIR, SeedError, fill_placeholders, origin_of

DEFAULT_TENANT_FILE = DATA_DIR / "tenant.json"
SECOND_TENANT_FILE = DATA_DIR / "second-tenant.json"  # another provider: other clients, users and endpoint paths

PASSWORD_REALM_GRANT = "http://auth0.com/oauth/grant-type/password-realm"
DATABASE_STRATEGY = "auth0"
USERINFO_TOKEN_FORMATS = ("jwe", "opaque")


@dataclass(frozen=True)
class Settings:
    """Lifetimes and policies of the tenant (seconds unless stated)."""

    id_token_lifetime: int = 36000
    userinfo_token_lifetime_implicit: int = 7200
    userinfo_token_lifetime: int = 86400
    authorization_code_lifetime: int = 600
    login_transaction_lifetime: int = 900
    session_lifetime: int = 259200
    password_min_length: int = 8
    password_hash_iterations: int = 1000
    tenant_logout_urls: tuple[str, ...] = ()
    # where the endpoints are, relative to the issuer (discovery advertises them): Auth0's layout unless the
    # seed says otherwise; end_session_endpoint set = OIDC RP-Initiated Logout there instead of /v2/logout
    endpoint_paths: dict[str, str] | None = None
    # the access token of a login that asks for no audience (only /userinfo reads it): "jwe", as current Auth0
    # tenants issue (five parts, {"alg":"dir","enc":"A256GCM","iss":...}), or "opaque", an older tenant's short
    # random string
    userinfo_token_format: str = "jwe"

    def __post_init__(self) -> None:
        if self.userinfo_token_format not in USERINFO_TOKEN_FORMATS:
            raise SeedError(f"settings.userinfo_token_format must be one of {USERINFO_TOKEN_FORMATS}")


@dataclass(frozen=True)
class RotationPolicy:
    """An application's Refresh Token Rotation setting
    (https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation).

    ``rotating``: each exchange returns a new refresh token and spends the old one; a spent one presented
    again revokes its whole family. ``reuse_interval`` (Auth0's "Reuse Interval", ``leeway``): seconds after
    an exchange during which the token just spent may be exchanged once more (a retry), 0 = none (Auth0's default).
    """

    rotating: bool = False
    reuse_interval: int = 0

    @classmethod
    def from_seed(cls, raw: dict[str, Any] | None, where: str = "refresh_token") -> "RotationPolicy":
        raw = raw or {}
        kind, leeway = raw.get("rotation_type", "non-rotating"), raw.get("leeway", 0)
        if kind not in ("rotating", "non-rotating") or not isinstance(leeway, int) or isinstance(leeway, bool) \
                or leeway < 0 or set(raw) - {"rotation_type", "leeway"}:
            raise SeedError(f"{where}: refresh_token takes rotation_type (rotating | non-rotating) and leeway "
                            "(seconds, 0 or more)")
        return cls(kind == "rotating", leeway)


@dataclass(frozen=True)
class Client:
    """An application registered at the identity provider."""

    client_id: str
    name: str
    app_type: str  # spa | regular_web | native | non_interactive
    client_secret: str | None
    grant_types: tuple[str, ...]
    callbacks: tuple[str, ...] = ()
    allowed_logout_urls: tuple[str, ...] = ()
    web_origins: tuple[str, ...] = ()
    connections: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()  # Auth0's "Allowed Origins (CORS)"
    # Auth0's Management API shape: {"rotation_type": "rotating" | "non-rotating", "leeway": seconds}
    refresh_token: dict[str, Any] | None = None

    @property
    def rotation(self) -> RotationPolicy:
        """The application's Refresh Token Rotation setting as the seed gives it."""
        return RotationPolicy.from_seed(self.refresh_token, f"client {self.client_id}")

    @property
    def cors_origins(self) -> frozenset[str]:
        """Origins whose scripts may call the token endpoint: those of the Allowed Callback URLs plus the
        Allowed Origins (CORS) (https://auth0.com/docs/get-started/applications/set-up-cors)."""
        return frozenset({origin_of(url) for url in self.callbacks} | set(self.allowed_origins))

    @property
    def is_public(self) -> bool:
        """Public clients (SPA, native) hold no secret and must use PKCE."""
        return self.client_secret is None


@dataclass(frozen=True)
class Api:
    """A custom API (resource server): its identifier is the access token's audience."""

    identifier: str
    name: str
    scopes: tuple[str, ...] = ()
    token_lifetime: int = 86400


@dataclass(frozen=True)
class ClientGrant:
    """Permission for a machine-to-machine client to get tokens for one API."""

    client_id: str
    audience: str
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Connection:
    """Where identities come from: the database, or a (simulated) social provider."""

    name: str
    strategy: str
    display_name: str = ""

    @property
    def is_database(self) -> bool:
        return self.strategy == DATABASE_STRATEGY


@dataclass
class User:
    """One identity: a database user (with a password) or a social account."""

    user_id: str
    connection: str
    email: str
    email_verified: bool = False
    password: str | None = None
    name: str | None = None
    nickname: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    picture: str | None = None
    locale: str | None = None
    updated_at: str | None = None
    role_in_lessons: str = ""

    def __post_init__(self) -> None:
        self.email = self.email.strip()
        if self.name is None:
            self.name = self.email
        if self.nickname is None:
            self.nickname = self.email.split("@", 1)[0]


@dataclass(frozen=True)
class Seed:
    """Everything the identity provider starts from."""

    tenant: str
    settings: Settings
    clients: dict[str, Client]
    apis: dict[str, Api]
    client_grants: tuple[ClientGrant, ...]
    connections: dict[str, Connection]
    users: tuple[User, ...] = field(default_factory=tuple)

    @property
    def database_connection(self) -> Connection:
        """The tenant's default database connection (Username-Password-Authentication)."""
        for connection in self.connections.values():
            if connection.is_database:
                return connection
        raise SeedError("the seed has no database connection")

    def client_of_type(self, app_type: str) -> Client:
        """The first client of the given application type."""
        for client in self.clients.values():
            if client.app_type == app_type:
                return client
        raise SeedError(f"the seed has no client of type {app_type!r}")

    def grant_for(self, client_id: str, audience: str) -> ClientGrant | None:
        """The client grant letting ``client_id`` call ``audience``, if any."""
        for grant in self.client_grants:
            if grant.client_id == client_id and grant.audience == audience:
                return grant
        return None


def _record(cls: type, raw: dict[str, Any], where: str) -> Any:
    """Build a dataclass from a JSON object: lists become tuples, ``_notes`` keys are skipped."""
    known = {f.name for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key == "_role":
            key = "role_in_lessons"
        elif key.startswith("_"):
            continue
        if key not in known:
            raise SeedError(f"{where}: unknown field {key!r}")
        values[key] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**values)
    except TypeError as exc:
        raise SeedError(f"{where}: {exc}") from None


def load_seed(path: str | Path = DEFAULT_TENANT_FILE, facts: dict[str, str] | None = None) -> Seed:
    """Read and check a tenant seed file; ``facts`` fill its placeholders (``{sample_app_origin}``,
    ``{sample_app_port}``).

    URLs whose placeholder has no fact are left out of their list (no sample app, no callback for it).
    """
    raw = fill_placeholders(json.loads(Path(path).read_text(encoding="utf-8")), facts or {})
    settings = _record(Settings, raw.get("settings", {}), "settings")
    clients = {c["client_id"]: _record(Client, c, f"client {c.get('client_id')}") for c in raw["clients"]}
    apis = {a["identifier"]: _record(Api, a, f"api {a.get('identifier')}") for a in raw.get("apis", [])}
    grants = tuple(_record(ClientGrant, g, "client_grant") for g in raw.get("client_grants", []))
    connections = {c["name"]: _record(Connection, c, f"connection {c.get('name')}") for c in raw["connections"]}
    users = tuple(_record(User, u, f"user {u.get('email')}") for u in raw.get("users", []))
    seed = Seed(raw.get("tenant", "sandbox"), settings, clients, apis, grants, connections, users)
    _check(seed)
    return seed


AUTH0_PATHS = {"authorization_endpoint": "authorize", "token_endpoint": "oauth/token", "userinfo_endpoint": "userinfo",
               "jwks_uri": ".well-known/jwks.json"}
ENDPOINT_NAMES = (*AUTH0_PATHS, "end_session_endpoint")


def _check(seed: Seed) -> None:
    paths = seed.settings.endpoint_paths or {}
    for name, path in paths.items():
        if name not in ENDPOINT_NAMES or not isinstance(path, str) or not path or path.startswith("/"):
            raise SeedError(f"settings.endpoint_paths: {name!r} must be one of {ENDPOINT_NAMES} with a path "
                            "relative to the issuer (no leading slash)")
    for client in seed.clients.values():
        client.rotation  # noqa: B018 - raises on a malformed refresh_token setting
        for name in client.connections:
            if name not in seed.connections:
                raise SeedError(f"client {client.client_id}: unknown connection {name!r}")
    for grant in seed.client_grants:
        if grant.client_id not in seed.clients or grant.audience not in seed.apis:
            raise SeedError(f"client grant {grant}: unknown client or API")
    for user in seed.users:
        connection = seed.connections.get(user.connection)
        if connection is None:
            raise SeedError(f"user {user.email}: unknown connection {user.connection!r}")
        if connection.is_database and not user.password:
            raise SeedError(f"user {user.email}: a database user needs a password")
    seed.database_connection  # noqa: B018 - raises when absent
