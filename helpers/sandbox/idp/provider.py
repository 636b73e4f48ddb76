"""One sandbox tenant's identity provider: its state (seed, clock, keys, store, token minter, rotation settings)
and, from the endpoint modules, its request handlers."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common.clock import Clock
from ..common.keys import ALGORITHM, KeyRing
from . import errors as E
from .account import AccountEndpoints
from .authorize import RESPONSE_MODES, AuthorizeEndpoints
from .errors import AuthorizePageError, OAuthError
from .pages import error_page
from .seed import AUTH0_PATHS, PASSWORD_REALM_GRANT, RotationPolicy, Seed
from .store import IdpStore
from .token import TokenEndpoint
from .tokens import TokenMinter

DISCOVERY_PATH = "/.well-known/openid-configuration"


class IdentityProvider(AuthorizeEndpoints, TokenEndpoint, AccountEndpoints):
    """State and request handlers of one sandbox tenant."""

    def __init__(self, issuer: str, seed: Seed, clock: Clock, keys: KeyRing) -> None:
        if not issuer.endswith("/"):
            raise ValueError("the issuer must end with '/' (Auth0 style)")
        self.issuer = issuer
        self.seed = seed
        self.clock = clock
        self.keys = keys
        self.store = IdpStore(seed, clock)
        self.minter = TokenMinter(issuer, seed, keys, clock, self.store)
        # A preflight names no client (it has no body), so it is answered for any origin one application
        # allows; how Auth0 decides this per application is not documented (sandbox behaviour).
        self.cors_origins = frozenset().union(*(client.cors_origins for client in seed.clients.values()))
        self.paths = {**AUTH0_PATHS, **(seed.settings.endpoint_paths or {})}
        self._rotation = {client_id: client.rotation for client_id, client in seed.clients.items()}

    def rotation(self, client_id: str) -> RotationPolicy:
        """The application's Refresh Token Rotation setting now."""
        return self._rotation[client_id]

    def set_rotation(self, client_id: str, policy: RotationPolicy) -> None:
        """Switch Refresh Token Rotation for one application (as its dashboard toggle does); tokens already
        issued migrate when they are next exchanged, as Auth0 documents."""
        if client_id not in self._rotation:
            raise KeyError(f"no application {client_id!r} in this tenant")
        self._rotation[client_id] = policy

    def configure(self, **changes: Any) -> None:
        """Change tenant settings live, e.g. ``userinfo_token_format="opaque"`` (an older tenant's access tokens
        without an audience); a :class:`~helpers.sandbox.common.seed_files.SeedError` names a value the setting does not take."""
        seed = replace(self.seed, settings=replace(self.seed.settings, **changes))
        self.seed = self.minter.seed = self.store.seed = seed

    @property
    def rp_initiated_logout(self) -> bool:
        """True when the seed puts logout at an OIDC ``end_session_endpoint`` (instead of Auth0's /v2/logout)."""
        return "end_session_endpoint" in self.paths

    def routes(self) -> list[Route]:
        """Every endpoint, at the paths the seed gives (Auth0's by default)."""
        p = {name: "/" + path for name, path in self.paths.items()}
        return [
            Route(DISCOVERY_PATH, self.discovery, methods=["GET"]),
            Route(p["jwks_uri"], self.jwks, methods=["GET"]),
            Route(p["authorization_endpoint"], self.authorize, methods=["GET"]),
            Route("/u/login", self.login_page, methods=["GET"]),
            Route("/u/login", self.login_submit, methods=["POST"]),
            Route("/u/login/social", self.social_start, methods=["GET"]),
            Route("/upstream/{connection}/authorize", self.upstream_page, methods=["GET"]),
            Route("/upstream/{connection}/authorize", self.upstream_submit, methods=["POST"]),
            Route("/login/callback", self.social_callback, methods=["GET"]),
            Route(p["token_endpoint"], self.token, methods=["POST"]),
            Route(p["token_endpoint"], self.token_wrong_method, methods=["GET", "PUT", "DELETE", "PATCH"]),
            Route(p["userinfo_endpoint"], self.userinfo, methods=["GET", "POST"]),
            Route(p.get("end_session_endpoint", "/v2/logout"), self.logout, methods=["GET"]),
            Route("/dbconnections/signup", self.signup, methods=["POST"]),
        ]

    # ---------------------------------------------------------------- discovery and keys
    async def discovery(self, request: Request) -> JSONResponse:
        """OpenID Provider metadata: every endpoint hangs off the issuer (paths from the seed)."""
        i = self.issuer
        return JSONResponse({
            "issuer": i,
            **{name: i + path for name, path in self.paths.items()},
            "scopes_supported": ["openid", "profile", "offline_access", "name", "given_name", "family_name",
                                 "nickname", "email", "email_verified", "picture"],
            "response_types_supported": ["code", "id_token", "token id_token"],
            "code_challenge_methods_supported": ["S256"],
            "response_modes_supported": list(RESPONSE_MODES),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "claims_supported": ["aud", "auth_time", "email", "email_verified", "exp", "family_name", "given_name",
                                 "iat", "iss", "locale", "name", "nickname", "nonce", "picture", "sid", "sub",
                                 "updated_at"],
            "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials",
                                      "password", PASSWORD_REALM_GRANT],
            "request_uri_parameter_supported": False,
            "request_parameter_supported": False,
        })

    async def jwks(self, request: Request) -> JSONResponse:
        """The public keys: current and next (and the previous one after a rotation)."""
        return JSONResponse(self.keys.jwks())

    # ---------------------------------------------------------------- what no route serves
    async def not_served(self, request: Request, exc: HTTPException) -> Response:
        """An unknown path (404) or a method its path does not take (405): Auth0's error codes for these
        statuses (shared reference auth0-protocol.md §3.1: ``not_found`` is sandbox wording, Auth0 documents
        ``endpoint_disabled`` for a disabled feature), as an error page for a browser, else as OAuth JSON."""
        if exc.status_code == 405:
            error = OAuthError(405, "method_not_allowed", E.METHOD_NOT_ALLOWED, headers={"Allow": exc.headers["Allow"]})
        else:
            error = OAuthError(404, "not_found", E.NOT_FOUND)
        return self._answer(request, error)

    async def bug(self, request: Request, exc: Exception) -> Response:
        """An unexpected exception (a sandbox bug): ``server_error``, never a stack trace."""
        return self._answer(request, OAuthError(500, "server_error", E.INTERNAL))

    def _answer(self, request: Request, error: OAuthError) -> Response:
        if "text/html" in request.headers.get("accept", ""):  # a browser's navigation
            page = error_page(AuthorizePageError(error.error, error.description), status=error.status)
            page.headers.update(error.headers)
            return page
        return error.response()
