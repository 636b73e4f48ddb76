"""Subscriptions over real WebSockets: both protocols, the token in connection_init, permissions, expiry, limits."""
from __future__ import annotations

import base64
import concurrent.futures
import json
import threading
import time
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from helpers.graphql import (GraphQLClient, InvalidTokenError, NotAuthorizedError, ThrottlingThresholdReachedError,
                             TokenExpiredError, UserNotFoundError)
from helpers.reproductions.ws import big_note, stalled_subscription
from helpers.subscriptions import (LEGACY, NOTE_CHANGES, TRANSPORT, SocketClosed, SubscriptionClient, error_from_close,
                                   init_message, start_message, stop_message, ws_url)
from tests.test_api import SIGN_UP, gql, login, new_user

PROTOCOLS = [pytest.param(None, id="no-subprotocol"), pytest.param(LEGACY, id="graphql-ws"),
             pytest.param(TRANSPORT, id="graphql-transport-ws")]
CREATE = "mutation($t: String!, $b: String) { noteCreate(data: {title: $t, body: $b}) { id } }"
FULL = "subscription($f: NoteSubscriptionFilter) { Notes(filter: $f) { mutation updatedFields node { id title } " \
       "previousValues { title } } }"
TEN_HOURS = 36_000


@pytest.fixture(scope="module")
def ada(sandbox) -> str:
    return login(sandbox, "ada@example.com", "ada-sandbox-pass")["id_token"]


@pytest.fixture(scope="module")
def bob(sandbox) -> str:
    """A second signed-up user (Note Taker: reads only their own notes)."""
    email, password = new_user(sandbox, "bob")
    token = login(sandbox, email, password)["id_token"]
    assert "errors" not in gql(sandbox.api_url, SIGN_UP, token, {"user": {"email": email}}).json()
    return token


def create_note(sandbox, token: str, title: str, body: str | None = None) -> str:
    return GraphQLClient(sandbox.api_url, token).execute(CREATE, {"t": title, "b": body})["noteCreate"]["id"]


def raw(sandbox, protocol: str | None = LEGACY, path: str | None = None):
    """A plain websockets connection (for messages a client library would never send)."""
    url = ws_url(sandbox.api_host + (path if path is not None else sandbox.workspace_id))
    return connect(url, subprotocols=[protocol] if protocol else None, open_timeout=5, close_timeout=1, legacy=True)


def answer(ws, timeout: float = 5) -> dict:
    return json.loads(ws.recv(timeout))


