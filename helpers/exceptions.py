"""Every exception the lab's helpers raise, under one root: :class:`LabError`.

Modelled on PyJWT's ``jwt.exceptions``: the tree is itself a catalog. Each exception carries its evidence
(``code``, ``claim``, ``expected``, ``got``, the HTTP ``response`` ...) and, where the error catalog
(``data/error_catalog.csv``) has a row for it, that row's id in ``catalog_id``::

    LabError
    ├── ConfigError            the settings cannot describe a usable target      (helpers.config)
    ├── FlowError              an OAuth error answer or error redirect           (helpers.flows)
    ├── TokenRejected          a token failed verification                       (helpers.verify)
    ├── KeySourceUnavailable   the JWKS endpoint is out of reach                  (helpers.verify)
    ├── NotAJwt                not a compact JWS (also a ValueError)              (helpers.tokens)
    ├── SocketClosed           a subscription socket closed normally              (helpers.subscriptions)
    ├── CliError               a command-line failure the user can act on         (helpers.cli)
    └── GraphQLCallError       a GraphQL error answer, one subclass per 8base code (helpers.graphql)
        ├── TokenExpiredError, InvalidTokenError, UserNotFoundError, NotAuthorizedError
        ├── EntityNotFoundError, EntityExistsError, ValidationError, MissingHeaderError
        └── InvalidArgumentError, ExternalServiceError, InternalError, ThrottlingThresholdReachedError

:class:`~helpers.catalog.UnknownError` (no catalog entry matches) is the catalog's own ``LookupError``.
The modules named above import their exceptions from here, so ``from helpers.graphql import
GraphQLCallError`` keeps working. This module imports nothing of the lab but :mod:`helpers.catalog`.
"""
from __future__ import annotations

from typing import Any

import requests

from .catalog import CatalogEntry, UnknownError, explain

__all__ = [
    "CliError", "ConfigError", "EntityExistsError", "EntityNotFoundError", "ExternalServiceError", "FlowError",
    "GraphQLCallError", "ID_TOKEN_WHERE_ACCESS_EXPECTED", "InternalError", "InvalidArgumentError",
    "InvalidTokenError", "KeySourceUnavailable", "LabError", "MissingHeaderError", "NotAJwt",
    "NotAuthorizedError", "REASONS", "SocketClosed", "ThrottlingThresholdReachedError", "TokenExpiredError",
    "TokenRejected", "UnknownError", "UserNotFoundError", "ValidationError", "error_class",
]


class LabError(Exception):
    """The root of every exception the lab's helpers raise."""

    catalog_where: frozenset[str] | None = None
    """Where in the catalog such an error can come from (``{"api"}``: the GraphQL API); ``None``: anywhere."""

    @property
    def catalog_id(self) -> str | None:
        """The id of this error's catalog entry (``None`` when the catalog has no row for it)."""
        try:
            return explain(self).id
        except UnknownError:
            return None

    def explain(self) -> CatalogEntry:
        """The error catalog's entry for this error (cause, fix, source); :class:`UnknownError` if none."""
        return explain(self)


