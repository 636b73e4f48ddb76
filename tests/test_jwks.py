"""The JWKS cache (helpers/jwks.py) against a real, switchable JWKS endpoint on loopback.

Cases from shared/reference/jwt-security-cases.md §1.6 (JWKS-01..JWKS-14) and §3.2.
TTL and cooldown logic runs on an injected fake clock, so no test sleeps for a TTL; only the
slow-endpoint tests use real time, with client timeouts well under a second.
"""
from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import tracemalloc
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers.jwks import JwksCache, parse_jwks
from helpers.verify import Expectations, KeySourceUnavailable, TokenRejected, verify_token

ISS, CID = "http://127.0.0.1:1/", "client-1"
NOW = 1_800_000_000

PRIVATE = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in ("k1", "k2")}
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # signs with a kid it does not own


def jwk(kid: str | None, /, private=None, **extra) -> dict:
    """The public JWK of ``PRIVATE[kid]`` (or of ``private``; ``kid=None``: k1's key without a kid)."""
    key = private if private is not None else PRIVATE[kid or "k1"]
    member = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    if kid is not None:
        member["kid"] = kid
    member.update(alg="RS256", use="sig")
    member.update(extra)
    return member


def private_jwk(kid: str) -> dict:
    member = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE[kid]))  # d, p, q, dp, dq, qi included
    member.update(kid=kid, alg="RS256", use="sig")
    return member


def jwks_body(*members: dict) -> bytes:
    return json.dumps({"keys": list(members)}).encode()


def numbers(public_key):
    return public_key.public_numbers()


def is_key(got, kid: str) -> bool:
    return numbers(got) == numbers(PRIVATE[kid].public_key())


def token(kid: str | None = "k1", signer=None, **change) -> str:
    claims = {"iss": ISS, "sub": "auth0|1", "aud": CID, "iat": NOW - 10, "exp": NOW + 3600}
    claims.update(change)
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, signer or PRIVATE[kid or "k1"], algorithm="RS256", headers=headers)


EXPECT = Expectations(issuer=ISS, audience=CID)


# ---------------------------------------------------------------------------------------- the endpoint
class JwksServer:
    """A JWKS endpoint whose behaviour a test switches between requests.

    ``/jwks.json`` answers with ``status`` / ``body`` / ``headers`` after ``delay`` seconds (and
    may trickle the start of the body one byte per ``trickle`` seconds); ``/elsewhere.json`` always serves a
    valid key set (the target of the redirect test). Every request is counted by path.
    """

    PATH = "/jwks.json"
    ELSEWHERE = "/elsewhere.json"

    def __init__(self) -> None:
        self.status = 200
        self.body = jwks_body(jwk("k1"))
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.content_length = True
        self.delay = 0.0
        self.trickle = 0.0  # seconds per byte for the first ``trickle_bytes`` of the body, 0 = send at once
        self.trickle_bytes = 0
        self._hits: list[str] = []
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer._record(self.path)
                try:
                    outer._answer(self)
                except OSError:  # the client gave up (timeout): nothing to do
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{self.PATH}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # -- switches
    def serve(self, *members: dict) -> None:
        self.respond(200, jwks_body(*members))

    def respond(self, status: int, body: bytes = b"", content_type: str = "application/json", **headers: str) -> None:
        self.status, self.body = status, body
        self.headers = {"Content-Type": content_type, **headers}

    def down(self, status: int = 503) -> None:
        self.respond(status, b"Service Unavailable", "text/plain")

    # -- observations
    def hits(self, path: str = PATH) -> int:
        with self._cond:
            return self._hits.count(path)

    def wait_for_hits(self, n: int, timeout: float = 2.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self._hits) >= n, timeout), "the request never arrived"

    def stop(self) -> None:
        self._stopping.set()  # wakes every sleeping handler
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(2)

    # -- internals
    def _record(self, path: str) -> None:
        with self._cond:
            self._hits.append(path)
            self._cond.notify_all()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path == self.ELSEWHERE:
            status, body, headers, delay, trickle = 200, jwks_body(jwk("k1")), {}, 0.0, 0.0
        else:
            status, body, headers = self.status, self.body, dict(self.headers)
            delay, trickle = self.delay, self.trickle
        if delay and self._stopping.wait(delay):
            return
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if self.content_length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        slow = self.trickle_bytes if trickle else 0
        for i in range(slow):
            handler.wfile.write(body[i:i + 1])
            handler.wfile.flush()
            if self._stopping.wait(trickle):
                return
        handler.wfile.write(body[slow:])


class FakeClock:
    """The cache's ``monotonic``: moves only when a test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


TTL, COOLDOWN, STALE_FOR = 600.0, 30.0, 3600.0


@pytest.fixture
def server(request) -> JwksServer:
    srv = JwksServer()
    request.addfinalizer(srv.stop)
    return srv


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_cache(server, clock):
    def make(**options) -> JwksCache:
        settings = dict(ttl=TTL, cooldown=COOLDOWN, timeout=1.0, stale_for=STALE_FOR, monotonic=clock)
        settings.update(options)
        return JwksCache(settings.pop("uri", server.url), **settings)
    return make


def closed_port_url() -> str:
    """An http URL on which nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


