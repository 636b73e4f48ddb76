"""The sandbox GraphQL API: a Starlette app that authenticates and answers like an 8base workspace.

``POST /<workspaceId>`` (Master), ``POST /<workspaceId>_<environment>``, or ``POST /`` with the
``workspace`` / ``environment`` headers. GraphQL errors come back with HTTP 200, ``data`` and, per
error, ``message``, ``locations``, ``path``, ``code`` and ``details`` at the top level, as 8base
returns them. Requests the API cannot read get a 4xx with the same error shape.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ariadne import graphql_sync
from graphql import DocumentNode, FieldNode, GraphQLError, OperationDefinitionNode, parse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .api_auth import Authenticator
from .api_errors import ApiError, RequestRejected, user_absent, workspace_not_found
from .api_resolvers import Context, build_schema
from .api_seed import MASTER, ApiSeed
from .api_store import ApiData, EnvironmentDb
from .clock import Clock

LOGGER = "helpers.sandbox.graphql"
OPEN_TO_UNREGISTERED = {"userSignUpWithToken", "__typename", "__schema", "__type"}
MAX_MESSAGE = 300


def create_api_app(seed: ApiSeed, clock: Clock, data_dir: Path) -> Starlette:
    """Build one GraphQL API over a seed, the shared clock and a folder for its databases.

    ``app.state.api`` is the :class:`GraphQLApi`.
    """
    api = GraphQLApi(seed, clock, data_dir)
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["POST", "OPTIONS"],
                      allow_headers=["authorization", "content-type", "workspace", "environment"], max_age=600)
    app = Starlette(routes=[Route("/", api.graphql_on_host, methods=["POST", "GET"]),
                            Route("/{target}", api.graphql_at_path, methods=["POST", "GET"])],
                    middleware=[cors])
    app.state.api = api
    return app


class GraphQLApi:
    """The state and the one HTTP handler of the sandbox API."""

    def __init__(self, seed: ApiSeed, clock: Clock, data_dir: Path) -> None:
        self.seed = seed
        self.clock = clock
        self.settings = seed.settings
        self.data = ApiData(seed, data_dir, clock)
        self.authenticator = Authenticator(seed.settings, clock)
        self.schema = build_schema()

    def configure(self, **changes: Any) -> None:
        """Change settings live (cache policy, email case...). JWKS caches start empty again."""
        self.settings = replace(self.settings, **changes)
        self.authenticator = Authenticator(self.settings, self.clock)

    def database(self, workspace_id: str, environment: str = MASTER) -> EnvironmentDb:
        db = self.data.database(workspace_id, environment)
        if db is None:
            raise KeyError(f"{workspace_id}/{environment}")
        return db

    # ------------------------------------------------------------------ HTTP
    async def graphql_at_path(self, request: Request) -> JSONResponse:
        workspace_id, _, environment = request.path_params["target"].partition("_")
        return await self._handle(request, workspace_id, environment or request.headers.get("environment") or MASTER)

    async def graphql_on_host(self, request: Request) -> JSONResponse:
        workspace_id = request.headers.get("workspace")
        if not workspace_id:
            return _error_response(ApiError("MissingHeaderError", "Workspace is not specified",
                                            {"workspace": "Send the workspace header, or POST to /<workspaceId>."}))
        return await self._handle(request, workspace_id, request.headers.get("environment") or MASTER)

    async def _handle(self, request: Request, workspace_id: str, environment: str) -> JSONResponse:
        if request.method != "POST":
            return _error_response(ApiError("InvalidArgumentError", "Send GraphQL requests with POST",
                                            {"method": "GET is not supported."}), status=405)
        if not self.data.has_workspace(workspace_id):
            return _error_response(workspace_not_found())
        db = self.data.database(workspace_id, environment)
        if db is None:
            return _error_response(ApiError("EntityNotFoundError", "Environment not found",
                                            {"environment": "This workspace has no environment of that name."}))
        try:
            body = await self._json_body(request)
            document, root_fields = _parse(body)
        except RequestRejected as rejected:
            return _error_response(rejected.error, status=rejected.status)
        except GraphQLError as error:
            return JSONResponse({"errors": [_format(error)]}, status_code=400)

        authenticator = self.authenticator
        try:
            caller = await run_in_threadpool(authenticator.identify, request.headers.getlist("authorization"),
                                             "access_token" in request.query_params, db)
        except RequestRejected as rejected:
            return _error_response(rejected.error, status=rejected.status)
        except ApiError as error:
            return _error_response(error, at=root_fields[0] if root_fields else None)
        if caller.kind == "unregistered":
            blocked = [f for f in root_fields if f.name.value not in OPEN_TO_UNREGISTERED]
            if blocked:
                return _error_response(user_absent(), at=blocked[0])

        context = Context(caller, db, self.settings)
        _, result = await run_in_threadpool(
            graphql_sync, self.schema, body, context_value=context, query_document=document,
            error_formatter=_format_error, logger=LOGGER, debug=False)
        return JSONResponse(result, status_code=200 if "data" in result else 400)

    async def _json_body(self, request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestRejected(415, ApiError("InvalidArgumentError", "Send the request as application/json",
                                                {"content-type": "Only application/json is accepted."}))
        declared = request.headers.get("content-length", "")
        limit = self.settings.max_body_bytes
        if declared.isdigit() and int(declared) > limit:
            raise _too_large()
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                raise _too_large()
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise RequestRejected(400, ApiError("InvalidArgumentError", "The body is not valid JSON",
                                                {"body": "Send {\"query\": \"...\", \"variables\": {...}}."})) from None
        if isinstance(body, list):
            raise RequestRejected(400, ApiError("InvalidArgumentError", "Batched requests are not supported",
                                                {"body": "Send one operation per request."}))
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise RequestRejected(400, ApiError("InvalidArgumentError", "The body needs a query string",
                                                {"query": "Send {\"query\": \"...\"}."}))
        if not isinstance(body.get("variables"), (dict, type(None))):
            raise RequestRejected(400, ApiError("InvalidArgumentError", "variables must be an object",
                                                {"variables": "Send variables as a JSON object."}))
        return body


def _too_large() -> RequestRejected:
    return RequestRejected(413, ApiError("InvalidArgumentError", "The request body is too large",
                                         {"body": "The body exceeds the API's size limit."}))


def _parse(body: dict[str, Any]) -> tuple[DocumentNode, list[FieldNode]]:
    """The parsed document and the root fields of the operation that will run."""
    document = parse(body["query"])
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = body.get("operationName")
    chosen = next((o for o in operations if name and o.name and o.name.value == name), None)
    if chosen is None and len(operations) == 1:
        chosen = operations[0]
    fields = [s for s in chosen.selection_set.selections if isinstance(s, FieldNode)] if chosen else []
    return document, fields


GRAPHQL_NAME = re.compile(r"'\$?[_A-Za-z][_A-Za-z0-9]*'")


def _caller_safe(message: str) -> str:
    """A GraphQL error message without the caller's values: quoted names stay, quoted values go."""
    if message.startswith("Variable '$") and " has invalid value" in message:
        return message.split(" has invalid value", 1)[0] + " has an invalid value."
    quoted = re.findall(r"'[^']*'", message)
    if any(not GRAPHQL_NAME.fullmatch(q) for q in quoted) or any(c in message.replace("<EOF>", "") for c in "<>&") \
            or len(message) > MAX_MESSAGE:
        return message.split(":", 1)[0] + "."  # e.g. "Syntax Error."
    return message


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted = error.formatted
    body: dict[str, Any] = {"message": _caller_safe(formatted["message"])}
    for key in ("locations", "path"):
        if formatted.get(key):
            body[key] = formatted[key]
    return body


def _format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    """8base's error object: code and details at the top level; never a stack trace."""
    body = _format(error)
    original = error.original_error
    if isinstance(original, ApiError):
        body.update(message=original.message, code=original.code, details=original.details)
    elif original is not None and not isinstance(original, GraphQLError):
        body.update(message="Internal error", code="InternalError", details={})
    return body


def _error_response(error: ApiError, status: int = 200, at: FieldNode | None = None) -> JSONResponse:
    """An error before execution: ``data`` is null; ``path``/``locations`` name the first root field."""
    entry: dict[str, Any] = {"message": error.message}
    if at is not None:
        if at.loc is not None:
            entry["locations"] = [{"line": at.loc.source.get_location(at.loc.start).line,
                                   "column": at.loc.source.get_location(at.loc.start).column}]
        entry["path"] = [at.alias.value if at.alias else at.name.value]
    entry.update(code=error.code, details=error.details)
    return JSONResponse({"data": None, "errors": [entry]}, status_code=status)


logging.getLogger(LOGGER).addHandler(logging.NullHandler())
logging.getLogger(LOGGER).propagate = False
