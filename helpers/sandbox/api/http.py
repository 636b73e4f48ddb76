"""The API over HTTP: ``POST /<workspaceId>`` (Master), ``POST /<workspaceId>_<environment>``, or ``POST /`` with the
``workspace`` / ``environment`` headers. GraphQL errors come back with HTTP 200, ``data`` and, per error,
``message``, ``locations``, ``path``, ``code`` and ``details`` at the top level, as 8base returns them. Requests
the API cannot read get a 4xx with the same error shape.
"""
from __future__ import annotations

import logging
from typing import Any

from ariadne import graphql_sync
from graphql import DocumentNode, FieldNode, GraphQLError, GraphQLResolveInfo, OperationDefinitionNode
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..common.limits import BodyTooLarge, NotJson, capped_body, strict_json
from .core import GraphQLApi, format_error, format_graphql_error
from .errors import ApiError, RequestRejected, user_absent, workspace_not_found
from .resolvers import Context
from .seed import MASTER

LOGGER = "helpers.sandbox.graphql"
OPEN_TO_UNREGISTERED = {"userSignUpWithToken", "__typename", "__schema", "__type"}
OPERATION_NAME_HINT = "Send the name of one operation of the query, or leave operationName out."


def method_not_allowed(method: str) -> ApiError:
    """Anything but POST (and a browser's CORS preflight) at a GraphQL address (sandbox wording)."""
    return ApiError("InvalidArgumentError", "Send GraphQL requests with POST",
                    {"method": "GET is not supported." if method in ("GET", "HEAD") else "Only POST is accepted."})


def endpoint_not_found() -> ApiError:
    """A path the API does not serve (sandbox wording; 8base's answer is undocumented)."""
    return ApiError("EntityNotFoundError", "Endpoint not found",
                    {"path": "The API answers at /<workspaceId>, /<workspaceId>_<environment>, and at / with the "
                             "workspace header."})


