"""What a logged-in user's account answers: ``/userinfo``, logout, and database sign-up."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from ...verify import REASONS, Expectations, TokenRejected, verify_token
from ..common.clock import Clock
from ..common.keys import KeyRing
from . import errors as E
from .errors import AuthorizePageError, OAuthError, SignupError
from .pages import PAGE_HEADERS, SESSION_COOKIE, error_page, redirect, render_template
from .params import bearer, request_params
from .records import UserExists
from .seed import Seed, User
from .store import IdpStore
from .tokens import TokenMinter, user_claims

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountEndpoints:
    """``/userinfo``, logout and sign-up; part of :class:`~helpers.sandbox.idp.provider.IdentityProvider`."""

    issuer: str
    seed: Seed
    clock: Clock
    keys: KeyRing
    store: IdpStore
    minter: TokenMinter

    rp_initiated_logout: bool

    # ---------------------------------------------------------------- /userinfo
    async def userinfo(self, request: Request) -> Response:
        """The user's claims for an access token that carries the ``openid`` scope."""
        token = bearer(request.headers.get("authorization"))
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
            return error_page(AuthorizePageError("invalid_request", "Unknown client."))
        allowed = client.allowed_logout_urls if client else self.seed.settings.tenant_logout_urls
        return_to = params.get("returnTo")
        if self.rp_initiated_logout:  # OpenID Connect RP-Initiated Logout 1.0 §2 names it differently
            return_to = params.get("post_logout_redirect_uri", return_to)
        if return_to is not None and return_to not in allowed:
            return error_page(AuthorizePageError(
                "invalid_request", 'The "returnTo" querystring parameter is not defined as a valid URL in '
                '"Allowed Logout URLs".', "Add the URL to the application's Allowed Logout URLs."))
        self.store.close_session(request.cookies.get(SESSION_COOKIE))
        if return_to is None and client is not None and allowed:
            return_to = allowed[0]
        if return_to is None:
            html = render_template("message.html").render(title="Logged out", message="You are logged out.")
            response: Response = HTMLResponse(html, headers=PAGE_HEADERS)
        else:
            response = redirect(return_to)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ---------------------------------------------------------------- database sign-up
    async def signup(self, request: Request) -> Response:
        """Create a database user (``/dbconnections/signup``)."""
        try:
            try:
                params = await request_params(request, allow_objects=True)
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


def _userinfo_denied(description: str) -> Response:
    """Auth0's ``/userinfo`` refusal: 401, plain-text body, reason in ``WWW-Authenticate``."""
    challenge = f'Bearer realm="Users", error="invalid_token", error_description="{description}"'
    return PlainTextResponse("Unauthorized", status_code=401, headers={"WWW-Authenticate": challenge})
