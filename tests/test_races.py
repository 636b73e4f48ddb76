"""Races: pairs of concurrent requests on the same rows answer what one order or the other would answer.

8 workers x 200 rounds against one sandbox in a process of its own (both cores: tests/test_load.py's server).
Each round fires a pair of requests at the same instant (a barrier) on rows made for that round alone:

- ``noteUpdate`` / ``noteDelete`` of one note: the update either lands before the delete, or answers
  ``EntityNotFoundError`` as it would after the delete (never ``InternalError``);
- ``noteDelete`` / ``noteDelete`` of one note: one ``success: true`` and one ``EntityNotFoundError`` (never
  ``success: false`` with no error);
- the identity provider's sign-up of one email twice (one user, one ``user_exists``), then the API's
  ``userSignUpWithToken`` with that user's ID token twice (one user, one ``EntityExistsError``);
- ``apiTokenCreate`` with a role / ``apiTokensList``: the list shows the new token with all its roles, or not
  at all.

No answer anywhere has the code ``InternalError``, the API's answer to its own bugs.
"""
from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import threading
import uuid
from typing import Any, Callable

import pytest
import requests

from helpers.sandbox.api.records import EntityGone
from tests.test_load import ROOT, SERVER, Facts

pytestmark = pytest.mark.slow  # races: many concurrent request pairs: `make test-fast` leaves it out

WORKERS, ROUNDS = 8, 200
CREATE = 'mutation { noteCreate(data: {title: "race"}) { id } }'
UPDATE = 'mutation($id: ID) { noteUpdate(filter: {id: $id}, data: {title: "updated"}) { id title } }'
DELETE = "mutation($id: ID) { noteDelete(filter: {id: $id}) { success } }"
SIGN_UP = "mutation($email: String!) { userSignUpWithToken(user: {email: $email}) { id email } }"
TOKEN_CREATE = ('mutation($name: String!) { apiTokenCreate(data: {name: $name, roles: {connect: [{name: '
                '"Note Taker"}]}}) { id } }')
TOKENS_LIST = "{ apiTokensList { items { name roles { items { name } } } } }"


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path_factory.mktemp("races"))], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield Facts(json.loads(process.stdout.readline()))
    finally:
        process.stdin.close()
        process.wait(timeout=30)


class Worker:
    """One client of the race: two keep-alive connections that send a pair of requests at the same instant."""

    def __init__(self, box: Facts) -> None:
        self.box = box
        self.sessions = [requests.Session(), requests.Session()]
        self.pool = concurrent.futures.ThreadPoolExecutor(2)
        self.barrier = threading.Barrier(2)

    def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None,
            session: int = 0) -> dict[str, Any]:
        response = self.sessions[session].post(self.box.api_url, json={"query": query, "variables": variables or {}},
                                               headers={"Authorization": f"Bearer {token or self.box.api_token}"},
                                               timeout=30)
        body = response.json()
        assert "InternalError" not in json.dumps(body), body
        assert response.status_code == 200, body
        return body

    def idp_signup(self, email: str, session: int) -> requests.Response:
        return self.sessions[session].post(self.box.idp_url + "dbconnections/signup", timeout=30, json={
            "client_id": self.box.spa_client_id, "email": email, "password": "long-enough-pass",
            "connection": self.box.connection})

    def pair(self, first: Callable[[int], Any], second: Callable[[int], Any]) -> tuple[Any, Any]:
        def run(call: Callable[[int], Any], session: int) -> Any:
            self.barrier.wait(timeout=30)
            return call(session)
        one, two = self.pool.submit(run, first, 0), self.pool.submit(run, second, 1)
        return one.result(), two.result()

    def close(self) -> None:
        self.pool.shutdown()
        for session in self.sessions:
            session.close()


def code(body: dict[str, Any]) -> str | None:
    return body["errors"][0]["code"] if body.get("errors") else None


def new_note(worker: Worker) -> str:
    return worker.gql(CREATE)["data"]["noteCreate"]["id"]


