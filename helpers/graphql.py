"""A small GraphQL client for an 8base-style API that raises one exception per 8base error code.

>>> client = GraphQLClient(sandbox.api_url, token=id_token)
>>> client.execute("{ user { id email } }")           # the ``data`` of the answer
{'user': {'id': '...', 'email': 'ada@example.com'}}
>>> client.with_token(None).execute("{ notesList { count } }")     # no token: the Guest role
Traceback (most recent call last):
  ...
helpers.exceptions.NotAuthorizedError: NotAuthorizedError: You don't have permission to perform this operation
(permissions: You don't have permission to perform this operation) at notesList

8base puts ``code`` and ``details`` at the top level of each error object, next to ``message``,
``locations`` and ``path`` (shared reference ``8base-api-behaviour.md`` §3). :meth:`GraphQLClient.execute`
raises the class of the *first* error's code (classes in :mod:`helpers.exceptions`), carrying the evidence: ``code``, ``message``,
``details``, ``path``, the whole JSON ``body`` and the ``response``. :meth:`GraphQLClient.post` returns
the raw response and never raises for GraphQL errors. :func:`as_curl` and :func:`as_fetch` write the
same call as a shell command or as JavaScript, ready to paste.

This module talks to the API over HTTP only; it never imports the sandbox.
"""
from __future__ import annotations

import json
import shlex
from typing import Any

import requests

from .exceptions import (EntityExistsError, EntityNotFoundError, ExternalServiceError, GraphQLCallError,
                         InternalError, InvalidArgumentError, InvalidTokenError, MissingHeaderError,
                         NotAuthorizedError, ThrottlingThresholdReachedError, TokenExpiredError, UserNotFoundError,
                         ValidationError, error_class)

__all__ = [
    "EntityExistsError",
    "EntityNotFoundError",
    "ExternalServiceError",
    "GraphQLCallError",
    "GraphQLClient",
    "InternalError",
    "InvalidArgumentError",
    "InvalidTokenError",
    "MissingHeaderError",
    "NotAuthorizedError",
    "ThrottlingThresholdReachedError",
    "TokenExpiredError",
    "UserNotFoundError",
    "ValidationError",
    "as_curl",
    "as_fetch",
    "error_class",
]


class GraphQLClient:
    """Calls one GraphQL endpoint with an optional bearer token and 8base's addressing headers."""

    def __init__(self, url: str, token: str | None = None, *, workspace: str | None = None,
                 environment: str | None = None, timeout: float = 10) -> None:
        self.url = url
        self.token = token
        self.workspace = workspace
        self.environment = environment
        self.timeout = timeout

    def __repr__(self) -> str:
        token = "None" if self.token is None else "'…'"
        return (f"GraphQLClient({self.url!r}, token={token}, workspace={self.workspace!r}, "
                f"environment={self.environment!r})")

    @property
    def headers(self) -> dict[str, str]:
        """The headers of every call: JSON, the bearer token and the workspace / environment headers."""
        return _headers(self.token, self.workspace, self.environment)

    def with_token(self, token: str | None) -> "GraphQLClient":
        """The same client with another token (``None``: no Authorization header, the Guest role)."""
        return GraphQLClient(self.url, token, workspace=self.workspace, environment=self.environment,
                             timeout=self.timeout)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> requests.Response:
        """Send the operation and return the raw HTTP response (never raises for GraphQL errors)."""
        return requests.post(self.url, data=_body_json(query, variables).encode("utf-8"), headers=self.headers,
                             timeout=self.timeout)

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run the operation and return its ``data``; raise the first error's class if there are errors."""
        response = self.post(query, variables)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not ({"data", "errors"} & set(body)):
            response.raise_for_status()  # not a GraphQL answer: an HTTP error (a proxy page, a 502)
            raise GraphQLCallError(None, "The answer is not a GraphQL response (no data, no errors)",
                                   body=body if isinstance(body, dict) else {}, response=response)
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors, list) and isinstance(errors[0], dict) else {"message": str(errors)}
            raise GraphQLCallError.from_error(first, body, response)
        if not response.ok:
            response.raise_for_status()
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def as_curl(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """This client's call as a curl command."""
        return as_curl(self.url, query, variables, self.token, workspace=self.workspace,
                       environment=self.environment)

    def as_fetch(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """This client's call as JavaScript ``fetch`` code."""
        return as_fetch(self.url, query, variables, self.token, workspace=self.workspace,
                        environment=self.environment)


def as_curl(url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None, *,
            workspace: str | None = None, environment: str | None = None) -> str:
    """The call as a copy-paste-ready curl command (every argument quoted for POSIX shells)."""
    parts = ["curl -sS -X POST " + shlex.quote(url)]
    for name, value in _headers(token, workspace, environment).items():
        parts.append("-H " + shlex.quote(f"{name}: {value}"))
    parts.append("--data-raw " + shlex.quote(_body_json(query, variables)))
    return " \\\n  ".join(parts)


def as_fetch(url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None, *,
             workspace: str | None = None, environment: str | None = None) -> str:
    """The call as JavaScript ``fetch`` code (browser console or Node 18+); strings are JSON literals."""
    headers = "".join(f"\n    {json.dumps(name)}: {json.dumps(value)}," for name, value in
                      _headers(token, workspace, environment).items())
    body = json.dumps({"query": query, "variables": variables or {}}, indent=2).replace("\n", "\n  ")
    return (f"fetch({json.dumps(url)}, {{\n"
            f"  method: \"POST\",\n"
            f"  headers: {{{headers}\n  }},\n"
            f"  body: JSON.stringify({body}),\n"
            f"}})\n"
            f"  .then((response) => response.json())\n"
            f"  .then(({{ data, errors }}) => console.log(JSON.stringify(errors ?? data, null, 2)));\n")


def _headers(token: str | None, workspace: str | None, environment: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if workspace:
        headers["workspace"] = workspace
    if environment:
        headers["environment"] = environment
    return headers


def _body_json(query: str, variables: dict[str, Any] | None) -> str:
    return json.dumps({"query": query, "variables": variables or {}})
