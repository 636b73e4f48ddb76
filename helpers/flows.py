"""Obtaining tokens: one function per OAuth 2.0 / OpenID Connect flow, over HTTP only.

Every function talks to the target's endpoints with ``requests`` and returns typed records that
keep the raw HTTP exchanges, so a lesson can print exactly what went over the wire
(:meth:`HttpExchange.as_text`, secrets redacted). The ``sandbox_*`` functions play the browser on
the sandbox's hosted login pages; against a real tenant a person logs in in a real browser.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import webbrowser
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from .config import ConfigError, Target
from .exceptions import FlowError

TIMEOUT = 10.0
MAX_HOPS = 12
PASSWORD_REALM_GRANT = "http://auth0.com/oauth/grant-type/password-realm"
SECRET_FIELDS = ("client_secret", "password", "code_verifier")
TOKEN_FIELDS = ("access_token", "id_token", "refresh_token")
SHOWN_CHARS = 12
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
LOGIN_WAIT = 300.0  # seconds a person has to log in, in browser_login()


# -------------------------------------------------------------------- records
@dataclass(frozen=True)
class HttpExchange:
    """One HTTP request and its response, as they went over the wire."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int
    response_headers: dict[str, str]
    response_body: str

    @classmethod
    def from_response(cls, response: requests.Response) -> HttpExchange:
        """The exchange behind a ``requests`` response (the request as it was prepared and sent)."""
        sent = response.request
        body = sent.body.decode("utf-8", "replace") if isinstance(sent.body, bytes) else sent.body
        return cls(method=sent.method or "GET", url=sent.url or response.url, request_headers=dict(sent.headers),
                   request_body=body, status=response.status_code, response_headers=dict(response.headers),
                   response_body=response.text)

    def as_text(self, redact: bool = True) -> str:
        """The request and the response as raw HTTP text, secrets hidden and tokens shortened unless told not to."""
        clean = _redact if redact else (lambda text: text)
        parts = urlsplit(self.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"{self.method} {clean(target)} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{k}: {_header(k, v, redact)}" for k, v in self.request_headers.items() if k.lower() != "host"]
        if self.request_body:
            lines += ["", clean(self.request_body)]
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = ""
        lines += ["", f"HTTP/1.1 {self.status} {reason}".rstrip()]
        lines += [f"{k}: {_header(k, v, redact)}" for k, v in self.response_headers.items()]
        if self.response_body:
            lines += ["", clean(self.response_body)]
        return "\n".join(lines)


@dataclass(frozen=True)
class TokenSet:
    """A token endpoint's answer and the exchange that carried it."""

    access_token: str
    token_type: str
    expires_in: int | None
    id_token: str | None = None
    refresh_token: str | None = None
    scope: str | None = None
    raw: dict[str, Any] | None = None
    exchange: HttpExchange | None = None


@dataclass(frozen=True)
class AuthorizationRequest:
    """An ``/authorize`` URL and the secrets the app keeps until the callback (state, nonce, PKCE verifier)."""

    url: str
    client_id: str
    redirect_uri: str
    response_type: str
    response_mode: str | None
    scope: str
    state: str
    nonce: str
    code_verifier: str | None
    code_challenge: str | None
    audience: str | None


@dataclass(frozen=True)
class Callback:
    """What arrived at the app's ``redirect_uri``, and every hop the browser made to get there."""

    url: str
    params: dict[str, str]
    exchanges: tuple[HttpExchange, ...]


