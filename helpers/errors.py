"""The error catalog: every error the lab's servers send and its clients raise, with cause and fix.

``data/error_catalog.csv`` holds one row per error: ``id, code, layer, message, http_status, cause,
fix, reproduce, source``.

- ``id`` reads ``<layer>-<where>-<what>``: ``idp-token-…`` (``POST /oauth/token``), ``idp-authorize-…``
  (``/authorize`` error redirects), ``idp-page-…`` (error pages), ``idp-logout-…``, ``idp-userinfo-…``,
  ``idp-signup-…``, ``api-…`` (the GraphQL API) and ``client-…`` (checks the app itself makes).
- ``message`` is the exact text: the API's ``message``, the identity provider's ``error_description``
  (sign-up: ``description``), or the client library's text. ``{name}`` marks a part the server fills in.
  ``; details.<key>: <text>`` adds the API's ``details`` text where it tells errors of one message apart.
- ``http_status`` is empty for client-side errors, which never cross HTTP, and for errors sent on an
  open subscription WebSocket (``api-ws-…``: a protocol message or a close code, after HTTP 101).
- ``source`` says "sandbox wording" where the text is the sandbox's own (the real wording is unknown).

>>> explain(response).fix               # a requests.Response, an error dict, a callback URL, an exception
>>> search("audience")                  # rows mentioning a word
>>> reproduce("api-user-absent", sandbox)   # the raw error answer, live from a running sandbox
"""
from __future__ import annotations

import base64
import csv
import functools
import hashlib
import html
import http.client
import json
import os
import re
import secrets
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd
import requests

from .graphql import GraphQLCallError

if TYPE_CHECKING:
    from .sandbox import Sandbox

__all__ = ["CATALOG_FILE", "CatalogEntry", "REPRODUCERS", "UnknownError", "catalog", "entries", "explain",
           "reproduce", "search"]

CATALOG_FILE = Path(__file__).resolve().parents[1] / "data" / "error_catalog.csv"
LAYERS = ("identity provider", "API", "client")
TIMEOUT = 10


class UnknownError(LookupError):
    """No catalog entry matches the error (or no reproduction exists for an id)."""


@dataclass(frozen=True)
class CatalogEntry:
    """One row of the error catalog."""

    id: str
    code: str
    layer: str
    message: str
    http_status: int | None
    cause: str
    fix: str
    reproduce: str
    source: str

    @property
    def headline(self) -> str:
        """The message without its ``; details.<key>: <text>`` part."""
        return self.message.split("; details.", 1)[0]

    @property
    def details(self) -> dict[str, str]:
        """The ``details`` text that tells this error apart (``{}`` when the message suffices)."""
        _, found, rest = self.message.partition("; details.")
        if not found:
            return {}
        key, _, text = rest.partition(": ")
        return {key: text}

    @property
    def where(self) -> str:
        """Where the error comes from: token, authorize, page, logout, userinfo, signup, api or client."""
        parts = self.id.split("-")
        return parts[1] if parts[0] == "idp" else parts[0]

    def __str__(self) -> str:
        status = f"HTTP {self.http_status}" if self.http_status is not None else "no HTTP"
        return (f"{self.id} ({self.layer}, {status}) {self.code or '(no code)'}: {self.message}\n"
                f"  cause: {self.cause}\n  fix:   {self.fix}\n  see:   {self.source}")


# ---------------------------------------------------------------------- the catalog
@functools.lru_cache(maxsize=1)
def _load() -> tuple[CatalogEntry, ...]:
    names = [f.name for f in fields(CatalogEntry)]
    with CATALOG_FILE.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != names:
            raise ValueError(f"{CATALOG_FILE.name}: the columns must be {names}")
        rows = list(reader)
    return tuple(CatalogEntry(**{**row, "http_status": int(row["http_status"]) if row["http_status"] else None})
                 for row in rows)


def entries() -> list[CatalogEntry]:
    """Every catalog entry, in catalog order."""
    return list(_load())


def catalog() -> pd.DataFrame:
    """The catalog as a DataFrame (one row per entry; ``http_status`` is empty for client-side errors)."""
    frame = pd.DataFrame([vars(e) for e in _load()], columns=[f.name for f in fields(CatalogEntry)])
    frame["http_status"] = frame["http_status"].astype("Int64")
    return frame


def search(text: str) -> pd.DataFrame:
    """The catalog rows whose text columns contain ``text`` (case-insensitive)."""
    frame = catalog()
    text_columns = [c for c in frame.columns if c != "http_status"]
    hit = pd.Series(False, index=frame.index)
    for column in text_columns:
        hit |= frame[column].str.contains(text, case=False, regex=False)
    return frame[hit].reset_index(drop=True)


# ---------------------------------------------------------------------- explain
@dataclass(frozen=True)
class _Signal:
    """What an error answer says, whatever its shape."""

    code: str
    texts: tuple[str, ...]
    details: Mapping[str, Any]
    status: int | None = None
    where: frozenset[str] | None = None  # the endpoints such an answer can come from (None: any)


def explain(error: Any) -> CatalogEntry:
    """The catalog entry for an error answer, matched on (code, message, details), most specific first.

    Accepts a GraphQL error dict or a whole GraphQL answer (its first error), an OAuth error body
    ``{"error", "error_description"}``, a sign-up error body ``{"name", "code", "description"}``, a
    GraphQL-over-WebSocket message (``error``, ``connection_error``, ``data`` / ``next`` with errors), a
    :class:`requests.Response` (JSON, an ``/authorize`` redirect, an error page, ``/userinfo``'s plain
    401), a callback URL or its parameters, a :class:`~helpers.graphql.GraphQLCallError`, or any
    exception with ``code`` / ``error`` (``message`` / ``description``) attributes. Raises
    :class:`UnknownError` when no entry has that code.
    """
    return _match(_signal(error))


def _signal(error: Any) -> _Signal:
    if isinstance(error, requests.Response):
        return _from_response(error)
    if isinstance(error, str):
        params = _url_params(error)
        if "error" not in params:
            raise UnknownError("This URL carries no error parameter (error=...).")
        return _from_mapping(params, None, frozenset({"authorize"}))
    if isinstance(error, Mapping):
        return _from_mapping(error, None, None)
    if isinstance(error, GraphQLCallError):
        return _Signal(error.code or "", (error.message,), error.details, error.status, frozenset({"api"}))
    return _from_object(error)


def _from_response(response: requests.Response) -> _Signal:
    status = response.status_code
    location = response.headers.get("location")
    if 300 <= status < 400 and location:
        params = _url_params(location)
        if "error" in params:
            return _from_mapping(params, status, frozenset({"authorize"}))
        raise UnknownError(f"This redirect carries no error: {urlsplit(location).path}")
    challenge = response.headers.get("www-authenticate", "")
    if status == 401 and "error=" in challenge:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        return _Signal(params.get("error", ""), (params.get("error_description", ""),), {}, status,
                       frozenset({"userinfo"}))
    content_type = response.headers.get("content-type", "")
    if "html" in content_type:
        code = re.search(r'id="error-code">(.*?)</strong>', response.text, re.S)
        text = re.search(r'id="error-description">(.*?)</span>', response.text, re.S)
        if code:
            return _Signal(html.unescape(code.group(1)).strip(),
                           (html.unescape(text.group(1)).strip() if text else "",), {}, status,
                           frozenset({"page", "logout"}))
        raise UnknownError(f"This HTML page (HTTP {status}) is not an error page of the identity provider.")
    try:
        body = response.json()
    except ValueError:
        raise UnknownError(f"HTTP {status} with a body that is neither JSON nor an error page.") from None
    if not isinstance(body, Mapping):
        raise UnknownError(f"HTTP {status} with a JSON body that is not an object.")
    return _from_mapping(body, status, None)


