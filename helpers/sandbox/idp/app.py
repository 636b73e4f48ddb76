"""The sandbox identity provider: a Starlette app that speaks Auth0's protocol.

Read it top to bottom to see what an identity provider does: discovery and keys, the
``/authorize`` request and the hosted login page, the simulated social provider, the token
endpoint and its grants, ``/userinfo``, logout and database sign-up.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ...verify import REASONS, Expectations, TokenRejected, verify_token
from . import errors as E
from ..common.clock import Clock
from ..common.cors import OriginPolicy
from .errors import AuthorizePageError, AuthorizeRedirectError, OAuthError, SignupError
from .refresh import RefreshRefused
from .store import AuthorizationCode, AuthorizationRequest, IdpStore, Login, Session, UserExists, new_id
from .tokens import TokenMinter, user_claims
from ..common.keys import ALGORITHM, KeyRing
from .seed import AUTH0_PATHS, PASSWORD_REALM_GRANT, Client, RotationPolicy, Seed, User, load_seed, origin_of

SESSION_COOKIE = "auth0"
CORS_ENDPOINTS = ("token_endpoint", "userinfo_endpoint")  # what a single-page app's scripts call across origins
DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_BODY_BYTES = 64 * 1024
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
PKCE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
RESPONSE_TYPES = {frozenset({"code"}), frozenset({"id_token"}), frozenset({"token", "id_token"})}
RESPONSE_MODES = ("query", "fragment", "form_post", "web_message")
PAGE_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)


def issuer_for(port: int, host: str = "localhost") -> str:
    """The issuer string: ``http://localhost:PORT/`` with the trailing slash, as Auth0 has."""
    return f"http://{host}:{port}/"


def create_idp_app(issuer: str, seed: Seed | None = None, clock: Clock | None = None,
                   keys: KeyRing | None = None) -> Starlette:
    """Build one identity provider. ``app.state.idp`` is the :class:`IdentityProvider`."""
    idp = IdentityProvider(issuer, seed or load_seed(), clock or Clock(), keys or KeyRing())
    cors_paths = tuple("/" + idp.paths[name] for name in CORS_ENDPOINTS)  # where the seed puts them
    refusals = {"refusal": lambda: OAuthError(400, "invalid_request", E.CORS_ORIGIN_NOT_ALLOWED).response(),
                "request_refusal": lambda: OAuthError(400, "invalid_request", E.CORS_REQUEST_NOT_ALLOWED).response()}
    cors = Middleware(OriginPolicy, allowed=lambda: idp.cors_origins, paths=cors_paths, allow_methods=["GET", "POST"],
                      allow_headers=["authorization", "content-type", "auth0-client"], max_age=600, **refusals,
                      browsers_only=True)  # token answers to servers are no-store: no Vary needed there
    # Discovery and the keys are public documents: Auth0 answers any origin with "Access-Control-Allow-Origin: *"
    # (auth0.js fetches the JWKS from the page to check an ID token's signature; auth0/auth0.js#1150)
    public = Middleware(OriginPolicy, allowed=lambda: ("*",), paths=(DISCOVERY_PATH, "/" + idp.paths["jwks_uri"]),
                        public=True, allow_methods=["GET"], max_age=600, **refusals, browsers_only=True)
    app = Starlette(routes=idp.routes(), middleware=[cors, public], exception_handlers={
        404: idp.not_served, 405: idp.not_served, Exception: idp.bug})
    app.router.redirect_slashes = False  # Auth0's paths have no trailing slash; a 307 would carry no error body
    app.state.idp = idp
    return app


