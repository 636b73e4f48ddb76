"""What the reproductions share: the registry of recipes, the lab's own flows on a sandbox, and state put back.

Logins, PKCE and the hosted login page go through :mod:`helpers.flows` (what a learner's app does); the
recipes send the one faulty request themselves with ``requests``, so that the raw answer comes back.
"""
from __future__ import annotations

import dataclasses
import http.client
import json
import secrets
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import requests
from jwt.utils import base64url_encode

from ..catalog import CATALOG_FILE
from ..config import Target, target_from_sandbox
from ..flows import (AuthorizationRequest, Callback, HttpExchange, TokenSet, password_realm, pkce_pair,
                      sandbox_login, start_authorization)
from ..sandbox import Sandbox, launch_sandbox

TIMEOUT = 10
Answer = dict[str, Any] | requests.Response
Recipe = Callable[["Sandbox"], Answer]
REPRODUCERS: dict[str, Recipe] = {}
"""Catalog id -> a function that makes the error happen against a running sandbox and returns the answer."""


def reproduces(*ids: str) -> Callable[[Recipe], Recipe]:
    """Register the decorated function as the reproduction of ``ids``."""
    def register(function: Recipe) -> Recipe:
        for entry_id in ids:
            REPRODUCERS[entry_id] = function
        return function
    return register


def recipe(entry_id: str, function: Recipe) -> None:
    """Register a one-line reproduction."""
    REPRODUCERS[entry_id] = function


# -- the lab's flows on a sandbox ------------------------------------------------------------------
def target(sb: "Sandbox", **changes: Any) -> Target:
    """The sandbox as helpers.config describes it (``changes`` replace fields)."""
    return dataclasses.replace(target_from_sandbox(sb), **changes) if changes else target_from_sandbox(sb)


def ada(sb: "Sandbox") -> tuple[str, str]:
    """The seeded user the recipes log in as: (email, password)."""
    user = next((u for u in sb.users if u["email"] == "ada@example.com"), sb.users[0])
    return user["email"], user["password"]


def login(sb: "Sandbox", email: str | None = None, password: str | None = None, *,
          scope: str = "openid profile email", audience: str | None = None) -> TokenSet:
    """Tokens from the web client's password login (its ID tokens are what the API accepts)."""
    if email is None:
        email, password = ada(sb)
    return password_realm(target(sb), email, password or "", scope=scope, audience=audience)


def hosted_login(sb: "Sandbox", **options: Any) -> tuple[AuthorizationRequest, Callback]:
    """``/authorize`` (SPA, code + PKCE unless ``options`` say otherwise) and the hosted login page as Ada."""
    request = start_authorization(target(sb), **options)
    return request, sandbox_login(request, *ada(sb))