# -------------------------------------------------------------------- the authorization request
def pkce_pair() -> tuple[str, str]:
    """A PKCE ``code_verifier`` and its S256 ``code_challenge`` (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(32)  # 32 random bytes -> 43 base64url characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start_authorization(target: Target, *, client_id: str | None = None, redirect_uri: str | None = None,
                        scope: str = "openid profile email", audience: str | None = None,
                        response_type: str = "code", response_mode: str | None = None,
                        connection: str | None = None, prompt: str | None = None,
                        claims: str | None = None) -> AuthorizationRequest:
    """Build the ``/authorize`` URL (SPA client by default) with a fresh state, nonce and PKCE pair.

    ``audience`` goes out as the target's ``audience_parameter`` (Auth0's ``audience`` or RFC 8707's
    ``resource``); ``claims`` is OIDC Core §5.5's request parameter (JSON text).
    """
    client_id = client_id or _need(target, "spa_client_id", "SPA_CLIENT_ID")
    redirect_uri = redirect_uri or _need(target, "redirect_uri", "REDIRECT_URI")
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier = challenge = None
    params = {"response_type": response_type, "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": scope, "state": state, "nonce": nonce}
    if "code" in response_type.split():
        verifier, challenge = pkce_pair()
        params.update(code_challenge=challenge, code_challenge_method="S256")
    optional = {target.audience_parameter: audience, "response_mode": response_mode, "connection": connection,
                "prompt": prompt, "claims": claims}
    params.update({k: v for k, v in optional.items() if v is not None})
    separator = "&" if "?" in target.authorization_endpoint else "?"
    return AuthorizationRequest(
        url=target.authorization_endpoint + separator + urlencode(params), client_id=client_id,
        redirect_uri=redirect_uri, response_type=response_type, response_mode=response_mode, scope=scope,
        state=state, nonce=nonce, code_verifier=verifier, code_challenge=challenge, audience=audience)


def parse_callback(url: str) -> dict[str, str]:
    """The parameters of a callback URL: from its fragment if it has one, else from its query."""
    parts = urlsplit(url)
    return dict(parse_qsl(parts.fragment or parts.query, keep_blank_values=True))


# -------------------------------------------------------------------- the browser on the sandbox's pages
def sandbox_login(request: AuthorizationRequest, email: str, password: str,
                  session: requests.Session | None = None) -> Callback:
    """Log in on the sandbox's hosted login page as a browser would; return what reaches the app."""
    posted = False

    def act(page: _Page, url: str) -> tuple[str, str, dict[str, str] | None]:
        nonlocal posted
        form = page.form("login-form")
        if form is None or posted:
            raise _unexpected(page, url)
        posted = True
        submit = dict(form.buttons[:1])  # the pressed button is part of what a browser sends
        return "POST", urljoin(url, form.action), dict(form.fields, **submit, username=email, password=password)

    return _browse(request, session, act)


def sandbox_social_login(request: AuthorizationRequest, connection: str, account: int | str | None = 0,
                         session: requests.Session | None = None) -> Callback:
    """Press a social button and pick an account on the simulated provider page (``None`` cancels)."""
    def act(page: _Page, url: str) -> tuple[str, str, dict[str, str] | None]:
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
    _raise_for_callback_error(params, None)
    return Callback(arrived["url"], params, ())


# -------------------------------------------------------------------- token endpoint grants
def exchange_code(target: Target, request: AuthorizationRequest, callback: Callback,
                  client_secret: str | None = None) -> TokenSet:
    """Trade the callback's authorization code (and the PKCE verifier) for tokens."""
    last = callback.exchanges[-1] if callback.exchanges else None
    check_issuer(target, callback.params, last)
    _raise_for_callback_error(callback.params, last)
    _check_state(request, callback.params, last)
    code = callback.params.get("code")
    if not code:
        raise FlowError(None, "missing_code", "The callback carries no code: was this an implicit request?", last)
    body = {"grant_type": "authorization_code", "client_id": request.client_id, "code": code,
            "redirect_uri": request.redirect_uri}
    if request.code_verifier:
        body["code_verifier"] = request.code_verifier
    if request.audience and target.audience_parameter == "resource":  # RFC 8707 §2.2: name it again at /token
        body["resource"] = request.audience
    if client_secret:
        body["client_secret"] = client_secret
    return _token_request(target, data=body)


def password_realm(target: Target, email: str, password: str, *, scope: str = "openid profile email",
                   audience: str | None = None, realm: str | None = None) -> TokenSet:
    """Auth0's password-realm grant with the web client (a JSON body, as auth0-python's ``GetToken.login``)."""
    body = {"client_id": _need(target, "web_client_id", "WEB_CLIENT_ID"),
            "client_secret": _need(target, "web_client_secret", "WEB_CLIENT_SECRET"),
            "username": email, "password": password, "realm": realm or target.connection, "scope": scope,
            "audience": audience, "grant_type": PASSWORD_REALM_GRANT}
    return _token_request(target, json_body={k: v for k, v in body.items() if v is not None})


