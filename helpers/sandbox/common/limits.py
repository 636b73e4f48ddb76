"""Request input limits both servers apply before reading what a caller sent: a capped body and strict JSON.

Each server turns :class:`BodyTooLarge` and :class:`NotJson` into its own error shape (OAuth JSON or 8base's).
"""
from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

__all__ = ["BodyTooLarge", "NotJson", "capped_body", "strict_json"]


class BodyTooLarge(Exception):
    """The body is (or says it is) longer than the server reads."""


class NotJson(Exception):
    """The body is not JSON text (malformed, too deeply nested, or holding a lone surrogate)."""


async def capped_body(request: Request, limit: int) -> bytes:
    """The request body, refused once it (or its declared ``Content-Length``) passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return body


def strict_json(raw: bytes) -> Any:
    """Parse JSON; a lone surrogate (``\\ud800``) is no text and is refused like malformed JSON."""
    try:
        data = json.loads(raw)
        json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # (UnicodeEncodeError and JSONDecodeError are ValueErrors)
        raise NotJson from None
    return data
