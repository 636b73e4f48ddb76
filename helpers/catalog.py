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

This module is data and matching only: it imports no client of the lab (:mod:`helpers.exceptions` builds on
it). The live reproductions of the entries are in :mod:`helpers.reproductions`.
"""
from __future__ import annotations

import csv
import functools
import html
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import parse_qsl, urlsplit

import requests

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CATALOG_FILE", "CatalogEntry", "ErrorAnswer", "UnknownError", "catalog", "entries", "explain", "read_error",
           "search", "url_params"]

CATALOG_FILE = Path(__file__).resolve().parents[1] / "data" / "error_catalog.csv"


class UnknownError(LookupError):
    """No catalog entry matches the error (or no reproduction exists for an id).

    A :class:`LookupError`, outside :class:`helpers.exceptions.LabError`'s tree: the exceptions import
    this module (for their catalog ids), so this module cannot import them.
    """


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


def catalog() -> "pd.DataFrame":
    """The catalog as a DataFrame (one row per entry; ``http_status`` is empty for client-side errors)."""
    import pandas as pd  # here, not at the top: the verifier (and so the sandbox) imports this module

    frame = pd.DataFrame([vars(e) for e in _load()], columns=[f.name for f in fields(CatalogEntry)])
    frame["http_status"] = frame["http_status"].astype("Int64")
    return frame


def search(text: str) -> "pd.DataFrame":
    """The catalog rows whose text columns contain ``text`` (case-insensitive)."""
    import pandas as pd

    frame = catalog()
    text_columns = [c for c in frame.columns if c != "http_status"]
    hit = pd.Series(False, index=frame.index)
    for column in text_columns:
        hit |= frame[column].str.contains(text, case=False, regex=False)
    return frame[hit].reset_index(drop=True)


# ---------------------------------------------------------------------- explain
@dataclass(frozen=True)
class ErrorAnswer:
    """What an error answer says, whatever its shape (an HTTP answer, a GraphQL error, an OAuth body, an exception)."""

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
    401), a callback URL or its parameters, a :class:`~helpers.exceptions.GraphQLCallError`, or any
    exception with ``code`` / ``error`` (``message`` / ``description``) attributes (its ``catalog_where``,
    if any, names the endpoints it can come from: ``{"api"}`` for a GraphQL error). Raises
    :class:`UnknownError` when no entry has that code.
    """
    return _match(read_error(error))


def read_error(error: Any) -> ErrorAnswer:
    """The one error-answer reader: any shape :func:`explain` accepts, as (code, texts, details, status, where)."""
    if isinstance(error, requests.Response):
        return _from_response(error)
    if isinstance(error, str):
        params = url_params(error)
        if "error" not in params:
            raise UnknownError("This URL carries no error parameter (error=...).")
        return _from_mapping(params, None, frozenset({"authorize"}))
    if isinstance(error, Mapping):
        return _from_mapping(error, None, None)
    return _from_object(error)


def _from_response(response: requests.Response) -> ErrorAnswer:
    status = response.status_code
    location = response.headers.get("location")
    if 300 <= status < 400 and location:
        params = url_params(location)
        if "error" in params:
            return _from_mapping(params, status, frozenset({"authorize"}))
        raise UnknownError(f"This redirect carries no error: {urlsplit(location).path}")
    challenge = response.headers.get("www-authenticate", "")
    if status == 401 and "error=" in challenge:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        return ErrorAnswer(params.get("error", ""), (params.get("error_description", ""),), {}, status,
                       frozenset({"userinfo"}))
    content_type = response.headers.get("content-type", "")
    if "html" in content_type:
        code = re.search(r'id="error-code">(.*?)</strong>', response.text, re.S)
        text = re.search(r'id="error-description">(.*?)</span>', response.text, re.S)
        if code:
            return ErrorAnswer(html.unescape(code.group(1)).strip(),
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


def _from_mapping(body: Mapping[str, Any], status: int | None, where: frozenset[str] | None) -> ErrorAnswer:
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
        return ErrorAnswer(str(body["error"]), _texts(body.get("error_description")), {}, status, where)
    if "code" in body and ("description" in body or "name" in body or "statusCode" in body):  # /dbconnections
        status = status if status is not None else _int(body.get("statusCode"))
        return ErrorAnswer(str(body["code"]), _texts(body.get("description"), body.get("message")), {}, status,
                       frozenset({"signup"}))
    if "message" in body or "code" in body:
        return _graphql_signal(body, status)
    if "data" in body:
        raise UnknownError("This GraphQL answer has no errors.")
    raise UnknownError(f"Not an error shape this catalog knows (keys: {sorted(body)[:6]}).")


def _graphql_signal(error: Mapping[str, Any], status: int | None) -> ErrorAnswer:
    code = error.get("code")
    details = error.get("details") if isinstance(error.get("details"), Mapping) else {}
    return ErrorAnswer(code if isinstance(code, str) else "", _texts(error.get("message")), details, status,
                   frozenset({"api"}))


def _from_object(error: Any) -> ErrorAnswer:
    response = getattr(error, "response", None)
    code = next((v for v in (getattr(error, name, None) for name in ("code", "error", "error_code"))
                 if isinstance(v, str)), None)
    where = getattr(error, "catalog_where", None)
    if code is None and where is not None:
        code = ""  # a GraphQL error without a code (syntax, validation): the catalog's rows with no code
    if code is None:
        if isinstance(response, requests.Response):  # requests.HTTPError and the like
            return _from_response(response)
        raise UnknownError(f"{type(error).__name__} has no code or error attribute to look up.")
    texts = _texts(*(getattr(error, name, None) for name in ("message", "description", "error_description")),
                   str(error) if isinstance(error, BaseException) else None)
    details = getattr(error, "details", None)
    status = next((v for v in (getattr(error, name, None) for name in ("status_code", "status")) if _int(v)), None)
    return ErrorAnswer(code, texts, details if isinstance(details, Mapping) else {}, _int(status),
                   frozenset(where) if where is not None else None)


def _match(signal: ErrorAnswer) -> CatalogEntry:
    pool = [e for e in _load() if e.code == signal.code]
    if not pool:
        text = signal.texts[0] if signal.texts else ""
        raise UnknownError(
            f"No catalog entry has the code {signal.code or '(none)'!r} (message {text!r}). "
            f"Try catalog.search({(signal.code or text)[:40]!r}), or add a row to {CATALOG_FILE.name}.")

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


def url_params(url: str) -> dict[str, str]:
    """The parameters of a URL's query and fragment together (an error redirect uses either)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.update(parse_qsl(parts.fragment, keep_blank_values=True))
    return params
