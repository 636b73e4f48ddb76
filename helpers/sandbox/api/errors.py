"""Errors of the sandbox GraphQL API, shaped as 8base returns them: ``code`` and ``details`` at the top level.

Wording: strings marked *8base* are the exact ones 8base's SDK matches on (shared reference
``8base-api-behaviour.md`` §3, §8); the others are *sandbox wording*, used where 8base's text is
unknown. No message repeats text sent by the caller.
"""
from __future__ import annotations

from typing import Any

# 8base
NOT_AUTHORIZED = "You don't have permission to perform this operation"
TOKEN_EXPIRED = "Token expired"
USER_ABSENT = "User is absent"
WORKSPACE_NOT_FOUND = "Workspace not found"
# sandbox wording
INVALID_TOKEN = "Invalid token"
ENCRYPTED_TOKEN = "The token is encrypted (a JWE): only the identity provider that issued it can read it."


class ApiError(Exception):
    """One GraphQL error with an 8base code, a message and ``details`` (field -> explanation)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def not_authorized() -> ApiError:
    return ApiError("NotAuthorizedError", NOT_AUTHORIZED, {"permissions": NOT_AUTHORIZED})


def token_expired() -> ApiError:
    return ApiError("TokenExpiredError", TOKEN_EXPIRED, {"token": "jwt expired"})


def invalid_token(reason: str) -> ApiError:
    return ApiError("InvalidTokenError", INVALID_TOKEN, {"token": reason})


def user_absent() -> ApiError:
    """8base's whole error, as captured in the forum thread the lab started from: ``details.user`` repeats the
    message (shared reference ``8base-api-behaviour.md`` §2.2). The lab's explanations live in the doctor."""
    return ApiError("UserNotFoundError", USER_ABSENT, {"user": USER_ABSENT})


def origin_not_allowed() -> ApiError:
    """A browser's preflight from a page whose origin is not in ``cors_allowed_origins`` (sandbox wording)."""
    return ApiError("InvalidArgumentError", "This origin may not call the API from a browser",
                    {"origin": "Add the page's origin to the API's cors_allowed_origins setting."})


def cors_request_not_allowed() -> ApiError:
    """A preflight from an allowed origin for a method or request headers the API does not take (sandbox wording)."""
    return ApiError("InvalidArgumentError", "This method or these request headers may not be sent to the API from "
                    "a browser", {"request": "Send POST with no headers beyond authorization, content-type, "
                                             "workspace and environment."})


def workspace_not_found() -> ApiError:
    return ApiError("EntityNotFoundError", WORKSPACE_NOT_FOUND, {"workspaceId": WORKSPACE_NOT_FOUND})


class RequestRejected(Exception):
    """A request the API cannot read at all (HTTP 4xx before any GraphQL runs)."""

    def __init__(self, status: int, error: ApiError) -> None:
        super().__init__(error.message)
        self.status = status
        self.error = error
