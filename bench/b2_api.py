"""B2 and B3: an authenticated GraphQL call against the cheapest call, on the same API server.

Subject: ``POST {api_url}`` with ``{ user { id } }`` and ``Authorization: Bearer <ID token>``: header
parsing, the profile lookup, the hardened verifier with the warm JWKS cache, the user and roles
lookups, and the resolver with its permission check.
Floor: ``{ __typename }`` with no ``Authorization`` header (the Guest role, no resolver), same server,
same workspace, same HTTP client.

The sandbox runs as the lessons run it: uvicorn in a daemon thread of this process
(``launch_sandbox()``), clients are ``requests.Session`` objects in the same process (the notebook
situation: one process, one GIL). B2 alternates subject and floor calls one by one; B3 runs 8
client threads (one session each) on the subject, then on the floor, for the same time (1 s each), in
many short rounds so that a burst of load from elsewhere hits few of them.
"""
from __future__ import annotations

import requests

from helpers.sandbox import launch_sandbox

from .common import Size, check, id_token
from .report import Result, Target
from .timing import latency_pair, throughput_pair

SUBJECT_QUERY = {"query": "{ user { id } }"}
FLOOR_QUERY = {"query": "{ __typename }"}
CLIENTS = 8


class _Calls:
    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url
        self.auth = {"Authorization": f"Bearer {token}"}

    def subject(self, session: requests.Session) -> None:
        response = session.post(self.api_url, json=SUBJECT_QUERY, headers=self.auth, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"subject call answered {response.status_code}")

    def floor(self, session: requests.Session) -> None:
        response = session.post(self.api_url, json=FLOOR_QUERY, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"floor call answered {response.status_code}")


def _setup():
    sandbox = launch_sandbox()
    token = id_token(sandbox)
    calls = _Calls(sandbox.api_url, token)
    with requests.Session() as session:
        body = session.post(sandbox.api_url, json=SUBJECT_QUERY, headers=calls.auth, timeout=30).json()
        check((body.get("data") or {}).get("user", {}).get("id") is not None and "errors" not in body,
              f"B2: the ID token does not reach the user: {body}")
        body = session.post(sandbox.api_url, json=FLOOR_QUERY, timeout=30).json()
        check(body == {"data": {"__typename": "Query"}}, f"B2: the floor query failed: {body}")
    return sandbox, calls


def run_b2(size: Size) -> list[Result]:
    sandbox, calls = _setup()
    try:
        s_session, f_session = requests.Session(), requests.Session()
        paired = latency_pair(lambda: calls.subject(s_session), lambda: calls.floor(f_session),
                              rounds=size.pick(7, 3), per_round=size.pick(200, 60), warmup=50)
        s_session.close()
        f_session.close()
    finally:
        sandbox.stop()
    return [Result("B2", "API { user { id } } + ID token vs { __typename } no token, same server, p50",
                   paired.value, paired.floor_value, "ms", paired.ratio, Target("<=", 1.25),
                   len(paired.subject), paired.spread)]


def run_b3(size: Size) -> list[Result]:
    sandbox, calls = _setup()
    try:
        sessions = [requests.Session() for _ in range(CLIENTS)]
        paired = throughput_pair(lambda i: calls.subject(sessions[i]), lambda i: calls.floor(sessions[i]),
                                 clients=CLIENTS, seconds=size.pick(1.0, 0.6), rounds=size.pick(15, 5))
        for session in sessions:
            session.close()
    finally:
        sandbox.stop()
    return [Result("B3", f"same as B2, {CLIENTS} concurrent clients, throughput", paired.value,
                   paired.floor_value, "req/s", paired.ratio, Target(">=", 0.8), len(paired.subject),
                   paired.spread)]
