"""The one body of every family's parametrized test, and the hygiene (TRN-13, TRN-14) every answer obeys."""
from __future__ import annotations

import time

import pytest

from helpers.sandbox import Sandbox
from helpers.verify import TokenRejected, verify_token
from tests.token_cases.answers import Accepted, Case, Guest, Preflight
from tests.token_cases.world import Outcome, World

BOXES = {"shared": "sandbox", "leeway": "leeway_sandbox", "private": "own_sandbox", "strict": "strict_sandbox"}


def run_case(case: Case, request: pytest.FixtureRequest) -> None:
    """Send one catalog case to the sandbox its ``box`` names, with that sandbox's clock frozen; check all."""
    box: Sandbox = request.getfixturevalue(BOXES[case.box])
    now = int(time.time())
    box.clock.freeze(now)
    w = World(box, now)
    try:
        started = time.monotonic()
        outcome = case.send(w)
        elapsed = time.monotonic() - started
        case.expect.check(outcome, w)
        if case.max_seconds is not None:
            assert elapsed < case.max_seconds, f"took {elapsed:.2f} s"
        assert w.trap_hits() == 0, "the server connected to an attacker-chosen URL"
        _hygiene(case, outcome, w)
        if case.verifier_code is not None:
            assert outcome.token is not None
            try:
                verify_token(outcome.token, w.api_keys, w.api_expectations(), now=w.NOW)
            except TokenRejected as rejected_token:
                assert rejected_token.code == case.verifier_code, repr(rejected_token)
            else:
                pytest.fail("the verifier accepted the token")
    finally:
        box.clock.reset()
        w.close()


def _hygiene(case: Case, o: Outcome, w: World) -> None:
    """TRN-13 and TRN-14 for every case."""
    if o.kind == "http":
        assert o.status is not None and o.status < 500, f"HTTP {o.status}"
        if o.status == 200 and isinstance(case.expect, Accepted | Guest | Preflight):
            return
        text = o.body.decode("utf-8", "replace") + "\n" + "\n".join(f"{k}: {v}" for k, v in o.headers.items())
        assert "Traceback" not in text and "File \"" not in text
        assert "-----BEGIN" not in text and '"n":' not in text
        if isinstance(o.token, str) and len(o.token) >= 3:
            assert o.token not in text, "the answer echoes the token"
            for part in o.token.split("."):
                assert len(part) < 16 or part not in text, "the answer echoes part of the token"
        for leak in case.leaks:
            assert leak not in text, f"the answer echoes {leak!r}"
    elif o.kind == "verdict" and o.rejected is not None:
        text = str(o.rejected) + " " + repr(o.rejected)
        for leak in case.leaks:
            assert leak not in text
        if isinstance(o.token, str) and len(o.token) >= 16:
            assert o.token not in text