def pkce_params(sb: "Sandbox", *, pkce: bool = True, challenge: str | None = None, **changes: Any) -> dict[str, Any]:
    """The parameters of the SPA's code + PKCE ``/authorize`` request, with ``changes`` (``None`` drops one).

    The challenge is flows' S256 one unless ``challenge`` gives another; ``pkce=False`` sends none.
    """
    params = {"response_type": "code", "client_id": sb.spa_client_id, "redirect_uri": sb.redirect_uri,
              "scope": "openid profile email", "state": secrets.token_urlsafe(12)}
    if pkce:
        params.update({"code_challenge": challenge or pkce_pair()[1], "code_challenge_method": "S256"})
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def new_user(sb: "Sandbox", prefix: str = "catalog") -> tuple[str, str]:
    """A fresh identity-provider user (not signed up in the API)."""
    email, password = f"{prefix}-{secrets.token_hex(5)}@example.com", "catalog-sandbox-pass"
    response = signup(sb, {"email": email, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"the lab sign-up failed: {response.status_code} {response.text[:200]}")
    return email, password


# -- raw requests ----------------------------------------------------------------------------------
def token_request(sb: "Sandbox", body: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
    """``POST /oauth/token`` with a JSON body."""
    return requests.post(sb.idp_url + "oauth/token", json=body, timeout=TIMEOUT, **kwargs)


def signup(sb: "Sandbox", fields: dict[str, Any], **kwargs: Any) -> requests.Response:
    """``POST /dbconnections/signup`` for the SPA (``None`` fields are left out)."""
    body = {"client_id": sb.spa_client_id, "connection": sb.connection, **fields}
    return requests.post(sb.idp_url + "dbconnections/signup", json={k: v for k, v in body.items() if v is not None},
                         timeout=TIMEOUT, **kwargs)


def gql(url: str, query: str, token: str | None = None, variables: dict[str, Any] | None = None,
        **headers: str) -> requests.Response:
    """A GraphQL POST, answered raw."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=TIMEOUT)


def authorize(sb: "Sandbox", **params: Any) -> requests.Response:
    """``GET /authorize`` without following the redirect."""
    return requests.get(sb.idp_url + "authorize", params=params, allow_redirects=False, timeout=TIMEOUT)


def as_response(status: int, headers: list[tuple[str, str]] | dict[str, str], body: bytes,
                url: str) -> requests.Response:
    """An answer received some other way, as a :class:`requests.Response` (what explain() and the tests read)."""
    response = requests.Response()
    response.status_code = status
    response.headers = requests.structures.CaseInsensitiveDict(headers)
    response._content = body
    response.url = url
    response.encoding = "utf-8"
    return response


def response_of(exchange: HttpExchange) -> requests.Response:
    """The response half of a recorded :class:`helpers.flows.HttpExchange`."""
    return as_response(exchange.status, exchange.response_headers, exchange.response_body.encode(), exchange.url)


def raw_post(url: str, headers: list[tuple[str, str]], body: bytes) -> requests.Response:
    """A POST with headers ``requests`` cannot send (the same header twice)."""
    split = urlsplit(url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=TIMEOUT)
    try:
        connection.putrequest("POST", (split.path or "/") + (f"?{split.query}" if split.query else ""))
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            connection.putheader(name, value)
        connection.endheaders(body)
        raw = connection.getresponse()
        return as_response(raw.status, raw.getheaders(), raw.read(), url)
    finally:
        connection.close()


def craft(claims: dict[str, Any], header: dict[str, Any] | None = None, signature: bytes = b"not-a-signature") -> str:
    """A JWT put together without signing (a signature of our choosing): tokens the API must refuse."""
    head = header or {"alg": "RS256", "typ": "JWT", "kid": "catalog"}
    return b".".join(base64url_encode(part) for part in (
        json.dumps(head).encode(), json.dumps(claims).encode(), signature)).decode()


def claims_for(sb: "Sandbox", issuer: str | None = None) -> dict[str, Any]:
    """Plausible ID-token claims for the web client."""
    now = int(sb.clock.now())
    return {"iss": issuer or sb.idp_url, "sub": "auth0|catalog", "aud": sb.web_client_id, "iat": now,
            "exp": now + 3600, "email": "ada@example.com", "email_verified": True}


def client_error(error: Exception) -> dict[str, Any]:
    """A client library's error in the OAuth shape it reports: ``{"error", "error_description"}``."""
    code = getattr(error, "code", None) if isinstance(getattr(error, "code", None), str) else getattr(error, "error")
    text = getattr(error, "description", None) or getattr(error, "message", None) or str(error)
    return {"error": code, "error_description": text}


# -- shared state, always put back -----------------------------------------------------------------
@contextmanager
def clock_moved(sb: "Sandbox", seconds: float) -> Iterator[None]:
    """The sandbox clock moved by ``seconds`` for the block."""
    sb.clock.advance(seconds)
    try:
        yield
    finally:
        sb.clock.advance(-seconds)


@contextmanager
def self_signup(sb: Sandbox, mode: str) -> Iterator[None]:
    """The lab profile's self sign-up mode changed for the block (through the Sandbox handle)."""
    previous = sb.set_self_signup(mode)
    try:
        yield
    finally:
        sb.set_self_signup(*previous)


@contextmanager
def throwaway(tenant: Callable[[dict[str, Any]], None] | None = None,
              api: Callable[[dict[str, Any]], None] | None = None, **settings: Any) -> Iterator["Sandbox"]:
    """A sandbox of its own, started from edited copies of the seed files, stopped afterwards."""
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


def free_port() -> int:
    """A port nothing listens on (a provider that is down)."""
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]