def update_and_delete(worker: Worker, _: int) -> None:
    note = new_note(worker)
    updated, deleted = worker.pair(lambda s: worker.gql(UPDATE, {"id": note}, session=s),
                                   lambda s: worker.gql(DELETE, {"id": note}, session=s))
    assert deleted == {"data": {"noteDelete": {"success": True}}}, deleted
    assert updated == {"data": {"noteUpdate": {"id": note, "title": "updated"}}} or (
        code(updated) == "EntityNotFoundError" and updated["data"] is None), updated  # the update came second


def delete_twice(worker: Worker, _: int) -> None:
    note = new_note(worker)
    answers = worker.pair(lambda s: worker.gql(DELETE, {"id": note}, session=s),
                          lambda s: worker.gql(DELETE, {"id": note}, session=s))
    won = [a for a in answers if a == {"data": {"noteDelete": {"success": True}}}]
    lost = [a for a in answers if code(a) == "EntityNotFoundError"]
    assert len(won) == 1 and len(lost) == 1, answers


def sign_up_twice(worker: Worker, round_: int) -> None:
    email = f"race-{round_}-{uuid.uuid4().hex[:8]}@example.com"
    answers = worker.pair(lambda s: worker.idp_signup(email, s), lambda s: worker.idp_signup(email, s))
    assert sorted(a.status_code for a in answers) == [200, 400], [a.text for a in answers]
    assert [a.json()["code"] for a in answers if a.status_code == 400] == ["user_exists"]
    tokens = worker.sessions[0].post(worker.box.idp_url + "oauth/token", timeout=30, json={
        "grant_type": "password", "client_id": worker.box.web_client_id, "username": email,
        "client_secret": worker.box.web_client_secret, "password": "long-enough-pass", "scope": "openid email"})
    id_token = tokens.json()["id_token"]
    answers = worker.pair(lambda s: worker.gql(SIGN_UP, {"email": email}, id_token, s),
                          lambda s: worker.gql(SIGN_UP, {"email": email}, id_token, s))
    assert sorted(str(code(a)) for a in answers) == ["EntityExistsError", "None"], answers
    assert [a["data"]["userSignUpWithToken"]["email"] for a in answers if not code(a)] == [email]


def grant_and_read(worker: Worker, round_: int) -> None:
    name = f"race-{round_}-{uuid.uuid4().hex[:8]}"
    created, listed = worker.pair(lambda s: worker.gql(TOKEN_CREATE, {"name": name}, session=s),
                                  lambda s: worker.gql(TOKENS_LIST, session=s))
    assert created["data"]["apiTokenCreate"]["id"], created
    seen = [t for t in listed["data"]["apiTokensList"]["items"] if t["name"] == name]
    assert seen in ([], [{"name": name, "roles": {"items": [{"name": "Note Taker"}]}}]), seen


KINDS = (update_and_delete, delete_twice, sign_up_twice, grant_and_read)


def test_racing_pairs_answer_as_some_order_would_and_never_internal_error(box):
    def work(index: int) -> int:
        worker = Worker(box)
        try:
            for round_ in range(ROUNDS):
                KINDS[(index + round_) % len(KINDS)](worker, index * ROUNDS + round_)
            return ROUNDS
        finally:
            worker.close()
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        assert sum(pool.map(work, range(WORKERS))) == WORKERS * ROUNDS


def test_a_note_whose_author_was_deleted_after_authentication_is_refused_not_crashed(sandbox):
    """The window the HTTP race cannot aim at: the caller was authenticated, then its user was deleted. The
    store refuses the note (EntityGone, which noteCreate answers as User is absent) instead of SQLite's foreign
    key error becoming InternalError."""
    db = sandbox.api.database(sandbox.workspace_id)
    user = db.create_user(f"gone-{uuid.uuid4().hex[:8]}@example.com", None, None, ["Note Taker"])
    db.delete_user(user.id)
    with pytest.raises(EntityGone):
        db.create_note("after the delete", None, user.id)
    note = db.create_note("by the Administrator token", None, None)  # no author at all is still fine
    assert note.created_by is None and db.delete_note(note.id) == note
