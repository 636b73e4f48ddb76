"""The JWKS cache's test bench: a real, switchable JWKS endpoint on loopback, a fake clock, tokens and keys.

Cases from shared/reference/jwt-security-cases.md §1.6 (JWKS-01..JWKS-14) and §3.2 live in
tests/test_jwks_cache.py (lookups, unknown kids, rotation), _outages.py (outages, slow endpoints),
_bodies.py (bodies that are not a JWKS) and _verifier.py (end to end with the one verifier).
TTL and cooldown logic runs on an injected fake clock, so no test sleeps for a TTL; only the
slow-endpoint tests use real time, with client timeouts well under a second.
"""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers.jwks import JwksCache
from helpers.verify import Expectations

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

