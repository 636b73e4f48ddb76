"""Starting and stopping the sandbox on loopback: the identity provider, the GraphQL API and the sample
single-page app (each on a port, hence an origin, of its own)."""
from __future__ import annotations

import shutil
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .api.app import GraphQLApi, create_api_app
from .api.records import EntityExists, new_id
from .api.seed import DEFAULT_API_FILE, MASTER, SELF_SIGNUP_MODES, AuthProfileSeed, load_api_seed, trusted_profile
from .api.store import EnvironmentDb
from .common.clock import Clock
from .common.data_folder import temporary_data_folder
from .common.keys import KeyRing
from .common.server import BackgroundServer
from .controls import SandboxControls
from .idp.app import IdentityProvider, create_idp_app, issuer_for
from .idp.seed import DEFAULT_TENANT_FILE, RotationPolicy, load_seed
from .sample_app_server import create_sample_app, sample_app_config

_lock = threading.Lock()
_running: "Sandbox | None" = None  # the one sandbox of this kernel, reused by start_sandbox()


@dataclass
class Sandbox(SandboxControls):
    """A running sandbox: where to reach it, the demo credentials, its clock and its keys."""

    idp_url: str
    api_url: str | None
    spa_client_id: str
    m2m_client_id: str
    m2m_client_secret: str
    api_audience: str
    connection: str
    users: list[dict[str, str]]
    web_client_id: str
    web_client_secret: str
    redirect_uri: str
    workspace_id: str
    auth_profile_id: str
    api_token: str
    api_host: str
    data_dir: Path
    sample_app_url: str
    clock: Clock = field(repr=False)
    idp: IdentityProvider = field(repr=False)
    api: GraphQLApi = field(repr=False)
    _servers: list[BackgroundServer] = field(default_factory=list, repr=False)
    _temporary_data: bool = field(default=True, repr=False)
    trusted_issuer: str | None = None  # a foreign OpenID Connect issuer the API trusts (sandbox behaviour)
    trusted_client_id: str | None = None
    trusted_auth_profile_id: str | None = None

    def info(self) -> dict[str, Any]:
        """The facts printed as JSON by ``python -m helpers.sandbox`` (keys are a contract: only added)."""
        return {
            "idp_url": self.idp_url,
            "api_url": self.api_url,
            "spa_client_id": self.spa_client_id,
            "m2m_client_id": self.m2m_client_id,
            "m2m_client_secret": self.m2m_client_secret,
            "api_audience": self.api_audience,
            "connection": self.connection,
            "users": self.users,
            "issuer": self.idp_url,
            "web_client_id": self.web_client_id,
            "web_client_secret": self.web_client_secret,
            "redirect_uri": self.redirect_uri,
            "workspace_id": self.workspace_id,
            "auth_profile_id": self.auth_profile_id,
            "api_token": self.api_token,
            "api_host": self.api_host,
            "data_dir": str(self.data_dir),
            "api_settings": asdict(self.api.settings),
            "sample_app_url": self.sample_app_url,
            "trusted_issuer": self.trusted_issuer,
            "trusted_client_id": self.trusted_client_id,
            "trusted_auth_profile_id": self.trusted_auth_profile_id,
        }

    @property
    def idp_domain(self) -> str:
        """``localhost:PORT``: the *domain* that Auth0 SDKs take (with ``protocol="http"``)."""
        return self.idp_url.split("://", 1)[1].rstrip("/")

    @property
    def running(self) -> bool:
        return bool(self._servers) and all(s.running for s in self._servers)

    def trust(self, issuer: str, client_id: str) -> str:
        """Let the API trust ``issuer``'s ID tokens for ``client_id`` (every environment of the lab workspace):
        one more Authentication Profile, its keys read from the issuer's discovery document. Returns its id."""
        profile = trusted_profile(issuer, client_id)
        for environment in self.api.seed.workspaces[self.workspace_id].environments:
            self.api.database(self.workspace_id, environment).add_auth_profile(profile)
        self.api.configure(jwks_from_discovery=True)
        self.trusted_issuer, self.trusted_client_id, self.trusted_auth_profile_id = issuer, client_id, profile.id
        return profile.id

    def rotate_keys(self) -> str:
        """Sign new tokens with the next key; the old one stays published. Returns the new ``kid``."""
        return self.idp.keys.rotate()

    def refresh_token_rotation(self, client_id: str | None = None) -> RotationPolicy:
        """An application's Refresh Token Rotation setting (the single-page app's by default)."""
        return self.idp.rotation(client_id or self.spa_client_id)

    def set_refresh_token_rotation(self, rotating: bool, *, reuse_interval: int | None = None,
                                   client_id: str | None = None) -> RotationPolicy:
        """Switch Refresh Token Rotation for an application (the single-page app by default), as its Auth0
        dashboard toggle does; ``reuse_interval`` in seconds (kept when ``None``). Returns the previous setting,
        so that ``set_refresh_token_rotation(previous.rotating, reuse_interval=previous.reuse_interval)`` puts
        it back. https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation"""
        client_id = client_id or self.spa_client_id
        previous = self.idp.rotation(client_id)
        if reuse_interval is not None and (not isinstance(reuse_interval, int) or reuse_interval < 0):
            raise ValueError("reuse_interval is a number of seconds, 0 or more")
        interval = previous.reuse_interval if reuse_interval is None else reuse_interval
        self.idp.set_rotation(client_id, RotationPolicy(bool(rotating), interval))
        return previous

    def wait_for_subscriptions(self, count: int, timeout: float = 10.0) -> None:
        """Wait until the API has exactly ``count`` subscriptions registered (the API handles a ``start``
        asynchronously, so an event written right after it could be missed); ``TimeoutError`` after ``timeout``."""
        self.api.subscriptions.events.wait_for(count, timeout)

    def stop(self) -> None:
        """Stop the servers (and forget this sandbox, so the next ``start_sandbox()`` starts anew)."""
        global _running
        for server in self._servers:  # all at once: each takes a few of uvicorn's 0.1 s ticks to wind down
            server.request_stop()
        for server in self._servers:
            server.stop()
        self._servers.clear()
        self.api.data.close()
        if self._temporary_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        with _lock:
            if _running is self:
                _running = None

    # ------------------------------------------------------------------ the workspace's settings (lesson 11)
    # What an administrator sets in 8base's console (Settings > Roles, Authentication, Users), for the lab
    # workspace; ``environment`` names one of its environments (each keeps its own, as in 8base).
    def add_role(self, name: str, permissions: dict[str, Any] | None = None, description: str = "",
                 environment: str = MASTER) -> str:
        """A new role (``permissions`` as in ``data/sandbox/api.json``; none: no access). Returns its id."""
        try:
            return self._workspace_db(environment).create_role(name, description, permissions or {}).id
        except EntityExists:
            raise ValueError(f"a role named {name!r} exists already") from None

    def add_auth_profile(self, name: str, *, roles: tuple[str, ...] | list[str] = (), self_signup: str = "open",
                         email_domains: tuple[str, ...] | list[str] = (), client_id: str | None = None,
                         domain: str | None = None, environment: str = MASTER) -> str:
        """One more Authentication Profile of the type "Your Auth0 account": it trusts the ID tokens that
        ``domain`` (default: this sandbox's identity provider) issues to ``client_id`` (default: the SPA client).
        ``self_signup`` is ``open``, ``off`` or ``domains`` (then only emails of ``email_domains`` may sign up);
        ``roles`` go to every user who signs up through it. Returns the profile's id (the ``authProfileId``)."""
        if self_signup not in SELF_SIGNUP_MODES:
            raise ValueError(f"self_signup must be one of {SELF_SIGNUP_MODES}")
        if (self_signup == "domains") != bool(email_domains):
            raise ValueError("email_domains go with self_signup='domains', and it needs at least one")
        profile = AuthProfileSeed(id=new_id(), name=name, type="AUTH0", domain=domain or self.idp_url,
                                  client_id=client_id or self.spa_client_id, audiences=(), self_signup=self_signup,
                                  self_signup_email_domains=tuple(email_domains), roles=tuple(roles))
        self._workspace_db(environment).add_auth_profile(profile)
        return profile.id

    def add_user(self, email: str, roles: tuple[str, ...] | list[str] = (), first_name: str | None = None,
                 last_name: str | None = None, environment: str = MASTER) -> str:
        """A user record made by an administrator (an invitation): no sign-up needed. Returns its id."""
        try:
            return self._workspace_db(environment).create_user(email, first_name, last_name, list(roles)).id
        except EntityExists:
            raise ValueError(f"a user with the email {email!r} exists already") from None

    def grant_role(self, email: str, role: str, environment: str = MASTER) -> None:
        """Give the user with this email (exactly as stored) one more role."""
        db = self._workspace_db(environment)
        user = db.user_by_email(email, case_sensitive=True)
        if user is None:
            raise ValueError(f"no user has the email {email!r}")
        db.grant_role(user.id, role)

    def _workspace_db(self, environment: str) -> EnvironmentDb:
        return self.api.database(self.workspace_id, environment)


