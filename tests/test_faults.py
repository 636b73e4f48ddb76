"""Faults over real HTTP: the API's JWKS source failing, and the API's process dying or restarting.

JWKS: tests/test_jwks_*.py prove the cache itself (outage, slow endpoint, bad bodies) with a fake clock; here
the same faults reach the sandbox API end to end. A fake identity provider on loopback (``FakeIssuer``) serves
the JWKS of our own RSA key; the API's Authentication Profile is pointed at it, and tokens we sign for
ada@example.com either use a kid the fake serves (known) or one it does not (unknown).

Persistence: tests/test_api.py ``test_a_data_dir_keeps_users_tokens_and_notes_across_restarts`` shows a user,
an API token and a note surviving a clean restart; here a restart keeps roles and identities too, and a
process killed with SIGKILL in the middle of writes leaves SQLite files that are intact and complete.
"""
from __future__ import annotations

import concurrent.futures
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers.sandbox import Sandbox, launch_sandbox
from helpers.verify import REASONS
from tests.test_api import SIGN_UP, gql, login, new_user

ROOT = Path(__file__).resolve().parents[1]
ADA = "ada@example.com"
USER_QUERY = "{ user { email } }"
JWKS_TIMEOUT = 1.0  # the API's jwks_timeout in these tests
KEYS = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in ("known", "rotated", "unknown")}
KEY_UNAVAILABLE = {"code": "ExternalServiceError",  # what the API answers (helpers/sandbox/api/auth.py, api_error_for)
                   "message": "The identity provider's signing keys could not be fetched",
                   "details": {"token": REASONS["key_unavailable"]}}


def public_jwk(kid: str) -> dict:
    member = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEYS[kid].public_key()))
    return member | {"kid": kid, "alg": "RS256", "use": "sig"}