class IdentityProvider:
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
        without an audience); a :class:`~helpers.sandbox.seed.SeedError` names a value the setting does not take."""
        seed = replace(self.seed, settings=replace(self.seed.settings, **changes))
        self.seed = self.minter.seed = self.store.seed = seed

    @property
    def rp_initiated_logout(self) -> bool:
        """True when the seed puts logout at an OIDC ``end_session_endpoint`` (instead of Auth0's /v2/logout)."""
        return "end_session_endpoint" in self.paths

    def routes(self) -> list[Route]:
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

    # ---------------------------------------------------------------- /authorize
    async def authorize(self, request: Request) -> Response:
        """Check the request, then log the user in (login page, social page or existing session)."""
        try:
            client, redirect_uri = self._client_and_redirect(request)
        except AuthorizePageError as exc:
            return self._error_page(exc)
        params = request.query_params
        response_types = frozenset((params.get("response_type") or "").split())
        implicit = "code" not in response_types
        mode = params.get("response_mode") or ("fragment" if implicit else "query")
        if mode not in RESPONSE_MODES or (mode == "web_message" and origin_of(redirect_uri) not in client.web_origins):
            mode = "fragment" if implicit else "query"  # never post a message to an origin that is not allowed
        state = params.get("state")
        try:
            if params.get("response_mode") == "web_message" and mode != "web_message":
                raise AuthorizeRedirectError("invalid_request", "The redirect_uri origin is not an Allowed Web Origin.")
            tx = self._authorization_request(request, client, redirect_uri, response_types, mode)
        except AuthorizeRedirectError as exc:
            if implicit and mode == "query":
                mode = "fragment"  # never put a token-flow answer in the query
            return self._respond(client, redirect_uri, mode, _error_params(exc.error, exc.description, state))

        session = self.store.session(request.cookies.get(SESSION_COOKIE))
        if session and self._session_satisfies(session, tx):
            return self._complete(tx, session)
        if tx.prompt == "none":
            return self._respond(client, redirect_uri, mode, _error_params("login_required", E.LOGIN_REQUIRED, state))
        self.store.save_transaction(tx)
        connection = self.seed.connections.get(tx.connection or "")
        if connection and not connection.is_database:
            return _redirect(f"/upstream/{quote(connection.name)}/authorize?" + urlencode({"state": tx.tx_id}))
        return _redirect("/u/login?" + urlencode({"state": tx.tx_id}))

    def _client_and_redirect(self, request: Request) -> tuple[Client, str]:
        params = request.query_params
        if any(len(params.getlist(k)) > 1 for k in params.keys()):
            raise AuthorizePageError("invalid_request", "A parameter was sent more than once.")
        client = self.seed.clients.get(params.get("client_id") or "")
        if client is None:
            raise AuthorizePageError("invalid_request", "Unknown client.",
                                     "Check the client_id: it must be the Client ID of an application of this tenant.")
        redirect_uri = params.get("redirect_uri") or ""
        if redirect_uri not in client.callbacks:  # exact string comparison (RFC 9700 §4.1.3)
            raise AuthorizePageError(
                "invalid_request", "Callback URL mismatch. The provided redirect_uri is not in the list of "
                "allowed callback URLs.",
                "Add the exact URL to the application's Allowed Callback URLs, or send one that is listed.")
        return client, redirect_uri

    def _authorization_request(self, request: Request, client: Client, redirect_uri: str,
                               response_types: frozenset[str], mode: str) -> AuthorizationRequest:
        params = request.query_params
        implicit = "code" not in response_types
        if response_types not in RESPONSE_TYPES:
            raise AuthorizeRedirectError("unsupported_response_type",
                                         "Supported response_type values: code, id_token, token id_token.")
        if implicit and mode == "query":
            raise AuthorizeRedirectError("invalid_request",
                                         "response_mode=query is not allowed when tokens are returned.")
        grant = "implicit" if implicit else "authorization_code"
        if grant not in client.grant_types:
            raise AuthorizeRedirectError("unauthorized_client", E.grant_not_allowed(grant))
        scope = tuple((params.get("scope") or "openid").split())
        if "id_token" in response_types and "openid" not in scope:
            raise AuthorizeRedirectError("invalid_request", "The openid scope is required to get an ID token.")
        nonce = params.get("nonce") or None
        if implicit and not nonce:
            raise AuthorizeRedirectError("invalid_request", E.missing("nonce"))
        audience = params.get("audience") or None
        if audience is not None and audience not in self.seed.apis:
            raise AuthorizeRedirectError("access_denied", E.SERVICE_NOT_FOUND)
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if not implicit:
            if challenge is None and method is None and client.is_public:
                raise AuthorizeRedirectError("invalid_request", E.missing("code_challenge") +
                                             " (public clients must use PKCE)")
            if challenge is not None or method is not None:
                if method != "S256":
                    raise AuthorizeRedirectError("invalid_request", "code_challenge_method must be S256.")
                if challenge is None or not PKCE_CHALLENGE.fullmatch(challenge):
                    raise AuthorizeRedirectError("invalid_request",
                                                 "code_challenge must be 43 base64url characters (S256).")
        connection = params.get("connection") or None
        if connection is not None and connection not in client.connections:
            raise AuthorizeRedirectError("invalid_request", "the connection was not found")
        prompt = params.get("prompt") or None
        if prompt not in (None, "none", "login", "consent"):
            raise AuthorizeRedirectError("invalid_request", "prompt must be none, login or consent.")
        max_age = params.get("max_age") or None
        if max_age is not None and not max_age.isdigit():
            raise AuthorizeRedirectError("invalid_request", "max_age must be a number of seconds.")
        return AuthorizationRequest(
            tx_id=new_id(24), client_id=client.client_id, redirect_uri=redirect_uri,
            response_types=response_types, response_mode=mode, scope=scope, audience=audience,
            state=params.get("state"), nonce=nonce, code_challenge=challenge, code_challenge_method=method,
            prompt=prompt, connection=connection, max_age=int(max_age) if max_age else None,
            expires_at=self.clock.now() + self.seed.settings.login_transaction_lifetime,
        )

    def _session_satisfies(self, session: Session, tx: AuthorizationRequest) -> bool:
        """Single sign-on: an existing session answers the request unless it asks to log in again."""
        if tx.prompt == "login":
            return False
        if tx.max_age is not None and self.clock.now() - session.auth_time > tx.max_age:
            return False
        user = self.store.user(session.user_id)
        return user is not None and (tx.connection is None or user.connection == tx.connection)

    def _complete(self, tx: AuthorizationRequest, session: Session) -> Response:
        """Answer the client: a code, or tokens (implicit), in the requested response mode."""
        client = self.seed.clients[tx.client_id]
        login = Login(user_id=session.user_id, client_id=tx.client_id,
                      scope=self.minter.granted_scope(tx.scope, tx.audience), audience=tx.audience,
                      nonce=tx.nonce, sid=session.sid, auth_time=session.auth_time,
                      include_auth_time=tx.max_age is not None)
        params: dict[str, str] = {}
        if "code" in tx.response_types:
            code = AuthorizationCode(login, tx.redirect_uri, tx.code_challenge,
                                     self.clock.now() + self.seed.settings.authorization_code_lifetime)
            params["code"] = self.store.issue_code(code)
        else:
            access_token = None
            if "token" in tx.response_types:
                issued = self.minter.user_access_token(login, implicit=True)
                access_token = issued.token
                params.update(access_token=issued.token, scope=" ".join(issued.scope),
                              expires_in=str(issued.expires_in), token_type="Bearer")
            params["id_token"] = self.minter.id_token(login, access_token=access_token)
        if tx.state is not None:
            params["state"] = tx.state
        response = self._respond(client, tx.redirect_uri, tx.response_mode, params)
        response.set_cookie(SESSION_COOKIE, session.sid, httponly=True, samesite="lax", path="/",
                            max_age=self.seed.settings.session_lifetime)
        return response

    def _respond(self, client: Client, redirect_uri: str, mode: str, params: dict[str, str]) -> Response:
        """Deliver an authorization response (or error) the way ``response_mode`` asks."""
        if mode == "form_post":
            html = _templates.get_template("form_post.html").render(action=redirect_uri, params=params.items())
            return HTMLResponse(html, headers={**PAGE_HEADERS, "Content-Security-Policy": "frame-ancestors 'none'"})
        if mode == "web_message":
            origin = origin_of(redirect_uri)
            html = _templates.get_template("web_message.html").render(response=params, target_origin=origin)
            headers = {k: v for k, v in PAGE_HEADERS.items() if k != "X-Frame-Options"}  # framed by the app
            return HTMLResponse(html, headers={**headers, "Content-Security-Policy": f"frame-ancestors {origin}"})
        separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
        return _redirect(redirect_uri + separator + urlencode(params))

    # ---------------------------------------------------------------- hosted login page
    async def login_page(self, request: Request) -> Response:
        tx = self.store.transaction(request.query_params.get("state") or "")
        if tx is None:
            return self._expired_login()
        return self._render_login(tx)

    async def login_submit(self, request: Request) -> Response:
        """Email + password from the hosted form; success opens a session and answers the client."""
        form = await _form(request)
        tx = self.store.transaction(form.get("state", ""))
        if tx is None:
            return self._expired_login()
        connection = self._database_connection_for(tx)
        if connection is None:
            return self._render_login(tx, error="This application cannot log in with a password.", status=400)
        user = self.store.check_password(connection, form.get("username", ""), form.get("password", ""))
        if user is None:
            return self._render_login(tx, error=E.WRONG_CREDENTIALS, username=form.get("username", ""), status=400)
        return self._log_in(tx.tx_id, user)

    def _log_in(self, tx_id: str, user: User) -> Response:
        tx = self.store.finish_transaction(tx_id)
        if tx is None:
            return self._expired_login()
        return self._complete(tx, self.store.open_session(user.user_id))

    def _database_connection_for(self, tx: AuthorizationRequest) -> str | None:
        client = self.seed.clients[tx.client_id]
        name = tx.connection or self.seed.database_connection.name
        connection = self.seed.connections.get(name)
        if connection is None or not connection.is_database or name not in client.connections:
            return None
        return name

    def _render_login(self, tx: AuthorizationRequest, error: str = "", username: str = "", status: int = 200) -> Response:
        client = self.seed.clients[tx.client_id]
        socials = []
        if tx.connection is None:
            for name in client.connections:
                connection = self.seed.connections[name]
                if not connection.is_database:
                    href = "/u/login/social?" + urlencode({"state": tx.tx_id, "connection": name})
                    socials.append({"name": name, "display_name": connection.display_name or name, "href": href})
        html = _templates.get_template("login.html").render(
            client_name=client.name, tx_id=tx.tx_id, login_action="/u/login", error=error, username=username,
            database_connection=self._database_connection_for(tx), social_connections=socials)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def _expired_login(self) -> Response:
        return self._error_page(AuthorizePageError(
            "invalid_request", "This login session is unknown or has expired.",
            "Go back to the application and start the login again."))

    # ---------------------------------------------------------------- social connections
    async def social_start(self, request: Request) -> Response:
        """A social button: hand the user to the (simulated) upstream provider."""
        tx = self.store.transaction(request.query_params.get("state") or "")
        name = request.query_params.get("connection") or ""
        if tx is None:
            return self._expired_login()
        connection = self.seed.connections.get(name)
        if connection is None or connection.is_database or name not in self.seed.clients[tx.client_id].connections:
            return self._error_page(AuthorizePageError("invalid_request", "the connection was not found"))
        return _redirect(f"/upstream/{quote(name)}/authorize?" + urlencode({"state": tx.tx_id}))

    async def upstream_page(self, request: Request) -> Response:
        """The simulated GitHub / Google page: pick one of its seeded accounts."""
        name = request.path_params["connection"]
        tx = self.store.transaction(request.query_params.get("state") or "")
        connection = self.seed.connections.get(name)
        if tx is None or connection is None or connection.is_database:
            return self._expired_login()
        html = _templates.get_template("upstream.html").render(
            provider=connection.display_name or name, tx_id=tx.tx_id, accounts=self.store.users_of(name),
            action=f"/upstream/{quote(name)}/authorize")
        return HTMLResponse(html, headers=PAGE_HEADERS)

    async def upstream_submit(self, request: Request) -> Response:
        name = request.path_params["connection"]
        form = await _form(request)
        tx_id = form.get("state", "")
        if self.store.transaction(tx_id) is None:
            return self._expired_login()
        user = self.store.user(form.get("account", ""))
        if user is None or user.connection != name:
            query = {"error": "access_denied", "error_description": "The user denied access.", "state": tx_id}
        else:
            query = {"code": self.store.issue_upstream_code(tx_id, user.user_id), "state": tx_id}
        return _redirect("/login/callback?" + urlencode(query))

    async def social_callback(self, request: Request) -> Response:
        """Where the upstream provider sends the user back (Auth0's ``/login/callback``)."""
        params = request.query_params
        tx = self.store.transaction(params.get("state") or "")
        if tx is None:
            return self._expired_login()
        redeemed = self.store.redeem_upstream_code(params.get("code") or "")
        if params.get("error") or redeemed is None or redeemed[0] != tx.tx_id:
            self.store.finish_transaction(tx.tx_id)
            client = self.seed.clients[tx.client_id]
            return self._respond(client, tx.redirect_uri, tx.response_mode,
                                 _error_params("access_denied", "The user denied access.", tx.state))
        user = self.store.user(redeemed[1])
        assert user is not None
        return self._log_in(tx.tx_id, user)

    # ---------------------------------------------------------------- /oauth/token
    async def token_wrong_method(self, request: Request) -> Response:
        return OAuthError(405, "method_not_allowed", "The token endpoint accepts POST only.",
                          headers={"Allow": "POST"}).response()

    async def token(self, request: Request) -> Response:
        """Exchange a grant for tokens. JSON or form body; client secret in the body or Basic."""
        try:
            params = await _request_params(request)
            grant_type = params.get("grant_type")
            if grant_type is None:
                raise OAuthError(400, "invalid_request", E.missing("grant_type"))
            handler = {
                "authorization_code": self._grant_authorization_code,
                "password": self._grant_password,
                PASSWORD_REALM_GRANT: self._grant_password,
                "client_credentials": self._grant_client_credentials,
                "refresh_token": self._grant_refresh_token,
            }.get(grant_type)
            if handler is None:
                raise OAuthError(400, "unsupported_grant_type", "Unsupported grant type.")
            client = self._authenticate_client(request, params)
            if grant_type not in client.grant_types:
                raise OAuthError(403, "unauthorized_client", E.grant_not_allowed(grant_type), E.GRANT_TYPES_DOC)
            # Auth0 gives a browser (a cross-origin request: it sends Origin) a refresh token only when the
            # application rotates them (https://auth0.com/docs/secure/tokens/refresh-tokens/use-refresh-token-rotation)
            body = handler(client, params, grant_type, "origin" in request.headers)
        except OAuthError as exc:
            return exc.response()
        return JSONResponse(body, headers=E.NO_STORE)

    def _authenticate_client(self, request: Request, params: dict[str, str]) -> Client:
        """Client authentication: Basic header, secret in the body, or none for public clients."""
        basic = _basic_credentials(request.headers.get("authorization"))
        body_id, body_secret = params.get("client_id"), params.get("client_secret")
        if basic and body_secret:
            raise OAuthError(400, "invalid_request", "Use one client authentication method, not two.")
        if basic and body_id and body_id != basic[0]:
            raise OAuthError(400, "invalid_request", "client_id in the body differs from the Basic credentials.")
        client_id = basic[0] if basic else body_id
        if not client_id:
            raise OAuthError(400, "invalid_request", E.missing("client_id"))
        challenge = {"WWW-Authenticate": 'Basic realm="sandbox"'} if basic else {}
        client = self.seed.clients.get(client_id)
        if client is None:
            raise OAuthError(401, "access_denied", E.UNAUTHORIZED, headers=challenge)
        if client.is_public:
            return client
        secret = basic[1] if basic else body_secret
        if secret is None or not hmac.compare_digest(secret.encode(), (client.client_secret or "").encode()):
            raise OAuthError(401, "access_denied", E.UNAUTHORIZED, headers=challenge)
        return client

    def _grant_authorization_code(self, client: Client, params: dict[str, str], grant_type: str,
                                  browser: bool) -> dict[str, Any]:
        value = _required(params, "code")
        code = self.store.redeem_code(value)  # consumed now, whatever happens next
        if code is None or code.login.client_id != client.client_id:
            raise OAuthError(403, "invalid_grant", E.INVALID_CODE)
        if params.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(403, "invalid_grant", E.REDIRECT_URI_MISMATCH)
        verifier = params.get("code_verifier")
        if code.code_challenge is None:
            if verifier is not None:  # PKCE downgrade (RFC 9700 §4.8.2)
                raise OAuthError(403, "invalid_grant", E.BAD_VERIFIER)
        elif verifier is None or not PKCE_VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
                _s256(verifier), code.code_challenge):
            raise OAuthError(403, "invalid_grant", E.BAD_VERIFIER)
        body = self._user_tokens(client, code.login, gty=None, browser=browser)
        # remembered so that a replay of this code revokes them (JWT access tokens cannot be recalled)
        self.store.link_tokens_to_code(value, [body.get("refresh_token"), body["access_token"]])
        return body

    def _grant_password(self, client: Client, params: dict[str, str], grant_type: str,
                        browser: bool) -> dict[str, Any]:
        username = _required(params, "username")
        password = _required(params, "password")
        if grant_type == PASSWORD_REALM_GRANT:
            realm = _required(params, "realm")
        else:
            realm = self.seed.database_connection.name
        connection = self.seed.connections.get(realm)
        if connection is None or not connection.is_database or realm not in client.connections:
            raise OAuthError(400, "invalid_request", "The realm is not a database connection enabled for this client.")
        audience = self._known_audience(params.get("audience"))
        user = self.store.check_password(realm, username, password)
        if user is None:
            raise OAuthError(403, "invalid_grant", E.WRONG_CREDENTIALS)
        scope = tuple((params.get("scope") or "openid").split())
        login = Login(user.user_id, client.client_id, self.minter.granted_scope(scope, audience), audience)
        return self._user_tokens(client, login, gty="password", browser=browser)

    def _grant_client_credentials(self, client: Client, params: dict[str, str], grant_type: str,
                                  browser: bool) -> dict[str, Any]:
        audience = params.get("audience")
        if audience is None:
            raise OAuthError(403, "access_denied", E.NO_AUDIENCE)
        audience = self._known_audience(audience)
        assert audience is not None
        grant = self.seed.grant_for(client.client_id, audience)
        if grant is None:
            raise OAuthError(403, "access_denied",
                             f'Client is not authorized to access "{audience}". You need to create a '
                             '"client-grant" associated to this API.')
        requested = tuple((params.get("scope") or " ".join(grant.scopes)).split())
        if not set(requested) <= set(grant.scopes):
            raise OAuthError(403, "access_denied", "Client has not been granted all requested scopes.")
        issued = self.minter.machine_access_token(client.client_id, audience, requested)
        return {"access_token": issued.token, "scope": " ".join(issued.scope), "expires_in": issued.expires_in,
                "token_type": "Bearer"}

    def _grant_refresh_token(self, client: Client, params: dict[str, str], grant_type: str,
                             browser: bool) -> dict[str, Any]:
        value = _required(params, "refresh_token")
        stored = self.store.refresh_tokens.peek(value)
        if stored is None or stored.login.client_id != client.client_id:
            raise OAuthError(403, "invalid_grant", E.BAD_REFRESH_TOKEN)
        if self.store.user(stored.login.user_id) is None:
            raise OAuthError(403, "invalid_grant", E.DELETED_USER_REFRESH)
        scope = stored.login.scope
        if params.get("scope"):
            scope = tuple(params["scope"].split())
            if not set(scope) <= set(stored.login.scope):
                raise OAuthError(403, "access_denied", "The requested scope exceeds the scope of the refresh token.")
        policy = self.rotation(client.client_id)
        try:  # a spent rotating token: its family is revoked, and Auth0 answers as for any unknown token
            exchanged = self.store.refresh_tokens.exchange(value, policy, give_new=not browser)
        except RefreshRefused:
            raise OAuthError(403, "invalid_grant", E.BAD_REFRESH_TOKEN) from None
        login = Login(stored.login.user_id, client.client_id, scope, stored.login.audience)  # no nonce on refresh
        return self._user_tokens(client, login, gty="refresh_token", browser=browser,
                                 refresh_token=exchanged.refresh_token)

    def _user_tokens(self, client: Client, login: Login, gty: str | None, browser: bool,
                     refresh_token: str | None = None) -> dict[str, Any]:
        """The token response for a user: access token, ID token with ``openid``, and a refresh token: a new one
        for a login with ``offline_access`` (never to a browser unless the application rotates them), or the
        one a refresh grant hands on (``refresh_token``; none when not rotating)."""
        issued = self.minter.user_access_token(login, gty=gty)
        body: dict[str, Any] = {"access_token": issued.token}
        if gty != "refresh_token" and "offline_access" in login.scope and "refresh_token" in client.grant_types:
            rotating = self.rotation(client.client_id).rotating
            if rotating or not browser:
                refresh_token = self.store.refresh_tokens.issue(login, rotating)
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        if "openid" in login.scope:
            body["id_token"] = self.minter.id_token(login)
        body.update(scope=" ".join(issued.scope), expires_in=issued.expires_in, token_type="Bearer")
        return body

    def _known_audience(self, audience: str | None) -> str | None:
        if audience is not None and audience not in self.seed.apis:
            raise OAuthError(403, "access_denied", E.SERVICE_NOT_FOUND)
        return audience

    # ---------------------------------------------------------------- /userinfo
    async def userinfo(self, request: Request) -> Response:
        """The user's claims for an access token that carries the ``openid`` scope."""
        token = _bearer(request.headers.get("authorization"))
        login_scope: tuple[str, ...] = ()
        user_id = None
        if token and token.count(".") == 2:
            try:
                claims = verify_token(token, self._own_key, Expectations(
                    issuer=self.issuer, audience=self.minter.userinfo_audience, token_use="access"),
                    now=self.clock.now())
                user_id, login_scope = claims["sub"], tuple(str(claims.get("scope", "")).split())
            except TokenRejected as exc:
                return _userinfo_denied(exc.message)
        elif token and token.count(".") == 4:  # encrypted (JWE): only this provider's key reads it
            claims = self.minter.cipher.decrypt(token)
            if claims is not None and claims.get("exp", 0) <= self.clock.now():
                return _userinfo_denied(REASONS["expired"])
            if claims is not None and self.store.opaque_token(token) is not None:  # not revoked by a code replay
                user_id, login_scope = claims.get("sub"), tuple(str(claims.get("scope", "")).split())
        elif token:
            opaque = self.store.opaque_token(token)
            if opaque is not None:
                user_id, login_scope = opaque.login.user_id, opaque.login.scope
        user = self.store.user(user_id) if user_id else None
        if user is None or "openid" not in login_scope:
            return _userinfo_denied("The access token is invalid or does not grant the openid scope.")
        return JSONResponse({"sub": user.user_id, **user_claims(user, login_scope)})

    def _own_key(self, kid: str | None) -> Any:
        if kid is None:
            raise KeyError("kid")
        return self.keys.public_key(kid)

    # ---------------------------------------------------------------- logout
    async def logout(self, request: Request) -> Response:
        """End the login session, then go only to a registered ``returnTo`` URL (no open redirect)."""
        params = request.query_params
        client_id = params.get("client_id")
        client = self.seed.clients.get(client_id) if client_id else None
        if client_id and client is None:
            return self._error_page(AuthorizePageError("invalid_request", "Unknown client."))
        allowed = client.allowed_logout_urls if client else self.seed.settings.tenant_logout_urls
        return_to = params.get("returnTo")
        if self.rp_initiated_logout:  # OpenID Connect RP-Initiated Logout 1.0 §2 names it differently
            return_to = params.get("post_logout_redirect_uri", return_to)
        if return_to is not None and return_to not in allowed:
            return self._error_page(AuthorizePageError(
                "invalid_request", 'The "returnTo" querystring parameter is not defined as a valid URL in '
                '"Allowed Logout URLs".', "Add the URL to the application's Allowed Logout URLs."))
        self.store.close_session(request.cookies.get(SESSION_COOKIE))
        if return_to is None and client is not None and allowed:
            return_to = allowed[0]
        if return_to is None:
            html = _templates.get_template("message.html").render(title="Logged out", message="You are logged out.")
            response: Response = HTMLResponse(html, headers=PAGE_HEADERS)
        else:
            response = _redirect(return_to)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ---------------------------------------------------------------- database sign-up
    async def signup(self, request: Request) -> Response:
        """Create a database user (``/dbconnections/signup``)."""
        try:
            try:
                params = await _request_params(request, allow_objects=True)
            except OAuthError as exc:
                raise SignupError("invalid_body", exc.description, status=exc.status) from None
            for name in ("client_id", "email", "password", "connection"):
                if not isinstance(params.get(name), str) or not params[name]:
                    raise SignupError("invalid_body", E.missing(name))
            client = self.seed.clients.get(params["client_id"])
            connection = self.seed.connections.get(params["connection"])
            if client is None:
                raise SignupError("invalid_body", "Unknown client.")
            if connection is None or not connection.is_database or connection.name not in client.connections:
                raise SignupError("invalid_connection", "The connection does not exist or is not enabled for this client.")
            user = self._new_database_user(connection.name, params)
            try:
                stored = self.store.add_user(user)
            except UserExists:  # a racing sign-up of the same email won after the check above
                raise SignupError("user_exists", E.USER_EXISTS) from None
        except SignupError as exc:
            return exc.response()
        body = {"_id": stored.user_id.split("|", 1)[1], "email_verified": False, "email": stored.email}
        for name in ("username", "given_name", "family_name", "name", "nickname", "picture", "user_metadata"):
            if params.get(name):
                body[name] = params[name]
        return JSONResponse(body)

    def _new_database_user(self, connection: str, params: dict[str, Any]) -> User:
        email = params["email"].strip()
        if len(email) > 254 or not EMAIL.fullmatch(email):
            raise SignupError("invalid_signup", "Invalid sign up")
        minimum = self.seed.settings.password_min_length
        if len(params["password"]) < minimum:
            rule = {"message": "At least %d characters in length", "format": [minimum], "code": "lengthAtLeast",
                    "verified": False}
            raise SignupError("invalid_password", {"rules": [rule], "verified": False}, name="PasswordStrengthError",
                              extra={"message": "Password is too weak", "policy": f"* At least {minimum} characters in length"})
        optional = {}
        for name in ("given_name", "family_name", "name", "nickname", "picture"):
            value = params.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > 300):
                raise SignupError("invalid_body", f"{name} must be a string of at most 300 characters.")
            if value:
                optional[name] = value
        metadata = params.get("user_metadata")
        if metadata is not None and (not isinstance(metadata, dict) or len(metadata) > 10 or any(
                not isinstance(v, str) or len(v) > 500 for v in metadata.values())):
            raise SignupError("invalid_body", "user_metadata takes at most 10 string properties of 500 characters.")
        if self.store.find_user(connection, email) is not None:
            raise SignupError("user_exists", E.USER_EXISTS)
        now = datetime.fromtimestamp(self.clock.now(), tz=timezone.utc)
        return User(user_id="auth0|" + secrets.token_hex(12), connection=connection, email=email.lower(),
                    email_verified=False, password=params["password"],
                    updated_at=now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z", **optional)

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
            page = self._error_page(AuthorizePageError(error.error, error.description), status=error.status)
            page.headers.update(error.headers)
            return page
        return error.response()

    # ---------------------------------------------------------------- pages
    def _error_page(self, exc: AuthorizePageError, status: int = 400) -> Response:
        html = _templates.get_template("error.html").render(error=exc.error, description=exc.description,
                                                             hint=exc.hint)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


# -------------------------------------------------------------------- small request helpers
def _redirect(url: str) -> RedirectResponse:
    """302 Found (never 307, which would replay a login form's POST body to the client)."""
    return RedirectResponse(url, status_code=302, headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


def _error_params(error: str, description: str, state: str | None) -> dict[str, str]:
    params = {"error": error, "error_description": description}
    if state is not None:
        params["state"] = state
    return params


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise OAuthError(400, "invalid_request", E.missing(name))
    return value


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic`` client credentials (form-urlencoded per RFC 6749 §2.3.1)."""
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        client_id, secret = decoded.split(":", 1)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise OAuthError(401, "access_denied", E.UNAUTHORIZED) from None
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value or "," in value:
        return None
    return value


def _userinfo_denied(description: str) -> Response:
    """Auth0's ``/userinfo`` refusal: 401, plain-text body, reason in ``WWW-Authenticate``."""
    challenge = f'Bearer realm="Users", error="invalid_token", error_description="{description}"'
    return PlainTextResponse("Unauthorized", status_code=401, headers={"WWW-Authenticate": challenge})


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise OAuthError(413, "invalid_request", "The request body is too large.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise OAuthError(413, "invalid_request", "The request body is too large.")
    return body


async def _request_params(request: Request, allow_objects: bool = False) -> dict[str, Any]:
    """Parameters of a JSON or form body; ``null`` and ``""`` count as absent (auth0-python sends both)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await _body(request)
    if content_type == "application/json":
        try:
            data = json.loads(body or b"{}")
            json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate (\ud800) is no text: refused here
        except (ValueError, RecursionError):  # (UnicodeEncodeError is a ValueError)
            raise OAuthError(400, "invalid_request", "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise OAuthError(400, "invalid_request", "The body must be a JSON object.")
    elif content_type in ("application/x-www-form-urlencoded", ""):
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError(400, "invalid_request", "The form body cannot be read.") from None
        names = [name for name, _ in pairs]
        if len(names) != len(set(names)):  # RFC 6749 §3.2: no parameter twice
            raise OAuthError(400, "invalid_request", "A parameter was sent more than once.")
        data = dict(pairs)
    else:
        raise OAuthError(400, "invalid_request", "Send application/json or application/x-www-form-urlencoded.")
    params: dict[str, Any] = {}
    for name, value in data.items():
        if value is None or value == "":
            continue
        if not isinstance(value, str) and not (allow_objects and isinstance(value, dict)):
            raise OAuthError(400, "invalid_request", "Every parameter must be a string.")
        params[name] = value
    return params


async def _form(request: Request) -> dict[str, str]:
    """A browser form post, read defensively (bad input gives empty fields, never an error page 500)."""
    try:
        params = await _request_params(request)
    except OAuthError:
        return {}
    return {k: v for k, v in params.items() if isinstance(v, str)}