class ConfigError(LabError):
    """The settings cannot describe a usable target.

    ``missing`` names absent ``.env`` keys; ``problems`` is one ``(setting, what to do)`` per mistake.
    In a notebook it shows as its message alone: a settings mistake is not a bug, so no stack trace.
    """

    def __init__(self, message: str, missing: tuple[str, ...] = (),
                 problems: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing
        self.problems = problems

    @property
    def settings(self) -> tuple[str, ...]:
        """Every setting this error is about, missing or wrong."""
        return tuple(dict.fromkeys(self.missing + tuple(name for name, _ in self.problems)))

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of the stack trace
        return [f"ConfigError: {self}"]


class FlowError(LabError):
    """An OAuth error answer or error redirect: ``status``, ``error``, ``description`` and the ``exchange``.

    ``exchange`` is the :class:`helpers.flows.HttpExchange` that carried it (``None`` for a check the app made).
    """

    def __init__(self, status: int | None, error: str, description: str, exchange: Any = None) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.exchange = exchange


# code -> the fixed sentence a learner (or an HTTP client) sees
REASONS: dict[str, str] = {
    "malformed": "The token is not a well-formed signed JWT (three base64url parts).",
    "too_large": "The token is larger than this verifier accepts.",
    "alg_not_allowed": "The token's signing algorithm is not one this verifier allows.",
    "bad_header": "The token's header carries a parameter this verifier refuses.",
    "bad_signature": "The token's signature does not verify with the issuer's published keys.",
    "key_unavailable": "The issuer's signing keys could not be obtained, so the token cannot be checked.",
    "expired": "The token has expired.",
    "not_yet_valid": "The token is not valid yet (nbf or iat lies in the future).",
    "bad_issuer": "The token was issued by an issuer this verifier does not trust.",
    "bad_audience": "The token was issued for another audience.",
    "missing_claim": "The token lacks a claim this verifier requires.",
    "bad_claim_type": "A claim in the token has the wrong type or an impossible value.",
    "bad_nonce": "The token's nonce does not match the one sent at login.",
    "wrong_token_type": "This is an access token, but an ID token is expected here.",
}
ID_TOKEN_WHERE_ACCESS_EXPECTED = "This is an ID token, but an access token is expected here."


class KeySourceUnavailable(LabError):
    """The key source (a JWKS endpoint) cannot be reached and no cached key matches."""


class TokenRejected(LabError):
    """A token failed verification. ``code`` is one of :data:`REASONS`; the evidence is claim, expected, got."""

    def __init__(self, code: str, *, claim: str | None = None, expected: Any = None, got: Any = None) -> None:
        self.code = code
        self.claim = claim
        self.expected = expected
        self.got = got
        super().__init__(ID_TOKEN_WHERE_ACCESS_EXPECTED if code == "wrong_token_type" and expected == "an access token"
                         else REASONS[code])

    @property
    def message(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"TokenRejected({self.code!r}, claim={self.claim!r})"


class NotAJwt(LabError, ValueError):
    """The string is not a compact JWS (three base64url parts with a JSON header and payload)."""


class SocketClosed(LabError):
    """The server closed the socket without a catalogued error (a normal close)."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"socket closed ({code}) {reason}".strip())
        self.close_code = code
        self.reason = reason


class CliError(LabError):
    """A failure the user can act on: one line on stderr and exit status ``status`` (1: a cause was found)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class GraphQLCallError(LabError):
    """A GraphQL error answer: the first error's ``code``, ``message``, ``details`` and ``path``.

    ``body`` is the whole JSON answer (``body["errors"]`` lists every error, ``body.get("data")`` holds
    partial data) and ``response`` the :class:`requests.Response`. ``code`` is ``None`` for errors that
    carry no code (GraphQL syntax and validation errors).
    """

    catalog_where = frozenset({"api"})

    def __init__(self, code: str | None, message: str, details: dict[str, Any] | None = None,
                 path: list[Any] | None = None, body: dict[str, Any] | None = None,
                 response: requests.Response | None = None) -> None:
        self.code = code
        self.message = message
        self.details = details or {}
        self.path = path
        self.body = body or {}
        self.response = response
        super().__init__(self._text())

    @classmethod
    def from_error(cls, error: dict[str, Any], body: dict[str, Any] | None = None,
                   response: requests.Response | None = None) -> "GraphQLCallError":
        """The exception of the right class for one GraphQL error object."""
        code = error.get("code") if isinstance(error.get("code"), str) else None
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
        path = error.get("path") if isinstance(error.get("path"), list) else None
        return error_class(code)(code, str(error.get("message", "")), details, path, body, response)

    @property
    def status(self) -> int | None:
        """The HTTP status of the answer (8base sends most GraphQL errors with 200)."""
        return self.response.status_code if self.response is not None else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Every error object of the answer (the exception describes the first)."""
        errors = self.body.get("errors")
        return errors if isinstance(errors, list) else []

    def _text(self) -> str:
        text = f"{self.code or 'GraphQL error'}: {self.message}"
        if self.details:
            text += " (" + "; ".join(f"{key}: {value}" for key, value in self.details.items()) + ")"
        if self.path:
            text += f" at {'.'.join(str(p) for p in self.path)}"
        return text


class TokenExpiredError(GraphQLCallError):
    """The ID token (or 8base refresh token) has expired: get a new one and retry once."""


class InvalidTokenError(GraphQLCallError):
    """The bearer token cannot be accepted (malformed, bad signature, wrong issuer, audience or type)."""


class UserNotFoundError(GraphQLCallError):
    """"User is absent": a valid ID token whose email no user of this environment has."""


class NotAuthorizedError(GraphQLCallError):
    """The caller's roles do not allow the operation, table or field."""


class EntityNotFoundError(GraphQLCallError):
    """A workspace, environment, profile or record that does not exist."""


class EntityExistsError(GraphQLCallError):
    """The record already exists (a second sign-up of the same user)."""


class ValidationError(GraphQLCallError):
    """Input values the API refuses."""


class MissingHeaderError(GraphQLCallError):
    """A required header (``workspace`` on the bare API host) is missing."""


class InvalidArgumentError(GraphQLCallError):
    """A request the API cannot read (method, content type, body shape, size)."""


class ExternalServiceError(GraphQLCallError):
    """A service the API depends on failed (the identity provider's JWKS could not be fetched)."""


class InternalError(GraphQLCallError):
    """The server failed while running the operation."""


class ThrottlingThresholdReachedError(GraphQLCallError):
    """A rate or resource limit (sockets per client, subscriptions per socket, a subscriber too slow)."""


_CLASSES: dict[str, type[GraphQLCallError]] = {cls.__name__: cls for cls in (
    TokenExpiredError, InvalidTokenError, UserNotFoundError, NotAuthorizedError, EntityNotFoundError,
    EntityExistsError, ValidationError, MissingHeaderError, InvalidArgumentError, ExternalServiceError,
    InternalError, ThrottlingThresholdReachedError)}


def error_class(code: str | None) -> type[GraphQLCallError]:
    """The exception class for an 8base error code (:class:`GraphQLCallError` for unknown codes)."""
    return _CLASSES.get(code or "", GraphQLCallError)
