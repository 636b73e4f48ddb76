"""The JWT security catalog §1.2, the header (HDR), against the sandbox GraphQL API.

How the cases are written and sent: tests/token_cases/__init__.py.
"""
from __future__ import annotations

import base64
import json
from typing import Any, Callable

import pytest

from tests.token_cases.answers import ACCEPTED, Case, Rejected, Verified, rejected, verdict
from tests.token_cases.runner import run_case
from tests.token_cases.sending import bearer, by_attacker, custom, header_text, jwks_served, nest, signed, verifier
from tests.token_cases.world import Outcome, World, raw_request

def single_key_jwks(w: World) -> Callable[[str | None], Any]:
    """HDR-05: the issuer's JWKS publishes exactly one key (the IdP's current one)."""
    return jwks_served(json.dumps({"keys": [w.box.idp.keys.current.public_jwk()]}).encode(), "application/json")(w)


def _unknown_kids(w: World) -> Outcome:
    """HDR-04(b): warm the API's JWKS cache, then send unknown kids; the cooldown allows one refetch."""
    assert raw_request(w, [("Authorization", "Bearer " + w.GOOD)]).status == 200
    cache = w.box.api.authenticator.jwks_cache(w.ISS)
    before = cache.stats().fetches
    for n in range(5):
        token = signed(w, {**w.HDR, "kid": f"nope-unknown-kid-{n}"})
        outcome = raw_request(w, [("Authorization", "Bearer " + token)], token=token)
        Rejected("bad_signature").check(outcome, w)
    assert cache.stats().fetches - before <= 1, "an unknown kid refetched the JWKS more than once per cooldown"
    return outcome


