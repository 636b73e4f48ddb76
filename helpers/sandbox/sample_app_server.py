"""The sample single-page app's web server: static files on an origin of their own.

The app (``sample_app/``: HTML, CSS and JavaScript, no build step) lives on a third port, so its calls to
the identity provider and the GraphQL API are cross-origin, as in production: the browser enforces CORS
and the login session cookie's flags. Everything the page loads comes from this server; its
Content-Security-Policy says so and names the only two servers its scripts may talk to.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .common.seed_files import origin_of

SAMPLE_APP_DIR = Path(__file__).with_name("sample_app")
PAGES = ("/", "/callback")  # the app's two addresses: home, and where the identity provider sends the user back


def create_sample_app() -> Starlette:
    """Build the sample app's server. Its facts (``app.state.config``) are set once the sandbox knows its URLs."""
    app = Starlette(routes=[
        *(Route(path, _index, methods=["GET"]) for path in PAGES),
        Route("/config.json", _config, methods=["GET"]),
        Mount("/static", StaticFiles(directory=SAMPLE_APP_DIR), name="static"),
    ])
    app.state.config = {}
    return app


def sample_app_config(idp_url: str, api_url: str, client_id: str, auth_profile_id: str,
                      social_connections: list[dict[str, str]]) -> dict[str, Any]:
    """What the page needs to know (``/config.json``): where the identity provider and the API are, and who
    it is there. Its own URLs (``redirect_uri``, ``logout_return_to``) are added per request, from the origin
    the page was opened at: the identity provider accepts them only if the tenant registered that origin."""
    return {"idp_url": idp_url, "client_id": client_id, "api_url": api_url, "auth_profile_id": auth_profile_id,
            "social_connections": social_connections}


async def _index(request: Request) -> Response:
    config = request.app.state.config
    return FileResponse(SAMPLE_APP_DIR / "index.html", headers=_page_headers(config))


async def _config(request: Request) -> Response:
    app_url = f"{request.url.scheme}://{request.url.netloc}/"
    config = {**request.app.state.config, "redirect_uri": app_url + "callback", "logout_return_to": app_url}
    return JSONResponse(config, headers={"Cache-Control": "no-store"})


def _page_headers(config: dict[str, Any]) -> dict[str, str]:
    idp, api = origin_of(config.get("idp_url", "")), origin_of(config.get("api_url", ""))
    policy = (f"default-src 'self'; connect-src 'self' {idp} {api}; frame-src {idp}; img-src 'self' data:; "
              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return {"Content-Security-Policy": policy, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