def closed(ws, timeout: float = 5) -> tuple[int | None, str]:
    """Read until the server closes; (code, reason)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.recv(max(deadline - time.monotonic(), 0.01))
    except Exception:  # ConnectionClosed* or the timeout
        pass
    frame = ws.protocol.close_rcvd
    return (frame.code, frame.reason) if frame else (None, "")


def wait_until(condition: Callable[[], object], what: str, timeout: float = 10) -> None:
    """Poll ``condition`` (the server's socket count has no event to wait on); raise once ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout} s")
        time.sleep(0.01)


# ------------------------------------------------------------------ both protocols, the token in the payload
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_event_arrives_on_both_protocols_with_the_token_in_connection_init(sandbox, ada, protocol):
    with SubscriptionClient(sandbox.api_url, token=ada, protocol=protocol) as sub:
        assert sub.log[0] == (">", {"type": "connection_init", "payload": {"token": ada}})
        assert sub.log[1] == ("<", {"type": "connection_ack"})
        sub.subscribe(FULL)
        sandbox.wait_for_subscriptions(1)
        note_id = create_note(sandbox, ada, "from a test")
        event = sub.next_event()
    assert event == {"Notes": {"mutation": "create", "updatedFields": [], "node": {"id": note_id, "title": "from a test"},
                               "previousValues": None}}
    kind = sub.log[-1][1]["type"]
    assert kind == ("next" if protocol == TRANSPORT else "data")


def test_the_server_picks_the_offered_protocol_and_refuses_unknown_ones(sandbox):
    for offered, chosen in ((TRANSPORT, TRANSPORT), (LEGACY, LEGACY), (None, None)):
        with raw(sandbox, offered) as ws:
            assert ws.subprotocol == chosen
    with pytest.raises(InvalidStatus):
        raw(sandbox, "graphql-something-else")  # type: ignore[arg-type]


def test_the_workspace_can_come_from_the_payload_as_the_8base_sdk_sends_it(sandbox, ada):
    with raw(sandbox, None, path="") as ws:  # ws://host/, workspaceId in connection_init
        ws.send(json.dumps(init_message(ada, sandbox.workspace_id)))
        assert answer(ws) == {"type": "connection_ack"}
    with raw(sandbox, None, path="") as ws:
        ws.send(json.dumps(init_message(ada)))
        error = answer(ws)
        assert error["type"] == "connection_error" and error["payload"]["code"] == "MissingHeaderError"
        assert closed(ws)[0] == 4403
    with raw(sandbox, None, path="") as ws:
        ws.send(json.dumps(init_message(ada, "nosuchworkspace")))
        assert answer(ws)["payload"]["message"] == "Workspace not found"
    with raw(sandbox, None) as ws:  # a payload that names another workspace than the URL
        ws.send(json.dumps(init_message(ada, "cl0otherworkspace0000002")))
        assert answer(ws)["payload"] == {"message": "Invalid message", "code": "InvalidArgumentError",
                                         "details": {"message": "workspaceId must be the workspace of the URL."}}


def test_events_belong_to_their_environment(sandbox):
    admin = sandbox.api_token
    with SubscriptionClient(sandbox.api_url, token=admin) as master, \
            SubscriptionClient(sandbox.api_url + "_dev", token=admin) as dev:
        master.subscribe(NOTE_CHANGES)
        dev.subscribe(NOTE_CHANGES)
        sandbox.wait_for_subscriptions(2)
        in_dev = GraphQLClient(sandbox.api_url + "_dev", admin).execute(CREATE, {"t": "dev"})["noteCreate"]["id"]
        in_master = create_note(sandbox, admin, "master")
        assert dev.next_event()["Notes"]["node"]["id"] == in_dev
        assert master.next_event()["Notes"]["node"]["id"] == in_master


# ------------------------------------------------------------------ token cases
def test_no_token_is_the_guest_who_may_not_read_notes(sandbox):
    with SubscriptionClient(sandbox.api_url) as sub:
        sub.subscribe(NOTE_CHANGES)
        with pytest.raises(NotAuthorizedError) as raised:
            sub.next_event()
        assert raised.value.close_code is None  # the operation failed; the socket stays open
        sub.send({"type": "start", "id": "2", "payload": {"query": NOTE_CHANGES}})
        with pytest.raises(NotAuthorizedError):
            sub.next_event()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_expired_token_is_refused_at_connect(sandbox, ada, protocol):
    sandbox.clock.advance(TEN_HOURS + 1)
    with pytest.raises(TokenExpiredError) as raised:
        SubscriptionClient(sandbox.api_url, token=ada, protocol=protocol).connect()
    assert raised.value.message == "Token expired" and raised.value.close_code == 4403
    if protocol != TRANSPORT:  # the legacy payload is what the 8base SDK's connectionCallback inspects
        assert raised.value.details == {"token": "jwt expired"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_forged_token_is_refused_at_connect(sandbox, ada, protocol):
    header, payload, signature = ada.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "someone-else@example.com"
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode(), signature])
    with pytest.raises(InvalidTokenError) as raised:
        SubscriptionClient(sandbox.api_url, token=forged, protocol=protocol).connect()
    assert raised.value.close_code == 4403 and raised.value.message == "Invalid token"


def test_a_token_that_is_not_a_string_or_not_a_token_is_refused(sandbox):
    for token in (["a", "list"], "not-a-token", "Bearer abc", "x" * 9000):
        with raw(sandbox) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
            error = answer(ws)
            assert error["type"] == "connection_error" and error["payload"]["code"] == "InvalidTokenError"
            assert "xxxxxxxx" not in json.dumps(error) and "Bearer abc" not in json.dumps(error)  # never echoed
            assert closed(ws)[0] == 4403


def test_a_user_who_never_signed_up_is_absent_for_every_subscription(sandbox):
    email, password = new_user(sandbox, "absent")
    token = login(sandbox, email, password)["id_token"]
    with SubscriptionClient(sandbox.api_url, token=token) as sub:
        sub.subscribe(NOTE_CHANGES)
        with pytest.raises(UserNotFoundError, match="User is absent"):
            sub.next_event()


