"""The sandbox GraphQL API: a Starlette app that authenticates and answers like an 8base workspace.

``POST /<workspaceId>`` (Master), ``POST /<workspaceId>_<environment>``, or ``POST /`` with the
``workspace`` / ``environment`` headers. GraphQL errors come back with HTTP 200, ``data`` and, per
error, ``message``, ``locations``, ``path``, ``code`` and ``details`` at the top level, as 8base
returns them. Requests the API cannot read get a 4xx with the same error shape, and so do documents over
the abuse limits of the settings (``max_query_tokens``, ``max_query_depth``, ``max_aliases``), checked
before authentication and before any validation or execution. Subscriptions are WebSockets on the same
addresses, served by :mod:`helpers.sandbox.api_subscriptions`.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

from ariadne import graphql_sync
from graphql import (DocumentNode, FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError,
                     GraphQLResolveInfo, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse, validate)
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from .api_auth import Authenticator
from .api_errors import (ApiError, RequestRejected, cors_request_not_allowed, origin_not_allowed, user_absent,
                         workspace_not_found)
from .api_messages import caller_safe, schema_names
from .api_resolvers import Context, build_schema
from .api_seed import MASTER, ApiSeed
from .api_store import ApiData, EnvironmentDb
from .api_subscriptions import SubscriptionServer
from .clock import Clock
from .cors import OriginPolicy

LOGGER = "helpers.sandbox.graphql"
OPEN_TO_UNREGISTERED = {"userSignUpWithToken", "__typename", "__schema", "__type"}
OPERATION_NAME_HINT = "Send the name of one operation of the query, or leave operationName out."
VALIDATED_CACHE_SIZE = 256  # documents known valid, by query text (validation dominates a small request's cost)
VALIDATED_QUERY_MAX = 16_384  # longer queries are never cached


def create_api_app(seed: ApiSeed, clock: Clock, data_dir: Path) -> Starlette:
    """Build one GraphQL API over a seed, the shared clock and a folder for its databases.

    ``app.state.api`` is the :class:`GraphQLApi`.
    """
    api = GraphQLApi(seed, clock, data_dir)
    cors = Middleware(OriginPolicy, allowed=lambda: api.settings.cors_allowed_origins, allow_methods=["POST", "OPTIONS"],
                      allow_headers=["authorization", "content-type", "workspace", "environment"], max_age=600,
                      refusal=lambda: _error_response(origin_not_allowed(), status=400),
                      request_refusal=lambda: _error_response(cors_request_not_allowed(), status=400))
    app = Starlette(routes=[Route("/", api.graphql_on_host, methods=["POST", "GET"]),
                            Route("/{target}", api.graphql_at_path, methods=["POST", "GET"]),
                            Route("/{target}/", api.graphql_at_path, methods=["POST", "GET"]),  # no redirect
                            WebSocketRoute("/", api.subscriptions.on_host),  # subscriptions: api_subscriptions.py
                            WebSocketRoute("/{target}", api.subscriptions.at_path)],
                    middleware=[cors], exception_handlers=_NOT_SERVED)
    app.router.redirect_slashes = False  # a 307 has no 8base error body; /<workspaceId>/ is served as is
    app.state.api = api
    return app


def method_not_allowed(method: str) -> ApiError:
    """Anything but POST (and a browser's CORS preflight) at a GraphQL address (sandbox wording)."""
    return ApiError("InvalidArgumentError", "Send GraphQL requests with POST",
                    {"method": "GET is not supported." if method in ("GET", "HEAD") else "Only POST is accepted."})


def endpoint_not_found() -> ApiError:
    """A path the API does not serve (sandbox wording; 8base's answer is undocumented)."""
    return ApiError("EntityNotFoundError", "Endpoint not found",
                    {"path": "The API answers at /<workspaceId>, /<workspaceId>_<environment>, and at / with the "
                             "workspace header."})


async def _not_served(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own 404 / 405, in 8base's error shape."""
    if exc.status_code == 405:
        return _error_response(method_not_allowed(request.method), status=405, headers={"Allow": "POST"})
    return _error_response(endpoint_not_found(), status=404)


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected exception (a bug of the sandbox): 8base's InternalError, never a stack trace."""
    return _error_response(ApiError("InternalError", "Internal error"), status=500)


_NOT_SERVED = {404: _not_served, 405: _not_served, Exception: _bug}


class GraphQLApi:
    """The state and the one HTTP handler of the sandbox API."""

    def __init__(self, seed: ApiSeed, clock: Clock, data_dir: Path) -> None:
        self.seed = seed
        self.clock = clock
        self.settings = seed.settings
        self.data = ApiData(seed, data_dir, clock)
        self.authenticator = Authenticator(seed.settings, clock)
        self.schema = build_schema()
        self._validated: OrderedDict[str, DocumentNode] = OrderedDict()
        self._validated_lock = threading.Lock()
        self.subscriptions = SubscriptionServer(self, _format_error)

    def configure(self, **changes: Any) -> None:
        """Change settings live (cache policy, email case...). JWKS caches start empty again."""
        self.settings = replace(self.settings, **changes)
        self.authenticator = Authenticator(self.settings, self.clock)
        with self._validated_lock:
            self._validated.clear()  # documents accepted under the old limits are checked again

    # ------------------------------------------------------------------ documents
    def document(self, query: str) -> tuple[DocumentNode, bool]:
        """The parsed document, and whether it is known valid; raises ``RequestRejected`` over a limit."""
        with self._validated_lock:
            known = self._validated.get(query)
            if known is not None:
                self._validated.move_to_end(query)
                return known, True
        settings = self.settings
        try:
            document = parse(query, max_tokens=settings.max_query_tokens)
        except GraphQLError as error:
            if "aborted" in error.message and "tokens" in error.message:  # graphql-core's max_tokens guard
                raise _over_limit("The query is too long",
                                  f"At most {settings.max_query_tokens} tokens are allowed in a query.") from None
            if "aborted" in error.message and "nested too deeply" in error.message:  # its recursion guard
                raise _too_deep(settings.max_query_depth) from None
            raise
        except RecursionError:
            raise _too_deep(settings.max_query_depth) from None
        depth, aliases = _measure(document, settings.max_aliases + 1)
        if depth > settings.max_query_depth:
            raise _too_deep(settings.max_query_depth)
        if aliases > settings.max_aliases:
            raise _over_limit("The query has too many aliases",
                              f"At most {settings.max_aliases} aliased fields are allowed in a query.")
        return document, False

    def _validator(self, query: str, known_valid: bool):
        """graphql-core's ``validate``, skipped for a document validated before (the schema never changes)."""
        def run(schema, document, rules=None, max_errors=None, **kwargs):
            if known_valid:
                return []
            errors = validate(schema, document, rules=rules, max_errors=max_errors, **kwargs)
            if not errors and len(query) <= VALIDATED_QUERY_MAX:
                with self._validated_lock:
                    self._validated[query] = document
                    while len(self._validated) > VALIDATED_CACHE_SIZE:
                        self._validated.popitem(last=False)
            return errors
        return run

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
            return _error_response(method_not_allowed(request.method), status=405, headers={"Allow": "POST"})
        if not self.data.has_workspace(workspace_id):
            return _error_response(workspace_not_found())
        db = self.data.database(workspace_id, environment)
        if db is None:
            return _error_response(ApiError("EntityNotFoundError", "Environment not found",
                                            {"environment": "This workspace has no environment of that name."}))
        try:
            body = await self._json_body(request)
            document, known_valid = self.document(body["query"])
            root_fields = _root_fields(document, body)
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
        context = Context(caller, db, self.settings)
        _, result = await run_in_threadpool(
            graphql_sync, self.schema, body, context_value=context, query_document=document,
            query_validator=self._validator(body["query"], known_valid), error_formatter=_format_error,
            logger=LOGGER, debug=False, middleware=[_user_absent] if caller.kind == "unregistered" else None)
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
            json.dumps(body, ensure_ascii=False).encode()  # a lone surrogate (\ud800) is no text: refused here
        except (ValueError, RecursionError):  # (UnicodeEncodeError is a ValueError)
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


def _too_large() -> RequestRejected:
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


class _FragmentCycle(Exception):
    """A fragment spreads itself (graphql validation refuses it; the measure must not loop on it)."""


def _measure(document: DocumentNode, alias_cap: int) -> tuple[int, int]:
    """(depth, aliases) of a document's operations: the most nested field levels, fragments expanded, ``ofType``
    not adding a level; aliased fields counted once per use of their fragment (saturating at ``alias_cap``).

    Linear in the document: each fragment is measured once. A fragment cycle measures as infinitely deep.
    Fragments no operation uses never run (validation refuses them), so they are not measured.
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    measured: dict[str, tuple[int, int]] = {}

    def selections(selection_set: SelectionSetNode | None, visiting: frozenset[str]) -> tuple[int, int]:
        depth = aliases = 0
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                below, inner = selections(node.selection_set, visiting)
                depth = max(depth, below + (0 if node.name.value == "ofType" and below else 1))
                aliases += inner + (1 if node.alias else 0)
            elif isinstance(node, InlineFragmentNode):
                below, inner = selections(node.selection_set, visiting)
                depth, aliases = max(depth, below), aliases + inner
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in visiting:
                    raise _FragmentCycle
                if name not in measured:
                    fragment = fragments.get(name)
                    measured[name] = selections(fragment.selection_set, visiting | {name}) if fragment else (0, 0)
                below, inner = measured[name]
                depth, aliases = max(depth, below), aliases + inner
            aliases = min(aliases, alias_cap)
        return depth, aliases

    depth = aliases = 0
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                below, inner = selections(definition.selection_set, frozenset())
                depth, aliases = max(depth, below), min(aliases + inner, alias_cap)
    except (_FragmentCycle, RecursionError):
        return 2**31, aliases
    return depth, aliases


def _over_limit(message: str, detail: str) -> RequestRejected:
    return RequestRejected(400, ApiError("InvalidArgumentError", message, {"query": detail}))


def _too_deep(limit: int) -> RequestRejected:
    return _over_limit("The query is nested too deeply", f"At most {limit} levels of nested fields are allowed.")


@functools.cache
def _known_names() -> frozenset[str]:
    """The schema's own names: the only names a message may repeat (the schema is built once per process)."""
    return schema_names(build_schema())


def _format(error: GraphQLError) -> dict[str, Any]:
    """graphql-core's own error (syntax, validation, variables): its message without the caller's values, and a
    code (8base's code for these is undocumented: InvalidArgumentError is sandbox behaviour)."""
    formatted = error.formatted
    body: dict[str, Any] = {"message": caller_safe(formatted["message"], _known_names())}
    for key in ("locations", "path"):
        if formatted.get(key):
            body[key] = formatted[key]
    body["code"] = "InvalidArgumentError"
    return body


def _format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    """8base's error object: code and details at the top level; never a stack trace."""
    body = _format(error)
    original = error.original_error
    if isinstance(original, ApiError):
        body.update(message=original.message, code=original.code, details=original.details)
    elif (original is not None and not isinstance(original, GraphQLError)) or error.path is not None:
        body.update(message="Internal error", code="InternalError", details={})  # a bug: a resolver raised, or
        # graphql-core found the resolvers' answer wrong (a null for a non-null field) after validation passed
    return body


def _error_response(error: ApiError, status: int = 200, at: FieldNode | None = None,
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
