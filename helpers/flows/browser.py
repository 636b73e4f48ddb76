"""The browser's part of a login: a simulated browser on the sandbox's hosted pages, or a person's own browser
catching the redirect on a loopback port (RFC 8252 §7.3)."""
from __future__ import annotations

import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

import requests

from ..config import ConfigError, Target
from .authorize import check_issuer, parse_callback, raise_for_callback_error, start_authorization
from .login_page import LoginPage, password_login
from .records import TIMEOUT, AuthorizationRequest, Callback, FlowError, HttpExchange

MAX_HOPS = 12
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
LOGIN_WAIT = 300.0  # seconds a person has to log in, in browser_login()


# -------------------------------------------------------------------- the browser on the sandbox's pages
def sandbox_login(request: AuthorizationRequest, email: str, password: str,
                  session: requests.Session | None = None) -> Callback:
    """Log in on the sandbox's hosted login page as a browser would; return what reaches the app."""
    posted = False

    def act(page: LoginPage, url: str) -> tuple[str, str, dict[str, str] | None]:
        nonlocal posted
        if page.form("login-form") is None or posted:
            raise _unexpected(page, url)
        posted = True
        return "POST", *password_login(page, url, email, password)

    return _browse(request, session, act)


def sandbox_social_login(request: AuthorizationRequest, connection: str, account: int | str | None = 0,
                         session: requests.Session | None = None) -> Callback:
    """Press a social button and pick an account on the simulated provider page (``None`` cancels)."""
    def act(page: LoginPage, url: str) -> tuple[str, str, dict[str, str] | None]:
        upstream = page.form("upstream-form")
        if upstream is not None:
            accounts = [value for name, value in upstream.buttons if name == "account" and value]
            if account is None:
                chosen = ""
            elif isinstance(account, int) and -len(accounts) <= account < len(accounts):
                chosen = accounts[account]
            elif isinstance(account, str) and account in accounts:
                chosen = account
            else:
                raise ValueError(f"No account {account!r} on the {connection} page; it offers {accounts}.")
            return "POST", urljoin(url, upstream.action), dict(upstream.fields, account=chosen)
        href = page.links.get(f"social-{connection}")
        if href is None:
            raise FlowError(page.status, "connection_not_offered",
                            f"The login page has no {connection!r} button for this application.", page.exchange)
        return "GET", urljoin(url, href), None

    return _browse(request, session, act)


# -------------------------------------------------------------------- a person's browser (real tenants)
def browser_login(target: Target, *, open_browser: Callable[[str], Any] = webbrowser.open, wait: float = LOGIN_WAIT,
                  **options: Any) -> tuple[AuthorizationRequest, Callback]:
    """Log a person in with their own browser: open ``/authorize``, catch the callback on this machine.

    ``REDIRECT_URI`` must be a loopback URL (``http://localhost:PORT/path``): a one-shot HTTP server
    listens there, as native apps do (RFC 8252 §7.3), and the browser's redirect to it carries the code.
    ``options`` go to :func:`start_authorization`. The URL is printed too, for a browser on another screen.
    """
    request = start_authorization(target, **options)
    return request, browser_callback(target, request, open_browser=open_browser, wait=wait)


def login(target: Target, request: AuthorizationRequest, email: str = "", password: str = "", *,
          session: requests.Session | None = None, open_browser: Callable[[str], Any] = webbrowser.open,
          wait: float = LOGIN_WAIT) -> Callback:
    """The browser's part of a login for a request already built: on the sandbox a helper fills in its hosted
    login page (:func:`sandbox_login`); on any other provider a person logs in in their own browser
    (:func:`browser_callback`), and ``email``/``password``/``session`` are not used."""
    if target.kind == "sandbox":
        return sandbox_login(request, email, password, session=session)
    return browser_callback(target, request, open_browser=open_browser, wait=wait)