def test_an_api_token_subscribes_with_its_roles(sandbox, ada, bob):
    with SubscriptionClient(sandbox.api_url, token=sandbox.api_token) as admin:
        admin.subscribe(NOTE_CHANGES)
        sandbox.wait_for_subscriptions(1)
        ids = [create_note(sandbox, ada, "ada's"), create_note(sandbox, bob, "bob's")]
        assert [e["Notes"]["node"]["id"] for e in admin.events(2)] == ids


# ------------------------------------------------------------------ permissions and filters
def test_a_user_sees_events_only_for_notes_they_may_read(sandbox, ada, bob):
    with SubscriptionClient(sandbox.api_url, token=ada) as ada_sub, \
            SubscriptionClient(sandbox.api_url, token=bob, protocol=TRANSPORT) as bob_sub:
        ada_sub.subscribe(FULL)
        bob_sub.subscribe(FULL)
        sandbox.wait_for_subscriptions(2)
        bobs_private = create_note(sandbox, bob, "bob's private note")
        adas = create_note(sandbox, ada, "ada's note")
        # events come in commit order: had Bob's note reached Ada, it would be her first event
        assert ada_sub.next_event()["Notes"]["node"]["id"] == adas
        assert bob_sub.next_event()["Notes"]["node"]["id"] == bobs_private
        GraphQLClient(sandbox.api_url, bob).execute(
            "mutation($id: ID) { noteUpdate(filter: {id: $id}, data: {title: \"renamed\"}) { id } }", {"id": bobs_private})
        last = create_note(sandbox, ada, "ada again")
        assert ada_sub.next_event()["Notes"]["node"]["id"] == last
        update = bob_sub.next_event()["Notes"]
        assert update == {"mutation": "update", "updatedFields": ["title"],
                          "node": {"id": bobs_private, "title": "renamed"},
                          "previousValues": {"title": "bob's private note"}}
    assert not any(bobs_private in json.dumps(m) for _, m in ada_sub.log)


def test_mutation_in_and_node_filters_narrow_what_arrives(sandbox, ada):
    only_deletes = {"f": {"mutation_in": ["delete"]}}
    titled = {"f": {"node": {"title": {"starts_with": "wanted"}}}}
    with SubscriptionClient(sandbox.api_url, token=ada) as sub:
        deletes = sub.subscribe(FULL, only_deletes)
        wanted = sub.subscribe(FULL, titled)
        sandbox.wait_for_subscriptions(2)
        note = create_note(sandbox, ada, "unwanted")
        second = create_note(sandbox, ada, "wanted one")
        GraphQLClient(sandbox.api_url, ada).execute(
            "mutation($id: ID) { noteDelete(filter: {id: $id}) { success } }", {"id": note})
        received = {}
        for _ in range(2):
            event = sub.next_event()
            message_id = sub.log[-1][1]["id"]
            received[message_id] = event["Notes"]
    assert received[wanted]["node"]["id"] == second
    assert received[deletes] == {"mutation": "delete", "updatedFields": [], "node": {"id": note, "title": "unwanted"},
                                 "previousValues": {"title": "unwanted"}}


def test_stop_ends_one_subscription_and_keeps_the_others(sandbox, ada):
    with SubscriptionClient(sandbox.api_url, token=ada, protocol=TRANSPORT) as sub:
        first = sub.subscribe(NOTE_CHANGES)
        second = sub.subscribe(NOTE_CHANGES)
        sandbox.wait_for_subscriptions(2)
        sub.stop(first)
        sandbox.wait_for_subscriptions(1)
        create_note(sandbox, ada, "after stop")
        sub.next_event()
        assert sub.log[-1][1]["id"] == second
        with pytest.raises(TimeoutError):
            sub.next_event(timeout=0.5)


