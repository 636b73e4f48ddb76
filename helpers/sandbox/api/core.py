"""What the API's HTTP and WebSocket endpoints share: the :class:`GraphQLApi` state, reading a document within the
abuse limits of the settings (``max_query_tokens``, ``max_query_depth``, ``max_aliases``, checked before any
validation or execution), and 8base's error object.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

from graphql import (DocumentNode, FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError,
                     InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse, validate)

from ..common.clock import Clock
from .auth import Authenticator
from .errors import ApiError, RequestRejected
from .messages import caller_safe, schema_names
from .resolvers import build_schema
from .seed import MASTER, ApiSeed
from .store import EnvironmentDb
from .workspaces import ApiData

VALIDATED_CACHE_SIZE = 256  # documents known valid, by query text (validation dominates a small request's cost)
VALIDATED_QUERY_MAX = 16_384  # longer queries are never cached


class GraphQLApi:
    """The state of one sandbox API, shared by its HTTP and WebSocket endpoints: seed, settings, data, the
    authenticator, the schema, and the documents already validated."""

    def __init__(self, seed: ApiSeed, clock: Clock, data_dir: Path) -> None:
        self.seed = seed
        self.clock = clock
        self.settings = seed.settings
        self.data = ApiData(seed, data_dir, clock)
        self.authenticator = Authenticator(seed.settings, clock)
        self.schema = build_schema()
        self._validated: OrderedDict[str, DocumentNode] = OrderedDict()
        self._validated_lock = threading.Lock()
        self.subscriptions: Any = None  # the WebSocket endpoint (api/subscriptions.py), attached by create_api_app

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

    def validator(self, query: str, known_valid: bool):
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


def format_graphql_error(error: GraphQLError) -> dict[str, Any]:
    """graphql-core's own error (syntax, validation, variables): its message without the caller's values, and a
    code (8base's code for these is undocumented: InvalidArgumentError is sandbox behaviour)."""
    formatted = error.formatted
    body: dict[str, Any] = {"message": caller_safe(formatted["message"], _known_names())}
    for key in ("locations", "path"):
        if formatted.get(key):
            body[key] = formatted[key]
    body["code"] = "InvalidArgumentError"
    return body


def format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    """8base's error object: code and details at the top level; never a stack trace."""
    body = format_graphql_error(error)
    original = error.original_error
    if isinstance(original, ApiError):
        body.update(message=original.message, code=original.code, details=original.details)
    elif (original is not None and not isinstance(original, GraphQLError)) or error.path is not None:
        body.update(message="Internal error", code="InternalError", details={})  # a bug: a resolver raised, or
        # graphql-core found the resolvers' answer wrong (a null for a non-null field) after validation passed
    return body