def _from_mapping(body: Mapping[str, Any], status: int | None, where: frozenset[str] | None) -> _Signal:
    kind, payload = body.get("type"), body.get("payload")
    if kind in ("error", "connection_error") and isinstance(payload, (Mapping, list)):  # a WebSocket message
        first = payload[0] if isinstance(payload, list) and payload else payload
        if isinstance(first, Mapping):
            return _graphql_signal(first, None)
    if kind in ("data", "next") and isinstance(payload, Mapping):
        return _from_mapping(payload, None, where)
    errors = body.get("errors")
    if isinstance(errors, list):
        if not errors or not isinstance(errors[0], Mapping):
            raise UnknownError("This GraphQL answer has no errors.")
        return _graphql_signal(errors[0], status)
    if "error" in body:  # OAuth 2.0: /oauth/token bodies, /authorize callbacks, client libraries
        if where is None:
            where = frozenset({"authorize"}) if "state" in body else (
                frozenset({"token"}) if status is not None else None)
        return _Signal(str(body["error"]), _texts(body.get("error_description")), {}, status, where)
    if "code" in body and ("description" in body or "name" in body or "statusCode" in body):  # /dbconnections
        status = status if status is not None else _int(body.get("statusCode"))
        return _Signal(str(body["code"]), _texts(body.get("description"), body.get("message")), {}, status,
                       frozenset({"signup"}))
    if "message" in body or "code" in body:
        return _graphql_signal(body, status)
    if "data" in body:
        raise UnknownError("This GraphQL answer has no errors.")
    raise UnknownError(f"Not an error shape this catalog knows (keys: {sorted(body)[:6]}).")


def _graphql_signal(error: Mapping[str, Any], status: int | None) -> _Signal:
    code = error.get("code")
    details = error.get("details") if isinstance(error.get("details"), Mapping) else {}
    return _Signal(code if isinstance(code, str) else "", _texts(error.get("message")), details, status,
                   frozenset({"api"}))


def _from_object(error: Any) -> _Signal:
    response = getattr(error, "response", None)
    code = next((v for v in (getattr(error, name, None) for name in ("code", "error", "error_code"))
                 if isinstance(v, str)), None)
    if code is None:
        if isinstance(response, requests.Response):  # requests.HTTPError and the like
            return _from_response(response)
        raise UnknownError(f"{type(error).__name__} has no code or error attribute to look up.")
    texts = _texts(*(getattr(error, name, None) for name in ("message", "description", "error_description")),
                   str(error) if isinstance(error, BaseException) else None)
    details = getattr(error, "details", None)
    status = next((v for v in (getattr(error, name, None) for name in ("status_code", "status")) if _int(v)), None)
    return _Signal(code, texts, details if isinstance(details, Mapping) else {}, _int(status), None)


def _match(signal: _Signal) -> CatalogEntry:
    pool = [e for e in _load() if e.code == signal.code]
    if not pool:
        text = signal.texts[0] if signal.texts else ""
        raise UnknownError(
            f"No catalog entry has the code {signal.code or '(none)'!r} (message {text!r}). "
            f"Try errors.search({(signal.code or text)[:40]!r}), or add a row to {CATALOG_FILE.name}.")

    def rank(index_entry: tuple[int, CatalogEntry]) -> tuple[bool, bool, int, int, bool, int]:
        index, entry = index_entry
        level = max((_text_level(entry.headline, t) for t in signal.texts), default=0)
        wanted = entry.details
        if wanted and not all(_text_level(text, str(signal.details.get(key, ""))) >= 2
                              for key, text in wanted.items()):
            level = 0  # its details say another case
        specificity = 0 if level == 0 else (2 if wanted else 1)
        where_fits = not signal.where or entry.where in signal.where  # preferred, unless only another text fits
        status_fits = signal.status is None or entry.http_status == signal.status
        return level > 0, where_fits, specificity, level, status_fits, -index

    return max(enumerate(pool), key=rank)[1]


def _text_level(pattern: str, text: str) -> int:
    """3: the same text; 2: a template fits all of it; 1: the text starts with it; 0: no match.

    A final period does not count (Auth0 writes "The token has expired", the sandbox adds the period).
    """
    if not text:
        return 0
    pattern, text = pattern.strip().rstrip("."), text.strip().rstrip(".")
    if pattern == text:
        return 3
    regex = _template(pattern)
    if regex.fullmatch(text):
        return 2
    return 1 if regex.match(text) else 0


@functools.lru_cache(maxsize=512)
def _template(pattern: str) -> re.Pattern[str]:
    pieces = re.split(r"\{[^{}]+\}", pattern)
    return re.compile("(?:.+?)".join(re.escape(p) for p in pieces), re.S)