def test_bad_queries_get_an_operation_error_and_never_echo_the_callers_text(sandbox, ada):
    with SubscriptionClient(sandbox.api_url, token=ada) as sub:
        for query, text in (("subscription { Notes { nosuch<script> } }", "Syntax Error: Unexpected character."),
                            ("subscription { Notes { nosuchfield } }", "Cannot query field '…' on type "
                                                                       "'NoteSubscriptionPayload'."),
                            ("{ user { id } }", "Only subscriptions are served over WebSocket"),
                            ("mutation { noteCreate(data: {title: \"x\"}) { id } }",
                             "Only subscriptions are served over WebSocket")):
            sub.subscribe(query)
            with pytest.raises(Exception) as raised:
                sub.next_event()
            assert raised.value.message == text
        sub.subscribe(FULL, {"f": {"mutation_in": ["<img src=x>"]}})
        with pytest.raises(Exception) as raised:
            sub.next_event()
        assert "<img" not in json.dumps(sub.log[-1][1])
        sub.subscribe(NOTE_CHANGES)  # the socket is still open and serving
        sandbox.wait_for_subscriptions(1)
        create_note(sandbox, ada, "still open")
        assert sub.next_event()["Notes"]["mutation"] == "create"


# ------------------------------------------------------------------ expiry on the open socket, and renewal
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_socket_closes_when_the_clock_passes_exp_and_a_renewed_token_reconnects(sandbox, protocol):
    email, password = "ada@example.com", "ada-sandbox-pass"
    tokens = login(sandbox, email, password, scope="openid profile email offline_access")
    sub = SubscriptionClient(sandbox.api_url, token=tokens["id_token"], protocol=protocol)
    sub.connect()
    op = sub.subscribe(NOTE_CHANGES)
    sandbox.clock.advance(TEN_HOURS + 1)
    with pytest.raises(TokenExpiredError) as raised:
        sub.next_event(timeout=3)
    assert raised.value.close_code == 4403
    if protocol != TRANSPORT:
        assert raised.value.details["subscription"].startswith("The token expired while the socket was open")
    else:
        assert sub.close_reason == "TokenExpiredError: Token expired"
    renewed = login(sandbox, email, password)["id_token"]  # a new login at the new time
    assert sub.reconnect(renewed) == {"type": "connection_ack"}
    sandbox.wait_for_subscriptions(1)  # the restarted operation listens
    note = create_note(sandbox, renewed, "after renewal")
    assert sub.next_event()["Notes"]["node"]["id"] == note
    assert sub.log[-1][1]["id"] == op  # the same operation, restarted
    sub.close()


def test_a_new_operation_after_exp_closes_the_socket_at_once(sandbox, ada):
    with SubscriptionClient(sandbox.api_url, token=ada) as sub:
        sub.subscribe(NOTE_CHANGES)
        sandbox.clock.advance(TEN_HOURS + 1)
        sub.subscribe(NOTE_CHANGES)
        started = time.monotonic()
        with pytest.raises(TokenExpiredError):
            sub.next_event(timeout=3)
        assert time.monotonic() - started < 3


def test_a_message_over_the_servers_ceiling_is_refused_by_the_websocket_layer(sandbox, ada):
    """Above WS_MAX_SIZE the frame is refused with 1009 before the API reads it (uvicorn's default is 16 MiB)."""
    from helpers.sandbox.common.server import WS_MAX_SIZE

    assert sandbox.api.settings.ws_max_message_bytes < WS_MAX_SIZE
    with raw(sandbox) as ws:
        ws.send(json.dumps(init_message(ada)))
        assert answer(ws)["type"] == "connection_ack"
        ws.send("x" * (WS_MAX_SIZE + 1))
        assert closed(ws)[0] == 1009  # RFC 6455 §7.4.1: message too big


# ------------------------------------------------------------------ protocol misuse and limits
def test_protocol_misuse_closes_with_the_protocols_codes(sandbox, ada):
    cases = [
        (False, ['{"type": "start", "id": "1", "payload": {"query": "subscription { Notes { mutation } }"}}'],
         4401, "Send connection_init first"),
        (True, ['{"type": "connection_init"}'], 4429, "Too many initialisation requests"),
        (True, ["{not json"], 4400, "Invalid message"),
        (True, ['{"type": "<b>bold</b>"}'], 4400, "Invalid message"),
        (True, [json.dumps(start_message("1", NOTE_CHANGES)), json.dumps(start_message("1", NOTE_CHANGES))],
         4409, "An operation with this id is already running"),
        (True, [json.dumps(start_message("x" * 200, NOTE_CHANGES))], 4400, "Invalid message"),
        (True, ['{"type": "start", "id": "1", "payload": {"query": 5}}'], 4400, "Invalid message"),
        (True, [json.dumps({"type": "start", "id": "1", "payload": {"query": "x" * 70_000}})], 4400, "Invalid message"),
    ]
    for protocol in (LEGACY, TRANSPORT):
        for init, messages, code, message in cases:
            with raw(sandbox, protocol) as ws:
                if init:
                    ws.send(json.dumps(init_message(ada)))
                    assert answer(ws)["type"] == "connection_ack"
                for text in messages:
                    ws.send(text.replace('"start"', '"subscribe"') if protocol == TRANSPORT else text)
                if protocol == LEGACY:
                    error = answer(ws)
                    assert error["type"] == "connection_error" and error["payload"]["message"] == message
                    assert "<b>" not in json.dumps(error)
                close_code, reason = closed(ws)
                assert close_code == code, (protocol, messages)
                assert reason.endswith(message)