def start_sandbox(idp_port: int = 0, api_port: int = 0, seed_path: str | Path = DEFAULT_TENANT_FILE,
                  fresh: bool = False, quiet: bool = True, data_dir: str | Path | None = None,
                  api_seed_path: str | Path = DEFAULT_API_FILE, app_port: int = 0, trust_issuer: str | None = None,
                  trust_client_id: str | None = None) -> Sandbox:
    """Start the sandbox in background threads, or return the one already running in this kernel.

    ``fresh=True`` stops a running sandbox first. Ports ``0`` pick free ports. The API keeps its
    SQLite databases in a temporary folder removed on ``stop()``, or in ``data_dir`` (kept).
    ``trust_issuer`` and ``trust_client_id`` add an Authentication Profile trusting that issuer's ID tokens
    (:meth:`Sandbox.trust`): a running sandbox that trusts none is given the profile, one that trusts another
    issuer is replaced; a call without them reuses the running sandbox, trusting or not.
    """
    global _running
    with _lock:
        if _running is not None and _running.running and not fresh:
            if trust_issuer is None or (trust_issuer, trust_client_id) == (_running.trusted_issuer,
                                                                          _running.trusted_client_id):
                return _running
            if _running.trusted_issuer is None and trust_client_id is not None:
                _running.trust(trust_issuer, trust_client_id)
                return _running
        previous = _running
    if previous is not None:
        previous.stop()
    sandbox = launch_sandbox(idp_port, api_port, seed_path, quiet, data_dir, api_seed_path, app_port=app_port,
                             trust_issuer=trust_issuer, trust_client_id=trust_client_id)
    with _lock:
        _running = sandbox
    return sandbox


