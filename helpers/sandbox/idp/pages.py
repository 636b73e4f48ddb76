"""What the identity provider shows a browser: its HTML pages, redirects and the session cookie's name."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .errors import AuthorizePageError

SESSION_COOKIE = "auth0"
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


def render_template(name: str) -> Any:
    """The Jinja template ``templates/NAME`` (autoescaped)."""
    return _templates.get_template(name)


def error_page(exc: AuthorizePageError, status: int = 400) -> Response:
    """The hosted error page: the error, its description and a hint, never a redirect to an unchecked URL."""
    html = render_template("error.html").render(error=exc.error, description=exc.description, hint=exc.hint)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def redirect(url: str) -> RedirectResponse:
    """302 Found (never 307, which would replay a login form's POST body to the client)."""
    return RedirectResponse(url, status_code=302, headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


def error_params(error: str, description: str, state: str | None) -> dict[str, str]:
    """An OAuth error answer's parameters, with the client's ``state`` when it sent one."""
    params = {"error": error, "error_description": description}
    if state is not None:
        params["state"] = state
    return params
