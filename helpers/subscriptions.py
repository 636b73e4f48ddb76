"""A small GraphQL-over-WebSocket client: the ID token travels in ``connection_init``, not in a header.

>>> sub = SubscriptionClient(sandbox.api_url, token=id_token)     # ws://host/<workspaceId>
>>> sub.connect()                                                  # {'type': 'connection_ack'}
>>> sub.subscribe(NOTE_CHANGES)                                    # '1'
>>> sub.next_event(timeout=5)["Notes"]["mutation"]                 # after someone creates a note
'create'

A browser's ``WebSocket`` cannot send an ``Authorization`` header, so 8base's SDK puts its auth state
``{token, workspaceId, ...}`` into the ``connection_init`` payload (shared reference
``8base-api-behaviour.md`` §1.1). Both protocols are spoken: ``graphql-ws`` (Apollo's legacy
subscriptions-transport-ws, the 8base SDK's, the default) and ``graphql-transport-ws``.

Errors are raised as the classes of :mod:`helpers.graphql` (``TokenExpiredError``, ...). An error
that closed the socket carries ``close_code``. :attr:`SubscriptionClient.log` keeps every message sent
(``">"``) and received (``"<"``), for showing the exchange. The message builders are pure functions.
This module talks to the API over WebSocket only; it never imports the sandbox.
"""
from __future__ import annotations

import itertools
import json
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .exceptions import GraphQLCallError, SocketClosed

__all__ = ["LEGACY", "NOTE_CHANGES", "SocketClosed", "SubscriptionClient", "TRANSPORT", "error_from_close",
           "init_message", "start_message", "stop_message", "ws_url"]

LEGACY = "graphql-ws"
TRANSPORT = "graphql-transport-ws"
NOTE_CHANGES = "subscription { Notes { mutation node { id title } } }"


def ws_url(url: str) -> str:
    """The WebSocket URL of an HTTP API URL (``http`` -> ``ws``, ``https`` -> ``wss``)."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://"):]
    if url.startswith("http://"):
        return "ws://" + url[len("http://"):]
    return url


def init_message(token: str | None = None, workspace_id: str | None = None,
                 environment: str | None = None) -> dict[str, Any]:
    """``connection_init`` with 8base's auth state: ``{token, workspaceId, environmentName}`` (those given)."""
    payload: dict[str, Any] = {}
    if token:
        payload["token"] = token
    if workspace_id:
        payload["workspaceId"] = workspace_id
    if environment:
        payload["environmentName"] = environment
    return {"type": "connection_init", "payload": payload}


def start_message(op_id: str, query: str, variables: dict[str, Any] | None = None, protocol: str = LEGACY,
                  operation_name: str | None = None) -> dict[str, Any]:
    """Start an operation: ``start`` (legacy) or ``subscribe`` (graphql-transport-ws)."""
    payload: dict[str, Any] = {"query": query, "variables": variables or {}}
    if operation_name:
        payload["operationName"] = operation_name
    return {"id": op_id, "type": "subscribe" if protocol == TRANSPORT else "start", "payload": payload}


def stop_message(op_id: str, protocol: str = LEGACY) -> dict[str, Any]:
    """Stop an operation: ``stop`` (legacy) or ``complete`` (graphql-transport-ws)."""
    return {"id": op_id, "type": "complete" if protocol == TRANSPORT else "stop"}


def error_from_close(code: int | None, reason: str) -> Exception:
    """The exception for a close: a catalogued error when the reason reads ``<Code>: <message>``."""
    name, found, message = reason.partition(": ")
    if found and name.isidentifier() and name[:1].isupper():
        error = GraphQLCallError.from_error({"code": name, "message": message})
        error.close_code = code  # type: ignore[attr-defined]
        return error
    return SocketClosed(code, reason)


RANDOM_HEADERS = ("sec-websocket-key", "sec-websocket-accept")


