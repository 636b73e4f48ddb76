"""B5: ``start_sandbox()`` until both servers answer, against uvicorn serving a bare Starlette app.

Each side runs in a fresh Python process (as a kernel starts the sandbox once), which first imports
the same modules (``helpers``, ``requests``, starlette, uvicorn) untimed, then times:

- subject: from the call ``start_sandbox()`` until ``GET /.well-known/openid-configuration`` on the
  IdP and ``POST {api_url}`` with ``{ __typename }`` on the API have both answered 200. Keys, seeds,
  the API's databases and its GraphQL schema are built inside that time;
- floor: from the call ``BackgroundServer(<Starlette app with one JSON route>).start()`` (the same
  uvicorn-in-a-daemon-thread wrapper the sandbox uses, so uvicorn's first-use costs are in both)
  until ``GET /`` on it has answered 200.

Rounds alternate which process goes first. Process start and imports are not in either time (B7 and
B6 see those). A note gives, for information, when the IdP's JWKS answered (its signing keys are made in
the background while the servers start; the first request that needs them waits).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .common import Size, check
from .report import Result, Target
from .timing import median, once_pair

ROOT = Path(__file__).resolve().parents[1]

IMPORTS = """
import json, time
import requests
import helpers
from helpers.sandbox import start_sandbox
from helpers.sandbox.common.server import BackgroundServer
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
"""

SUBJECT = IMPORTS + """
start = time.perf_counter()
sandbox = start_sandbox()
idp = requests.get(sandbox.idp_url + ".well-known/openid-configuration", timeout=30)
api = requests.post(sandbox.api_url, json={"query": "{ __typename }"}, timeout=30)
elapsed = time.perf_counter() - start
assert idp.status_code == 200 and api.status_code == 200, (idp.status_code, api.status_code)
keys = requests.get(sandbox.idp_url + ".well-known/jwks.json", timeout=30)  # waits for the signing keys
keys_ready = time.perf_counter() - start
assert keys.status_code == 200 and len(keys.json()["keys"]) == 2
print(json.dumps({"seconds": elapsed, "keys_ready": keys_ready}))
sandbox.stop()
"""

FLOOR = IMPORTS + """
async def hello(request):
    return JSONResponse({"hello": "world"})

start = time.perf_counter()
server = BackgroundServer(lambda port: Starlette(routes=[Route("/", hello, methods=["GET"])])).start()
answer = requests.get(f"http://127.0.0.1:{server.port}/", timeout=30)
elapsed = time.perf_counter() - start
assert answer.status_code == 200, answer.status_code
print(json.dumps({"seconds": elapsed}))
server.stop()
"""


def _fresh_process(code: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    check(done.returncode == 0, f"B5: the timed process failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(size: Size) -> list[Result]:
    keys_ready: list[float] = []

    def subject() -> float:
        measured = _fresh_process(SUBJECT)
        keys_ready.append(measured["keys_ready"])
        return measured["seconds"]

    paired = once_pair(subject, lambda: _fresh_process(FLOOR)["seconds"], rounds=size.pick(9, 3))
    note = (f"the JWKS (both signing keys made) answered {median(keys_ready) * 1e3:.0f} ms after the call "
            "(median; not part of the measure)")
    return [Result("B5", "start_sandbox() until both servers answer vs uvicorn + bare Starlette app (fresh process)",
                   paired.value, paired.floor_value, "ms", paired.ratio, Target("<=", 3.0), len(paired.subject),
                   paired.spread, [note])]
