"""What went over the wire, printed for a lesson: raw HTTP with run-to-run noise masked, a browser's hops.

``HttpExchange.as_text()`` (helpers.flows) already redacts secrets and shortens tokens; :func:`mask` also hides
what changes at every run (server dates, ``state``/``nonce`` values, shortened random strings), so a printed
exchange reads the same on every run and under strict nbval.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import requests

from .flows import HttpExchange

_NOISE = (  # (pattern, replacement), applied in order
    (re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "<date>"),
    (re.compile(r'(state=|name="state" value=")[\w-]{32}(?![\w-])'), r"\1<login-transaction>"),
    (re.compile(r"\b(state|nonce)=[\w-]{22}(?![\w-])"), r"\1=<\1>"),
    (re.compile(r"\bcode=[\w-]{22}(?![\w-])"), "code=<github-code>"),
    (re.compile(r"(?<![\w-])(?!eyJ)[\w-]{12}…"), "<random>…"),
)


def mask(text: str) -> str:
    """Hide what changes on every run: server dates, state/nonce, login transaction ids, shortened random tokens."""
    for pattern, replacement in _NOISE:
        text = pattern.sub(replacement, text)
    return text


def wire(exchange: HttpExchange | requests.Response) -> None:
    """Print one exchange (or a ``requests`` response's) as raw HTTP: secrets redacted, tokens shortened, masked."""
    if isinstance(exchange, requests.Response):
        exchange = HttpExchange.from_response(exchange)
    print(mask(exchange.as_text()))


def where(url: str, home: str = "") -> str:
    """A URL's path and the *names* of its query or fragment parameters (values stay private).

    The scheme and host are shown only when they differ from ``home``'s (for instance GitHub's, seen from the
    provider's)."""
    parts = urlsplit(url)
    names = [key for key, _ in parse_qsl(parts.fragment or parts.query)]
    host = f"{parts.scheme}://{parts.netloc}" if parts.netloc and parts.netloc != urlsplit(home).netloc else ""
    return host + parts.path + (("#" if parts.fragment else "?") + " & ".join(names) if names else "")


def hops(exchanges: Iterable[HttpExchange], home: str = "") -> pd.DataFrame:
    """Every request a browser made: method, path, status and where it was sent next (``home``: see :func:`where`).

    Without ``home``, the host of the first request is home."""
    exchanges = list(exchanges)
    home = home or (exchanges[0].url if exchanges else "")
    return pd.DataFrame([{"method": e.method, "request": where(e.url, home), "status": e.status,
                          "redirects to": where(e.response_headers.get("location", ""), home)} for e in exchanges],
                        columns=["method", "request", "status", "redirects to"])
