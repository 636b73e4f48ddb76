"""Driving the sandbox's sample single-page app in a real browser (Playwright page): shared by the browser
tests and ``tools/refresh_screenshots.py``."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

TIMEOUT_MS = 15_000


def open_app(page, app_url: str) -> None:
    """Load the app and wait until it has read its configuration and settled."""
    page.goto(app_url)
    wait_until_settled(page)


def wait_until_settled(page) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=TIMEOUT_MS)


def wait_for_status(page, text: str) -> None:
    """Wait until the status line says ``text`` (actions are asynchronous)."""
    page.wait_for_function("t => document.getElementById('status').textContent === t", arg=text, timeout=TIMEOUT_MS)


def type_credentials(page, idp_url: str, email: str, password: str) -> None:
    """On the identity provider's hosted login page (a tab or a popup): type the credentials and submit.

    The one password login of the browser tests (the SDK pages use it too); without a browser,
    :func:`helpers.flows.password_login` fills the same form."""
    page.wait_for_url(re.compile("^" + re.escape(idp_url + "u/login")), timeout=TIMEOUT_MS)
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")


def log_in_on_hosted_page(page, idp_url: str, email: str, password: str, app_url: str) -> None:
    """On the identity provider's hosted login page: type the credentials, submit, come back to the app."""
    type_credentials(page, idp_url, email, password)
    page.wait_for_url(re.compile("^" + re.escape(app_url)), timeout=TIMEOUT_MS)
    wait_until_settled(page)


def log_in_with_code(page, app_url: str, idp_url: str, email: str, password: str) -> None:
    """The whole authorization code + PKCE login, from the app's button to the app showing the user."""
    open_app(page, app_url)
    page.click("#login-code")
    log_in_on_hosted_page(page, idp_url, email, password, app_url)
    wait_for_status(page, f"Logged in as {email}.")
    page.wait_for_selector("#api-user:not([hidden]), #api-absent:not([hidden])", timeout=TIMEOUT_MS)


@dataclass
class Traffic:
    """The requests a page made (Playwright ``Request`` objects) and the URLs its main frame went to."""

    requests: list = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)

    def to(self, url_prefix: str, method: str | None = None) -> list:
        return [r for r in self.requests if r.url.startswith(url_prefix) and (method is None or r.method == method)]

    def query_of(self, url_prefix: str) -> list[dict[str, str]]:
        """The query parameters of each request to ``url_prefix`` (single values)."""
        return [{k: v[0] for k, v in parse_qs(urlsplit(r.url).query).items()} for r in self.to(url_prefix)]


def record_traffic(page) -> Traffic:
    traffic = Traffic()
    page.on("request", lambda request: traffic.requests.append(request))
    page.on("framenavigated", lambda frame: traffic.navigations.append(frame.url)
            if frame == page.main_frame else None)
    return traffic
