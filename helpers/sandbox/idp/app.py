"""The sandbox identity provider: a Starlette app that speaks Auth0's protocol, built by :func:`create_idp_app`.

Read it in this order to see what an identity provider does: ``provider`` (discovery, keys, routes), ``authorize``
(the ``/authorize`` request, the hosted login page, the simulated social provider), ``token`` (the token endpoint
and its grants), ``account`` (``/userinfo``, logout and database sign-up).
"""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from ..common.clock import Clock
from ..common.cors import OriginPolicy
from ..common.keys import KeyRing
from . import errors as E
from .errors import OAuthError
from .pages import SESSION_COOKIE
from .provider import DISCOVERY_PATH, IdentityProvider
from .seed import Seed, load_seed

__all__ = ["SESSION_COOKIE", "IdentityProvider", "create_idp_app", "issuer_for"]

CORS_ENDPOINTS = ("token_endpoint", "userinfo_endpoint")  # what a single-page app's scripts call across origins


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