def run_threads(n: int, target) -> list:
    """Run ``target(i)`` on ``n`` threads released together; return results (or exceptions) in order."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def work(i):
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    return results


# ---------------------------------------------------------------------------------------- one fetch, many lookups
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


# ---------------------------------------------------------------------------------------- outages (JWKS-01, -04, -14b)
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


# ---------------------------------------------------------------------------------------- bodies that are not a JWKS
BAD_BODIES = {
    "html": (200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    "private members (JWKS-07)": (200, jwks_body(private_jwk("k1")), "application/json"),
    "one private key among public ones": (200, jwks_body(jwk("k2"), private_jwk("k1")), "application/json"),
    "empty key list": (200, b'{"keys": []}', "application/json"),
    "a bare array": (200, b"[]", "application/json"),
    "keys is an object": (200, b'{"keys": {"kty": "RSA"}}', "application/json"),
    "no keys member": (200, b"{}", "application/json"),
    "null": (200, b"null", "application/json"),
    "enc-only keys": (200, jwks_body(jwk("k1", use="enc")), "application/json"),
    "kid-less keys": (200, jwks_body(jwk(None)), "application/json"),
    "empty kid": (200, jwks_body(jwk("k1", **{"kid": ""})), "application/json"),
    "non-string kid": (200, jwks_body(jwk("k1", **{"kid": 7})), "application/json"),
    "wrong alg": (200, jwks_body(jwk("k1", alg="HS256")), "application/json"),
    "EC key only": (200, jwks_body({"kty": "EC", "crv": "P-256", "kid": "e", "x": "AA", "y": "AA"}), "application/json"),
    "garbage modulus": (200, jwks_body(jwk("k1", n="!!!not-base64!!!")), "application/json"),
    "non-object members": (200, b'{"keys": [1, "x", null, []]}', "application/json"),
    "empty body": (200, b"", "application/json"),
    "invalid utf-8": (200, b'{"keys": "\xff\xfe"}', "application/json"),
    "deep nesting": (200, b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "huge integer": (200, b'{"keys": ' + b"9" * 5000 + b"}", "application/json"),
    "204 no content": (204, b"", "application/json"),
}


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


# ---------------------------------------------------------------------------------------- kid absent (HDR-05/06)
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


# ---------------------------------------------------------------------------------------- end to end with the verifier
def test_verifier_accepts_a_good_token_through_the_cache(server, make_cache):
    cache = make_cache()
    assert verify_token(token("k1"), cache.key_for, EXPECT, now=NOW)["sub"] == "auth0|1"
    assert verify_token(token("k1"), cache.key_for, EXPECT, now=NOW)["aud"] == CID
    assert server.hits() == 1


def test_verifier_kid_less_token_with_a_single_published_key(server, make_cache):
    assert verify_token(token(None), make_cache().key_for, EXPECT, now=NOW)["sub"] == "auth0|1"


def test_verifier_maps_a_cold_outage_to_key_unavailable(server, make_cache):
    server.down()
    with pytest.raises(TokenRejected) as info:
        verify_token(token("k1"), make_cache().key_for, EXPECT, now=NOW)
    assert info.value.code == "key_unavailable"


@pytest.mark.parametrize("name", ["html", "private members (JWKS-07)", "empty key list"])
def test_verifier_maps_a_broken_jwks_to_key_unavailable(server, make_cache, name):
    status, body, content_type = BAD_BODIES[name]
    server.respond(status, body, content_type)
    with pytest.raises(TokenRejected) as info:
        verify_token(token("k1"), make_cache().key_for, EXPECT, now=NOW)
    assert info.value.code == "key_unavailable"


def test_verifier_unknown_kid_and_forged_kid_are_bad_signatures(server, make_cache):
    cache = make_cache()
    for forged in (token("nope", signer=STRANGER), token("k1", signer=STRANGER)):
        with pytest.raises(TokenRejected) as info:
            verify_token(forged, cache.key_for, EXPECT, now=NOW)
        assert info.value.code == "bad_signature"


def test_verifier_keeps_accepting_during_an_outage_then_fails_closed(server, make_cache, clock):
    cache = make_cache()
    verify_token(token("k1"), cache.key_for, EXPECT, now=NOW)
    server.down()
    clock.advance(TTL + 1)
    assert verify_token(token("k1"), cache.key_for, EXPECT, now=NOW)["sub"] == "auth0|1"
    clock.advance(STALE_FOR)
    for _ in range(2):  # the fetching attempt and the one inside its cooldown agree
        with pytest.raises(TokenRejected) as info:
            verify_token(token("k1"), cache.key_for, EXPECT, now=NOW)
        assert info.value.code == "key_unavailable"


def test_a_short_ttl_with_a_long_cooldown_still_refreshes_when_memory_cannot_serve():
    """Past ttl + stale_for, with the provider up, the cooldown must not turn a refresh into an outage."""
    import http.server
    import socketserver
    import threading

    from cryptography.hazmat.primitives.asymmetric import rsa as _rsa
    from jwt.algorithms import RSAAlgorithm

    from helpers.jwks import JwksCache

    jwk = {**json.loads(RSAAlgorithm.to_jwk(_rsa.generate_private_key(public_exponent=65537, key_size=2048)
                                            .public_key())), "kid": "k1", "use": "sig", "alg": "RS256"}
    body = json.dumps({"keys": [jwk]}).encode()
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(1)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    clock = {"now": 0.0}
    try:
        cache = JwksCache(f"http://127.0.0.1:{server.server_address[1]}/jwks", ttl=0.5, cooldown=30, stale_for=0,
                          monotonic=lambda: clock["now"])
        assert cache.key_for("k1") is not None
        clock["now"] = 0.6
        assert cache.key_for("k1") is not None and len(hits) == 2
    finally:
        server.shutdown()
        server.server_close()
