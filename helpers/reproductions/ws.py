"""Reproductions of the errors on an open subscription WebSocket (protocol messages and close codes)."""
from __future__ import annotations

import json
import socket
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.sync.client import connect
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from ..graphql import GraphQLClient
from ..subscriptions import LEGACY, NOTE_CHANGES, SubscriptionClient, init_message, start_message, ws_url
from .api import USER_QUERY
from .common import TIMEOUT, clock_moved, login, recipe, reproduces, throwaway

if TYPE_CHECKING:
    from ..sandbox import Sandbox

__all__ = ["big_note", "stalled_subscription"]  # also used by tests/test_subscriptions.py


def _ws_answer(sb: "Sandbox", *messages: Any, token: str | None = None, init: bool = True,
               sock: socket.socket | None = None) -> dict[str, Any]:
    """Send protocol messages (a str is sent as it is) and return the first error message the API answers."""
    url = ws_url(sb.api_url)
    with connect(url, subprotocols=[LEGACY], open_timeout=TIMEOUT, close_timeout=1, sock=sock,  # type: ignore[list-item]
                 max_queue=1) as ws:
        if init:
            ws.send(json.dumps(init_message(token)))
            json.loads(ws.recv(TIMEOUT))  # connection_ack
        for message in messages:
            ws.send(message if isinstance(message, str) else json.dumps(message))
        while True:
            answer = json.loads(ws.recv(TIMEOUT))
            if answer.get("type") in ("error", "connection_error"):
                return answer


def _start(op_id: str = "1", query: str | None = None) -> dict[str, Any]:
    return start_message(op_id, query or NOTE_CHANGES)


@reproduces("api-ws-token-expired")
def _expired_on_open_socket(sb: "Sandbox") -> dict[str, Any]:
    with SubscriptionClient(sb.api_url, token=login(sb).id_token, timeout=TIMEOUT) as client:
        client.subscribe("subscription { Notes { mutation } }")
        with clock_moved(sb, 36_000 + 1):
            while True:
                message = client.next_message()
                if message.get("type") == "connection_error":
                    return message


@reproduces("api-ws-init-timeout")
def _silent_socket(sb: "Sandbox") -> dict[str, Any]:
    with sb.api_settings(ws_init_timeout=0.2):
        return _ws_answer(sb, init=False)


recipe("api-ws-not-initialised", lambda sb: _ws_answer(sb, _start(), init=False))
recipe("api-ws-too-many-inits", lambda sb: _ws_answer(sb, {"type": "connection_init", "payload": {}}))
recipe("api-ws-bad-message", lambda sb: _ws_answer(sb, "{not json"))
recipe("api-ws-duplicate-id", lambda sb: _ws_answer(sb, _start(), _start(), token=login(sb).id_token))
recipe("api-ws-not-subscription", lambda sb: _ws_answer(sb, _start("1", USER_QUERY)))
recipe("api-ws-one-operation", lambda sb: _ws_answer(sb, _start(
    "1", "subscription A { Notes { mutation } } subscription B { Notes { mutation } }")))


@reproduces("api-ws-too-many-operations")
def _one_too_many(sb: "Sandbox") -> dict[str, Any]:
    with sb.api_settings(ws_max_operations_per_socket=1):
        return _ws_answer(sb, _start("1"), _start("2"), token=login(sb).id_token)


@reproduces("api-ws-too-many-sockets")
def _second_socket(sb: "Sandbox") -> dict[str, Any]:
    # a sandbox of its own: on a shared one, sockets of earlier callers may still be closing (a racy count)
    with throwaway(ws_max_sockets_per_client=1) as box:
        with connect(ws_url(box.api_url), open_timeout=TIMEOUT, close_timeout=1):
            return _ws_answer(box, init=False)


@contextmanager
def stalled_subscription(sb: "Sandbox", token: str, query: str) -> Iterator[Iterator[dict[str, Any]]]:
    """Subscribe, then read nothing until the caller iterates the answers (text messages) yielded.

    It speaks WebSocket through the ``websockets`` library's sans-I/O protocol over a plain socket with a
    small receive buffer, so that it really stops reading (a client library keeps reading in the background).
    """
    protocol = ClientProtocol(parse_uri(ws_url(sb.api_url)), subprotocols=[Subprotocol(LEGACY)], max_size=None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65_536)  # before connect: no receive autotuning
    sock.settimeout(TIMEOUT)

    def send(message: dict[str, Any] | None = None) -> None:
        if message is not None:
            protocol.send_text(json.dumps(message).encode())
        sock.sendall(b"".join(protocol.data_to_send()))

    def texts() -> Iterator[dict[str, Any]]:
        while True:
            for event in protocol.events_received():
                if getattr(event, "opcode", None) is Opcode.TEXT:
                    yield json.loads(event.data)
            data = sock.recv(65_536)
            if not data:
                return
            protocol.receive_data(data)

    try:
        sock.connect(("127.0.0.1", int(sb.api_host.rsplit(":", 1)[1].strip("/"))))
        protocol.send_request(protocol.connect())
        send()
        while protocol.state is State.CONNECTING:  # the handshake's 101 response
            protocol.receive_data(sock.recv(65_536))
        protocol.events_received()
        answers = texts()
        send(init_message(token))
        next(answers)  # connection_ack
        events = sb.api.subscriptions.events
        listening = events.subscriptions()
        send(start_message("1", query))
        events.wait_for(listening + 1, TIMEOUT)  # the subscription is listening
        yield answers
    finally:
        sock.close()


def big_note(sb: "Sandbox", token: str) -> None:
    GraphQLClient(sb.api_url, token).execute(
        "mutation($b: String) { noteCreate(data: {title: \"big\", body: $b}) { id } }", {"b": "x" * 900_000})


@reproduces("api-ws-slow-consumer")
def _reader_that_stops(sb: "Sandbox") -> dict[str, Any]:
    with throwaway(ws_max_queued_events=2) as box:
        token = login(box).id_token
        with stalled_subscription(box, token, "subscription { Notes { node { body } } }") as answers:
            events = box.api.subscriptions.events
            deadline = time.monotonic() + 60
            while events.subscriptions() and time.monotonic() < deadline:  # until the API lets the subscriber go
                big_note(box, token)
            return next(a for a in answers if a.get("type") in ("error", "connection_error"))