def browser_callback(target: Target, request: AuthorizationRequest, *,
                     open_browser: Callable[[str], Any] = webbrowser.open, wait: float = LOGIN_WAIT) -> Callback:
    """Open ``request.url`` in the person's browser and catch what comes back to its loopback redirect URI."""
    parts = urlsplit(request.redirect_uri)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or not parts.port:
        raise ConfigError("A login from a notebook needs REDIRECT_URI on this machine, such as "
                          "http://localhost:3000/callback (and that URL in the application's Allowed Callback URLs).",
                          ("REDIRECT_URI",))
    arrived: dict[str, str] = {}
    done = threading.Event()

    class _Catch(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if urlsplit(self.path).path != (parts.path or "/"):
                self.send_error(404)
                return
            arrived["url"] = f"{parts.scheme}://{parts.netloc}{self.path}"
            body = b"<!doctype html><title>Logged in</title><p>Back to the notebook: you can close this tab.</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            done.set()

        def log_message(self, *args: Any) -> None:
            pass

    try:
        server = HTTPServer(("127.0.0.1", parts.port), _Catch)
    except OSError as exc:
        raise ConfigError(f"Cannot listen on {request.redirect_uri} ({exc.strerror}): is another program using "
                          f"port {parts.port}? Stop it, or use another port in REDIRECT_URI.", ("REDIRECT_URI",)) from None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        print(f"Log in in your browser (it should open by itself): {request.url}")
        open_browser(request.url)
        if not done.wait(wait):
            raise FlowError(None, "login_timeout", f"No login came back to {request.redirect_uri} within {wait:.0f} s.")
    finally:
        server.shutdown()
        server.server_close()
    params = parse_callback(arrived["url"])
    check_issuer(target, params, None)
    raise_for_callback_error(params, None)
    return Callback(arrived["url"], params, ())




_Action = Callable[[LoginPage, str], tuple[str, str, dict[str, str] | None]]
"""Given a page and its URL, the browser's next request: method, URL and form data."""


def _browse(request: AuthorizationRequest, session: requests.Session | None, act: _Action) -> Callback:
    """Follow redirects from ``/authorize``, let ``act`` fill in each page, stop at the app's redirect_uri."""
    http = session or requests.Session()
    exchanges: list[HttpExchange] = []
    method, url, data = "GET", request.url, None
    for _ in range(MAX_HOPS):
        response = http.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
        exchange = HttpExchange.from_response(response)
        exchanges.append(exchange)
        if response.is_redirect:
            location = urljoin(url, response.headers["location"])
            if _same_endpoint(location, request.redirect_uri):
                params = parse_callback(location)
                raise_for_callback_error(params, exchange)
                return Callback(location, params, tuple(exchanges))
            method, url, data = "GET", location, None
            continue
        page = LoginPage.parse(response, exchange)
        if page.error_code:
            raise FlowError(response.status_code, page.error_code, page.error_description, exchange)
        if page.texts.get("error-message"):
            raise FlowError(response.status_code, "login_failed", page.texts["error-message"].strip(), exchange)
        posted = next((f for f in page.forms if _same_endpoint(urljoin(url, f.action), request.redirect_uri)), None)
        message = page.web_message()
        if posted is not None or message is not None:  # response_mode=form_post or web_message
            params = dict(posted.fields) if posted is not None else message
            raise_for_callback_error(params, exchange)
            return Callback(urljoin(url, posted.action) if posted else request.redirect_uri, params, tuple(exchanges))
        method, url, data = act(page, url)
    raise FlowError(None, "too_many_hops", f"No answer for the app after {MAX_HOPS} requests.", exchanges[-1])


def _same_endpoint(url: str, redirect_uri: str) -> bool:
    """True when ``url`` is the redirect_uri plus a query or fragment."""
    return url == redirect_uri or url.startswith(redirect_uri) and url[len(redirect_uri)] in "?#&"


def _unexpected(page: LoginPage, url: str) -> FlowError:
    return FlowError(page.status, "unexpected_page", f"The browser does not know what to do on {url}.", page.exchange)