def client_credentials(target: Target, audience: str | None = None) -> TokenSet:
    """A machine-to-machine token for an API (M2M client, secret sent with HTTP Basic)."""
    client_id = _need(target, "m2m_client_id", "M2M_CLIENT_ID")
    secret = _need(target, "m2m_client_secret", "M2M_CLIENT_SECRET")
    body = {"grant_type": "client_credentials",
            target.audience_parameter: audience or _need(target, "audience", "API_AUDIENCE")}
    return _token_request(target, data=body, auth=(client_id, secret))


def refresh(target: Target, refresh_token: str, *, client_id: str | None = None, scope: str | None = None) -> TokenSet:
    """New tokens for a refresh token; SPA client by default (the web client's secret is sent for it)."""
    client_id = client_id or _need(target, "spa_client_id", "SPA_CLIENT_ID")
    body = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    if scope:
        body["scope"] = scope
    if client_id == target.web_client_id and target.web_client_secret:
        body["client_secret"] = target.web_client_secret
    return _token_request(target, data=body)


def implicit_login(target: Target, email: str, password: str, *, response_type: str = "token id_token",
                   scope: str = "openid profile email") -> tuple[AuthorizationRequest, Callback]:
    """The implicit flow on the sandbox: tokens come back in the callback's fragment."""
    request = start_authorization(target, response_type=response_type, scope=scope)
    callback = sandbox_login(request, email, password)
    _check_state(request, callback.params, callback.exchanges[-1])
    return request, callback


# -------------------------------------------------------------------- other endpoints
def userinfo(target: Target, access_token: str) -> dict[str, Any]:
    """The user's claims from ``/userinfo`` for an access token."""
    url = _need(target, "userinfo_endpoint", "a userinfo_endpoint in the discovery document")
    response = requests.get(url, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)
    exchange = HttpExchange.from_response(response)
    if response.status_code == 401:
        challenge = dict(re.findall(r'(\w+)="([^"]*)"', response.headers.get("www-authenticate", "")))
        raise FlowError(401, "invalid_token", challenge.get("error_description", "The access token was refused."),
                        exchange)
    if response.status_code != 200:
        raise _error_from(response, exchange)
    return response.json()


def logout_url(target: Target, return_to: str, client_id: str | None = None) -> str:
    """Where to send the browser to end the session and come back to ``return_to``."""
    endpoint = _need(target, "logout_endpoint", "a logout endpoint (end_session_endpoint)")
    client_id = client_id or _need(target, "spa_client_id", "SPA_CLIENT_ID")
    if target.kind == "oidc":  # OpenID Connect RP-Initiated Logout 1.0
        params = {"client_id": client_id, "post_logout_redirect_uri": return_to}
    else:  # Auth0's /v2/logout
        params = {"returnTo": return_to, "client_id": client_id}
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def sign_up(target: Target, email: str, password: str, **profile: Any) -> dict[str, Any]:
    """Create a database user with Auth0's ``/dbconnections/signup`` (profile fields go in the body)."""
    if target.kind == "oidc":
        raise ConfigError("Sign-up through /dbconnections/signup is Auth0's API; a generic OIDC provider has none.")
    body = {"client_id": _need(target, "spa_client_id", "SPA_CLIENT_ID"), "email": email, "password": password,
            "connection": target.connection, **profile}
    response = requests.post(target.issuer + "dbconnections/signup", json=body, timeout=TIMEOUT)
    exchange = HttpExchange.from_response(response)
    if response.status_code != 200:
        raise _error_from(response, exchange)
    return response.json()


# -------------------------------------------------------------------- plumbing: token requests and errors
def _token_request(target: Target, data: dict[str, str] | None = None, json_body: dict[str, Any] | None = None,
                   auth: tuple[str, str] | None = None) -> TokenSet:
    response = requests.post(target.token_endpoint, data=data, json=json_body, auth=auth, timeout=TIMEOUT)
    exchange = HttpExchange.from_response(response)
    if response.status_code != 200:
        raise _error_from(response, exchange)
    body = _json(response)
    if not isinstance(body, dict) or "access_token" not in body:
        raise FlowError(response.status_code, "invalid_response", "The token endpoint answered no access_token.",
                        exchange)
    expires_in = body.get("expires_in")
    return TokenSet(access_token=body["access_token"], token_type=body.get("token_type", "Bearer"),
                    expires_in=int(expires_in) if expires_in is not None else None, id_token=body.get("id_token"),
                    refresh_token=body.get("refresh_token"), scope=body.get("scope"), raw=body, exchange=exchange)