async def not_served(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own 404 / 405, in 8base's error shape."""
    if exc.status_code == 405:
        return error_response(method_not_allowed(request.method), status=405, headers={"Allow": "POST"})
    return error_response(endpoint_not_found(), status=404)


async def bug(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected exception (a bug of the sandbox): 8base's InternalError, never a stack trace."""
    return error_response(ApiError("InternalError", "Internal error"), status=500)


NOT_SERVED = {404: not_served, 405: not_served, Exception: bug}


class HttpEndpoint:
    """The one HTTP handler of a :class:`~helpers.sandbox.api.core.GraphQLApi`, at a path or on the host."""

    def __init__(self, api: GraphQLApi) -> None:
        self.api = api

    async def graphql_at_path(self, request: Request) -> JSONResponse:
        workspace_id, _, environment = request.path_params["target"].partition("_")
        return await self._handle(request, workspace_id, environment or request.headers.get("environment") or MASTER)

    async def graphql_on_host(self, request: Request) -> JSONResponse:
        workspace_id = request.headers.get("workspace")
        if not workspace_id:
            return error_response(ApiError("MissingHeaderError", "Workspace is not specified",
                                           {"workspace": "Send the workspace header, or POST to /<workspaceId>."}))
        return await self._handle(request, workspace_id, request.headers.get("environment") or MASTER)

    async def _handle(self, request: Request, workspace_id: str, environment: str) -> JSONResponse:
        if request.method != "POST":
            return error_response(method_not_allowed(request.method), status=405, headers={"Allow": "POST"})
        if not self.api.data.has_workspace(workspace_id):
            return error_response(workspace_not_found())
        db = self.api.data.database(workspace_id, environment)
        if db is None:
            return error_response(ApiError("EntityNotFoundError", "Environment not found",
                                           {"environment": "This workspace has no environment of that name."}))
        try:
            body = await self._json_body(request)
            document, known_valid = self.api.document(body["query"])
            root_fields = _root_fields(document, body)
        except RequestRejected as rejected:
            return error_response(rejected.error, status=rejected.status)
        except GraphQLError as error:
            return JSONResponse({"errors": [format_graphql_error(error)]}, status_code=400)

        authenticator = self.api.authenticator
        try:
            caller = await run_in_threadpool(authenticator.identify, request.headers.getlist("authorization"),
                                             "access_token" in request.query_params, db)
        except RequestRejected as rejected:
            return error_response(rejected.error, status=rejected.status)
        except ApiError as error:
            return error_response(error, at=root_fields[0] if root_fields else None)
        context = Context(caller, db, self.api.settings)
        _, result = await run_in_threadpool(
            graphql_sync, self.api.schema, body, context_value=context, query_document=document,
            query_validator=self.api.validator(body["query"], known_valid), error_formatter=format_error,
            logger=LOGGER, debug=False, middleware=[_user_absent] if caller.kind == "unregistered" else None)
        return JSONResponse(result, status_code=200 if "data" in result else 400)

    async def _json_body(self, request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestRejected(415, ApiError("InvalidArgumentError", "Send the request as application/json",
                                                {"content-type": "Only application/json is accepted."}))
        try:
            body = strict_json(await capped_body(request, self.api.settings.max_body_bytes))
        except BodyTooLarge:
            raise too_large() from None
        except NotJson:
            raise RequestRejected(400, ApiError("InvalidArgumentError", "The body is not valid JSON",
                                                {"body": "Send {\"query\": \"...\", \"variables\": {...}}."})) from None
        if isinstance(body, list):
            raise RequestRejected(400, ApiError("InvalidArgumentError", "Batched requests are not supported",
                                                {"body": "Send one operation per request."}))
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise RequestRejected(400, ApiError("InvalidArgumentError", "The body needs a query string",
                                                {"query": "Send {\"query\": \"...\"}."}))
        if not isinstance(body.get("operationName"), (str, type(None))):
            raise RequestRejected(400, ApiError("InvalidArgumentError", "operationName must be a string",
                                                {"operationName": OPERATION_NAME_HINT}))
        if not isinstance(body.get("variables"), (dict, type(None))):
            raise RequestRejected(400, ApiError("InvalidArgumentError", "variables must be an object",
                                                {"variables": "Send variables as a JSON object."}))
        return body


def _user_absent(resolve: Any, parent: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
    """A verified ID token whose email no user has: every root field but the sign-up resolves to null with
    8base's "User is absent" error, its own locations and path (as the forum thread captured:
    ``{"data": {"user": null}, "errors": [...]}``); a non-null root field nulls ``data``, as GraphQL does."""
    if info.path.prev is None and info.field_name not in OPEN_TO_UNREGISTERED:
        raise user_absent()
    return resolve(parent, info, **arguments)


def too_large() -> RequestRejected:
    return RequestRejected(413, ApiError("InvalidArgumentError", "The request body is too large",
                                         {"body": "The body exceeds the API's size limit."}))


def _root_fields(document: DocumentNode, body: dict[str, Any]) -> list[FieldNode]:
    """The root fields of the operation that will run."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = body.get("operationName")
    if name is not None and not any(o.name and o.name.value == name for o in operations):
        raise RequestRejected(400, ApiError("InvalidArgumentError", "operationName names no operation of the query",
                                            {"operationName": OPERATION_NAME_HINT}))  # graphql-core would echo it
    chosen = next((o for o in operations if name and o.name and o.name.value == name), None)
    if chosen is None and len(operations) == 1:
        chosen = operations[0]
    return [s for s in chosen.selection_set.selections if isinstance(s, FieldNode)] if chosen else []


def error_response(error: ApiError, status: int = 200, at: FieldNode | None = None,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    """An error before execution: ``data`` is null; ``path``/``locations`` name the first root field."""
    entry: dict[str, Any] = {"message": error.message}
    if at is not None:
        if at.loc is not None:
            entry["locations"] = [{"line": at.loc.source.get_location(at.loc.start).line,
                                   "column": at.loc.source.get_location(at.loc.start).column}]
        entry["path"] = [at.alias.value if at.alias else at.name.value]
    entry.update(code=error.code, details=error.details)
    return JSONResponse({"data": None, "errors": [entry]}, status_code=status, headers=headers)


logging.getLogger(LOGGER).addHandler(logging.NullHandler())
logging.getLogger(LOGGER).propagate = False
