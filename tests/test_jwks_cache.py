"""The JWKS cache (helpers/jwks.py): one fetch for many lookups, unknown kids, rotation, kid absent, the URI.

The endpoint, the fake clock and the fixtures: tests/jwks_support.py.
"""
from __future__ import annotations

import uuid

import pytest

from helpers.jwks import JwksCache
from tests.jwks_support import COOLDOWN, TTL, is_key, jwk, run_threads
from tests.jwks_support import clock, make_cache, server  # noqa: F401 (fixtures)


def test_one_fetch_serves_many_lookups(server, make_cache):
    cache = make_cache()
    keys = [cache.key_for("k1") for _ in range(200)]
    assert server.hits() == 1
    assert all(is_key(k, "k1") for k in keys)
    stats = cache.stats()
    assert (stats.fetches, stats.failed_fetches, stats.kids) == (1, 0, ("k1",))


@pytest.mark.parametrize("cooldown", [COOLDOWN, 0])
def test_concurrent_cold_misses_share_one_fetch(server, make_cache, cooldown):
    server.delay = 0.2  # every thread arrives while the one fetch is in flight
    cache = make_cache(cooldown=cooldown)
    results = run_threads(16, lambda i: cache.key_for("k1"))
    assert server.hits() == 1
    assert all(not isinstance(r, Exception) and is_key(r, "k1") for r in results), results


def test_the_cache_expires_after_its_ttl(server, make_cache, clock):
    cache = make_cache()
    cache.key_for("k1")
    clock.advance(TTL - 1)
    cache.key_for("k1")
    assert server.hits() == 1
    clock.advance(2)
    assert is_key(cache.key_for("k1"), "k1")
    assert server.hits() == 2


def test_clear_forgets_the_keys(server, make_cache):
    cache = make_cache()
    cache.key_for("k1")
    cache.clear()
    assert cache.stats().kids == ()
    assert is_key(cache.key_for("k1"), "k1")
    assert server.hits() == 2


def test_ttl_zero_fetches_on_every_lookup(server, make_cache):
    cache = make_cache(ttl=0)
    for _ in range(7):
        assert is_key(cache.key_for("k1"), "k1")
    assert server.hits() == 7
    assert cache.stats().fetches == 7


# ---------------------------------------------------------------------------------------- unknown kids (JWKS-03, HDR-04)
def test_unknown_kid_refetches_once_and_a_flood_is_rate_limited(server, make_cache, clock):
    cache = make_cache()
    cache.key_for("k1")
    clock.advance(COOLDOWN + 1)

    with pytest.raises(KeyError):
        cache.key_for("nope")
    assert server.hits() == 2  # one refetch for the unknown kid

    for _ in range(50):
        clock.advance(0.1)  # 5 s in all: still inside the cooldown
        with pytest.raises(KeyError):
            cache.key_for(uuid.uuid4().hex)
    assert server.hits() == 2
    assert is_key(cache.key_for("k1"), "k1")  # known keys are unaffected

    clock.advance(COOLDOWN)
    with pytest.raises(KeyError):
        cache.key_for("again")
    assert server.hits() == 3  # the cooldown has passed: one more refetch allowed
    with pytest.raises(KeyError):
        cache.key_for("and-again")
    assert server.hits() == 3


def test_unknown_kid_right_after_a_fetch_does_not_refetch(server, make_cache):
    cache = make_cache()
    cache.key_for("k1")
    with pytest.raises(KeyError):
        cache.key_for("nope")
    assert server.hits() == 1


def test_concurrent_unknown_kid_flood_costs_at_most_one_fetch(server, make_cache, clock):
    cache = make_cache()
    cache.key_for("k1")
    clock.advance(COOLDOWN + 1)
    server.delay = 0.1
    results = run_threads(50, lambda i: cache.key_for(f"random-{i}"))
    assert all(type(r) is KeyError for r in results), {type(r) for r in results}
    assert server.hits() <= 2


# ---------------------------------------------------------------------------------------- rotation and revocation
def test_rotation_a_surprise_key_is_accepted_after_one_refetch(server, make_cache, clock):
    """JWKS-09: k2 appears on the endpoint after the cache was filled."""
    cache = make_cache()
    cache.key_for("k1")
    server.serve(jwk("k1"), jwk("k2"))

    with pytest.raises(KeyError):  # inside the cooldown of the first fetch: not yet
        cache.key_for("k2")
    assert server.hits() == 1

    clock.advance(COOLDOWN + 1)
    assert is_key(cache.key_for("k2"), "k2")
    assert server.hits() == 2
    assert is_key(cache.key_for("k1"), "k1")  # the old key keeps working
    assert is_key(cache.key_for("k2"), "k2")
    assert server.hits() == 2


def test_revoked_key_is_refused_once_the_cache_expires(server, make_cache, clock):
    """JWKS-10: k1 removed from the JWKS is rejected after the TTL (no endless per-kid cache)."""
    cache = make_cache()
    cache.key_for("k1")
    server.serve(jwk("k2"))
    clock.advance(TTL + 1)
    with pytest.raises(KeyError):
        cache.key_for("k1")
    assert server.hits() == 2
    assert is_key(cache.key_for("k2"), "k2")


def test_kid_none_with_a_single_key_uses_it(server, make_cache):
    assert is_key(make_cache().key_for(None), "k1")


def test_kid_none_with_two_keys_is_refused(server, make_cache):
    server.serve(jwk("k1"), jwk("k2"))
    cache = make_cache()
    with pytest.raises(KeyError):
        cache.key_for(None)
    assert is_key(cache.key_for("k2"), "k2")


# ---------------------------------------------------------------------------------------- the URI (JWKS-11)
@pytest.mark.parametrize("uri", ["file:///etc/passwd", "ftp://127.0.0.1/jwks.json", "data:application/json,{}",
                                 "", "/etc/passwd", "127.0.0.1/jwks.json"])
def test_only_http_uris_are_accepted(uri):
    with pytest.raises(ValueError):
        JwksCache(uri)
