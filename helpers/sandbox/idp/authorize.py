"""``/authorize``, the hosted login page and the simulated social providers: how a user logs in.

Checks the request (client, redirect URI, response type and mode, PKCE challenge, nonce, audience), answers
from an existing session (single sign-on) or sends the user to a login page, then answers the client with a code
or tokens in the requested response mode.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..common.clock import Clock
from ..common.seed_files import origin_of
from . import errors as E
from . import pkce
from .errors import AuthorizePageError, AuthorizeRedirectError
from .pages import PAGE_HEADERS, SESSION_COOKIE, error_page, error_params, redirect, render_template
from .params import read_form
from .records import AuthorizationCode, AuthorizationRequest, Login, Session, new_id
from .seed import Client, Seed, User
from .store import IdpStore
from .tokens import TokenMinter

RESPONSE_TYPES = {frozenset({"code"}), frozenset({"id_token"}), frozenset({"token", "id_token"})}
RESPONSE_MODES = ("query", "fragment", "form_post", "web_message")


class AuthorizeEndpoints:
    """The browser's side of a login; part of :class:`~helpers.sandbox.idp.provider.IdentityProvider`."""

    seed: Seed
    clock: Clock
    store: IdpStore
    minter: TokenMinter

    # ---------------------------------------------------------------- /authorize
    async def authorize(self, request: Request) -> Response:
        """Check the request, then log the user in (login page, social page or existing session)."""
        try:
            client, redirect_uri = self._client_andredirect(request)
        except AuthorizePageError as exc:
            return error_page(exc)
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
            return self._respond(client, redirect_uri, mode, error_params(exc.error, exc.description, state))

        session = self.store.session(request.cookies.get(SESSION_COOKIE))
        if session and self._session_satisfies(session, tx):
            return self._complete(tx, session)
        if tx.prompt == "none":
            return self._respond(client, redirect_uri, mode, error_params("login_required", E.LOGIN_REQUIRED, state))
        self.store.save_transaction(tx)
        connection = self.seed.connections.get(tx.connection or "")
        if connection and not connection.is_database:
            return redirect(f"/upstream/{quote(connection.name)}/authorize?" + urlencode({"state": tx.tx_id}))
        return redirect("/u/login?" + urlencode({"state": tx.tx_id}))

    def _client_andredirect(self, request: Request) -> tuple[Client, str]:
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
        method = params.get("code_challenge_method") or None
        challenge = None if implicit else pkce.requested_challenge(params.get("code_challenge") or None, method,
                                                                   client.is_public)
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
            html = render_template("form_post.html").render(action=redirect_uri, params=params.items())
            return HTMLResponse(html, headers={**PAGE_HEADERS, "Content-Security-Policy": "frame-ancestors 'none'"})
        if mode == "web_message":
            origin = origin_of(redirect_uri)
            html = render_template("web_message.html").render(response=params, target_origin=origin)
            headers = {k: v for k, v in PAGE_HEADERS.items() if k != "X-Frame-Options"}  # framed by the app
            return HTMLResponse(html, headers={**headers, "Content-Security-Policy": f"frame-ancestors {origin}"})
        separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
        return redirect(redirect_uri + separator + urlencode(params))

    # ---------------------------------------------------------------- hosted login page
    async def login_page(self, request: Request) -> Response:
        tx = self.store.transaction(request.query_params.get("state") or "")
        if tx is None:
            return self._expired_login()
        return self._render_login(tx)

    async def login_submit(self, request: Request) -> Response:
        """Email + password from the hosted form; success opens a session and answers the client."""
        form = await read_form(request)
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
        html = render_template("login.html").render(
            client_name=client.name, tx_id=tx.tx_id, login_action="/u/login", error=error, username=username,
            database_connection=self._database_connection_for(tx), social_connections=socials)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def _expired_login(self) -> Response:
        return error_page(AuthorizePageError(
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
            return error_page(AuthorizePageError("invalid_request", "the connection was not found"))
        return redirect(f"/upstream/{quote(name)}/authorize?" + urlencode({"state": tx.tx_id}))

    async def upstream_page(self, request: Request) -> Response:
        """The simulated GitHub / Google page: pick one of its seeded accounts."""
        name = request.path_params["connection"]
        tx = self.store.transaction(request.query_params.get("state") or "")
        connection = self.seed.connections.get(name)
        if tx is None or connection is None or connection.is_database:
            return self._expired_login()
        html = render_template("upstream.html").render(
            provider=connection.display_name or name, tx_id=tx.tx_id, accounts=self.store.users_of(name),
            action=f"/upstream/{quote(name)}/authorize")
        return HTMLResponse(html, headers=PAGE_HEADERS)

    async def upstream_submit(self, request: Request) -> Response:
        name = request.path_params["connection"]
        form = await read_form(request)
        tx_id = form.get("state", "")
        if self.store.transaction(tx_id) is None:
            return self._expired_login()
        user = self.store.user(form.get("account", ""))
        if user is None or user.connection != name:
            query = {"error": "access_denied", "error_description": "The user denied access.", "state": tx_id}
        else:
            query = {"code": self.store.issue_upstream_code(tx_id, user.user_id), "state": tx_id}
        return redirect("/login/callback?" + urlencode(query))

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
                                 error_params("access_denied", "The user denied access.", tx.state))
        user = self.store.user(redeemed[1])
        assert user is not None
        return self._log_in(tx.tx_id, user)