def error_from_response(response: requests.Response) -> FlowError:
    """What an error answer says (OAuth JSON, a /dbconnections error, an error page), as a :class:`FlowError`."""
    return _error_from(response, HttpExchange.from_response(response))


def _error_from(response: requests.Response, exchange: HttpExchange) -> FlowError:
    """A FlowError from an error answer: OAuth JSON, a /dbconnections error, an error page or anything else."""
    body = _json(response)
    if isinstance(body, dict) and "error" in body:
        return FlowError(response.status_code, str(body["error"]), str(body.get("error_description", "")), exchange)
    if isinstance(body, dict) and "code" in body:
        description = body.get("description")
        if not isinstance(description, str):  # e.g. PasswordStrengthError: {"rules": [...]}
            description = str(body.get("message") or body.get("policy") or json.dumps(description))
        if body.get("policy") and body.get("message"):
            description = f"{body['message']}: {body['policy']}"
        return FlowError(response.status_code, str(body["code"]), description, exchange)
    page = _Page.parse(response, exchange)
    if page.error_code:
        return FlowError(response.status_code, page.error_code, page.error_description, exchange)
    return FlowError(response.status_code, f"http_{response.status_code}", response.text[:200].strip(), exchange)


def _raise_for_callback_error(params: dict[str, str], exchange: HttpExchange | None) -> None:
    if "error" in params:
        status = exchange.status if exchange else None
        raise FlowError(status, params["error"], params.get("error_description", ""), exchange)


def check_issuer(target: Target, params: dict[str, str], exchange: HttpExchange | None = None) -> None:
    """The mix-up defence of RFC 9207 §2.4: a callback's ``iss`` must be the issuer the request went to.

    An ``iss`` that is present is always compared; a missing one is refused only when the provider's
    discovery says ``authorization_response_iss_parameter_supported`` (then every response carries it).
    Auth0 does not advertise it (the sandbox neither); node-oidc-provider does. Error responses are
    checked too: an attacker's error is as much a mix-up as its code.
    """
    if "iss" in params:
        if params["iss"] != target.issuer:
            raise FlowError(None, "iss_mismatch", f"The callback's iss is not {target.issuer!r}, where this "
                            "login was sent: the response may come from another "
                            "provider (a mix-up attack, RFC 9207), so it is refused.", exchange)
    elif target.iss_parameter_supported:
        raise FlowError(None, "iss_missing", "The callback carries no iss although the provider's discovery "
                        "document promises one (authorization_response_iss_parameter_supported, RFC 9207): "
                        "it may come from another provider, so it is refused.", exchange)


def _check_state(request: AuthorizationRequest, params: dict[str, str], exchange: HttpExchange | None) -> None:
    if params.get("state") != request.state:
        raise FlowError(None, "state_mismatch", "The callback's state is not the one this app sent to /authorize: "
                        "the response may be forged (CSRF), so it is refused.", exchange)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _need(target: Target, attribute: str, setting: str) -> Any:
    value = getattr(target, attribute)
    if not value:
        raise ConfigError(f"This flow needs {setting}, which the {target.kind} target does not have.", (setting,))
    return value


