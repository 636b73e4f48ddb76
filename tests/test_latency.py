"""helpers/latency.py: one raw GraphQL call, its outcome, and the key-rotation log of lesson 08."""
from __future__ import annotations

from helpers.config import target_from_sandbox
from helpers.flows import password_realm
from helpers.latency import RotationLog, ask, outcome


def test_ask_returns_the_answer_and_outcome_names_the_first_error(sandbox):
    assert ask(sandbox.api_url, "{ __typename }") == {"data": {"__typename": "Query"}}
    refused = ask(sandbox.api_url, "{ user { id } }", "not-a-token")
    assert outcome(refused) == refused["errors"][0]["code"] == "InvalidTokenError"
    assert outcome({"data": {}}) == "ok"


def test_rotation_log_names_keys_in_order_and_counts_fetches(own_sandbox):
    target = target_from_sandbox(own_sandbox)
    log = RotationLog(target.api_url, target.jwks_uri, own_sandbox.jwks_fetches)
    first = password_realm(target, *target.users[0]).id_token
    row = log.step("before", first)
    assert row == {"step": "before", "token signed by": "k1", "JWKS publishes": "k1, k2", "API answer": "ok",
                   "JWKS fetches so far": 1}
    own_sandbox.rotate_keys()
    own_sandbox.rotate_keys()
    second = password_realm(target, *target.users[0]).id_token
    with own_sandbox.api_settings(jwks_cooldown=0):
        log.step("two rotations later", second)
    assert log.rows[-1]["token signed by"] == "k3" and log.rows[-1]["JWKS publishes"] == "k2, k3, k4"
    assert log.rows[-1]["API answer"] == "ok" and log.rows[-1]["JWKS fetches so far"] == 1   # fresh caches
    assert list(log.table()["step"]) == ["before", "two rotations later"]
    assert log.key_name("never-seen") == "k5"