CASES: list[Case] = [
    # ---- 1.2 Header (HDR) --------------------------------------------------------------------------------
    Case("HDR-01", "alg missing, otherwise a valid RS256 token",
         bearer(lambda w: signed(w, {"typ": "JWT", "kid": w.KID})), rejected("alg_not_allowed")),
    Case("HDR-02-H02", "alg null", bearer(lambda w: signed(w, {**w.HDR, "alg": None})), rejected("alg_not_allowed")),
    Case("HDR-02-H03", 'alg ""', bearer(lambda w: signed(w, {**w.HDR, "alg": ""})), rejected("alg_not_allowed")),
    Case("HDR-02-H04", 'alg ["RS256"] (not a string)', bearer(lambda w: signed(w, {**w.HDR, "alg": ["RS256"]})),
         rejected("alg_not_allowed")),
    # HDR-03, HDR-12, TRN-13-crit fail today: api/auth.py _unverified_issuer answers "malformed" for any header
    # PyJWT refuses, before the verifier can say bad_header.
    Case("HDR-03-H07", "kid 7 (not a string)", bearer(lambda w: signed(w, {**w.HDR, "kid": 7})),
         rejected("bad_header")),
    Case("HDR-03-H08", "kid null", bearer(lambda w: signed(w, {**w.HDR, "kid": None})), rejected("bad_header")),
    Case("HDR-04-H05", "unknown kid 'nope' against a static-key verifier: kid ignored, signature verifies",
         verifier(lambda w: signed(w, {**w.HDR, "kid": "nope"}), keys=lambda w: w.any_kid(w.PUB)),
         Verified(lambda c: c["sub"] == "auth0|user-1")),
    Case("HDR-04-jwks", "five unknown kids at the API (JWKS verifier): at most one JWKS refetch, each a 401",
         custom(_unknown_kids), rejected("bad_signature"), leaks=("nope-unknown-kid",)),
    Case("HDR-05", "kid absent and the issuer's JWKS holds ONE key: that key verifies (OIDC kid-absent-single)",
         verifier(lambda w: signed(w, {"alg": "RS256", "typ": "JWT"}), keys=single_key_jwks), Verified()),
    Case("HDR-06", "kid absent and the sandbox JWKS publishes two keys (current, next): reject",
         bearer(lambda w: signed(w, {"alg": "RS256", "typ": "JWT"})), rejected("bad_signature")),
    Case("HDR-07-H09", "kid path traversal ../../dev/null with HS256 and an empty key",
         bearer(lambda w: w.craft({"alg": "HS256", "typ": "JWT", "kid": "../../../../../../dev/null"}, w.claims(),
                                  signer=("hs256", b""))), rejected("alg_not_allowed"), leaks=("../../",)),
    Case("HDR-07-H10", "kid SQL injection with HS256 and key '1'",
         bearer(lambda w: w.craft({"alg": "HS256", "typ": "JWT", "kid": "x' UNION SELECT '1';--"}, w.claims(),
                                  signer=("hs256", b"1"))), rejected("alg_not_allowed"), leaks=("UNION SELECT",)),
    Case("HDR-07-sleep", "kid '|sleep 10' on an IdP-signed token: a dictionary key, never a shell argument",
         bearer(lambda w: signed(w, {**w.HDR, "kid": "|sleep 10"})), rejected("bad_signature"), leaks=("sleep 10",),
         max_seconds=5),
    Case("HDR-07-path", "kid '/invalid_path'", bearer(lambda w: signed(w, {**w.HDR, "kid": "/invalid_path"})),
         rejected("bad_signature"), leaks=("/invalid_path",)),
    Case("HDR-07-empty", 'kid ""', bearer(lambda w: signed(w, {**w.HDR, "kid": ""})), rejected("bad_signature")),
    Case("HDR-08", "embedded jwk header with the attacker's key, signed by the attacker",
         bearer(lambda w: by_attacker(w, {**w.HDR, "jwk": w.attacker_jwk})), rejected("bad_signature")),
    Case("HDR-09", "jku pointing at an attacker JWKS, signed by the attacker: no fetch of the jku",
         bearer(lambda w: by_attacker(w, {**w.HDR, "jku": w.trap_url + "jwks.json"})), rejected("bad_signature"),
         leaks=("jwks.json",)),
    Case("HDR-10-H13", "x5u pointing at an attacker certificate, signed by the attacker: no fetch",
         bearer(lambda w: by_attacker(w, {**w.HDR, "x5u": w.trap_url + "cert.pem"})), rejected("bad_signature"),
         leaks=("cert.pem",)),
    Case("HDR-10-H14", "bogus x5c chain, signed by the attacker",
         bearer(lambda w: by_attacker(w, {**w.HDR, "x5c": [base64.b64encode(b"not a certificate").decode()]})),
         rejected("bad_signature")),
    Case("HDR-11", "IdP-signed token carrying jku/jwk/x5u noise: accepted, nothing dereferenced",
         bearer(lambda w: signed(w, {**w.HDR, "jku": w.trap_url + "jwks.json", "x5u": w.trap_url + "c.pem",
                                     "jwk": w.attacker_jwk})), ACCEPTED),
    Case("HDR-12-H16", 'crit ["exp"] (unknown extension), valid signature',
         bearer(lambda w: signed(w, {**w.HDR, "crit": ["exp"]})), rejected("bad_header")),
    Case("HDR-12-H17", 'crit "b64" (not a list)', bearer(lambda w: signed(w, {**w.HDR, "crit": "b64"})),
         rejected("bad_header")),
    Case("HDR-12-H18", "crit [] (empty)", bearer(lambda w: signed(w, {**w.HDR, "crit": []})), rejected("bad_header")),
    Case("HDR-13-H19", "b64:false without crit, signed over a non-empty payload segment",
         bearer(lambda w: signed(w, {**w.HDR, "b64": False})), rejected("malformed")),
    Case("HDR-13-H20", 'b64:false + crit ["b64"] + a non-empty payload segment',
         bearer(lambda w: signed(w, {**w.HDR, "b64": False, "crit": ["b64"]})), rejected("malformed")),
    Case("HDR-14", 'typ "at+jwt" (an access-token type) where an ID token is expected',
         bearer(lambda w: signed(w, {**w.HDR, "typ": "at+jwt"})), rejected("wrong_token_type")),
    Case("HDR-14-app", 'typ "application/at+jwt"', bearer(lambda w: signed(w, {**w.HDR, "typ": "application/at+jwt"})),
         rejected("wrong_token_type")),
    Case("HDR-15-H22", "header is the JSON array [1,2]", bearer(lambda w: w.craft("[1,2]", w.claims())),
         rejected("malformed")),
    Case("HDR-15-H23", 'header is the JSON string "RS256"', bearer(lambda w: w.craft('"RS256"', w.claims())),
         rejected("malformed")),
    Case("HDR-16-H24", 'duplicate alg: "none" then "RS256", valid RS256 signature: the last value, everywhere',
         bearer(lambda w: w.craft('{"alg":"none","alg":"RS256","typ":"JWT","kid":"%s"}' % w.KID, w.claims())),
         ACCEPTED),
    Case("HDR-16-H25", 'duplicate alg: "RS256" then "none", empty signature',
         bearer(lambda w: w.craft('{"alg":"RS256","alg":"none","typ":"JWT","kid":"%s"}' % w.KID, w.claims(),
                                  signer="none")), rejected("alg_not_allowed")),
    Case("HDR-17-H26", "NaN in the header, valid signature (Python json reads it; accepted consistently)",
         bearer(lambda w: w.craft(header_text(w, '"x":NaN'), w.claims())), ACCEPTED),
    Case("HDR-17-H27", "a 5000-digit integer in the header",
         bearer(lambda w: w.craft(header_text(w, '"x":' + "1" * 5000), w.claims())), rejected("malformed")),
    Case("HDR-17-H28", "2000 nested arrays in the header (RecursionError in json), under 8 KB",
         bearer(lambda w: w.craft(header_text(w, '"x":' + nest(2000)), w.claims())), rejected("malformed")),
    Case("HDR-17-H28-100k", "100 000 nested arrays in the header: too large before any parsing",
         verifier(lambda w: w.craft(header_text(w, '"x":' + nest(100_000)), w.claims())), verdict("too_large")),
    Case("HDR-17-H28-100k-nocap", "100 000 nested arrays with the size cap lifted: still a fixed code",
         verifier(lambda w: w.craft(header_text(w, '"x":' + nest(100_000)), w.claims()),
                  lambda w: w.api_expectations(max_bytes=10**7)), verdict("malformed")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_token_case(case: Case, request: pytest.FixtureRequest) -> None:
    run_case(case, request)
