"""The sandbox GraphQL API: a Starlette app that authenticates and answers like an 8base workspace, built by
:func:`create_api_app` over the shared :mod:`~helpers.sandbox.api.core`.

Queries and mutations are POSTs (:mod:`~helpers.sandbox.api.http`); subscriptions are WebSockets on the same
addresses (:mod:`~helpers.sandbox.api.subscriptions`).
"""
from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from ..common.clock import Clock
from ..common.cors import OriginPolicy
from .core import GraphQLApi
from .errors import cors_request_not_allowed, origin_not_allowed
from .http import NOT_SERVED, HttpEndpoint, error_response
from .seed import ApiSeed
from .subscriptions import SubscriptionServer

__all__ = ["GraphQLApi", "create_api_app"]


def create_api_app(seed: ApiSeed, clock: Clock, data_dir: Path) -> Starlette:
    """Build one GraphQL API over a seed, the shared clock and a folder for its databases.

    ``app.state.api`` is the :class:`GraphQLApi`.
    """
    api = GraphQLApi(seed, clock, data_dir)
    http = HttpEndpoint(api)
    api.subscriptions = sockets = SubscriptionServer(api)
    cors = Middleware(OriginPolicy, allowed=lambda: api.settings.cors_allowed_origins, allow_methods=["POST", "OPTIONS"],
                      allow_headers=["authorization", "content-type", "workspace", "environment"], max_age=600,
                      refusal=lambda: error_response(origin_not_allowed(), status=400),
                      request_refusal=lambda: error_response(cors_request_not_allowed(), status=400))
    app = Starlette(routes=[Route("/", http.graphql_on_host, methods=["POST", "GET"]),
                            Route("/{target}", http.graphql_at_path, methods=["POST", "GET"]),
                            Route("/{target}/", http.graphql_at_path, methods=["POST", "GET"]),  # no redirect
                            WebSocketRoute("/", sockets.on_host),
                            WebSocketRoute("/{target}", sockets.at_path)],
                    middleware=[cors], exception_handlers=NOT_SERVED)
    app.router.redirect_slashes = False  # a 307 has no 8base error body; /<workspaceId>/ is served as is
    app.state.api = api
    return app
