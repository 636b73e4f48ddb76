"""The records every flow returns: an HTTP exchange as it went over the wire (secrets redacted), token sets,
authorization requests, callbacks, and :class:`FlowError`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests

from ..exceptions import FlowError

TIMEOUT = 10.0
SECRET_FIELDS = ("client_secret", "password", "code_verifier")
TOKEN_FIELDS = ("access_token", "id_token", "refresh_token")
SHOWN_CHARS = 12


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