# -------------------------------------------------------------------- plumbing: the simulated browser
@dataclass
class _Form:
    """A form on a page: where it posts, its inputs and its named buttons."""

    action: str
    id: str | None
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _Page(HTMLParser):
    """The parts of a sandbox page the browser needs: forms, links by id, error texts, a web_message."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self.links: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.script = ""
        self._capture: str | None = None
        self.status = 0
        self.exchange: HttpExchange | None = None

    @classmethod
    def parse(cls, response: requests.Response, exchange: HttpExchange) -> _Page:
        page = cls()
        page.status, page.exchange = response.status_code, exchange
        page.feed(response.text)
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(_Form(a.get("action", ""), a.get("id")))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))
        elif tag == "a" and a.get("id") and a.get("href"):
            self.links[a["id"]] = a["href"]
        if a.get("id") in ("error-code", "error-description", "error-message"):
            self._capture = a["id"]
        elif tag == "script":
            self._capture = "script"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("strong", "span", "div", "script"):
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture == "script":
            self.script += data
        elif self._capture:
            self.texts[self._capture] = self.texts.get(self._capture, "") + data

    def form(self, form_id: str) -> _Form | None:
        return next((f for f in self.forms if f.id == form_id), None)

    @property
    def error_code(self) -> str:
        return self.texts.get("error-code", "").strip()

    @property
    def error_description(self) -> str:
        return self.texts.get("error-description", "").strip()

    def web_message(self) -> dict[str, str] | None:
        match = re.search(r'type:\s*"authorization_response",\s*response:\s*(\{.*?\})\s*\}', self.script, re.S)
        return json.loads(match.group(1)) if match else None


_Action = Callable[[_Page, str], tuple[str, str, dict[str, str] | None]]
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
                _raise_for_callback_error(params, exchange)
                return Callback(location, params, tuple(exchanges))
            method, url, data = "GET", location, None
            continue
        page = _Page.parse(response, exchange)
        if page.error_code:
            raise FlowError(response.status_code, page.error_code, page.error_description, exchange)
        if page.texts.get("error-message"):
            raise FlowError(response.status_code, "login_failed", page.texts["error-message"].strip(), exchange)
        posted = next((f for f in page.forms if _same_endpoint(urljoin(url, f.action), request.redirect_uri)), None)
        message = page.web_message()
        if posted is not None or message is not None:  # response_mode=form_post or web_message
            params = dict(posted.fields) if posted is not None else message
            _raise_for_callback_error(params, exchange)
            return Callback(urljoin(url, posted.action) if posted else request.redirect_uri, params, tuple(exchanges))
        method, url, data = act(page, url)
    raise FlowError(None, "too_many_hops", f"No answer for the app after {MAX_HOPS} requests.", exchanges[-1])


def _same_endpoint(url: str, redirect_uri: str) -> bool:
    """True when ``url`` is the redirect_uri plus a query or fragment."""
    return url == redirect_uri or url.startswith(redirect_uri) and url[len(redirect_uri)] in "?#&"


def _unexpected(page: _Page, url: str) -> FlowError:
    return FlowError(page.status, "unexpected_page", f"The browser does not know what to do on {url}.", page.exchange)


# -------------------------------------------------------------------- plumbing: redaction
def _short(value: str) -> str:
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"


def _hide(name: str, value: str) -> str:
    return "[redacted]" if name in SECRET_FIELDS else _short(value)


_FIELDS = "|".join(SECRET_FIELDS + TOKEN_FIELDS)
_JSON_FIELD = re.compile(rf'("({_FIELDS})"\s*:\s*")((?:[^"\\]|\\.)*)(")')
_FORM_FIELD = re.compile(rf'((?:^|(?<=[?&#;\s]))({_FIELDS})=)([^&#\s"]*)()', re.M)
_HTML_FIELD = re.compile(rf'(name="({_FIELDS})"\s+value=")([^"]*)(")')


_COOKIE = re.compile(r"([^=;,\s]+)=([^;,]*)")
_COOKIE_ATTRIBUTES = {"expires", "max-age", "domain", "path", "samesite", "secure", "httponly", "partitioned"}


def _redact(text: str) -> str:
    """Hide secret fields and shorten tokens in JSON, form-encoded, URL and HTML text."""
    for pattern in (_JSON_FIELD, _FORM_FIELD, _HTML_FIELD):
        text = pattern.sub(lambda m: m.group(1) + _hide(m.group(2), m.group(3)) + m.group(4), text)
    return text


def _header(name: str, value: str, redact: bool) -> str:
    if not redact:
        return value
    lowered = name.lower()
    if lowered == "authorization":
        scheme, _, credentials = value.partition(" ")
        return f"{scheme} " + ("[redacted]" if scheme.lower() != "bearer" else _short(credentials))
    if lowered in ("cookie", "set-cookie"):  # session cookies are credentials too
        return _COOKIE.sub(lambda m: m.group(0) if m.group(1).lower() in _COOKIE_ATTRIBUTES
                           else f"{m.group(1)}={_short(m.group(2))}", value)
    if lowered == "location":
        return _redact(value)
    return value