def test_connection_terminate_and_complete_close_cleanly(sandbox, ada):
    with raw(sandbox, LEGACY) as ws:
        ws.send(json.dumps(init_message(ada)))
        answer(ws)
        ws.send(json.dumps({"type": "connection_terminate"}))
        assert closed(ws) == (1000, "")
    with raw(sandbox, TRANSPORT) as ws:
        ws.send(json.dumps(init_message(ada)))
        answer(ws)
        ws.send(json.dumps({"type": "ping"}))
        assert answer(ws) == {"type": "pong"}
        ws.send(json.dumps(stop_message("never-started", TRANSPORT)))  # completing an unknown id is harmless
        ws.send(json.dumps({"type": "ping"}))
        assert answer(ws) == {"type": "pong"}


def test_connection_init_must_come_within_the_timeout(own_sandbox):
    own_sandbox.api.configure(ws_init_timeout=0.3)
    for protocol in (LEGACY, TRANSPORT):
        with raw(own_sandbox, protocol) as ws:
            started = time.monotonic()
            code, reason = closed(ws)
            assert code == 4408 and reason == "InvalidArgumentError: Connection initialisation timeout"
            assert 0.25 < time.monotonic() - started < 3


def test_open_sockets_per_client_are_limited_and_freed_on_close(own_sandbox):
    own_sandbox.api.configure(ws_max_sockets_per_client=2)
    first, second = raw(own_sandbox), raw(own_sandbox)
    with raw(own_sandbox) as third:
        error = answer(third)
        assert error["payload"]["code"] == "ThrottlingThresholdReachedError"
        assert error["payload"]["message"] == "Too many open sockets"
        assert closed(third)[0] == 1013
    first.close()
    wait_until(lambda: own_sandbox.api.subscriptions.open_sockets() <= 1, "the closed socket was not freed", 3)
    with raw(own_sandbox) as again:  # a place is free again
        again.send(json.dumps(init_message(None, None)))
        assert answer(again) == {"type": "connection_ack"}
    second.close()


def test_operations_per_socket_are_limited(own_sandbox):
    own_sandbox.api.configure(ws_max_operations_per_socket=3)
    with SubscriptionClient(own_sandbox.api_url, token=own_sandbox.api_token) as sub:
        for _ in range(4):
            sub.subscribe(NOTE_CHANGES)
        with pytest.raises(ThrottlingThresholdReachedError, match="Too many subscriptions on this socket"):
            sub.next_event()
        assert own_sandbox.api.subscriptions.events.subscriptions() == 3  # the others keep running (and listen)
        create_note(own_sandbox, own_sandbox.api_token, "three")
        assert len(sub.events(3)) == 3


def test_a_slow_consumer_is_disconnected_with_its_queue_bounded(own_sandbox):
    own_sandbox.api.configure(ws_max_queued_events=2)
    server = own_sandbox.api.subscriptions
    token = login(own_sandbox, "ada@example.com", "ada-sandbox-pass")["id_token"]
    with stalled_subscription(own_sandbox, token, "subscription { Notes { node { body } } }") as answers:
        queue = next(q for queues in server.events._queues.values() for q in queues)
        for _ in range(60):  # ~900 KB each, never read: kernel buffers fill, then the API's queue
            big_note(own_sandbox, token)
            if queue.overflowed:
                break
        assert queue.overflowed and queue.high_water <= 2 and len(queue) == 0
        error = next(a for a in answers if a["type"] != "data")
    assert error == {"type": "connection_error", "payload": {
        "message": "The subscriber is too slow", "code": "ThrottlingThresholdReachedError",
        "details": {"events": "More than 2 events waited to be sent; read events as they come."}}}
    wait_until(lambda: not server.open_sockets(), "the slow consumer's socket was not closed")
    assert server.open_sockets() == 0 and server.events.subscriptions() == 0


