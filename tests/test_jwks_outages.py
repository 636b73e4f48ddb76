"""The JWKS cache (helpers/jwks.py) when its endpoint is down, slow or hanging (JWKS-01, -02, -04, -14).

The endpoint, the fake clock and the fixtures: tests/jwks_support.py.
"""
from __future__ import annotations

import threading
import time

import pytest

from helpers.verify import KeySourceUnavailable
from tests.jwks_support import COOLDOWN, STALE_FOR, TTL, closed_port_url, is_key, jwk
from tests.jwks_support import clock, make_cache, server  # noqa: F401 (fixtures)


def test_outage_after_a_warm_cache(server, make_cache, clock):
    """JWKS-04 and JWKS-14b, step by step, counting every request the endpoint sees."""
    cache = make_cache()
    cache.key_for("k1")
    server.down()

    clock.advance(1)
    assert is_key(cache.key_for("k1"), "k1")  # (a) known kid: from memory
    assert server.hits() == 1

    clock.advance(COOLDOWN)
    with pytest.raises((KeySourceUnavailable, KeyError)):  # (b) unknown kid: one refetch, which fails
        cache.key_for("nope")
    assert server.hits() == 2
    assert cache.stats().failed_fetches == 1

    assert is_key(cache.key_for("k1"), "k1")  # (c) the failed refresh did not wipe the cache

    for i in range(3):  # JWKS-14b: failed refreshes are rate-limited too
        clock.advance(1)
        with pytest.raises((KeySourceUnavailable, KeyError)):
            cache.key_for(f"unknown-{i}")
    assert server.hits() == 2

    clock.advance(TTL)  # (d) past the TTL, inside stale_for: stale keys are served
    assert is_key(cache.key_for("k1"), "k1")
    assert server.hits() == 3  # one refresh attempt...
    clock.advance(1)
    assert is_key(cache.key_for("k1"), "k1")
    assert server.hits() == 3  # ...and none during its cooldown

    clock.advance(COOLDOWN + 1)  # after the cooldown a failing refresh still serves the stale key
    assert is_key(cache.key_for("k1"), "k1")
    assert server.hits() == 4


def test_outage_beyond_ttl_plus_stale_for_fails_closed(server, make_cache, clock):
    cache = make_cache()
    cache.key_for("k1")
    server.down()
    clock.advance(TTL + STALE_FOR + 1)

    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    assert server.hits() == 2
    clock.advance(1)  # inside the cooldown of that failed attempt: still unavailable, no request
    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    assert server.hits() == 2

    server.serve(jwk("k1"))  # the endpoint comes back
    clock.advance(COOLDOWN)
    assert is_key(cache.key_for("k1"), "k1")
    assert server.hits() == 3


@pytest.mark.parametrize("status", [500, 503, 404])
def test_cold_start_with_the_endpoint_down_then_recovery(server, make_cache, clock, status):
    """JWKS-01: fail closed with KeySourceUnavailable; the first call after the cooldown recovers."""
    server.down(status)
    cache = make_cache()
    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    assert server.hits() == 1

    clock.advance(1)
    with pytest.raises(KeySourceUnavailable):  # inside the cooldown: no second request
        cache.key_for("k1")
    assert server.hits() == 1

    server.serve(jwk("k1"))
    clock.advance(COOLDOWN)
    assert is_key(cache.key_for("k1"), "k1")
    assert server.hits() == 2


def test_cold_start_connection_refused(make_cache, clock):
    cache = make_cache(uri=closed_port_url())
    started = time.monotonic()
    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    assert time.monotonic() - started < 1.0
    with pytest.raises(KeySourceUnavailable):
        cache.key_for(None)
    assert cache.stats().failed_fetches == 1


# ---------------------------------------------------------------------------------------- slow endpoint (JWKS-02, -14)
def test_slow_endpoint_fails_within_about_the_timeout(server, make_cache):
    server.delay = 3.0
    cache = make_cache(timeout=0.4)
    started = time.monotonic()
    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.0, elapsed


def test_trickling_body_is_bounded_by_the_timeout(server, make_cache):
    """A body sent one byte at a time (each byte inside the socket timeout) must not hold the fetch open."""
    server.serve(jwk("k1"))
    server.body = b" " * 12 + server.body  # 12 bytes at 0.25 s: 3 s before the real JWKS arrives
    server.trickle, server.trickle_bytes = 0.25, 12
    cache = make_cache(timeout=0.5)
    started = time.monotonic()
    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    assert time.monotonic() - started < 1.5


def test_known_kid_is_not_blocked_by_an_unknown_kid_refresh(server, make_cache, clock):
    """JWKS-14a, fresh cache: an unknown kid forces a refresh against a slow endpoint."""
    cache = make_cache(timeout=0.8)
    cache.key_for("k1")
    server.delay = 3.0
    clock.advance(COOLDOWN + 1)

    outcome = {}
    refresher = threading.Thread(target=lambda: outcome.update(result=_capture(cache.key_for, "nope")))
    refresher.start()
    server.wait_for_hits(2)  # the refresh is in flight

    started = time.monotonic()
    key = cache.key_for("k1")
    assert time.monotonic() - started < 0.1
    assert is_key(key, "k1")
    refresher.join(3)
    assert isinstance(outcome["result"], (KeySourceUnavailable, KeyError))


def test_known_kid_is_served_stale_while_a_ttl_refresh_is_in_flight(server, make_cache, clock):
    """JWKS-14a, expired cache: one caller refreshes, the others get the stale key at once."""
    cache = make_cache(timeout=0.8)
    cache.key_for("k1")
    server.delay = 3.0
    clock.advance(TTL + 1)

    outcome = {}
    refresher = threading.Thread(target=lambda: outcome.update(result=_capture(cache.key_for, "k1")))
    refresher.start()
    server.wait_for_hits(2)

    started = time.monotonic()
    key = cache.key_for("k1")
    assert time.monotonic() - started < 0.1
    assert is_key(key, "k1")
    refresher.join(3)
    assert is_key(outcome["result"], "k1")  # the refresher timed out and fell back to the stale key
    assert cache.stats().failed_fetches == 1


def test_failed_refreshes_against_a_hanging_endpoint_are_rate_limited(server, make_cache, clock):
    """JWKS-14b with timeouts: 3 unknown kids cost one timeout, not three."""
    cache = make_cache(timeout=0.4)
    cache.key_for("k1")
    server.delay = 3.0
    clock.advance(COOLDOWN + 1)
    started = time.monotonic()
    for i in range(3):
        with pytest.raises((KeySourceUnavailable, KeyError)):
            cache.key_for(f"unknown-{i}")
    assert time.monotonic() - started < 0.9
    assert server.hits() == 2


def _capture(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001
        return exc
