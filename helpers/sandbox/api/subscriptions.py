"""GraphQL subscriptions of the sandbox API over WebSocket, with the token in ``connection_init``.

Two protocols, chosen by the ``Sec-WebSocket-Protocol`` the client offers:

- ``graphql-ws``, Apollo's legacy protocol (subscriptions-transport-ws): ``connection_init``,
  ``connection_ack`` / ``connection_error``, ``start``, ``data``, ``error``, ``stop``, ``complete``,
  ``connection_terminate``. It is also the protocol of a client that offers none: the 8base SDK's
  SubscriptionLink opens its socket without a subprotocol header.
- ``graphql-transport-ws`` (the graphql-ws library): ``connection_init``, ``connection_ack``,
  ``ping`` / ``pong``, ``subscribe``, ``next``, ``error``, ``complete``.

Addressing is the HTTP API's: ``ws://host/<workspaceId>[_<environment>]``, or ``ws://host/`` with
``workspaceId`` (and ``environmentName``) in the ``connection_init`` payload, as 8base's SDK sends
``{token, workspaceId, ...}``. The ``token`` of that payload goes through the same
:class:`~helpers.sandbox.api.auth.Authenticator` as an ``Authorization`` header (no token: Guest), and
again at every new operation, so roles and expiry are as fresh as on HTTP.

Sandbox behaviour (8base documents none of it; the names are *sandbox wording*):

- Errors of one operation (permissions, "User is absent", a bad query, too many operations) come back
  as that operation's ``error`` message, with 8base's ``code``, ``message`` and ``details``; the socket
  stays open. Errors of the connection close it: the legacy protocol first sends ``connection_error``
  with the error as payload (where the 8base SDK's ``connectionCallback`` looks for
  ``TokenExpiredError`` / ``Token expired``); graphql-transport-ws puts ``<code>: <message>`` in the
  close reason.
- Token expiry: checked at connect, at each new operation and, while the socket is open, whenever the
  sandbox clock passes the token's ``exp`` (polled every :data:`EXPIRY_POLL` seconds). Then the socket
  closes with :data:`FORBIDDEN` and ``TokenExpiredError`` / ``Token expired``; the client reconnects
  with a renewed token (the SDK re-reads its auth state on reconnect).
- Limits (settings ``ws_*``): sockets per client address, operations per socket, the time allowed for
  ``connection_init``, events waiting per subscription, the size of a client message.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql import DocumentNode, execute
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from .auth import Authenticator
from .core import GraphQLApi, format_error
from .errors import ApiError, RequestRejected, invalid_token, workspace_not_found
from .events import EventQueue, NoteEvent, NoteEvents
from .permissions import Caller, note_matches, rule
from .resolvers import Context, reaches_note
from .seed import MASTER
from .store import EnvironmentDb
from .ws_protocol import (CLOSE_TIMEOUT, DUPLICATE_ID, EXPIRY_POLL, FORBIDDEN, INIT_TIMEOUT, LEGACY, NORMAL,
                          POLICY_VIOLATION, PROTOCOLS, TOO_MANY_INITS, TRANSPORT, TRY_AGAIN_LATER, UNAUTHORIZED, Close,
                          Invalid, bad_message, close_reason, error_object, event_payload, internal_error, operation_id,
                          prepare_operation, token_expired_on_socket)


class SubscriptionServer:
    """The WebSocket endpoint of one :class:`~helpers.sandbox.api.core.GraphQLApi`."""

    def __init__(self, api: GraphQLApi) -> None:
        self.api = api
        self.events = NoteEvents(api.data)
        self._sockets: dict[str, int] = {}  # open sockets per client address (touched only on the event loop)

    def open_sockets(self) -> int:
        return sum(self._sockets.values())

    async def at_path(self, websocket: WebSocket) -> None:
        workspace_id, _, environment = websocket.path_params["target"].partition("_")
        await self._serve(websocket, workspace_id, environment or None)

    async def on_host(self, websocket: WebSocket) -> None:
        await self._serve(websocket, None, None)

    async def _serve(self, websocket: WebSocket, workspace_id: str | None, environment: str | None) -> None:
        offered = websocket.scope.get("subprotocols") or []
        protocol = next((p for p in PROTOCOLS if p in offered), None)
        if offered and protocol is None:
            await websocket.close(code=1002)  # RFC 6455: no protocol in common (the handshake is refused)
            return
        client = websocket.client.host if websocket.client else "?"
        limit = self.api.settings.ws_max_sockets_per_client
        over_limit = self._sockets.get(client, 0) >= limit
        if not over_limit:  # counted before the first await, so that no second socket slips in meanwhile
            self._sockets[client] = self._sockets.get(client, 0) + 1
        connection = Connection(self, websocket, protocol or LEGACY, workspace_id, environment)
        if over_limit:
            await websocket.accept(subprotocol=protocol)
            await connection.close(TRY_AGAIN_LATER, ApiError(
                "ThrottlingThresholdReachedError", "Too many open sockets",
                {"sockets": f"At most {limit} open sockets per client; close one before opening another."}))
            return
        try:
            await websocket.accept(subprotocol=protocol)
            await connection.run()
        finally:
            self._sockets[client] -= 1
            if not self._sockets[client]:
                del self._sockets[client]


class Connection:
    """One open socket: its protocol, caller, running operations and the one writer lock."""

    def __init__(self, server: SubscriptionServer, websocket: WebSocket, protocol: str, workspace_id: str | None,
                 environment: str | None) -> None:
        self.server = server
        self.api = server.api
        self.websocket = websocket
        self.protocol = protocol
        self.workspace_id = workspace_id
        self.environment = environment
        self.settings = self.api.settings
        self.db: EnvironmentDb | None = None
        self.token: str | None = None
        self.caller: Caller | None = None
        self.expires_at: float | None = None
        self.operations: dict[str, tuple[asyncio.Task[None], EventQueue]] = {}
        self._send_lock = asyncio.Lock()
        self._closing: asyncio.Future[Close | None] = asyncio.get_running_loop().create_future()

    # ------------------------------------------------------------------ life cycle
    async def run(self) -> None:
        receiver = asyncio.create_task(self._receive_loop())
        watcher = asyncio.create_task(self._watch_expiry())
        try:
            close = await self._closing
        finally:
            for task in (receiver, watcher, *(task for task, _ in self.operations.values())):
                task.cancel()
            for _, queue in self.operations.values():
                self.server.events.detach(self.db, queue)  # type: ignore[arg-type]
            self.operations.clear()
        if close is not None:
            await self.close(close.code, close.error)

    def finish(self, close: Close | None) -> None:
        """End the connection (``None``: the client went away); the first call wins."""
        if not self._closing.done():
            self._closing.set_result(close)

    async def close(self, code: int, error: ApiError | None = None) -> None:
        """Tell the client why (legacy: ``connection_error``; graphql-transport-ws: the reason) and close."""
        reason = ""
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                if error is not None:
                    if self.protocol == LEGACY:
                        await self._send({"type": "connection_error", "payload": error_object(error)})
                    reason = close_reason(error)
                if self.websocket.application_state != WebSocketState.DISCONNECTED:
                    await self.websocket.close(code=code, reason=reason)
        except (TimeoutError, RuntimeError, WebSocketDisconnect, OSError):
            pass  # a client that does not read, or is gone: the server drops the connection

    async def _receive_loop(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.settings.ws_init_timeout
            while self.caller is None:
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await self._receive()
                except TimeoutError:
                    raise Close(INIT_TIMEOUT, ApiError(
                        "InvalidArgumentError", "Connection initialisation timeout",
                        {"connection_init": f"Send connection_init within {self.settings.ws_init_timeout:g} seconds "
                                            "of opening the socket."})) from None
                if message.get("type") == "connection_init":
                    await self._initialise(message.get("payload"))
                elif message.get("type") in ("start", "subscribe"):
                    raise Close(UNAUTHORIZED, ApiError("InvalidArgumentError", "Send connection_init first",
                                                       {"connection_init": "Start operations after connection_ack."}))
                else:
                    await self._handle(message)
            while True:
                await self._handle(await self._receive())
        except Close as close:
            self.finish(close)
        except WebSocketDisconnect:
            self.finish(None)
        except Exception:  # a bug of the sandbox: a clean close, never a stack trace
            self.finish(internal_error())

    async def _receive(self) -> dict[str, Any]:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw = message.get("text")
        if raw is None:
            raise bad_message("Send messages as JSON text frames.")
        if len(raw.encode("utf-8", "surrogatepass")) > self.settings.ws_max_message_bytes:
            raise bad_message(f"A message may have at most {self.settings.ws_max_message_bytes} bytes.")
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            raise bad_message("The message is not valid JSON.") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            raise bad_message("A message is a JSON object with a type.")
        return parsed

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(message))

    # ------------------------------------------------------------------ connection_init
    async def _initialise(self, payload: Any) -> None:
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            raise bad_message("The connection_init payload must be an object.")
        workspace_id = self.workspace_id
        asked = payload.get("workspaceId")
        if asked is not None and (not isinstance(asked, str) or (workspace_id and asked != workspace_id)):
            raise bad_message("workspaceId must be the workspace of the URL.")
        workspace_id = workspace_id or asked
        if not workspace_id:
            raise Close(FORBIDDEN, ApiError("MissingHeaderError", "Workspace is not specified",
                                            {"workspace": "Send workspaceId in the connection_init payload, "
                                                          "or connect to /<workspaceId>."}))
        environment = self.environment or payload.get("environmentName") or MASTER
        if not isinstance(environment, str):
            raise bad_message("environmentName must be a string.")
        if not self.api.data.has_workspace(workspace_id):
            raise Close(FORBIDDEN, workspace_not_found())
        db = self.api.data.database(workspace_id, environment)
        if db is None:
            raise Close(FORBIDDEN, ApiError("EntityNotFoundError", "Environment not found",
                                            {"environment": "This workspace has no environment of that name."}))
        token = payload.get("token")
        if token is not None and not isinstance(token, str):
            raise Close(FORBIDDEN, invalid_token("The token in connection_init must be a string."))
        if token and any(c in token for c in " \t,"):  # what the header grammar would refuse, said for the payload
            raise Close(FORBIDDEN, invalid_token("The token in connection_init must be one token, without spaces."))
        self.db, self.token = db, token or None
        self.caller = await self._identify()
        await self._send({"type": "connection_ack"})

    async def _identify(self) -> Caller:
        """The caller of the connection's token, checked now by the one verifier; else :class:`Close`."""
        authenticator: Authenticator = self.api.authenticator
        header = [f"Bearer {self.token}"] if self.token else []
        try:
            caller = await run_in_threadpool(authenticator.identify, header, False, self.db)
        except RequestRejected as rejected:
            raise Close(FORBIDDEN, rejected.error) from None
        except ApiError as error:
            expired_later = error.code == "TokenExpiredError" and self.caller is not None
            raise Close(FORBIDDEN, token_expired_on_socket() if expired_later else error) from None
        exp = caller.claims.get("exp")
        self.expires_at = float(exp) + self.settings.token_leeway if isinstance(exp, (int, float)) else None
        return caller

    async def _watch_expiry(self) -> None:
        """Close the socket once the sandbox clock passes the token's ``exp`` (the verifier decides)."""
        while True:
            await asyncio.sleep(EXPIRY_POLL)
            if self.expires_at is not None and self.api.clock.now() >= self.expires_at:
                try:
                    self.caller = await self._identify()
                except Close as close:
                    self.finish(close)
                    return

    # ------------------------------------------------------------------ messages after connection_ack
    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            raise Close(TOO_MANY_INITS, ApiError("InvalidArgumentError", "Too many initialisation requests",
                                                 {"connection_init": "Send connection_init once per socket."}))
        if self.protocol == TRANSPORT and kind == "ping":
            await self._send({"type": "pong"})
        elif self.protocol == TRANSPORT and kind == "pong":
            pass
        elif kind == ("subscribe" if self.protocol == TRANSPORT else "start"):
            await self._start(message)
        elif kind == ("complete" if self.protocol == TRANSPORT else "stop"):
            self._stop(operation_id(message))
        elif self.protocol == LEGACY and kind == "connection_terminate":
            raise Close(NORMAL, None)
        else:
            raise bad_message(f"Unknown message type for {self.protocol}.")

    async def _start(self, message: dict[str, Any]) -> None:
        op_id = operation_id(message)
        if op_id in self.operations:
            raise Close(DUPLICATE_ID, ApiError("InvalidArgumentError", "An operation with this id is already running",
                                               {"id": "Give each running operation its own id."}))
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str) \
                or not isinstance(payload.get("variables"), (dict, type(None))) \
                or not isinstance(payload.get("operationName"), (str, type(None))):
            raise bad_message("The payload needs a query string, and variables as an object.")
        self.caller = await self._identify()  # every new operation: the verifier again, and fresh roles
        try:
            started = prepare_operation(self.api, self.settings, self.caller, payload, len(self.operations))
        except ApiError as error:
            await self._send_error(op_id, [error_object(error)])
            return
        except Invalid as invalid:
            await self._send_error(op_id, invalid.errors)
            return
        queue = EventQueue(asyncio.get_running_loop(), self.settings.ws_max_queued_events, self._too_slow)
        self.server.events.attach(self.db, queue)  # type: ignore[arg-type]
        task = asyncio.create_task(self._deliver(op_id, queue, *started))
        self.operations[op_id] = (task, queue)

    def _stop(self, op_id: str) -> None:
        running = self.operations.pop(op_id, None)
        if running is not None:
            task, queue = running
            task.cancel()
            self.server.events.detach(self.db, queue)  # type: ignore[arg-type]

    def _too_slow(self) -> None:
        limit = self.settings.ws_max_queued_events
        self.finish(Close(POLICY_VIOLATION, ApiError(
            "ThrottlingThresholdReachedError", "The subscriber is too slow",
            {"events": f"More than {limit} events waited to be sent; read events as they come."})))

    # ------------------------------------------------------------------ events
    async def _deliver(self, op_id: str, queue: EventQueue, document: DocumentNode, variables: dict[str, Any],
                       operation_name: str | None, wanted: dict[str, Any]) -> None:
        try:
            await self._deliver_events(op_id, queue, document, variables, operation_name, wanted)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.finish(None)  # the client went away mid-send
        except Exception:
            self.finish(internal_error())

    async def _deliver_events(self, op_id: str, queue: EventQueue, document: DocumentNode,
                              variables: dict[str, Any], operation_name: str | None, wanted: dict[str, Any]) -> None:
        mutations = wanted.get("mutation_in") or ("create", "update", "delete")
        while True:
            event = await queue.get()
            if event.mutation not in mutations:
                continue
            # the permission check and the execution read the database: off the event loop, as HTTP does
            body = await run_in_threadpool(self._render, event, document, variables, operation_name,
                                           wanted.get("node"))
            if body is not None:
                await self._send({"type": "next" if self.protocol == TRANSPORT else "data", "id": op_id,
                                  "payload": body})

    def _render(self, event: NoteEvent, document: DocumentNode, variables: dict[str, Any],
                operation_name: str | None, node_filter: dict[str, Any] | None) -> dict[str, Any] | None:
        """The event's payload for this subscriber, or None when its read permission or filter hides the note."""
        caller, db = self.caller, self.db
        assert caller is not None and db is not None
        context = Context(caller, db, self.settings)
        note = event.note
        if not reaches_note(context, rule(caller, "Notes", "read"), note) or (
                node_filter and not note_matches(note, node_filter, caller, db)):
            return None
        result = execute(self.api.schema, document, root_value={"Notes": event_payload(event)},
                         context_value=context, variable_values=variables, operation_name=operation_name)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        return body

    async def _send_error(self, op_id: str, errors: list[dict[str, Any]]) -> None:
        payload: Any = errors if self.protocol == TRANSPORT else errors[0]
        await self._send({"type": "error", "id": op_id, "payload": payload})
