"""Cross-origin requests (CORS): which web pages' scripts may call a sandbox server, decided per request.

A browser asks first (a *preflight*, ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-*``) before a
cross-origin ``POST`` with JSON or an ``Authorization`` header; the answer must name the page's origin in
``Access-Control-Allow-Origin``, or the browser refuses to send the request (and a script never reads an
answer that lacks it). https://fetch.spec.whatwg.org/#http-cors-protocol
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


class OriginPolicy(CORSMiddleware):
    """Starlette's CORS middleware, with the allowed origins read at each request (settings can change)
    and applied only to ``paths`` (every path when ``None``). ``"*"`` in the allowed origins allows all.

    A preflight from an origin that is not allowed gets ``refusal()``, and one from an allowed origin asking for
    a method or request headers that are not allowed gets ``request_refusal()``: the server's own catalogued
    errors (HTTP 400, no ``Access-Control-Allow-Origin``, nothing of the request repeated). With ``browsers_only``, a
    request without an ``Origin`` header (a server, a script, curl) passes untouched, without ``Vary: Origin``.
    With ``public``, every origin may read the answers and they say so with ``Access-Control-Allow-Origin: *``
    (no origin repeated, no ``Vary``): documents meant for anyone, such as an identity provider's keys.
    """

    def __init__(self, app: ASGIApp, allowed: Callable[[], Collection[str]], refusal: Callable[[], Response],
                 request_refusal: Callable[[], Response], paths: Collection[str] | None = None,
                 browsers_only: bool = False, public: bool = False, **options: Any) -> None:
        super().__init__(app, allow_origins=("*",) if public else (), **options)
        self._allowed = allowed
        self._refusal = refusal
        self._request_refusal = request_refusal
        self._paths = frozenset(paths) if paths is not None else None
        self._browsers_only = browsers_only

    def is_allowed_origin(self, origin: str) -> bool:
        allowed = self._allowed()
        return "*" in allowed or origin in allowed

    def preflight_response(self, request_headers: Headers) -> Response:
        if not self.is_allowed_origin(request_headers["origin"]):
            return self._refusal()
        answer = super().preflight_response(request_headers)
        # Starlette refuses a method or header it does not allow with a plain-text 400: ours is catalogued
        return self._request_refusal() if answer.status_code == 400 else answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
                (self._paths is not None and scope["path"] not in self._paths)
                or (self._browsers_only and "origin" not in Headers(scope=scope))):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
