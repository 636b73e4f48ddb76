"""Reading what a client sent the identity provider: bodies (JSON or form, capped), credentials, parameters."""
from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request

from ..common.limits import BodyTooLarge, NotJson, capped_body, strict_json
from . import errors as E
from .errors import OAuthError

MAX_BODY_BYTES = 64 * 1024


def required(params: dict[str, str], name: str) -> str:
    """A parameter the request must carry (``invalid_request`` naming it when absent)."""
    value = params.get(name)
    if value is None:
        raise OAuthError(400, "invalid_request", E.missing(name))
    return value


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic`` client credentials (form-urlencoded per RFC 6749 §2.3.1)."""
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        client_id, secret = decoded.split(":", 1)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise OAuthError(401, "access_denied", E.UNAUTHORIZED) from None
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or ``None`` for anything else."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value or "," in value:
        return None
    return value


async def request_params(request: Request, allow_objects: bool = False) -> dict[str, Any]:
    """Parameters of a JSON or form body; ``null`` and ``""`` count as absent (auth0-python sends both)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        body = await capped_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        raise OAuthError(413, "invalid_request", "The request body is too large.") from None
    if content_type == "application/json":
        try:
            data = strict_json(body or b"{}")
        except NotJson:
            raise OAuthError(400, "invalid_request", "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise OAuthError(400, "invalid_request", "The body must be a JSON object.")
    elif content_type in ("application/x-www-form-urlencoded", ""):
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError(400, "invalid_request", "The form body cannot be read.") from None
        names = [name for name, _ in pairs]
        if len(names) != len(set(names)):  # RFC 6749 §3.2: no parameter twice
            raise OAuthError(400, "invalid_request", "A parameter was sent more than once.")
        data = dict(pairs)
    else:
        raise OAuthError(400, "invalid_request", "Send application/json or application/x-www-form-urlencoded.")
    params: dict[str, Any] = {}
    for name, value in data.items():
        if value is None or value == "":
            continue
        if not isinstance(value, str) and not (allow_objects and isinstance(value, dict)):
            raise OAuthError(400, "invalid_request", "Every parameter must be a string.")
        params[name] = value
    return params


async def read_form(request: Request) -> dict[str, str]:
    """A browser form post, read defensively (bad input gives empty fields, never an error page 500)."""
    try:
        params = await request_params(request)
    except OAuthError:
        return {}
    return {k: v for k, v in params.items() if isinstance(v, str)}
