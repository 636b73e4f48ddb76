"""The JWKS cache (helpers/jwks.py) end to end with the one verifier (helpers/verify.py).

The endpoint, the fake clock and the fixtures: tests/jwks_support.py.
"""
from __future__ import annotations

import json

import pytest

from helpers.verify import TokenRejected, verify_token
from tests.jwks_support import BAD_BODIES, CID, EXPECT, NOW, STALE_FOR, STRANGER, TTL, token
from tests.jwks_support import clock, make_cache, server  # noqa: F401 (fixtures)


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