def _handshake_text(socket: ClientConnection) -> str:
    """The upgrade request and its 101 answer; the random key and its digest shown as ``<random>``."""
    request, response = socket.request, socket.response
    lines = []
    if request:
        lines += [f"GET {request.path} HTTP/1.1"]
        lines += [f"{k}: {'<random>' if k.lower() in RANDOM_HEADERS else v}" for k, v in request.headers.raw_items()]
    if response:
        lines += ["", f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
        lines += [f"{k}: {'<random>' if k.lower() in RANDOM_HEADERS else v}" for k, v in response.headers.raw_items()
                  if k.lower() != "date"]
    return "\n".join(lines)


def _error(payload: Any, message: dict[str, Any], close_code: int | None = None) -> GraphQLCallError:
    first = payload[0] if isinstance(payload, list) and payload else payload
    error = GraphQLCallError.from_error(first if isinstance(first, dict) else {"message": str(first)},
                                        body={"errors": payload if isinstance(payload, list) else [payload],
                                              "message": message})
    error.close_code = close_code  # type: ignore[attr-defined]
    return error


class SubscriptionClient:
    """One socket to a GraphQL API's subscription endpoint, with the token in ``connection_init``."""

    def __init__(self, url: str, token: str | None = None, *, workspace_id: str | None = None,
                 environment: str | None = None, protocol: str | None = LEGACY, timeout: float = 5) -> None:
        """``protocol=None`` offers no subprotocol, as the 8base SDK does (the server speaks legacy)."""
        self.url = ws_url(url)
        self.token = token
        self.workspace_id = workspace_id
        self.environment = environment
        self.protocol = protocol
        self.timeout = timeout
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.operations: dict[str, dict[str, Any]] = {}  # running: id -> start message
        self.close_code: int | None = None
        self.close_reason = ""
        self.handshake = ""  # the opening HTTP exchange of the last connect, as text
        self._ids = itertools.count(1)
        self._socket: ClientConnection | None = None

    def __enter__(self) -> "SubscriptionClient":
        self.connect()
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose in the handshake (``None``: none, the legacy protocol)."""
        return self._socket.subprotocol if self._socket is not None else None

    @property
    def speaks(self) -> str:
        """The protocol of the messages (legacy when none was offered)."""
        return self.protocol or LEGACY

    def connect(self) -> dict[str, Any]:
        """Open the socket, send ``connection_init`` and return ``connection_ack`` (or raise the error)."""
        self._socket = connect(self.url, subprotocols=[self.protocol] if self.protocol else None,  # type: ignore[list-item]
                               open_timeout=self.timeout, close_timeout=1, legacy=True)
        self.close_code, self.close_reason = None, ""
        self.handshake = _handshake_text(self._socket)
        self.send(init_message(self.token, self.workspace_id, self.environment))
        message = self.next_message()
        if message.get("type") == "connection_error":
            raise self._closed_after(message)
        if message.get("type") != "connection_ack":
            raise SocketClosed(None, f"expected connection_ack, got {message.get('type')}")
        return message

    def reconnect(self, token: str | None) -> dict[str, Any]:
        """Close, connect again with ``token`` and restart the running operations (same ids)."""
        running = list(self.operations.values())
        self.close()
        self.token = token
        ack = self.connect()
        for start in running:
            self.send(start)
            self.operations[start["id"]] = start
        return ack

    def subscribe(self, query: str, variables: dict[str, Any] | None = None, op_id: str | None = None) -> str:
        """Start a subscription; returns its id."""
        op_id = op_id or str(next(self._ids))
        start = start_message(op_id, query, variables, self.speaks)
        self.send(start)
        self.operations[op_id] = start
        return op_id

    def stop(self, op_id: str) -> None:
        self.operations.pop(op_id, None)
        self.send(stop_message(op_id, self.speaks))

    def send(self, message: dict[str, Any]) -> None:
        """Send one protocol message (logged)."""
        if self._socket is None:
            raise SocketClosed(self.close_code, "not connected")
        self.log.append((">", message))
        self._socket.send(json.dumps(message))

    def next_message(self, timeout: float | None = None) -> dict[str, Any]:
        """The next raw message; raises ``TimeoutError``, or the error that closed the socket."""
        if self._socket is None:
            raise SocketClosed(self.close_code, self.close_reason or "not connected")
        try:
            raw = self._socket.recv(timeout=self.timeout if timeout is None else timeout)
        except ConnectionClosed as closed:
            frame = closed.rcvd
            self.close_code, self.close_reason = (frame.code, frame.reason) if frame else (None, "")
            self._socket = None
            raise error_from_close(self.close_code, self.close_reason) from None
        message = json.loads(raw)
        self.log.append(("<", message))
        return message

    def next_event(self, timeout: float | None = None) -> dict[str, Any]:
        """The ``data`` of the next event; raises an operation's error or the error that closed the socket."""
        while True:
            message = self.next_message(timeout)
            kind = message.get("type")
            if kind in ("data", "next"):
                payload = message.get("payload") or {}
                if payload.get("errors"):
                    raise _error(payload["errors"], message)
                return payload.get("data") or {}
            if kind == "error":
                self.operations.pop(str(message.get("id")), None)
                raise _error(message.get("payload"), message)
            if kind == "connection_error":
                raise self._closed_after(message)
            if kind == "ping":
                self.send({"type": "pong"})
            # ka, pong, complete: nothing to deliver

    def events(self, count: int, timeout: float | None = None) -> list[dict[str, Any]]:
        """The next ``count`` events."""
        return [self.next_event(timeout) for _ in range(count)]

    def transcript(self, last: int | None = None) -> str:
        """The messages sent (``>``) and received (``<``), one JSON line each, the token shortened."""
        lines = []
        for direction, message in self.log[-last:] if last else self.log:
            text = json.dumps(message)
            if self.token:
                text = text.replace(self.token, self.token[:12] + "…")
            lines.append(f"{direction} {text}")
        return "\n".join(lines)

    def close(self) -> None:
        """Close the socket (the subscriptions end with it)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _closed_after(self, message: dict[str, Any]) -> GraphQLCallError:
        """The ``connection_error``'s error, once the close that follows it has arrived."""
        try:
            while True:
                self.next_message(1)
        except (SocketClosed, GraphQLCallError, TimeoutError):
            pass
        return _error(message.get("payload"), message, self.close_code)