# ------------------------------------------------------------------ load: nothing lost, nothing twice
def test_five_subscribers_get_each_of_200_mutations_exactly_once_in_commit_order(own_sandbox):
    admin = own_sandbox.api_token
    subs = [SubscriptionClient(own_sandbox.api_url, token=admin, protocol=(LEGACY, TRANSPORT)[i % 2], timeout=20)
            for i in range(5)]
    for sub in subs:
        sub.connect()
        sub.subscribe(NOTE_CHANGES)
    own_sandbox.wait_for_subscriptions(5, timeout=5)
    received: dict[int, list[str]] = {}

    def collect(index: int) -> None:
        received[index] = [e["Notes"]["node"]["id"] for e in subs[index].events(200)]

    readers = [threading.Thread(target=collect, args=(i,)) for i in range(5)]
    for reader in readers:
        reader.start()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # four writers at once
        created = list(pool.map(lambda n: create_note(own_sandbox, admin, f"load {n}"), range(200)))
    for reader in readers:
        reader.join(60)
    for sub in subs:
        sub.close()
    assert sorted(received) == list(range(5))
    for ids in received.values():
        assert len(ids) == 200 and set(ids) == set(created)  # none lost, none twice
        assert ids == received[0]  # every subscriber sees the one commit order


def test_the_settings_are_printed_with_the_api_settings(sandbox):
    settings = sandbox.info()["api_settings"]
    for name in ("ws_max_sockets_per_client", "ws_max_operations_per_socket", "ws_init_timeout",
                 "ws_max_queued_events", "ws_max_message_bytes"):
        assert name in settings


def test_a_closed_client_says_so(sandbox):
    sub = SubscriptionClient(sandbox.api_url)
    with pytest.raises(SocketClosed):
        sub.next_event()


# ------------------------------------------------------------------ fuzz: any message gets a clean, catalogued answer
KNOWN_CLOSES = {1000, 4400, 4401, 4403, 4409, 4429}
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=3),
                           max_leaves=8)
messages = st.one_of(
    st.text(max_size=40),  # not even JSON
    st.fixed_dictionaries({"type": st.sampled_from(["start", "subscribe", "stop", "complete", "connection_init",
                                                    "connection_terminate", "ping", "pong", "<x>", ""])},
                          optional={"id": json_values, "payload": json_values}).map(json.dumps),
    st.fixed_dictionaries({"type": st.sampled_from(["start", "subscribe"]), "id": st.text(min_size=1, max_size=5),
                           "payload": st.fixed_dictionaries(
                               {"query": st.sampled_from([NOTE_CHANGES, "{ user { id } }", "subscription {", "",
                                                          "subscription($f: NoteSubscriptionFilter) "
                                                          "{ Notes(filter: $f) { mutation } }"])},
                               optional={"variables": json_values, "operationName": json_values})}).map(json.dumps))


@pytest.mark.slow  # 60 Hypothesis examples over WebSockets: ~7-11 s
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(protocol=st.sampled_from([LEGACY, TRANSPORT]), sent=st.lists(messages, min_size=1, max_size=3))
def test_any_message_gets_a_clean_answer_never_an_internal_error(sandbox, protocol, sent):
    with raw(sandbox, protocol) as ws:
        ws.send(json.dumps(init_message(sandbox.api_token)))
        assert answer(ws)["type"] == "connection_ack"
        last = json.dumps({"type": "ping"}) if protocol == TRANSPORT else json.dumps(start_message("last", "{ x }"))
        try:
            for text in [*sent, last]:
                ws.send(text)
        except ConnectionClosed:
            pass  # the server closed after one of them: its close frame is checked below
        received = []
        try:
            while True:
                received.append(json.loads(ws.recv(0.5)))
        except TimeoutError:
            frame = None  # the socket is still open: every message was answered or ignored
        except Exception:
            frame = ws.protocol.close_rcvd
        if frame is not None:
            assert frame.code in KNOWN_CLOSES, frame
    for message in received:
        assert message["type"] in {"error", "connection_error", "pong", "data", "next", "complete"}, message
        payload = message.get("payload")
        errors_ = payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) else []
        for error in errors_:
            assert error.get("code") != "InternalError" and "Traceback" not in json.dumps(error)
            assert "<x>" not in json.dumps(error)