def launch_sandbox(idp_port: int = 0, api_port: int = 0, seed_path: str | Path = DEFAULT_TENANT_FILE,
                   quiet: bool = True, data_dir: str | Path | None = None,
                   api_seed_path: str | Path = DEFAULT_API_FILE, app_port: int = 0, trust_issuer: str | None = None,
                   trust_client_id: str | None = None, **api_settings: Any) -> Sandbox:
    """Start a new, independent sandbox (not the kernel's shared one): for tests that need several.

    ``api_settings`` override the API seed's settings (``email_case_sensitive=False``, ...). A seed that
    moves the endpoints (``endpoint_paths``) makes the API read the keys' URI from discovery.
    ``trust_issuer`` (exactly as its discovery document spells it) and ``trust_client_id`` (the ``aud`` of
    its ID tokens) give the lab workspace one more Authentication Profile (:meth:`Sandbox.trust`).
    """
    if (trust_issuer is None) != (trust_client_id is None):
        raise ValueError("trust_issuer and trust_client_id go together")
    # The sample app's port comes first: the tenant registers its callback URL, the API its origin.
    app_server = BackgroundServer(lambda port: create_sample_app(), app_port, quiet)
    app_origin = f"http://localhost:{app_server.port}"
    try:
        seed = load_seed(seed_path, {"sample_app_origin": app_origin, "sample_app_port": str(app_server.port)})
        if seed.settings.endpoint_paths:  # a provider laid out unlike Auth0: the API finds its keys by discovery
            api_settings.setdefault("jwks_from_discovery", True)
        clock, keys = Clock(), KeyRing()  # the keys are made in the background while the servers start
        idp_server = BackgroundServer(lambda port: create_idp_app(issuer_for(port), seed, clock, keys), idp_port,
                                      quiet)
    except BaseException:
        app_server.stop()
        raise
    # The servers start side by side: the IdP's uvicorn starts up while the API (databases, schema) is built.
    idp_server.launch()
    try:
        idp: IdentityProvider = idp_server.app.state.idp
        spa = seed.client_of_type("spa")
        m2m = seed.client_of_type("non_interactive")
        web = seed.client_of_type("regular_web")
        database = seed.database_connection.name
        api_seed = load_api_seed({"idp_url": idp.issuer, "spa_client_id": spa.client_id,
                                  "web_client_id": web.client_id, "sample_app_origin": app_origin},
                                 api_seed_path, **api_settings)
        folder = Path(data_dir) if data_dir else temporary_data_folder()  # removed at exit, or by a later sandbox
        api_server = BackgroundServer(lambda port: create_api_app(api_seed, clock, folder), api_port, quiet)
        api_server.launch()
        api_host = f"http://localhost:{api_server.port}/"
        workspace = api_seed.first_workspace
        app_server.app.state.config = sample_app_config(
            idp.issuer, api_host + workspace.id, spa.client_id,
            workspace.authentication_profiles[0].id,
            [{"name": name, "display_name": seed.connections[name].display_name or name}
             for name in spa.connections if not seed.connections[name].is_database])
        app_server.launch()
        try:
            for server in (idp_server, api_server, app_server):
                server.wait_started()
        except BaseException:
            api_server.stop()
            raise
    except BaseException:
        idp_server.stop()
        app_server.stop()
        raise
    sandbox = Sandbox(
        idp_url=idp.issuer,
        api_url=api_host + workspace.id,
        spa_client_id=spa.client_id,
        m2m_client_id=m2m.client_id,
        m2m_client_secret=m2m.client_secret or "",
        api_audience=next(iter(seed.apis)),
        connection=database,
        users=[{"email": u.email, "password": u.password or ""} for u in seed.users if u.connection == database],
        web_client_id=web.client_id,
        web_client_secret=web.client_secret or "",
        redirect_uri=spa.callbacks[0],
        workspace_id=workspace.id,
        auth_profile_id=workspace.authentication_profiles[0].id,
        api_token=workspace.api_tokens[0]["token"] if workspace.api_tokens else "",
        api_host=api_host,
        data_dir=folder,
        sample_app_url=app_origin + "/",
        clock=clock,
        idp=idp,
        api=api_server.app.state.api,
        _servers=[idp_server, api_server, app_server],
        _temporary_data=data_dir is None,
    )
    if trust_issuer is not None and trust_client_id is not None:
        sandbox.trust(trust_issuer, trust_client_id)
    return sandbox
