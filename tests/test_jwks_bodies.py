"""The JWKS cache (helpers/jwks.py) against bodies that are not a JWKS: junk, redirects, oversized, gzip.

The endpoint, the fake clock and the fixtures: tests/jwks_support.py.
"""
from __future__ import annotations

import gzip
import time
import tracemalloc

import pytest

from helpers.jwks import parse_jwks
from helpers.verify import KeySourceUnavailable
from tests.jwks_support import BAD_BODIES, JwksServer, is_key, jwk, jwks_body
from tests.jwks_support import clock, make_cache, server  # noqa: F401 (fixtures)


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_body_that_is_not_a_jwks_fails_closed(server, make_cache, name):
    """JWKS-05, -07, -08: never another exception type, never a key."""
    status, body, content_type = BAD_BODIES[name]
    server.respond(status, body, content_type)
    if status == 204:
        server.content_length = False
    cache = make_cache()
    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    with pytest.raises(KeySourceUnavailable):
        cache.key_for(None)
    assert cache.stats().kids == ()


@pytest.mark.parametrize("name", [n for n in BAD_BODIES if BAD_BODIES[n][0] == 200])
def test_parse_jwks_rejects_the_same_bodies(name):
    with pytest.raises(KeySourceUnavailable):
        parse_jwks(BAD_BODIES[name][1])


def test_parse_jwks_keeps_usable_keys_and_skips_the_rest():
    keys = parse_jwks(jwks_body(jwk("k1"), jwk("k2", use="enc"), jwk(None), {"kty": "EC", "kid": "e"},
                                jwk("k2", n="!!!"), "junk"))
    assert list(keys) == ["k1"]
    assert is_key(keys["k1"], "k1")


def test_redirect_is_not_followed(server, make_cache):
    """JWKS-06: a 302 to a valid JWKS elsewhere fails closed, and 'elsewhere' is never asked.

    The 302 itself carries a valid JWKS body, so only the status check can refuse it."""
    elsewhere = server.url.replace(JwksServer.PATH, JwksServer.ELSEWHERE)
    server.respond(302, jwks_body(jwk("k1")), "application/json", Location=elsewhere)
    cache = make_cache()
    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    assert server.hits() == 1
    assert server.hits(JwksServer.ELSEWHERE) == 0


def test_redirect_body_is_not_read_at_all(server, make_cache):
    """A 302 (with Location) whose body trickles must not hold the fetch open: requests reads the body
    of a redirect it does not follow (to offer ``response.next``) unless the cache refuses it first."""
    elsewhere = server.url.replace(JwksServer.PATH, JwksServer.ELSEWHERE)
    server.respond(302, b" " * 12 + jwks_body(jwk("k1")), "application/json", Location=elsewhere)
    server.trickle, server.trickle_bytes = 0.25, 12  # 3 s if read
    cache = make_cache(timeout=0.5)
    started = time.monotonic()
    with pytest.raises(KeySourceUnavailable):
        cache.key_for("k1")
    assert time.monotonic() - started < 1.0


def test_oversized_redirect_body_is_not_buffered(server, make_cache):
    """JWKS-12 through a 302: the max_bytes cap must hold for responses that are refused too."""
    elsewhere = server.url.replace(JwksServer.PATH, JwksServer.ELSEWHERE)
    server.respond(302, b" " * 30_000_000, "text/plain", Location=elsewhere)
    cache = make_cache(max_bytes=100_000)
    tracemalloc.start()
    try:
        with pytest.raises(KeySourceUnavailable):
            cache.key_for("k1")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak


@pytest.mark.parametrize("with_length", [True, False])
def test_oversized_body_fails_closed(server, make_cache, with_length):
    """JWKS-12: a valid JWKS padded past max_bytes is refused; the same body under a larger cap is fine."""
    server.serve(jwk("k1"))
    server.body = server.body + b" " * 200_000
    server.content_length = with_length
    with pytest.raises(KeySourceUnavailable):
        make_cache(max_bytes=100_000).key_for("k1")
    assert is_key(make_cache(max_bytes=300_000).key_for("k1"), "k1")


def test_oversized_after_decompression_fails_closed(server, make_cache):
    """A small gzip body that inflates past max_bytes is refused too (the cap counts decoded bytes)."""
    plain = jwks_body(jwk("k1"))[:-1] + b" " * 5_000_000 + b"}"
    server.respond(200, gzip.compress(plain), "application/json", **{"Content-Encoding": "gzip"})
    with pytest.raises(KeySourceUnavailable):
        make_cache(max_bytes=100_000).key_for("k1")
    assert is_key(make_cache(max_bytes=6_000_000).key_for("k1"), "k1")  # control: the body itself is valid


def test_truncated_body_fails_closed(server, make_cache):
    """The connection closes before Content-Length bytes arrived: a transport error, not a crash."""
    body = jwks_body(jwk("k1"))
    server.respond(200, body[:50], "application/json", **{"Content-Length": str(len(body))})
    server.content_length = False
    with pytest.raises(KeySourceUnavailable):
        make_cache().key_for("k1")


def test_corrupt_gzip_body_fails_closed(server, make_cache):
    server.respond(200, b"this is not gzip at all", "application/json", **{"Content-Encoding": "gzip"})
    with pytest.raises(KeySourceUnavailable):
        make_cache().key_for("k1")


def test_gzip_encoded_jwks_is_accepted(server, make_cache):
    server.respond(200, gzip.compress(jwks_body(jwk("k1"))), "application/json", **{"Content-Encoding": "gzip"})
    assert is_key(make_cache().key_for("k1"), "k1")
