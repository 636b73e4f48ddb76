"""Load: 8 keep-alive clients x 500 authenticated note-creating mutations against one own sandbox.

Every mutation succeeds, and the database then holds exactly 4000 new rows: none lost, none twice, each with
its author. Half the clients are the note taker ada (her ID token, verified on every request), half hold the
Administrator API token. tests/test_api.py ``test_concurrent_note_creation_loses_and_duplicates_nothing`` is
the small version (80 notes, one connection per request, on the shared sandbox).

The sandbox runs in a process of its own, as ``python -m helpers.sandbox`` would, so that the server and the
eight clients use both cores of a CI runner; its databases are in ``tmp_path``, read afterwards with sqlite3.
"""
from __future__ import annotations

import concurrent.futures
import json
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
import requests

from tests.test_api import login

pytestmark = pytest.mark.slow  # load: 4000 mutations from eight clients: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parents[1]
CLIENTS, MUTATIONS = 8, 500
CREATE = "mutation($t: String!) { noteCreate(data: {title: $t}) { id title createdBy { email } } }"

# The sandbox of this test, in a child process: its facts on the first line, then serving until stdin closes.
# TCP_NODELAY on the listening sockets (accepted connections inherit it on Linux): the sandbox binds them as
# socket(AF_INET, SOCK_STREAM), proto 0, so asyncio does not set it on accepted connections; uvicorn writes a
# response's headers and body separately, and on a keep-alive connection the body would wait for the client's
# delayed ACK, about 40 ms per request.
SERVER = """
import json, socket, sys
from helpers.sandbox import launch_sandbox
box = launch_sandbox(data_dir=sys.argv[1])
for server in box._servers:
    server._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print(json.dumps(box.info()), flush=True)
sys.stdin.read()
box.stop()
"""


class Facts:
    def __init__(self, info: dict) -> None:
        self.__dict__.update(info)


def test_eight_clients_create_four_thousand_notes_and_every_one_is_stored_once(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path)], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        box = Facts(json.loads(process.stdout.readline()))
        ada = login(box, "ada@example.com", "ada-sandbox-pass")["id_token"]
        start = threading.Barrier(CLIENTS)

        def client(number: int) -> list[dict]:
            session = requests.Session()  # one keep-alive connection per client
            session.headers["Authorization"] = "Bearer " + (ada if number % 2 == 0 else box.api_token)
            start.wait(timeout=30)
            answers = []
            for i in range(MUTATIONS):
                response = session.post(box.api_url, timeout=30,
                                        json={"query": CREATE, "variables": {"t": f"load-{number}-{i}"}})
                assert response.status_code == 200, (number, i, response.text[:300])
                body = response.json()
                assert "errors" not in body, (number, i, body)
                answers.append(body["data"]["noteCreate"])
            session.close()
            return answers

        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, range(CLIENTS)))
        counted = requests.post(box.api_url, timeout=30, headers={"Authorization": "Bearer " + box.api_token},
                                json={"query": '{ notesList(filter: {title: {starts_with: "load-"}}) { count } }'})
        assert counted.json() == {"data": {"notesList": {"count": 4000}}}
    finally:
        process.stdin.close()
        if process.wait(timeout=30) != 0:
            process.kill()
    assert process.returncode == 0

    expected = {f"load-{c}-{i}" for c in range(CLIENTS) for i in range(MUTATIONS)}
    answered = [note for answers in results for note in answers]
    assert len(answered) == CLIENTS * MUTATIONS == 4000
    assert {n["title"] for n in answered} == expected
    for number, answers in enumerate(results):
        author = {"email": "ada@example.com"} if number % 2 == 0 else None
        assert all(n["createdBy"] == author for n in answers), number

    with closing(sqlite3.connect(tmp_path / f"{box.workspace_id}__Master.sqlite3")) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ada_id = db.execute("SELECT id FROM users WHERE email = 'ada@example.com'").fetchone()[0]
        rows = db.execute("SELECT id, title, created_by FROM notes WHERE title LIKE 'load-%'").fetchall()
        total = db.execute("SELECT count(*) FROM notes").fetchone()[0]
    assert len(rows) == 4000 and total == 4000 + 1  # exactly 4000 new rows (the seed has one note)
    assert Counter(title for _, title, _ in rows).most_common(1)[0][1] == 1 and {r[1] for r in rows} == expected
    assert len({r[0] for r in rows}) == 4000 and {r[0] for r in rows} == {n["id"] for n in answered}
    assert Counter(author for _, _, author in rows) == {ada_id: 2000, None: 2000}
