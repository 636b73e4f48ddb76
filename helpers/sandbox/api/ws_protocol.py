"""The vocabulary of the API's WebSocket protocols: close codes, the errors that close a socket, message checks, and
preparing one subscription operation (see :mod:`helpers.sandbox.api.subscriptions` for the protocols themselves)."""
from __future__ import annotations

from typing import Any

from graphql import (DocumentNode, FieldNode, GraphQLError, OperationDefinitionNode, OperationType, get_operation_ast,
                     validate)
from graphql.execution.values import get_argument_values, get_variable_values

from .core import GraphQLApi, format_error
from .errors import ApiError, RequestRejected, user_absent
from .events import NoteEvent
from .permissions import Caller, require
from .seed import ApiSettings

LEGACY = "graphql-ws"
TRANSPORT = "graphql-transport-ws"
PROTOCOLS = (TRANSPORT, LEGACY)
EXPIRY_POLL = 0.2  # seconds between checks of the sandbox clock against an open socket's token
CLOSE_TIMEOUT = 5.0  # seconds to write a close frame to a client that may not read
MAX_ID = 128

# close codes: graphql-transport-ws's 44xx where it has one, RFC 6455's otherwise
NORMAL = 1000
POLICY_VIOLATION = 1008  # a subscriber too slow to keep up
TRY_AGAIN_LATER = 1013  # too many open sockets
BAD_REQUEST = 4400
UNAUTHORIZED = 4401  # an operation before connection_init
FORBIDDEN = 4403  # the token (or workspace) was refused at connect, or the token expired on the open socket
INIT_TIMEOUT = 4408
DUPLICATE_ID = 4409
TOO_MANY_INITS = 4429
INTERNAL = 4500
INTERNAL_ERROR = "InternalError"


class Close(Exception):
    """Close the socket with ``code``, telling the client ``error``."""

    def __init__(self, code: int, error: ApiError | None) -> None:
        super().__init__(error.message if error else "closed")
        self.code = code
        self.error = error


def bad_message(reason: str) -> Close:
    return Close(BAD_REQUEST, ApiError("InvalidArgumentError", "Invalid message", {"message": reason}))


def internal_error() -> Close:
    """A bug of the sandbox, closed cleanly. Like the HTTP endpoint's ``InternalError``, no input reaches it on purpose."""
    return Close(INTERNAL, ApiError(INTERNAL_ERROR, "Internal error"))


def token_expired_on_socket() -> ApiError:
    """8base's expiry error, with a detail saying it happened on an open socket."""
    return ApiError("TokenExpiredError", "Token expired",
                    {"subscription": "The token expired while the socket was open; reconnect with a renewed token."})


def prepare_operation(api: GraphQLApi, settings: ApiSettings, caller: Caller, payload: dict[str, Any],
                      running: int) -> tuple[DocumentNode, dict[str, Any], Any, dict[str, Any]]:
    """(document, coerced variables, operation name, the ``filter`` argument) of a subscription, or an error
    (:class:`~helpers.sandbox.api.errors.ApiError` or :class:`Invalid`); ``running``: operations already open."""
    if running >= settings.ws_max_operations_per_socket:
        limit = settings.ws_max_operations_per_socket
        raise ApiError("ThrottlingThresholdReachedError", "Too many subscriptions on this socket",
                       {"operations": f"At most {limit} running subscriptions per socket; stop one first."})
    try:
        document, _ = api.document(payload["query"])
    except RequestRejected as rejected:
        raise rejected.error from None
    except GraphQLError as error:
        raise Invalid([format_error(error)]) from None
    errors = validate(api.schema, document)
    if errors:
        raise Invalid([format_error(e) for e in errors[:5]])
    operation = get_operation_ast(document, payload.get("operationName"))
    if operation is None:
        raise ApiError("InvalidArgumentError", "Send one operation, or name it with operationName",
                       {"operationName": "The document has several operations."})
    if operation.operation != OperationType.SUBSCRIPTION:
        raise ApiError("InvalidArgumentError", "Only subscriptions are served over WebSocket",
                       {"query": "Send queries and mutations with POST to the HTTP endpoint."})
    variables = payload.get("variables") or {}
    coerced = get_variable_values(api.schema, operation.variable_definitions or (), variables, max_errors=5)
    if isinstance(coerced, list):
        raise Invalid([format_error(e) for e in coerced])
    if caller.kind == "unregistered":
        raise user_absent()
    require(caller, "Notes", "read")
    field = root_field(operation)
    definition = api.schema.subscription_type.fields.get(field.name.value)  # type: ignore[union-attr]
    if definition is None:
        raise ApiError("InvalidArgumentError", "Only subscriptions are served over WebSocket",
                       {"query": "Subscribe to a field of the Subscription type."})
    arguments = get_argument_values(definition, field, coerced)
    return document, variables, payload.get("operationName"), arguments.get("filter") or {}


class Invalid(Exception):
    """GraphQL errors (syntax, validation, variables) of an operation, already formatted."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid operation")
        self.errors = errors


def operation_id(message: dict[str, Any]) -> str:
    op_id = message.get("id")
    if not isinstance(op_id, str) or not op_id or len(op_id) > MAX_ID:
        raise bad_message(f"An operation id is a non-empty string of at most {MAX_ID} characters.")
    return op_id


def root_field(operation: OperationDefinitionNode) -> FieldNode:
    return next(s for s in operation.selection_set.selections if isinstance(s, FieldNode))


def event_payload(event: NoteEvent) -> dict[str, Any]:
    return {"mutation": event.mutation, "node": event.note, "updatedFields": event.updated_fields,
            "previousValues": event.previous}


def error_object(error: ApiError) -> dict[str, Any]:
    return {"message": error.message, "code": error.code, "details": error.details}


def close_reason(error: ApiError) -> str:
    """``<code>: <message>``, within the 123 bytes a close reason may carry."""
    return f"{error.code}: {error.message}".encode()[:123].decode("utf-8", "ignore")