def test_an_authorization_header_on_the_handshake_is_not_read(sandbox, ada):
    """The token is read from connection_init only (a browser could not send the header anyway)."""
    url = ws_url(sandbox.api_url)
    with connect(url, subprotocols=[LEGACY], additional_headers={"Authorization": f"Bearer {ada}"},
                 open_timeout=5, close_timeout=1) as ws:
        ws.send(json.dumps(init_message(None)))
        assert answer(ws) == {"type": "connection_ack"}
        ws.send(json.dumps(start_message("1", NOTE_CHANGES)))
        assert answer(ws)["payload"]["code"] == "NotAuthorizedError"  # the Guest: the header was ignored


# ------------------------------------------------------------------ the client's pure parts
def test_message_builders_and_urls():
    assert ws_url("https://api.8base.com/abc") == "wss://api.8base.com/abc"
    assert ws_url("http://localhost:1/x") == "ws://localhost:1/x"
    assert init_message("t", "ws1", "dev") == {"type": "connection_init",
                                               "payload": {"token": "t", "workspaceId": "ws1", "environmentName": "dev"}}
    assert init_message(None) == {"type": "connection_init", "payload": {}}
    assert start_message("7", "q", {"a": 1}, TRANSPORT, "Op") == {
        "id": "7", "type": "subscribe", "payload": {"query": "q", "variables": {"a": 1}, "operationName": "Op"}}
    assert start_message("7", "q")["type"] == "start"
    assert stop_message("7", TRANSPORT) == {"id": "7", "type": "complete"}
    assert stop_message("7") == {"id": "7", "type": "stop"}


def test_a_close_reason_becomes_the_catalogued_exception_or_a_plain_close():
    error = error_from_close(4403, "TokenExpiredError: Token expired")
    assert isinstance(error, TokenExpiredError) and error.close_code == 4403 and error.message == "Token expired"
    assert error.explain().id == "api-token-expired"
    plain = error_from_close(1000, "")
    assert isinstance(plain, SocketClosed) and plain.close_code == 1000
    assert isinstance(error_from_close(1011, "something: went wrong"), SocketClosed)


# ------------------------------------------------------------------ a real browser: new WebSocket(url), no headers
OPEN_IN_PAGE = """async ([url, token]) => {
  const ws = new WebSocket(url);                 // no protocols and no headers: as the 8base SDK opens it
  window.got = []; window.closedWith = null;
  ws.onmessage = (event) => window.got.push(JSON.parse(event.data));
  ws.onclose = (event) => { window.closedWith = [event.code, event.reason]; };
  await new Promise((opened, failed) => { ws.onopen = opened; ws.onerror = failed; });
  ws.send(JSON.stringify({type: "connection_init", payload: {token}}));
  ws.send(JSON.stringify({id: "1", type: "start", payload: {query: "subscription { Notes { mutation node { title } } }"}}));
  return ws.protocol;
}"""


@pytest.mark.slow  # a real browser
def test_a_real_browser_subscribes_with_the_token_in_connection_init(sandbox, ada, browser_page):
    protocol = browser_page.evaluate(OPEN_IN_PAGE, [ws_url(sandbox.api_url), ada])
    assert protocol == ""  # none offered: the server speaks the legacy protocol
    sandbox.wait_for_subscriptions(1)
    create_note(sandbox, ada, "seen by a browser")
    browser_page.wait_for_function("window.got.some((m) => m.type === 'data')", timeout=10_000)
    got = browser_page.evaluate("window.got")
    assert got[0] == {"type": "connection_ack"}
    assert got[1] == {"type": "data", "id": "1",
                      "payload": {"data": {"Notes": {"mutation": "create", "node": {"title": "seen by a browser"}}}}}
    sandbox.clock.advance(TEN_HOURS + 1)
    browser_page.wait_for_function("window.closedWith !== null", timeout=10_000)
    assert browser_page.evaluate("window.got")[-1]["payload"]["code"] == "TokenExpiredError"
    assert browser_page.evaluate("window.closedWith") == [4403, "TokenExpiredError: Token expired"]
    browser_page.shot("after-expiry")
