"""B1: the hardened verifier against a bare ``jwt.decode``, on the same ID token.

Subject: ``helpers.verify.verify_token(token, cache.key_for, Expectations(...))`` with a warm
``helpers.jwks.JwksCache`` (its one fetch done before timing), i.e. everything the API does per token.
Floor: ``jwt.decode(token, key, algorithms=["RS256"], audience=..., issuer=...)`` with the public key
object held in a variable: PyJWT's own signature and standard claim checks, nothing else.
Both run in this process, alternating call by call, with the cyclic GC off while timing.
"""
from __future__ import annotations

import jwt

from helpers.jwks import JwksCache
from helpers.sandbox import launch_sandbox
from helpers import verify as verify_module  # its header memo is cleared for the informational note
from helpers.verify import Expectations, verify_token

from .common import Size, check, id_token
from .report import Result, Target
from .timing import latency_pair

ID = "B1"
MEASURE = "verify_token (warm JwksCache) vs jwt.decode (static key), same token, p50"
TARGET = Target("<=", 1.3)


def run(size: Size) -> list[Result]:
    sandbox = launch_sandbox()
    try:
        token = id_token(sandbox)
        cache = JwksCache(sandbox.idp_url + ".well-known/jwks.json")
        kid = jwt.get_unverified_header(token)["kid"]
        cache.key_for(kid)  # the one fetch: the cache is warm from here on
        key = sandbox.idp.keys.public_key(kid)
        expect = Expectations(issuer=sandbox.idp_url, audience=sandbox.web_client_id, token_use="id")

        def subject() -> None:
            verify_token(token, cache.key_for, expect)

        def floor() -> None:
            jwt.decode(token, key, algorithms=["RS256"], audience=sandbox.web_client_id, issuer=sandbox.idp_url)

        ours = verify_token(token, cache.key_for, expect)
        check(ours == jwt.decode(token, key, algorithms=["RS256"], audience=sandbox.web_client_id,
                                 issuer=sandbox.idp_url), "B1: verifier and floor disagree on the claims")
        paired = latency_pair(subject, floor, rounds=size.pick(9, 3), per_round=size.pick(1000, 200),
                              warmup=200, disable_gc=True)
        # For information: a token the verifier has not seen before (its per-token header memo emptied before
        # every call), i.e. the first request made with a new token.
        def first_sight() -> None:
            verify_module._unverified_header.cache_clear()
            verify_token(token, cache.key_for, expect)

        own = latency_pair(first_sight, floor, rounds=size.pick(5, 2), per_round=size.pick(1000, 200),
                           warmup=100, disable_gc=True)
        check(cache.stats().fetches == 1, "B1: the JWKS cache fetched during the timing")
    finally:
        sandbox.stop()
    notes = [f"token {len(token)} bytes",
             f"for information, a token seen for the first time (header memo emptied each call): "
             f"{own.value * 1e6:.1f} us vs {own.floor_value * 1e6:.1f} us = {own.ratio:.2f}x"]
    return [Result(ID, MEASURE, paired.value, paired.floor_value, "us", paired.ratio, TARGET,
                   len(paired.subject), paired.spread, notes)]
