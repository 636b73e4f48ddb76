"""Teaching views of tokens: the three parts, every claim explained, two tokens side by side.

Nothing here verifies a signature: these functions only *look*. Use
:func:`helpers.verify.verify_token` before trusting any claim.
"""
from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from .exceptions import NotAJwt
from .jwe import protected_header

CLAIMS_FILE = Path(__file__).resolve().parents[1] / "data" / "claims.csv"
TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")
# jwt.io's colours: header red, payload purple, signature blue
COLOURS = {"header": "#fb015b", "payload": "#d63aff", "signature": "#00b9f1"}


@dataclass(frozen=True)
class TokenParts:
    """A JWT taken apart: the three base64url segments and what the first two decode to."""

    raw: str
    header_b64: str
    payload_b64: str
    signature_b64: str
    header: dict[str, Any]
    payload: dict[str, Any]

    @property
    def signature(self) -> bytes:
        return b64url_decode(self.signature_b64)


def b64url_decode(segment: str) -> bytes:
    """base64url without padding (RFC 7515 §2), decoded by hand to show there is no secret in it."""
    # By hand on purpose: this is the token's anatomy lesson (01/03 show that a JWT is only encoded, not
    # encrypted). Every other client module uses PyJWT's jwt.utils.base64url_encode/base64url_decode.
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode_parts(token: str) -> TokenParts:
    """Split and decode a JWT without verifying it."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise NotAJwt("a JWT has exactly three parts separated by dots")
    header_b64, payload_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(b64url_decode(header_b64))
        payload = json.loads(b64url_decode(payload_b64))
    except (ValueError, UnicodeDecodeError):
        raise NotAJwt("the header and payload of a JWT are base64url-encoded JSON") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise NotAJwt("the header and payload of a JWT are JSON objects")
    return TokenParts(token, header_b64, payload_b64, signature_b64, header, payload)


def kind_of(token: str) -> str:
    """What a token looks like: ``ID token``, ``access token``, ``machine access token``, ``encrypted (JWE)``
    (an access token issued without an audience by a current Auth0 tenant: only its header is read) or
    ``opaque`` (an older tenant's short string, or an API token)."""
    try:
        parts = decode_parts(token)
    except NotAJwt:
        return "encrypted (JWE)" if protected_header(token) is not None else "opaque"
    claims = parts.payload
    if claims.get("gty") == "client-credentials" or str(claims.get("sub", "")).endswith("@clients"):
        return "machine access token"
    if parts.header.get("typ", "").lower() in ("at+jwt", "application/at+jwt") or "scope" in claims:
        return "access token"
    return "ID token"


def audiences(claims: dict[str, Any]) -> list[str]:
    """A token's ``aud`` as a list: RFC 7519 §4.1.3 allows one string or an array of strings (none: empty)."""
    aud = claims.get("aud")
    if aud is None:
        return []
    return [str(a) for a in aud] if isinstance(aud, list) else [str(aud)]


@lru_cache(maxsize=1)
def claim_dictionary() -> pd.DataFrame:
    """``data/claims.csv``: claim, where (header/payload), meaning, which tokens, spec and link."""
    return pd.read_csv(CLAIMS_FILE, dtype=str).set_index("claim")


def readable_time(seconds: Any, now: float | None = None) -> str:
    """``2026-03-02 19:00:00 UTC (in 10:00:00)`` for a NumericDate; the value itself if it is not one."""
    if type(seconds) is not int:
        return repr(seconds)
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if now is None:
        return moment
    delta = int(seconds - now)
    sign = "in " if delta >= 0 else ""
    hours, rest = divmod(abs(delta), 3600)
    ago = "" if delta >= 0 else " ago"
    return f"{moment} ({sign}{hours}:{rest // 60:02d}:{rest % 60:02d}{ago})"


def explain(token: str, now: float | None = None) -> pd.DataFrame:
    """Every header parameter and claim of a token: value, readable value, meaning and spec link."""
    parts = decode_parts(token)
    dictionary = claim_dictionary()
    rows = []
    for where, values in (("header", parts.header), ("payload", parts.payload)):
        for name, value in values.items():
            known = name in dictionary.index
            rows.append({
                "part": where,
                "claim": name,
                "value": value,
                "readable": readable_time(value, now) if name in TIME_CLAIMS else "",
                "meaning": dictionary.at[name, "meaning"] if known else "Not a registered claim (custom or provider-specific).",
                "spec": dictionary.at[name, "spec"] if known else "",
                "link": dictionary.at[name, "link"] if known else "",
            })
    return pd.DataFrame(rows, columns=["part", "claim", "value", "readable", "meaning", "spec", "link"])


def compare(tokens: dict[str, str]) -> pd.DataFrame:
    """Claims of several tokens side by side (one column per token, ``—`` where a claim is absent)."""
    payloads = {}
    for label, token in tokens.items():
        try:
            payloads[label] = decode_parts(token).payload
        except NotAJwt:
            payloads[label] = {}
    names = list(dict.fromkeys(name for payload in payloads.values() for name in payload))
    rows = {name: {label: _cell(payload.get(name, "—")) for label, payload in payloads.items()} for name in names}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(tokens))
    table.index.name = "claim"
    table.loc["(kind)"] = [kind_of(token) for token in tokens.values()]
    return table


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def anatomy_html(token: str) -> str:
    """The token coloured as jwt.io shows it, above its decoded header and payload (escaped HTML)."""
    parts = decode_parts(token)
    coloured = ".".join(
        f'<span style="color:{COLOURS[name]}">{html.escape(segment)}</span>'
        for name, segment in (("header", parts.header_b64), ("payload", parts.payload_b64),
                              ("signature", parts.signature_b64)))
    decoded = "".join(
        f'<div style="border-left:4px solid {COLOURS[name]};padding-left:8px;margin:6px 0">'
        f"<b>{name}</b><pre style='margin:0'>{html.escape(json.dumps(value, indent=2))}</pre></div>"
        for name, value in (("header", parts.header), ("payload", parts.payload)))
    signature = (f'<div style="border-left:4px solid {COLOURS["signature"]};padding-left:8px">'
                 f"<b>signature</b>: {len(parts.signature)} bytes, RSA over "
                 "<code>base64url(header) + '.' + base64url(payload)</code></div>")
    return (f'<div style="font-family:monospace;word-break:break-all;font-size:12px">{coloured}</div>'
            f"{decoded}{signature}")
