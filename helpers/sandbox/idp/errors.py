"""Error answers of the identity provider, in Auth0's shapes.

Wording: strings marked *observed* are Auth0's own (see
``shared/reference/auth0-protocol.md`` §3); the others are *sandbox wording*, written for
learners where Auth0's exact text is not known. No message repeats text sent by the caller.
"""
from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

GRANT_TYPES_DOC = "https://auth0.com/docs/clients/client-grant-types"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# observed
WRONG_CREDENTIALS = "Wrong email or password."
INVALID_CODE = "Invalid authorization code"
BAD_VERIFIER = "Failed to verify code verifier"
BAD_REFRESH_TOKEN = "Unknown or invalid refresh token."
DELETED_USER_REFRESH = "The refresh_token was generated for a user who doesn't exist anymore."
UNAUTHORIZED = "Unauthorized"
NO_AUDIENCE = "No audience parameter was provided, and no default audience has been configured"
SERVICE_NOT_FOUND = "Service not found"  # Auth0 appends the audience; the sandbox does not echo it
LOGIN_REQUIRED = "Login required"
USER_EXISTS = "The user already exists."
# sandbox wording
REDIRECT_URI_MISMATCH = "The redirect_uri does not match the one sent to /authorize."
CORS_ORIGIN_NOT_ALLOWED = ("This origin may not call this endpoint from a browser: it is not the origin of an "
                           "application's Allowed Callback URL or Allowed Origins (CORS).")
NOT_FOUND = "The identity provider has no endpoint at this path."
METHOD_NOT_ALLOWED = "This endpoint does not accept this HTTP method."
INTERNAL = "The identity provider failed to answer this request."
CORS_REQUEST_NOT_ALLOWED = ("This method or these request headers may not be sent to this endpoint from a browser "
                            "(CORS).")


def missing(parameter: str) -> str:
    """Auth0's wording for an absent required parameter (the name is ours, never the caller's)."""
    return f"Missing required parameter: {parameter}"


def grant_not_allowed(grant_type: str) -> str:
    return f"Grant type '{grant_type}' not allowed for the client."


class OAuthError(Exception):
    """An OAuth 2.0 error: ``{"error", "error_description"}`` with Auth0's status code."""

    def __init__(self, status: int, error: str, description: str, error_uri: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.error_uri = error_uri
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body = {"error": self.error, "error_description": self.description}
        if self.error_uri:
            body["error_uri"] = self.error_uri
        return body

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers={**NO_STORE, **self.headers})


class SignupError(Exception):
    """A ``/dbconnections/signup`` error: ``{"name", "code", "description", "statusCode"}``."""

    def __init__(self, code: str, description: Any, name: str = "BadRequestError", status: int = 400,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.description = description
        self.name = name
        self.status = status
        self.extra = extra or {}

    def response(self) -> JSONResponse:
        body = {"name": self.name, "code": self.code, "description": self.description, **self.extra,
                "statusCode": self.status}
        return JSONResponse(body, status_code=self.status)


class AuthorizePageError(Exception):
    """A bad ``/authorize`` request that must not redirect (unknown client, unregistered callback)."""

    def __init__(self, error: str, description: str, hint: str = "") -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.hint = hint


class AuthorizeRedirectError(Exception):
    """An ``/authorize`` error sent back to the (validated) ``redirect_uri``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
