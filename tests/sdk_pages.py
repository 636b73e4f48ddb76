"""Auth0's own browser SDKs, unchanged, against the sandbox: a test page server and the steps a test drives.

The server (its own loopback origin, registered on the sandbox's single-page app as a callback, logout URL and
web origin, exactly as a developer registers an app in Auth0's dashboard) serves two pages and the SDKs'
shipped bundles from ``node_modules`` (pinned in package.json; ``npm ci``), never from a CDN:

- ``/auth0js.html``: auth0.js v9 configured as 8base's SDK configures it (``WebAuth``, ``token id_token``);
- ``/spajs.html``: auth0-spa-js v2 (``Auth0Client``; ``?refresh=1`` for ``useRefreshTokens: true``).

Each page exposes ``window.lab`` (one async function per SDK call, each resolving ``{ok, result | error}``) and
shows every step, so a screenshot tells the story.
"""
from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from helpers.sandbox import Sandbox, launch_sandbox
from helpers.sandbox.idp.seed import DEFAULT_TENANT_FILE
from helpers.sandbox.common.server import BackgroundServer
from tests.sample_app_driver import type_credentials as log_in_on_hosted_page

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).with_name("sdk_pages")
BUNDLES = {  # what each package ships for a <script> tag (its "browser" / UMD build)
    "auth0.min.js": ROOT / "node_modules" / "auth0-js" / "dist" / "auth0.min.js",
    "auth0-spa-js.production.js": ROOT / "node_modules" / "@auth0" / "auth0-spa-js" / "dist" /
    "auth0-spa-js.production.js",
}
PAGE_PATHS = ("/auth0js.html", "/spajs.html", "/spajs.html?refresh=1")
TIMEOUT_MS = 15_000


def require_bundles() -> None:
    """Skip without the npm packages (``npm ci``), unless in CI, where their absence is a failure."""
    missing = [name for name, path in BUNDLES.items() if not path.is_file()]
    if missing:
        message = f"npm packages not installed ({', '.join(missing)}): run `npm ci`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: never skipped in CI)")
        pytest.skip(message)


def create_pages_app() -> Starlette:
    """The test pages' server; its facts (``app.state.config``) are set once the sandbox runs."""
    async def config(request: Request) -> Response:
        return JSONResponse(request.app.state.config, headers={"Cache-Control": "no-store"})

    async def bundle(request: Request) -> Response:
        path = BUNDLES.get(request.path_params["name"])
        return FileResponse(path, media_type="text/javascript") if path else Response(status_code=404)

    app = Starlette(routes=[
        Route("/config.json", config, methods=["GET"]),
        Route("/sdk/{name}", bundle, methods=["GET"]),
        Mount("/", StaticFiles(directory=PAGES)),
    ])
    app.state.config = {}
    return app


@contextmanager
def sdk_sandbox(tmp_path: Path) -> Iterator[tuple[Sandbox, str]]:
    """A sandbox whose single-page app also lists the test pages' origin; yields (sandbox, pages origin)."""
    pages = BackgroundServer(lambda port: create_pages_app(), 0).start()
    origin = f"http://localhost:{pages.port}"
    try:
        tenant = json.loads(DEFAULT_TENANT_FILE.read_text(encoding="utf-8"))
        spa = next(client for client in tenant["clients"] if client["app_type"] == "spa")
        spa["callbacks"] += [origin + path for path in PAGE_PATHS]
        spa["allowed_logout_urls"] += [origin + path for path in PAGE_PATHS]
        spa["web_origins"].append(origin)
        (tmp_path / "tenant.json").write_text(json.dumps(tenant), encoding="utf-8")
        box = launch_sandbox(seed_path=tmp_path / "tenant.json", cors_allowed_origins=(origin,))
        try:
            pages.app.state.config = {"idp_url": box.idp_url, "client_id": box.spa_client_id,
                                      "api_url": box.api_url}
            yield box, origin
        finally:
            box.stop()
    finally:
        pages.stop()


# ------------------------------------------------------------------ driving a page
def call(page, name: str, *args: Any) -> dict[str, Any]:
    """Run ``window.lab[name](...args)`` in the page; ``{ok, result}`` or ``{ok: false, error}``."""
    return page.evaluate("([name, args]) => window.lab[name](...args)", [name, list(args)])


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.lab && window.lab.ready", timeout=TIMEOUT_MS)


def back_on(page, url: str) -> None:
    page.wait_for_url(re.compile("^" + re.escape(url)), timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.lab && window.lab.ready", timeout=TIMEOUT_MS)


def spajs_login(page, box: Sandbox, origin: str, email: str, password: str, refresh: bool = False) -> dict[str, Any]:
    """auth0-spa-js: ``loginWithRedirect()`` -> hosted login -> back with ``?code`` -> ``handleRedirectCallback``."""
    url = origin + "/spajs.html" + ("?refresh=1" if refresh else "")
    open_page(page, url)
    page.click("#login-redirect")
    log_in_on_hosted_page(page, box.idp_url, email, password)
    back_on(page, url)
    return call(page, "handleRedirectCallback")


def auth0js_login(page, box: Sandbox, origin: str, email: str, password: str,
                  page_time: datetime | None = None) -> dict[str, Any]:
    """8base's login with auth0.js: ``authorize()`` -> hosted login -> back with the fragment -> ``parseHash``.

    ``page_time`` fixes the page's clock just before ``parseHash`` (which checks ``iat`` and ``exp`` with it), for
    a sandbox whose clock is frozen: not earlier, or the browser would drop auth0.js's state cookie as expired.
    """
    open_page(page, origin + "/auth0js.html")
    page.click("#authorize")
    log_in_on_hosted_page(page, box.idp_url, email, password)
    back_on(page, origin + "/auth0js.html#")
    if page_time is not None:
        page.clock.set_fixed_time(page_time)
    return call(page, "parseHash")
