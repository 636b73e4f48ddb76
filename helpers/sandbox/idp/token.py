"""``/oauth/token``: client authentication and the grants (authorization code with PKCE, password and
password-realm, client credentials, refresh token with rotation)."""
from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import errors as E
from . import pkce
from .errors import OAuthError
from .params import basic_credentials, request_params, required
from .records import Login
from .refresh import RefreshRefused
from .seed import PASSWORD_REALM_GRANT, Client, RotationPolicy, Seed
from .store import IdpStore
from .tokens import TokenMinter


class TokenEndpoint:
    """The token endpoint; part of :class:`~helpers.sandbox.idp.provider.IdentityProvider`."""

    seed: Seed
    store: IdpStore
    minter: TokenMinter

    rotation: Callable[[str], RotationPolicy]

    async def token_wrong_method(self, request: Request) -> Response:
        return OAuthError(405, "method_not_allowed", "The token endpoint accepts POST only.",
                          headers={"Allow": "POST"}).response()

    async def token(self, request: Request) -> Response:
        """Exchange a grant for tokens. JSON or form body; client secret in the body or Basic."""
        try:
            params = await request_params(request)
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
        basic = basic_credentials(request.headers.get("authorization"))
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
        value = required(params, "code")
        code = self.store.redeem_code(value)  # consumed now, whatever happens next
        if code is None or code.login.client_id != client.client_id:
            raise OAuthError(403, "invalid_grant", E.INVALID_CODE)
        if params.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(403, "invalid_grant", E.REDIRECT_URI_MISMATCH)
        if not pkce.verifier_matches(params.get("code_verifier"), code.code_challenge):
            raise OAuthError(403, "invalid_grant", E.BAD_VERIFIER)
        body = self._user_tokens(client, code.login, gty=None, browser=browser)
        # remembered so that a replay of this code revokes them (JWT access tokens cannot be recalled)
        self.store.link_tokens_to_code(value, [body.get("refresh_token"), body["access_token"]])
        return body

    def _grant_password(self, client: Client, params: dict[str, str], grant_type: str,
                        browser: bool) -> dict[str, Any]:
        username = required(params, "username")
        password = required(params, "password")
        if grant_type == PASSWORD_REALM_GRANT:
            realm = required(params, "realm")
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
        value = required(params, "refresh_token")
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