class FakeIssuer:
    """An identity provider reduced to ``/.well-known/jwks.json``, switchable between requests.

    ``body``/``status``/``content_type`` is the answer, sent after ``delay`` seconds (a slow endpoint);
    ``hits`` counts requests as they arrive. ``stop()`` closes the port: connection refused.
    """

    def __init__(self) -> None:
        self.kids = ["known"]
        self.status, self.body, self.content_type, self.delay = 200, None, "application/json", 0.0
        self._hits = 0
        self._arrived = threading.Condition()
        self._stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with outer._arrived:
                    outer._hits += 1
                    outer._arrived.notify_all()
                status, body, content_type, delay = outer._answer()
                if delay and outer._stopping.wait(delay):
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the API gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _answer(self) -> tuple[int, bytes, str, float]:
        body = self.body if self.body is not None else json.dumps({"keys": [public_jwk(k) for k in self.kids]}).encode()
        return self.status, body, self.content_type, self.delay

    def serve(self, *kids: str, delay: float = 0.0) -> None:
        self.kids, self.status, self.body, self.content_type = list(kids), 200, None, "application/json"
        self.delay = delay

    def respond(self, status: int, body: bytes, content_type: str) -> None:
        self.status, self.body, self.content_type = status, body, content_type

    @property
    def hits(self) -> int:
        with self._arrived:
            return self._hits

    def wait_for_hits(self, n: int, timeout: float = 5.0) -> None:
        with self._arrived:
            assert self._arrived.wait_for(lambda: self._hits >= n, timeout), "the API never fetched the JWKS"

    def stop(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def faulty_box() -> Sandbox:
    """A sandbox whose unknown kids may refetch the JWKS at once (cooldown 0), each fetch bounded by 1 s."""
    box = launch_sandbox(jwks_timeout=JWKS_TIMEOUT, jwks_cooldown=0)
    yield box
    box.stop()


@pytest.fixture
def fake() -> FakeIssuer:
    issuer = FakeIssuer()
    yield issuer
    if not issuer._stopping.is_set():
        issuer.stop()


@pytest.fixture
def api(faulty_box: Sandbox, fake: FakeIssuer) -> Sandbox:
    """The API trusting this test's fake issuer (its Authentication Profile points there), caches empty."""
    db = faulty_box.api.database(faulty_box.workspace_id)
    with db._write() as conn:
        conn.execute("UPDATE auth_profiles SET domain = ? WHERE id = ?", (fake.issuer, faulty_box.auth_profile_id))
    faulty_box.api.configure(jwks_cache_ttl=600, jwks_stale_for=3600, jwks_cooldown=0)  # new caches, all empty
    return faulty_box


def signed(box: Sandbox, issuer: str, kid: str) -> str:
    """ada's ID token from the fake issuer, signed with ``KEYS[kid]``."""
    now = int(box.clock.now())
    claims = {"iss": issuer, "sub": "auth0|fake-ada", "aud": box.spa_client_id, "iat": now - 5, "exp": now + 3600,
              "email": ADA, "email_verified": True}
    return jwt.encode(claims, KEYS[kid], algorithm="RS256", headers={"kid": kid})


def ask(box: Sandbox, token: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = gql(box.api_url, USER_QUERY, token)
    assert response.status_code < 500 and "Traceback" not in response.text, response.text[:300]
    return response, time.monotonic() - started


def is_ada(response: requests.Response) -> bool:
    return response.json() == {"data": {"user": {"email": ADA}}}


def error_of(response: requests.Response) -> dict:
    body = response.json()
    assert response.status_code == 200 and body["data"] is None and len(body["errors"]) == 1, body
    error = body["errors"][0]
    return {k: error[k] for k in ("code", "message", "details")}


# ------------------------------------------------------------------ JWKS endpoint down after a warm cache
def test_jwks_down_after_a_warm_cache_known_kids_work_unknown_kids_fail_within_the_timeout(api, fake):
    known, unknown = signed(api, fake.issuer, "known"), signed(api, fake.issuer, "unknown")
    assert is_ada(ask(api, known)[0]) and fake.hits == 1  # warm

    outages = [("HTTP 503", lambda: fake.respond(503, b"Service Unavailable", "text/plain")),
               ("hanging", lambda: fake.serve("known", "unknown", delay=30)),  # would even have the key, too late
               ("connection refused", fake.stop)]
    for name, outage in outages:
        outage()
        for _ in range(3):
            response, elapsed = ask(api, known)
            assert is_ada(response) and elapsed < 0.5, (name, response.text[:200], elapsed)
        response, elapsed = ask(api, unknown)
        assert error_of(response) == KEY_UNAVAILABLE, (name, response.text[:300])
        assert elapsed < JWKS_TIMEOUT + 1.0, (name, elapsed)  # bounded by jwks_timeout, not by the endpoint
    assert fake.hits == 3  # one refetch per unknown kid (cooldown 0), none for the known one


def test_within_the_refetch_cooldown_an_unknown_kid_is_an_invalid_token_without_a_fetch(api, fake):
    """With a cooldown (30 s, the seed's), the unknown kid right after the warm fetch asks nobody."""
    api.api.configure(jwks_cooldown=30)
    assert is_ada(ask(api, signed(api, fake.issuer, "known"))[0])
    fake.respond(503, b"Service Unavailable", "text/plain")
    response, elapsed = ask(api, signed(api, fake.issuer, "unknown"))
    assert error_of(response) == {"code": "InvalidTokenError", "message": "Invalid token",
                                  "details": {"token": REASONS["bad_signature"]}}
    assert elapsed < 0.5 and fake.hits == 1


# ------------------------------------------------------------------ JWKS endpoint slow
def test_a_slow_unknown_kid_refresh_does_not_hold_back_known_kids(api, fake):
    known, rotated = signed(api, fake.issuer, "known"), signed(api, fake.issuer, "rotated")
    assert is_ada(ask(api, known)[0])
    fake.serve("known", "rotated", delay=0.8)  # the issuer rotated; its endpoint is slow but within the timeout
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        refresh = pool.submit(ask, api, rotated)
        fake.wait_for_hits(2)  # the refresh is in flight
        timings = [ask(api, known) for _ in range(5)]
        assert all(is_ada(r) for r, _ in timings)
        assert max(t for _, t in timings) < 0.4, [t for _, t in timings]
        response, elapsed = refresh.result(timeout=10)
    assert is_ada(response) and elapsed >= 0.8  # the new key, after one slow fetch


def test_known_kids_are_served_stale_while_an_expired_cache_refreshes_slowly(api, fake):
    api.api.configure(jwks_cache_ttl=0.3, jwks_stale_for=3600)
    known = signed(api, fake.issuer, "known")
    assert is_ada(ask(api, known)[0])
    # past the ttl: the next verification refreshes. A real wait, and the point: the API's JWKS cache measures
    # its ttl on the process's monotonic clock, not on the sandbox clock (which a lesson may move backwards).
    time.sleep(0.35)
    fake.serve("known", delay=0.8)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        refresh = pool.submit(ask, api, known)
        fake.wait_for_hits(2)
        timings = [ask(api, known) for _ in range(5)]
        assert all(is_ada(r) for r, _ in timings)
        assert max(t for _, t in timings) < 0.4, [t for _, t in timings]
        assert is_ada(refresh.result(timeout=10)[0])


# ------------------------------------------------------------------ JWKS bodies that are not a key set
BAD_BODIES = {
    "html": (b"<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    "html-as-json": (b"<html><body>Log in to continue</body></html>", "application/json"),
    "oversized": (json.dumps({"keys": [public_jwk("known")], "padding": "x" * 1_100_000}).encode(),
                  "application/json"),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_html_or_oversized_jwks_bodies_fail_closed(api, fake, name):
    body, content_type = BAD_BODIES[name]
    fake.respond(200, body, content_type)
    response, elapsed = ask(api, signed(api, fake.issuer, "known"))  # cold cache: only this body to go on
    assert error_of(response) == KEY_UNAVAILABLE, response.text[:300]
    assert elapsed < JWKS_TIMEOUT + 1.0
    assert "<html" not in response.text and "padding" not in response.text
    fake.serve("known")  # the issuer recovers: the next token after the cooldown (0 s here) is accepted
    assert is_ada(ask(api, signed(api, fake.issuer, "known"))[0])


# ------------------------------------------------------------------ restarts
def test_a_restart_keeps_users_roles_api_tokens_and_notes(tmp_path):
    first = launch_sandbox(data_dir=tmp_path)
    try:
        email, password = new_user(first, "restart")
        id_token = login(first, email, password)["id_token"]
        user = gql(first.api_url, SIGN_UP, id_token, {"user": {"email": email}}).json()["data"]["userSignUpWithToken"]
        note = gql(first.api_url, 'mutation { noteCreate(data: {title: "survives", body: "b"}) { id } }',
                   id_token).json()["data"]["noteCreate"]
        created = gql(first.api_url, 'mutation { apiTokenCreate(data: {name: "restart", roles: {connect: '
                                     '[{name: "Note Taker"}, {name: "Administrator"}]}}) { token } }',
                      first.api_token).json()["data"]["apiTokenCreate"]["token"]
        db = first.api.database(first.workspace_id)
        with db._write() as conn:  # a role edited at run time: a restart must not reseed it
            conn.execute("UPDATE roles SET description = 'edited before the restart' WHERE name = 'Note Taker'")
        dev_before = first.api.database(first.workspace_id, "dev").users()
    finally:
        first.stop()

    second = launch_sandbox(data_dir=tmp_path)
    try:
        # The identity provider keeps nothing (new port, new keys, seeded users only): the person signs up there
        # again with the same email, and the API, which kept everything, knows them.
        assert requests.post(second.idp_url + "dbconnections/signup", timeout=10, json={
            "client_id": second.spa_client_id, "email": email, "password": password,
            "connection": second.connection}).status_code == 200
        token = login(second, email, password)["id_token"]
        me = gql(second.api_url, "{ user { id email roles { items { name description } } } }", token).json()
        assert me["data"]["user"]["id"] == user["id"] and me["data"]["user"]["email"] == email
        assert [(r["name"], r["description"]) for r in me["data"]["user"]["roles"]["items"]][1] == \
            ("Note Taker", "edited before the restart")
        mine = gql(second.api_url, "{ notesList { items { id title body createdBy { id } } } }", token).json()
        assert mine["data"]["notesList"]["items"] == [
            {"id": note["id"], "title": "survives", "body": "b", "createdBy": {"id": user["id"]}}]
        roles = gql(second.api_url, "{ rolesList { items { name } } apiTokensList { items { name roles { items "
                                    "{ name } } } } }", created).json()["data"]
        assert [r["name"] for r in roles["rolesList"]["items"]] == ["Guest", "Administrator", "Note Taker"]
        restart_token = next(t for t in roles["apiTokensList"]["items"] if t["name"] == "restart")
        assert sorted(r["name"] for r in restart_token["roles"]["items"]) == ["Administrator", "Note Taker"]
        assert second.api.database(second.workspace_id, "dev").users() == dev_before
        profiles = second.api.database(second.workspace_id).auth_profiles()
        assert profiles[0].domain == second.idp_url  # the kept profile follows the restarted identity provider
    finally:
        second.stop()


NOTE_ROW = re.compile(r"kill-\d-\d+")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_sigkill_in_the_middle_of_writes_leaves_a_consistent_database(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "helpers.sandbox", "--data-dir", str(tmp_path)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    acknowledged: list[tuple[str, str]] = []
    lock, stop, enough = threading.Lock(), threading.Event(), threading.Event()
    try:
        facts = json.loads(process.stdout.readline())
        create = "mutation($t: String!, $b: String) { noteCreate(data: {title: $t, body: $b}) { id title } }"

        def hammer(client: int) -> int:
            session = requests.Session()
            session.headers["Authorization"] = "Bearer " + facts["api_token"]
            sent = 0
            while not stop.is_set() and sent < 2000:
                title = f"kill-{client}-{sent}"
                sent += 1
                try:
                    answer = session.post(facts["api_url"], json={"query": create, "variables": {
                        "t": title, "b": "x" * 2000}}, timeout=10).json()
                except (requests.RequestException, ValueError):
                    return sent  # the server is gone
                with lock:
                    acknowledged.append((answer["data"]["noteCreate"]["id"], title))
                    if len(acknowledged) >= 150:
                        enough.set()
            return sent

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            clients = [pool.submit(hammer, c) for c in range(6)]
            enough.wait(30)
            process.send_signal(signal.SIGKILL)  # mid-way: six writers are in flight
            process.wait(timeout=10)
            attempted = sum(c.result(timeout=30) for c in clients)
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL and len(acknowledged) >= 150
    assert attempted > len(acknowledged)  # some requests were in flight when the process died

    files = sorted(tmp_path.glob("*.sqlite3"))
    assert len(files) == 3  # two environments of the lab workspace, one of the other
    for path in files:
        with closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], path.name
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], path.name
    master = tmp_path / "cl0labworkspace000000001__Master.sqlite3"
    with closing(sqlite3.connect(master)) as conn:
        rows = conn.execute("SELECT id, title, body, created_by, created_at, updated_at FROM notes "
                            "WHERE title LIKE 'kill-%'").fetchall()
    stored = {row[0]: row for row in rows}
    for note_id, title, body, created_by, created_at, updated_at in rows:  # every row complete, none torn
        assert re.fullmatch(r"c[a-z0-9]{24}", note_id) and NOTE_ROW.fullmatch(title), (note_id, title)
        assert body == "x" * 2000 and created_by is None and ISO.fullmatch(created_at) and updated_at == created_at
    assert len(stored) == len(rows) and len({r[1] for r in rows}) == len(rows)  # no id or title twice
    assert all(stored.get(note_id, (None, None))[1] == title for note_id, title in acknowledged)  # nothing lost
    assert len(acknowledged) <= len(rows) <= attempted

    again = launch_sandbox(data_dir=tmp_path)  # restart on the same folder
    try:
        listed = gql(again.api_url, '{ notesList(filter: {title: {starts_with: "kill-"}}) { count } }',
                     again.api_token).json()
        assert listed == {"data": {"notesList": {"count": len(rows)}}}
        created = gql(again.api_url, 'mutation { noteCreate(data: {title: "after the kill"}) { title } }',
                      again.api_token).json()
        assert created == {"data": {"noteCreate": {"title": "after the kill"}}}
    finally:
        again.stop()
