"""Encrypted tokens (JWE, RFC 7516 compact serialization), recognised by their protected header alone.

Current Auth0 tenants answer a login that asks for no ``audience`` with such an access token: five
base64url parts (header, encrypted key, IV, ciphertext, tag) under the protected header
``{"alg": "dir", "enc": "A256GCM", "iss": "https://TENANT/"}``. Only the identity provider holds the key,
so nobody else can read the claims; only its ``/userinfo`` accepts the token
(https://auth0.com/docs/secure/tokens/access-tokens; https://www.rfc-editor.org/rfc/rfc7516#section-7.1).

Nothing here decrypts: only the header, which is not secret, is read.
"""
from __future__ import annotations

import json
import re
from typing import Any

from jwt.utils import base64url_decode

__all__ = ["PARTS", "protected_header"]

PARTS = ("protected header", "encrypted key", "initialization vector", "ciphertext", "authentication tag")
MAX_HEADER_CHARS = 4096
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def protected_header(token: Any) -> dict[str, Any] | None:
    """The protected header of a compact JWE (five dot-separated parts whose first is base64url JSON naming
    ``alg`` and ``enc``), or ``None`` for anything else. Decrypts nothing."""
    if not isinstance(token, str) or token.count(".") != 4:
        return None
    segment = token.split(".", 1)[0]
    if len(segment) > MAX_HEADER_CHARS or not BASE64URL.fullmatch(segment):  # (the decoder skips stray characters)
        return None
    try:
        header = json.loads(base64url_decode(segment))
    except (ValueError, RecursionError):  # binascii.Error, UnicodeError and JSONDecodeError are ValueErrors
        return None
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str) or not isinstance(header.get("enc"), str):
        return None
    return header