def _texts(*values: Any) -> tuple[str, ...]:
    return tuple(v for v in values if isinstance(v, str) and v)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _url_params(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.update(parse_qsl(parts.fragment, keep_blank_values=True))
    return params


# ---------------------------------------------------------------------- reproduce
Answer = dict[str, Any] | requests.Response
REPRODUCERS: dict[str, Callable[["Sandbox"], Answer]] = {}
"""Catalog id -> a function that makes the error happen against a running sandbox and returns the answer."""


def reproduce(entry_id: str, sandbox: "Sandbox") -> Answer:
    """Make the error of ``entry_id`` happen against ``sandbox`` and return the raw answer.

    Server errors come back as the :class:`requests.Response`; client-side errors (state, nonce,
    at_hash, expiry, issuer checks) as ``{"error", "error_description"}`` from the library that raised
    them. Shared sandbox state (clock, settings, self sign-up) is restored; errors that need another
    tenant or an outage run in a throwaway sandbox. ``explain(reproduce(id, sandbox)).id == id``.
    """
    try:
        reproducer = REPRODUCERS[entry_id]
    except KeyError:
        raise UnknownError(f"No reproduction for {entry_id!r}: see errors.entries() for the ids.") from None
    return reproducer(sandbox)


def _reproduces(*ids: str) -> Callable[[Callable[["Sandbox"], Answer]], Callable[["Sandbox"], Answer]]:
    def register(function: Callable[["Sandbox"], Answer]) -> Callable[["Sandbox"], Answer]:
        for entry_id in ids:
            REPRODUCERS[entry_id] = function
        return function
    return register


def _recipe(entry_id: str, function: Callable[["Sandbox"], Answer]) -> None:
    REPRODUCERS[entry_id] = function


# -- small HTTP helpers (a learner's own code would look the same) -------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pkce() -> tuple[str, str]:
    verifier = _b64url(os.urandom(32))
    return verifier, _b64url(hashlib.sha256(verifier.encode()).digest())


def _ada(sb: "Sandbox") -> tuple[str, str]:
    user = next((u for u in sb.users if u["email"] == "ada@example.com"), sb.users[0])
    return user["email"], user["password"]


def _token_request(sb: "Sandbox", body: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
    return requests.post(sb.idp_url + "oauth/token", json=body, timeout=TIMEOUT, **kwargs)


def _login(sb: "Sandbox", email: str | None = None, password: str | None = None, **extra: Any) -> dict[str, Any]:
    """Tokens from the password grant of the web client (its ID tokens are what the API accepts)."""
    if email is None:
        email, password = _ada(sb)
    body = {"grant_type": "password", "client_id": sb.web_client_id, "client_secret": sb.web_client_secret,
            "username": email, "password": password, "scope": "openid profile email", **extra}
    response = _token_request(sb, body)
    if response.status_code != 200:
        raise RuntimeError(f"the lab login failed: {response.status_code} {response.text[:200]}")
    return response.json()


def _new_user(sb: "Sandbox", prefix: str = "catalog") -> tuple[str, str]:
    """A fresh identity-provider user (not signed up in the API)."""
    email, password = f"{prefix}-{secrets.token_hex(5)}@example.com", "catalog-sandbox-pass"
    response = _signup(sb, {"email": email, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"the lab sign-up failed: {response.status_code} {response.text[:200]}")
    return email, password


def _signup(sb: "Sandbox", fields_: dict[str, Any], **kwargs: Any) -> requests.Response:
    body = {"client_id": sb.spa_client_id, "connection": sb.connection, **fields_}
    return requests.post(sb.idp_url + "dbconnections/signup", json={k: v for k, v in body.items() if v is not None},
                         timeout=TIMEOUT, **kwargs)


def _gql(url: str, query: str, token: str | None = None, variables: dict[str, Any] | None = None,
         **headers: str) -> requests.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=TIMEOUT)


def _authorize(sb: "Sandbox", session: requests.Session | None = None, **params: Any) -> requests.Response:
    http_ = session or requests
    return http_.get(sb.idp_url + "authorize", params=params, allow_redirects=False, timeout=TIMEOUT)


def _spa_params(sb: "Sandbox", **extra: Any) -> dict[str, Any]:
    """A PKCE authorization-code request of the SPA; the verifier travels as ``_verifier``."""
    verifier, challenge = _pkce()
    params = {"response_type": "code", "client_id": sb.spa_client_id, "redirect_uri": sb.redirect_uri,
              "scope": "openid profile email", "state": secrets.token_urlsafe(12), "code_challenge": challenge,
              "code_challenge_method": "S256", "_verifier": verifier}
    params.update(extra)
    return params


def _hosted_login(sb: "Sandbox", params: dict[str, Any]) -> requests.Response:
    """Go through /authorize and the hosted login page as Ada; returns the redirect back to the app."""
    session = requests.Session()
    start = _authorize(sb, session, **{k: v for k, v in params.items() if not k.startswith("_")})
    tx = _url_params(start.headers.get("location", "")).get("state")
    if start.status_code != 302 or not tx:
        raise RuntimeError(f"/authorize did not lead to the login page: {start.status_code}")
    email, password = _ada(sb)
    return session.post(sb.idp_url + "u/login", data={"state": tx, "username": email, "password": password},
                        allow_redirects=False, timeout=TIMEOUT)


def _code_tokens(sb: "Sandbox", **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SPA's code flow with PKCE as Ada: (authorize params, token response)."""
    params = _spa_params(sb, **extra)
    answer = _url_params(_hosted_login(sb, params).headers["location"])
    response = _token_request(sb, {"grant_type": "authorization_code", "client_id": sb.spa_client_id,
                                   "code": answer["code"], "redirect_uri": sb.redirect_uri,
                                   "code_verifier": params["_verifier"]})
    return params, response.json()


def _raw_post(url: str, headers: list[tuple[str, str]], body: bytes) -> requests.Response:
    """A POST with headers ``requests`` cannot send (the same header twice), as a :class:`requests.Response`."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        connection.putrequest("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            connection.putheader(name, value)
        connection.endheaders(body)
        raw = connection.getresponse()
        response = requests.Response()
        response.status_code = raw.status
        response.headers = requests.structures.CaseInsensitiveDict(raw.getheaders())
        response._content = raw.read()
        response.url = url
        response.encoding = "utf-8"
        return response
    finally:
        connection.close()


def _craft(claims: dict[str, Any], header: dict[str, Any] | None = None, signature: bytes = b"not-a-signature") -> str:
    """A JWT assembled by hand (base64url of header, payload and a signature of our choosing)."""
    head = header or {"alg": "RS256", "typ": "JWT", "kid": "catalog"}
    return ".".join([_b64url(json.dumps(head).encode()), _b64url(json.dumps(claims).encode()), _b64url(signature)])


def _claims_for(sb: "Sandbox", issuer: str | None = None) -> dict[str, Any]:
    now = int(sb.clock.now())
    return {"iss": issuer or sb.idp_url, "sub": "auth0|catalog", "aud": sb.web_client_id, "iat": now,
            "exp": now + 3600, "email": "ada@example.com", "email_verified": True}


def _client_error(error: Exception) -> dict[str, Any]:
    """A client library's error in the OAuth shape it reports: ``{"error", "error_description"}``."""
    code = getattr(error, "code", None) if isinstance(getattr(error, "code", None), str) else getattr(error, "error")
    text = getattr(error, "description", None) or getattr(error, "message", None) or str(error)
    return {"error": code, "error_description": text}


# -- shared state, always put back ----------------------------------------------------------------
@contextmanager
def _clock_moved(sb: "Sandbox", seconds: float) -> Iterator[None]:
    sb.clock.advance(seconds)
    try:
        yield
    finally:
        sb.clock.advance(-seconds)


@contextmanager
def _api_settings(sb: "Sandbox", **changes: Any) -> Iterator[None]:
    before = {name: getattr(sb.api.settings, name) for name in changes}
    sb.api.configure(**changes)
    try:
        yield
    finally:
        sb.api.configure(**before)


@contextmanager
def _self_signup(sb: "Sandbox", mode: str) -> Iterator[None]:
    db = sb.api.database(sb.workspace_id)
    profile = next(p for p in db.auth_profiles() if p.id == sb.auth_profile_id)
    db.set_self_signup(profile.id, mode)
    try:
        yield
    finally:
        db.set_self_signup(profile.id, profile.self_signup, profile.email_domains)


@contextmanager
def _throwaway(tenant: Callable[[dict[str, Any]], None] | None = None,
               api: Callable[[dict[str, Any]], None] | None = None, **settings: Any) -> Iterator["Sandbox"]:
    """A sandbox of its own, started from edited copies of the seed files, stopped afterwards."""
    from .sandbox import launch_sandbox  # the sandbox's public factory; imported late (sandbox uses this module)

    seeds = CATALOG_FILE.parent / "sandbox"
    with tempfile.TemporaryDirectory(prefix="error-catalog-") as folder:
        paths = {}
        for name, edit in (("tenant.json", tenant), ("api.json", api)):
            raw = json.loads((seeds / name).read_text(encoding="utf-8"))
            if edit:
                edit(raw)
            paths[name] = Path(folder) / name
            paths[name].write_text(json.dumps(raw), encoding="utf-8")
        box = launch_sandbox(seed_path=paths["tenant.json"], api_seed_path=paths["api.json"], **settings)
        try:
            yield box
        finally:
            box.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


# -- /oauth/token ---------------------------------------------------------------------------------
def _web_secret(sb: "Sandbox") -> dict[str, str]:
    return {"client_id": sb.web_client_id, "client_secret": sb.web_client_secret}


def _m2m(sb: "Sandbox") -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": sb.m2m_client_id, "client_secret": sb.m2m_client_secret}


_recipe("idp-token-wrong-credentials", lambda sb: _token_request(sb, {
    "grant_type": "password", **_web_secret(sb), "username": _ada(sb)[0], "password": "not-her-password"}))
_recipe("idp-token-invalid-code", lambda sb: _token_request(sb, {
    "grant_type": "authorization_code", "client_id": sb.spa_client_id, "code": "made-up-code",
    "redirect_uri": sb.redirect_uri, "code_verifier": _pkce()[0]}))


def _exchange(sb: "Sandbox", *, verifier: str | None = None, redirect_uri: str | None = None) -> requests.Response:
    params = _spa_params(sb)
    answer = _url_params(_hosted_login(sb, params).headers["location"])
    return _token_request(sb, {"grant_type": "authorization_code", "client_id": sb.spa_client_id,
                               "code": answer["code"], "redirect_uri": redirect_uri or sb.redirect_uri,
                               "code_verifier": verifier or params["_verifier"]})


_recipe("idp-token-bad-verifier", lambda sb: _exchange(sb, verifier=_pkce()[0]))
_recipe("idp-token-redirect-uri-mismatch", lambda sb: _exchange(sb, redirect_uri=sb.redirect_uri + "/elsewhere"))
_recipe("idp-token-bad-refresh-token", lambda sb: _token_request(sb, {
    "grant_type": "refresh_token", **_web_secret(sb), "refresh_token": "made-up-refresh-token"}))


@_reproduces("idp-token-refresh-scope-exceeded")
def _refresh_more_scope(sb: "Sandbox") -> requests.Response:
    refresh = _login(sb, scope="openid email offline_access")["refresh_token"]
    return _token_request(sb, {"grant_type": "refresh_token", **_web_secret(sb), "refresh_token": refresh,
                               "scope": "openid email profile offline_access"})


_recipe("idp-token-bad-client", lambda sb: _token_request(sb, {
    "grant_type": "password", "client_id": sb.web_client_id, "client_secret": "not-the-secret",
    "username": _ada(sb)[0], "password": _ada(sb)[1]}))
_recipe("idp-token-service-not-found", lambda sb: _token_request(sb, {
    "grant_type": "password", **_web_secret(sb), "username": _ada(sb)[0], "password": _ada(sb)[1],
    "audience": "https://unknown.example/"}))
_recipe("idp-token-no-audience", lambda sb: _token_request(sb, _m2m(sb)))


@_reproduces("idp-token-client-not-authorized")
def _no_client_grant(sb: "Sandbox") -> requests.Response:
    def without_grants(tenant: dict[str, Any]) -> None:
        tenant["client_grants"] = []
    with _throwaway(tenant=without_grants) as box:
        return _token_request(box, {**_m2m(box), "audience": box.api_audience})


_recipe("idp-token-scope-not-granted", lambda sb: _token_request(sb, {
    **_m2m(sb), "audience": sb.api_audience, "scope": "write:notes"}))
_recipe("idp-token-grant-not-allowed", lambda sb: _token_request(sb, {
    "grant_type": "client_credentials", "client_id": sb.spa_client_id, "audience": sb.api_audience}))
_recipe("idp-token-unsupported-grant-type", lambda sb: _token_request(sb, {
    "grant_type": "magic", **_web_secret(sb)}))
_recipe("idp-token-missing-parameter", lambda sb: _token_request(sb, {}))


def _token_body(sb: "Sandbox", data: bytes, content_type: str) -> requests.Response:
    return requests.post(sb.idp_url + "oauth/token", data=data, headers={"Content-Type": content_type},
                         timeout=TIMEOUT)


_recipe("idp-token-body-not-json", lambda sb: _token_body(sb, b"{oops", "application/json"))
_recipe("idp-token-body-not-object", lambda sb: _token_body(sb, b"[]", "application/json"))
_recipe("idp-token-content-type", lambda sb: _token_body(sb, b"grant_type=password", "text/plain"))
_recipe("idp-token-form-unreadable", lambda sb: _token_body(sb, b"\xff\xfe", "application/x-www-form-urlencoded"))
_recipe("idp-token-repeated-parameter", lambda sb: _token_body(
    sb, b"grant_type=password&grant_type=password", "application/x-www-form-urlencoded"))
_recipe("idp-token-not-a-string", lambda sb: _token_body(sb, b'{"grant_type": 5}', "application/json"))
_recipe("idp-token-two-client-auth", lambda sb: requests.post(
    sb.idp_url + "oauth/token", data={"grant_type": "client_credentials", "client_secret": sb.m2m_client_secret},
    auth=(sb.m2m_client_id, sb.m2m_client_secret), timeout=TIMEOUT))
_recipe("idp-token-client-id-differs", lambda sb: requests.post(
    sb.idp_url + "oauth/token", data={"grant_type": "client_credentials", "client_id": sb.web_client_id},
    auth=(sb.m2m_client_id, sb.m2m_client_secret), timeout=TIMEOUT))
_recipe("idp-token-bad-realm", lambda sb: _token_request(sb, {
    "grant_type": "http://auth0.com/oauth/grant-type/password-realm", **_web_secret(sb),
    "username": _ada(sb)[0], "password": _ada(sb)[1], "realm": "github"}))
_recipe("idp-token-too-large", lambda sb: _token_body(sb, b"padding=" + b"x" * 70_000,
                                                      "application/x-www-form-urlencoded"))
_recipe("idp-token-wrong-method", lambda sb: requests.get(sb.idp_url + "oauth/token", timeout=TIMEOUT))
_BROWSER = {"Accept": "text/html,application/xhtml+xml"}  # what a browser's navigation asks for
_recipe("idp-endpoint-not-found", lambda sb: requests.post(sb.idp_url + "oauth/token/", json={}, timeout=TIMEOUT))
_recipe("idp-endpoint-method-not-allowed", lambda sb: requests.delete(sb.idp_url + "authorize", timeout=TIMEOUT))
_recipe("idp-page-not-found", lambda sb: requests.get(sb.idp_url + "nosuch", headers=_BROWSER, timeout=TIMEOUT))
_recipe("idp-page-method-not-allowed", lambda sb: requests.post(sb.idp_url + "authorize", data={}, headers=_BROWSER,
                                                               timeout=TIMEOUT))


# -- /authorize redirects and error pages ---------------------------------------------------------
def _spa_authorize(sb: "Sandbox", **changes: Any) -> requests.Response:
    params = _spa_params(sb, **changes)
    return _authorize(sb, **{k: v for k, v in params.items() if not k.startswith("_") and v is not None})


def _implicit(sb: "Sandbox", **changes: Any) -> requests.Response:
    implicit = {"response_type": "id_token", "code_challenge": None, "code_challenge_method": None,
                "nonce": secrets.token_urlsafe(8)}
    return _spa_authorize(sb, **{**implicit, **changes})


_recipe("idp-authorize-login-required", lambda sb: _spa_authorize(sb, prompt="none"))
_recipe("idp-authorize-unsupported-response-type", lambda sb: _spa_authorize(sb, response_type="token"))
_recipe("idp-authorize-service-not-found", lambda sb: _spa_authorize(sb, audience="https://unknown.example/"))


@_reproduces("idp-authorize-user-denied")
def _user_denied(sb: "Sandbox") -> requests.Response:
    session = requests.Session()
    params = _spa_params(sb, connection="github")
    start = _authorize(sb, session, **{k: v for k, v in params.items() if not k.startswith("_")})
    upstream = requests.compat.urljoin(sb.idp_url, start.headers["location"])
    tx = _url_params(upstream)["state"]
    back = session.post(upstream.split("?", 1)[0], data={"state": tx, "account": "nobody"}, allow_redirects=False,
                        timeout=TIMEOUT)  # the simulated GitHub page, submitted without choosing an account
    return session.get(requests.compat.urljoin(sb.idp_url, back.headers["location"]), allow_redirects=False,
                       timeout=TIMEOUT)


_recipe("idp-authorize-grant-not-allowed", lambda sb: _authorize(
    sb, response_type="id_token", client_id=sb.web_client_id, redirect_uri="http://localhost:5000/callback",
    scope="openid", nonce="n-0S6_WzA2Mj", state="catalog"))
_recipe("idp-authorize-web-origin-not-allowed", lambda sb: _authorize(
    sb, response_type="code", client_id=sb.web_client_id, redirect_uri="http://localhost:5000/callback",
    scope="openid", response_mode="web_message", prompt="none", state="catalog"))
_recipe("idp-authorize-tokens-in-query", lambda sb: _implicit(sb, response_mode="query"))
_recipe("idp-authorize-openid-scope-required", lambda sb: _implicit(sb, scope="profile"))
_recipe("idp-authorize-nonce-missing", lambda sb: _implicit(sb, nonce=None))
_recipe("idp-authorize-pkce-required", lambda sb: _spa_authorize(sb, code_challenge=None, code_challenge_method=None))
_recipe("idp-authorize-pkce-method", lambda sb: _spa_authorize(sb, code_challenge_method="plain"))
_recipe("idp-authorize-pkce-challenge-format", lambda sb: _spa_authorize(sb, code_challenge="short"))
_recipe("idp-authorize-connection-not-found", lambda sb: _spa_authorize(sb, connection="nosuchconnection"))
_recipe("idp-authorize-bad-prompt", lambda sb: _spa_authorize(sb, prompt="select_account"))
_recipe("idp-authorize-bad-max-age", lambda sb: _spa_authorize(sb, max_age="soon"))
_recipe("idp-page-unknown-client", lambda sb: _spa_authorize(sb, client_id="nosuchclient"))
_recipe("idp-page-callback-mismatch", lambda sb: _spa_authorize(sb, redirect_uri="http://localhost:9999/callback"))
_recipe("idp-page-repeated-parameter", lambda sb: requests.get(
    sb.idp_url + "authorize?" + urlencode([("client_id", sb.spa_client_id), ("client_id", sb.spa_client_id)]),
    allow_redirects=False, timeout=TIMEOUT))
_recipe("idp-page-login-expired", lambda sb: requests.get(sb.idp_url + "u/login", params={"state": "unknown"},
                                                          allow_redirects=False, timeout=TIMEOUT))
_recipe("idp-logout-return-to", lambda sb: requests.get(
    sb.idp_url + "v2/logout", params={"client_id": sb.spa_client_id, "returnTo": "http://elsewhere.example/"},
    allow_redirects=False, timeout=TIMEOUT))


# -- /userinfo ------------------------------------------------------------------------------------
def _userinfo(sb: "Sandbox", token: str) -> requests.Response:
    return requests.get(sb.idp_url + "userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)


_recipe("idp-userinfo-invalid-token", lambda sb: _userinfo(sb, "made-up-token"))
_recipe("idp-userinfo-id-token", lambda sb: _userinfo(sb, _login(sb)["id_token"]))


@_reproduces("idp-userinfo-expired")
def _userinfo_expired(sb: "Sandbox") -> requests.Response:
    access_token = _login(sb, audience=sb.api_audience)["access_token"]
    with _clock_moved(sb, 86_400 + 1):
        return _userinfo(sb, access_token)


# -- /dbconnections/signup ------------------------------------------------------------------------
_recipe("idp-signup-user-exists", lambda sb: _signup(sb, {"email": _ada(sb)[0], "password": "long-enough-pass"}))
_recipe("idp-signup-invalid-password", lambda sb: _signup(sb, {"email": "weak@example.com", "password": "short"}))
_recipe("idp-signup-invalid-signup", lambda sb: _signup(sb, {"email": "not-an-email", "password": "long-enough-pass"}))
_recipe("idp-signup-missing-parameter", lambda sb: _signup(sb, {"email": "nopass@example.com"}))
_recipe("idp-signup-unknown-client", lambda sb: _signup(sb, {"client_id": "nosuchclient", "email": "x@example.com",
                                                             "password": "long-enough-pass"}))
_recipe("idp-signup-bad-body", lambda sb: requests.post(sb.idp_url + "dbconnections/signup", json=[],
                                                        timeout=TIMEOUT))
_recipe("idp-signup-bad-field", lambda sb: _signup(sb, {"email": "long@example.com", "password": "long-enough-pass",
                                                        "given_name": "A" * 301}))
_recipe("idp-signup-bad-metadata", lambda sb: _signup(sb, {"email": "meta@example.com", "password": "long-enough-pass",
                                                           "user_metadata": {f"k{i}": "v" for i in range(11)}}))
_recipe("idp-signup-invalid-connection", lambda sb: _signup(sb, {"email": "gh@example.com",
                                                                 "password": "long-enough-pass",
                                                                 "connection": "github"}))


# -- the GraphQL API ------------------------------------------------------------------------------
USER_QUERY = "{ user { id email } }"
SIGN_UP = ("mutation($user: UserCreateInput!, $profile: ID) "
           "{ userSignUpWithToken(user: $user, authProfileId: $profile) { id email } }")


@_reproduces("api-token-expired")
def _expired_id_token(sb: "Sandbox") -> requests.Response:
    id_token = _login(sb)["id_token"]
    with _clock_moved(sb, 36_000 + 1):
        return _gql(sb.api_url, USER_QUERY, id_token)


_recipe("api-token-access-token", lambda sb: _gql(sb.api_url, USER_QUERY,
                                                  _login(sb, audience=sb.api_audience)["access_token"]))
_recipe("api-token-malformed", lambda sb: _gql(sb.api_url, USER_QUERY, "abc.def.ghi"))
_recipe("api-token-not-api-token", lambda sb: _gql(sb.api_url, USER_QUERY, "not-a-real-api-token"))
_recipe("api-token-encrypted", lambda sb: _gql(sb.api_url, USER_QUERY, _login(sb)["access_token"]))  # no audience


@_reproduces("api-token-bad-signature")
def _tampered(sb: "Sandbox") -> requests.Response:
    header, payload, signature = _login(sb)["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["name"] = "Someone Else"
    forged = ".".join([header, _b64url(json.dumps(claims).encode()), signature])
    return _gql(sb.api_url, USER_QUERY, forged)


@_reproduces("api-token-unknown-issuer")
def _foreign_issuer(sb: "Sandbox") -> requests.Response:
    with _throwaway() as other:  # another identity provider (another port: another issuer)
        foreign = _login(other)["id_token"]
    return _gql(sb.api_url, USER_QUERY, foreign)


@_reproduces("api-token-wrong-audience")
def _other_audience(sb: "Sandbox") -> requests.Response:
    def profile_for_another_client(api: dict[str, Any]) -> None:
        profile = api["workspaces"][0]["authentication_profiles"][0]
        profile.update(client_id="another-client", audiences=[])
    with _throwaway(api=profile_for_another_client) as box:
        return _gql(box.api_url, USER_QUERY, _login(box)["id_token"])


@_reproduces("api-token-not-yet-valid")
def _from_the_future(sb: "Sandbox") -> requests.Response:
    with _clock_moved(sb, 3600):
        id_token = _login(sb)["id_token"]
    return _gql(sb.api_url, USER_QUERY, id_token)


_recipe("api-token-alg-not-allowed", lambda sb: _gql(sb.api_url, USER_QUERY, _craft(
    _claims_for(sb), {"alg": "HS256", "typ": "JWT"}, hashlib.sha256(b"guessed secret").digest())))
_recipe("api-token-bad-header", lambda sb: _gql(sb.api_url, USER_QUERY, _craft(
    _claims_for(sb), {"alg": "RS256", "typ": "JWT", "kid": "catalog", "crit": ["exp"]})))
_recipe("api-token-too-large", lambda sb: _gql(sb.api_url, USER_QUERY, "x" * 9000))
_recipe("api-token-bad-scheme", lambda sb: requests.post(
    sb.api_url, json={"query": USER_QUERY}, headers={"Authorization": "Token abc"}, timeout=TIMEOUT))


@_reproduces("api-token-email-unverified")
def _unverified_email(sb: "Sandbox") -> requests.Response:
    email, password = _new_user(sb, "unverified")  # new database users have email_verified false
    id_token = _login(sb, email, password)["id_token"]
    with _api_settings(sb, require_email_verified=True):
        return _gql(sb.api_url, USER_QUERY, id_token)


@_reproduces("api-signup-profile-mismatch")
def _sign_up_with_another_profile(sb: "Sandbox") -> requests.Response:
    def second_profile(api: dict[str, Any]) -> None:
        profiles = api["workspaces"][0]["authentication_profiles"]
        profiles.append({**profiles[0], "id": "cl0catalogotherprofile01", "name": "Another application",
                         "client_id": "another-client", "audiences": []})
    with _throwaway(api=second_profile) as box:
        email, password = _new_user(box, "profile")
        return _gql(box.api_url, SIGN_UP, _login(box, email, password)["id_token"],
                    {"user": {"email": email}, "profile": "cl0catalogotherprofile01"})


def _with_authorization(sb: "Sandbox", value: str, url: str | None = None) -> requests.Response:
    return requests.post(url or sb.api_url, json={"query": USER_QUERY}, headers={"Authorization": value},
                         timeout=TIMEOUT)


_recipe("api-header-no-token", lambda sb: _with_authorization(sb, "Bearer "))
_recipe("api-header-several-tokens", lambda sb: _with_authorization(sb, "Bearer one two"))
_recipe("api-header-repeated", lambda sb: _raw_post(
    sb.api_url, [("Content-Type", "application/json"), ("Authorization", f"Bearer {sb.api_token}"),
                 ("Authorization", f"Bearer {sb.api_token}")], json.dumps({"query": USER_QUERY}).encode()))
_recipe("api-header-token-in-url", lambda sb: _with_authorization(sb, f"Bearer {sb.api_token}",
                                                                  sb.api_url + "?access_token=x"))
_recipe("api-header-tab", lambda sb: _with_authorization(sb, f"Bearer\t{sb.api_token}"))


@_reproduces("api-user-absent")
def _absent(sb: "Sandbox") -> requests.Response:
    email, password = _new_user(sb, "absent")
    return _gql(sb.api_url, USER_QUERY, _login(sb, email, password)["id_token"])


_recipe("api-not-authorized", lambda sb: _gql(sb.api_url, "{ notesList { count } }"))


@_reproduces("api-self-signup-off")
def _self_signup_off(sb: "Sandbox") -> requests.Response:
    email, password = _new_user(sb, "selfsignup")
    id_token = _login(sb, email, password)["id_token"]
    with _self_signup(sb, "off"):
        return _gql(sb.api_url, SIGN_UP, id_token, {"user": {"email": email}, "profile": sb.auth_profile_id})


_recipe("api-workspace-not-found", lambda sb: _gql(sb.api_host + "nosuchworkspace", USER_QUERY))
_recipe("api-environment-not-found", lambda sb: _gql(sb.api_url + "_nosuchenv", USER_QUERY))


@_reproduces("api-auth-profile-not-found")
def _unknown_profile(sb: "Sandbox") -> requests.Response:
    email, password = _new_user(sb, "noprofile")
    return _gql(sb.api_url, SIGN_UP, _login(sb, email, password)["id_token"],
                {"user": {"email": email}, "profile": "nosuchprofile"})


_recipe("api-record-not-found", lambda sb: _gql(
    sb.api_url, 'mutation { noteUpdate(filter: {id: "nosuchnote"}, data: {title: "t"}) { id } }', sb.api_token))
_recipe("api-user-exists", lambda sb: _gql(sb.api_url, SIGN_UP, _login(sb)["id_token"],
                                           {"user": {"email": _ada(sb)[0]}}))


@_reproduces("api-signup-no-email")
def _no_email_claim(sb: "Sandbox") -> requests.Response:
    email, password = _new_user(sb, "noemail")
    id_token = _login(sb, email, password, scope="openid profile")["id_token"]
    return _gql(sb.api_url, SIGN_UP, id_token, {"user": {"email": email}})


@_reproduces("api-signup-email-mismatch")
def _other_email(sb: "Sandbox") -> requests.Response:
    email, password = _new_user(sb, "mismatch")
    return _gql(sb.api_url, SIGN_UP, _login(sb, email, password)["id_token"],
                {"user": {"email": "someone.else@example.com"}})


_recipe("api-unknown-role", lambda sb: _gql(
    sb.api_url, 'mutation { apiTokenCreate(data: {name: "catalog", roles: {connect: [{name: "No such role"}]}}) '
                "{ id } }", sb.api_token))
_recipe("api-workspace-header-missing", lambda sb: _gql(sb.api_host, USER_QUERY))
_recipe("api-get-not-allowed", lambda sb: requests.get(sb.api_url, timeout=TIMEOUT))
_recipe("api-method-not-allowed", lambda sb: requests.put(sb.api_url, json={"query": USER_QUERY}, timeout=TIMEOUT))
_recipe("api-endpoint-not-found", lambda sb: _gql(sb.api_url + "/extra", USER_QUERY))
_recipe("api-operation-name-not-string", lambda sb: _api_body(sb, b'{"query": "{ __typename }", "operationName": ["x"]}'))
_recipe("api-operation-name-unknown", lambda sb: _api_body(sb, b'{"query": "query A { __typename }", "operationName": "B"}'))
_recipe("api-content-type", lambda sb: requests.post(sb.api_url, data=json.dumps({"query": USER_QUERY}),
                                                     headers={"Content-Type": "text/plain"}, timeout=TIMEOUT))


def _api_body(sb: "Sandbox", data: bytes) -> requests.Response:
    return requests.post(sb.api_url, data=data, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)


_recipe("api-body-not-json", lambda sb: _api_body(sb, b"{not json"))
_recipe("api-batched", lambda sb: _api_body(sb, b"[]"))
_recipe("api-query-too-deep", lambda sb: _gql(
    sb.api_url, "{ " + "notesList { items { createdBy { roles { items { users { items { " * 3 + "id" + " } } } } } } }" * 3 + " }"))
_recipe("api-query-too-many-aliases", lambda sb: _gql(
    sb.api_url, "{ " + " ".join(f"a{i}: __typename" for i in range(sb.api.settings.max_aliases + 1)) + " }"))
_recipe("api-query-too-long", lambda sb: _gql(
    sb.api_url, "{ " + "__typename " * (sb.api.settings.max_query_tokens + 1) + "}"))
_recipe("api-no-query", lambda sb: _api_body(sb, b'{"query": 5}'))
_recipe("api-variables-not-object", lambda sb: _api_body(sb, b'{"query": "{ __typename }", "variables": "{}"}'))
_recipe("api-body-too-large", lambda sb: _api_body(
    sb, json.dumps({"query": "{ __typename }", "variables": {"padding": "x" * sb.api.settings.max_body_bytes}})
    .encode()))


@_reproduces("api-jwks-unavailable")
def _keys_out_of_reach(sb: "Sandbox") -> requests.Response:
    down = f"http://localhost:{_free_port()}/"  # nothing listens there: the provider is down

    def profile_for_a_provider_that_is_down(api: dict[str, Any]) -> None:
        profiles = api["workspaces"][0]["authentication_profiles"]
        profiles.append({**profiles[0], "id": "cl0catalogdownprofile001", "domain": down})
    with _throwaway(api=profile_for_a_provider_that_is_down) as box:
        return _gql(box.api_url, USER_QUERY, _craft(_claims_for(box, issuer=down)))


@_reproduces("api-note-title-null")
def _null_title(sb: "Sandbox") -> requests.Response:
    created = _gql(sb.api_url, 'mutation { noteCreate(data: {title: "catalog"}) { id } }', sb.api_token)
    note_id = created.json()["data"]["noteCreate"]["id"]
    update = "mutation($id: ID) { noteUpdate(filter: {id: $id}, data: {title: null}) { id } }"
    answer = _gql(sb.api_url, update, sb.api_token, {"id": note_id})
    _gql(sb.api_url, "mutation($id: ID) { noteDelete(filter: {id: $id}) { success } }", sb.api_token, {"id": note_id})
    return answer


_recipe("api-graphql-invalid-query", lambda sb: _gql(sb.api_url, "{ nosuchfield }"))
_recipe("api-graphql-invalid-variables", lambda sb: _gql(sb.api_url, "query($x: Int) { usersList(first: $x) { count } }",
                                                         sb.api_token, {"x": "E"}))
_recipe("api-graphql-syntax", lambda sb: _gql(sb.api_url, "{ __typename"))


# -- checks the client makes ----------------------------------------------------------------------
def _jwks_keys(sb: "Sandbox") -> Callable[[str | None], Any]:
    from .jwks import JwksCache
    return JwksCache(sb.idp_url + ".well-known/jwks.json").key_for


def _verify_error(sb: "Sandbox", token: str, audience: str, **expect: Any) -> dict[str, Any]:
    from .verify import Expectations, TokenRejected, verify_token
    issuer = expect.pop("issuer", sb.idp_url)
    try:
        verify_token(token, _jwks_keys(sb), Expectations(issuer=issuer, audience=audience, **expect),
                     now=sb.clock.now())
    except TokenRejected as rejected:
        return _client_error(rejected)
    raise RuntimeError("the token passed verification: nothing to reproduce")


@_reproduces("client-state-mismatch")
def _state_mismatch(sb: "Sandbox") -> dict[str, Any]:
    from authlib.oauth2.rfc6749.errors import MismatchingStateException
    from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response

    callback = _hosted_login(sb, _spa_params(sb, state="state-sent-at-login")).headers["location"]
    try:
        parse_authorization_code_response(callback, state="state-the-app-remembers")
    except MismatchingStateException as error:
        return _client_error(error)
    raise RuntimeError("Authlib accepted the callback: nothing to reproduce")


@_reproduces("client-nonce-mismatch")
def _nonce_mismatch(sb: "Sandbox") -> dict[str, Any]:
    _, tokens = _code_tokens(sb, nonce="nonce-of-this-login")
    return _verify_error(sb, tokens["id_token"], sb.spa_client_id, nonce="nonce-of-another-login")


@_reproduces("client-at-hash-mismatch")
def _at_hash_mismatch(sb: "Sandbox") -> dict[str, Any]:
    from authlib.oidc.core import ImplicitIDToken
    from joserfc.errors import JoseError

    from .verify import Expectations, verify_token

    nonce = secrets.token_urlsafe(8)
    redirect = _hosted_login(sb, _spa_params(sb, response_type="token id_token", nonce=nonce,
                                             code_challenge=None, code_challenge_method=None,
                                             audience=sb.api_audience))
    answer = _url_params(redirect.headers["location"])
    other_access_token = _login(sb)["access_token"]  # from another login
    claims = verify_token(answer["id_token"], _jwks_keys(sb), Expectations(
        issuer=sb.idp_url, audience=sb.spa_client_id, nonce=nonce), now=sb.clock.now())  # signature, iss, aud, exp
    id_token = ImplicitIDToken(claims, {"alg": "RS256"}, {"iss": {"values": [sb.idp_url]}},
                               {"nonce": nonce, "client_id": sb.spa_client_id, "access_token": other_access_token})
    try:
        id_token.validate(now=int(sb.clock.now()))  # Authlib's OIDC checks, at_hash among them
    except JoseError as error:
        return _client_error(error)
    raise RuntimeError("Authlib accepted the ID token: nothing to reproduce")


@_reproduces("client-token-expired")
def _expired_in_storage(sb: "Sandbox") -> dict[str, Any]:
    stored = _login(sb)["id_token"]
    with _clock_moved(sb, 36_000 + 1):
        return _verify_error(sb, stored, sb.web_client_id)


@_reproduces("client-issuer-mismatch")
def _issuer_without_slash(sb: "Sandbox") -> dict[str, Any]:
    return _verify_error(sb, _login(sb)["id_token"], sb.web_client_id, issuer=sb.idp_url.rstrip("/"))


def _sandbox_callback(sb: "Sandbox", **target_changes: Any) -> tuple[Any, Any, Any]:
    """A code+PKCE login on the sandbox through helpers.flows: (target, request, callback)."""
    import dataclasses

    from .config import target_from_sandbox
    from .flows import sandbox_login, start_authorization

    target = dataclasses.replace(target_from_sandbox(sb), **target_changes)
    request = start_authorization(target)
    return target, request, sandbox_login(request, *_ada(sb))


def _refused_callback(target: Any, request: Any, callback: Any) -> dict[str, Any]:
    from .flows import FlowError, exchange_code
    try:
        exchange_code(target, request, callback)
    except FlowError as error:
        return _client_error(error)
    raise RuntimeError("exchange_code accepted the callback: nothing to reproduce")


@_reproduces("client-callback-iss-mismatch")
def _iss_mismatch(sb: "Sandbox") -> dict[str, Any]:
    import dataclasses
    target, request, callback = _sandbox_callback(sb)
    mixed_up = dataclasses.replace(callback, params={**callback.params, "iss": "https://attacker.example/"})
    return _refused_callback(target, request, mixed_up)


@_reproduces("client-callback-iss-missing")
def _iss_missing(sb: "Sandbox") -> dict[str, Any]:
    return _refused_callback(*_sandbox_callback(sb, iss_parameter_supported=True))


# -- CORS: a browser's preflight from an origin the sandbox does not allow (issue 7, browser) ---------
def _preflight(url: str, headers: str, origin: str = "https://evil.example") -> requests.Response:
    return requests.options(url, timeout=TIMEOUT, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers})


def _app_origin(sb: "Sandbox") -> str:
    return sb.sample_app_url.rstrip("/")  # an origin both the identity provider and the API allow


_recipe("idp-token-cors-origin-not-allowed", lambda sb: _preflight(sb.idp_url + "oauth/token", "content-type"))
_recipe("api-cors-origin-not-allowed", lambda sb: _preflight(sb.api_url, "authorization, content-type"))
_recipe("idp-token-cors-request-not-allowed", lambda sb: _preflight(
    sb.idp_url + "oauth/token", "content-type, x-made-up-header", _app_origin(sb)))
_recipe("api-cors-request-not-allowed", lambda sb: _preflight(
    sb.api_url, "authorization, x-made-up-header", _app_origin(sb)))


# -- subscriptions over WebSocket -----------------------------------------------------------------
def _ws_answer(sb: "Sandbox", *messages: Any, token: str | None = None, init: bool = True,
               sock: socket.socket | None = None) -> dict[str, Any]:
    """Send protocol messages (a str is sent as it is) and return the first error message the API answers."""
    from websockets.sync.client import connect

    from .subscriptions import LEGACY, init_message, ws_url

    url = ws_url(sb.api_url)
    with connect(url, subprotocols=[LEGACY], open_timeout=TIMEOUT, close_timeout=1, sock=sock,  # type: ignore[list-item]
                 max_queue=1) as ws:
        if init:
            ws.send(json.dumps(init_message(token)))
            json.loads(ws.recv(TIMEOUT))  # connection_ack
        for message in messages:
            ws.send(message if isinstance(message, str) else json.dumps(message))
        while True:
            answer = json.loads(ws.recv(TIMEOUT))
            if answer.get("type") in ("error", "connection_error"):
                return answer


def _start(op_id: str = "1", query: str | None = None) -> dict[str, Any]:
    from .subscriptions import NOTE_CHANGES, start_message
    return start_message(op_id, query or NOTE_CHANGES)


@_reproduces("api-ws-token-expired")
def _expired_on_open_socket(sb: "Sandbox") -> dict[str, Any]:
    from .subscriptions import SubscriptionClient
    with SubscriptionClient(sb.api_url, token=_login(sb)["id_token"], timeout=TIMEOUT) as client:
        client.subscribe("subscription { Notes { mutation } }")
        with _clock_moved(sb, 36_000 + 1):
            while True:
                message = client.next_message()
                if message.get("type") == "connection_error":
                    return message


@_reproduces("api-ws-init-timeout")
def _silent_socket(sb: "Sandbox") -> dict[str, Any]:
    with _api_settings(sb, ws_init_timeout=0.2):
        return _ws_answer(sb, init=False)


_recipe("api-ws-not-initialised", lambda sb: _ws_answer(sb, _start(), init=False))
_recipe("api-ws-too-many-inits", lambda sb: _ws_answer(sb, {"type": "connection_init", "payload": {}}))
_recipe("api-ws-bad-message", lambda sb: _ws_answer(sb, "{not json"))
_recipe("api-ws-duplicate-id", lambda sb: _ws_answer(sb, _start(), _start(), token=_login(sb)["id_token"]))
_recipe("api-ws-not-subscription", lambda sb: _ws_answer(sb, _start("1", USER_QUERY)))
_recipe("api-ws-one-operation", lambda sb: _ws_answer(sb, _start(
    "1", "subscription A { Notes { mutation } } subscription B { Notes { mutation } }")))


@_reproduces("api-ws-too-many-operations")
def _one_too_many(sb: "Sandbox") -> dict[str, Any]:
    with _api_settings(sb, ws_max_operations_per_socket=1):
        return _ws_answer(sb, _start("1"), _start("2"), token=_login(sb)["id_token"])


@_reproduces("api-ws-too-many-sockets")
def _second_socket(sb: "Sandbox") -> dict[str, Any]:
    from websockets.sync.client import connect

    from .subscriptions import ws_url
    open_before = sb.api.subscriptions.open_sockets()
    with _api_settings(sb, ws_max_sockets_per_client=open_before + 1):
        with connect(ws_url(sb.api_url), open_timeout=TIMEOUT, close_timeout=1):
            return _ws_answer(sb, init=False)


@contextmanager
def _stalled_subscription(sb: "Sandbox", token: str, query: str) -> Iterator[Iterator[dict[str, Any]]]:
    """Subscribe, then read nothing until the caller iterates the answers (text messages) yielded.

    It speaks WebSocket through the ``websockets`` library's sans-I/O protocol over a plain socket with a
    small receive buffer, so that it really stops reading (a client library keeps reading in the background).
    """
    from websockets.client import ClientProtocol
    from websockets.frames import Opcode
    from websockets.protocol import State
    from websockets.typing import Subprotocol
    from websockets.uri import parse_uri

    from .subscriptions import LEGACY, init_message, start_message, ws_url

    protocol = ClientProtocol(parse_uri(ws_url(sb.api_url)), subprotocols=[Subprotocol(LEGACY)], max_size=None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65_536)  # before connect: no receive autotuning
    sock.settimeout(TIMEOUT)

    def send(message: dict[str, Any] | None = None) -> None:
        if message is not None:
            protocol.send_text(json.dumps(message).encode())
        sock.sendall(b"".join(protocol.data_to_send()))

    def texts() -> Iterator[dict[str, Any]]:
        while True:
            for event in protocol.events_received():
                if getattr(event, "opcode", None) is Opcode.TEXT:
                    yield json.loads(event.data)
            data = sock.recv(65_536)
            if not data:
                return
            protocol.receive_data(data)

    try:
        sock.connect(("127.0.0.1", int(sb.api_host.rsplit(":", 1)[1].strip("/"))))
        protocol.send_request(protocol.connect())
        send()
        while protocol.state is State.CONNECTING:  # the handshake's 101 response
            protocol.receive_data(sock.recv(65_536))
        protocol.events_received()
        answers = texts()
        send(init_message(token))
        next(answers)  # connection_ack
        events = sb.api.subscriptions.events
        listening = events.subscriptions()
        send(start_message("1", query))
        events.wait_for(listening + 1, TIMEOUT)  # the subscription is listening
        yield answers
    finally:
        sock.close()


def _big_note(sb: "Sandbox", token: str) -> None:
    from .graphql import GraphQLClient
    GraphQLClient(sb.api_url, token).execute(
        "mutation($b: String) { noteCreate(data: {title: \"big\", body: $b}) { id } }", {"b": "x" * 900_000})


@_reproduces("api-ws-slow-consumer")
def _reader_that_stops(sb: "Sandbox") -> dict[str, Any]:
    with _throwaway(ws_max_queued_events=2) as box:
        token = _login(box)["id_token"]
        with _stalled_subscription(box, token, "subscription { Notes { node { body } } }") as answers:
            events = box.api.subscriptions.events
            deadline = time.monotonic() + 60
            while events.subscriptions() and time.monotonic() < deadline:  # until the API lets the subscriber go
                _big_note(box, token)
            return next(a for a in answers if a.get("type") in ("error", "connection_error"))
