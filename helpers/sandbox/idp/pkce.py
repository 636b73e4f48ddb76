"""PKCE on the identity provider's side (RFC 7636): the challenge ``/authorize`` accepts, and the verifier the
token request must match. Only ``S256`` is taken (RFC 9700 §2.1.1)."""
from __future__ import annotations

import hashlib
import hmac
import re

from jwt.utils import base64url_encode

from . import errors as E
from .errors import AuthorizeRedirectError

CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def requested_challenge(challenge: str | None, method: str | None, public_client: bool) -> str | None:
    """The S256 challenge of an authorization-code request, or ``None`` when a confidential client sends none;
    :class:`~helpers.sandbox.idp.errors.AuthorizeRedirectError` for anything else."""
    if challenge is None and method is None:
        if public_client:
            raise AuthorizeRedirectError("invalid_request", E.missing("code_challenge") +
                                         " (public clients must use PKCE)")
        return None
    if method != "S256":
        raise AuthorizeRedirectError("invalid_request", "code_challenge_method must be S256.")
    if challenge is None or not CHALLENGE.fullmatch(challenge):
        raise AuthorizeRedirectError("invalid_request", "code_challenge must be 43 base64url characters (S256).")
    return challenge


def verifier_matches(verifier: str | None, challenge: str | None) -> bool:
    """Whether a token request's ``code_verifier`` fits its code: none for a code without a challenge (a verifier
    there is a PKCE downgrade, RFC 9700 §4.8.2), else one whose S256 is the challenge."""
    if challenge is None:
        return verifier is None
    if verifier is None or not VERIFIER.fullmatch(verifier):
        return False
    computed = base64url_encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode()
    return hmac.compare_digest(computed, challenge)
