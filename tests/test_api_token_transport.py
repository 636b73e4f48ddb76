"""The JWT security catalog §1.5, transport at the GraphQL API (TRN), against the sandbox.

How the cases are written and sent: tests/token_cases/__init__.py.
"""
from __future__ import annotations

import json

import jwt
import pytest

from tests.token_cases.answers import (ACCEPTED, BAD_AUTH_HEADER, EXPIRED, GUEST, UNKNOWN_ISSUER, WRONG_SCHEME, Case,
                                       HttpError, KeyUnavailableApi, Preflight, rejected, verdict)
from tests.token_cases.runner import run_case
from tests.token_cases.sending import (auth, bearer, by_attacker, custom, header_text, hs256, jwks_served,
                                       misconfigured, nest, signed, verifier)
from tests.token_cases.world import QUERY, Outcome, World, raw_request

html_jwks = jwks_served(b"<html><body>502 Bad Gateway</body></html>", "text/html")  # JWKS-05, for TRN-14


def _preflight(w: World) -> Outcome:
    return raw_request(w, [("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "POST"),
                           ("Access-Control-Request-Headers", "authorization,content-type")],
                       method="OPTIONS", body=b"")


def _form_token(w: World) -> Outcome:
    body = f"access_token={w.GOOD}&query={QUERY}".encode()
    return raw_request(w, [("Content-Type", "application/x-www-form-urlencoded")], body=body, token=w.GOOD)


def _private_jwks_api(w: World) -> Outcome:
    """TRN-14 / JWKS-07 through the API: the IdP (wrongly) publishes private key members."""
    public = w.box.idp.keys.current.public_jwk()
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(w.KEY))
    w.box.idp.keys.jwks = lambda: {"keys": [public | {k: private[k] for k in ("d", "p", "q", "dp", "dq", "qi")}]}
    token = signed(w)
    return raw_request(w, [("Authorization", "Bearer " + token)], token=token)


def _crashers(w: World) -> Outcome:
    """TRN-14: every input that crashed some PyJWT version, sent in a row; the worst answer is kept."""
    tokens = [
        w.craft(header_text(w, '"x":' + nest(2000)), w.claims()),           # HDR-17 RecursionError (<= 2.12)
        w.craft(w.HDR, w.raw_claims(exp="null")),                           # CLM-03 TypeError (<= 2.12)
        w.craft(w.HDR, w.raw_claims(exp="1e400")),                          # CLM-03 OverflowError (<= 2.12)
        w.craft(w.HDR, w.claims(iss=[w.ISS])),                              # CLM-13 TypeError (2.10)
        w.craft({"alg": "HS256", "typ": "JWT", "kid": w.KID}, w.claims(), signer=("hs256", w.PUB_PEM)),  # SIG-12
        w.craft(w.HDR, b'{"sub":"\xff\xfe"}'),                               # ENC-06 invalid UTF-8
        w.craft(header_text(w, '"x":' + "1" * 5000), w.claims()),           # HDR-17 digit limit
    ]
    worst = None
    for token in tokens:
        o = raw_request(w, [("Authorization", "Bearer " + token)], token=token)
        assert o.status is not None and o.status < 500, (o.status, o.body[:300])
        body = o.json
        assert body["data"] is None and body["errors"][0]["code"] == "InvalidTokenError", body
        assert token not in o.body.decode("latin-1") and "Traceback" not in o.body.decode("latin-1")
        worst = o
    return worst


CASES: list[Case] = [
    # ---- 1.5 Transport at the GraphQL API (TRN) ----------------------------------------------------------
    Case("TRN-01", "no Authorization header: the Guest role", custom(lambda w: raw_request(w, [])), GUEST),
    Case("TRN-02-bare", '"Bearer" with nothing after it', auth(lambda w: "Bearer"), BAD_AUTH_HEADER),
    Case("TRN-02-space", '"Bearer " (empty token)', auth(lambda w: "Bearer "), BAD_AUTH_HEADER),
    Case("TRN-03-Basic", "scheme Basic", auth(lambda w: "Basic dXNlcjpwYXNz"), WRONG_SCHEME),
    *[Case(f"TRN-03-{scheme}", f"scheme {scheme} with the valid token", auth(lambda w, s=scheme: f"{s} {w.GOOD}"),
           WRONG_SCHEME) for scheme in ("Token", "JWT", "DPoP")],
    Case("TRN-03-bare", "the valid token with no scheme", auth(lambda w: w.GOOD), WRONG_SCHEME),
    Case("TRN-04-lower", "scheme 'bearer' (case-insensitive)", auth(lambda w: f"bearer {w.GOOD}"), ACCEPTED),
    Case("TRN-04-upper", "scheme 'BEARER'", auth(lambda w: f"BEARER {w.GOOD}"), ACCEPTED),
    Case("TRN-05-2SP", "two spaces after Bearer (1*SP)", auth(lambda w: f"Bearer  {w.GOOD}"), ACCEPTED),
    Case("TRN-05-tab", "a tab instead of the space after Bearer", auth(lambda w: f"Bearer\t{w.GOOD}"), BAD_AUTH_HEADER),
    Case("TRN-05-tab-after", "the token followed by a tab and more", auth(lambda w: f"Bearer {w.GOOD}\tx"),
         BAD_AUTH_HEADER),
    Case("TRN-05-extra", "the token followed by a space and an extra word", auth(lambda w: f"Bearer {w.GOOD} extra"),
         BAD_AUTH_HEADER),
    Case("TRN-05-comma", "two credentials joined by a comma", auth(lambda w: f"Bearer {w.GOOD},Bearer {w.GOOD}"),
         BAD_AUTH_HEADER),
    Case("TRN-06", "two Authorization headers", auth(lambda w: [f"Bearer {w.GOOD}", f"Bearer {w.GOOD}"]),
         BAD_AUTH_HEADER),
    Case("TRN-06-api-token", "two Authorization headers, one of them the Administrator API token",
         auth(lambda w: [f"Bearer {w.box.api_token}", f"Bearer {w.GOOD}"]), BAD_AUTH_HEADER),
    Case("TRN-07-query", "?access_token= alone is never read: Guest",
         custom(lambda w: raw_request(w, [], query="access_token=" + w.GOOD, token=w.GOOD)), GUEST),
    Case("TRN-07-both", "?access_token= together with a valid header: 400",
         custom(lambda w: raw_request(w, [("Authorization", "Bearer " + w.GOOD)], query="access_token=" + w.GOOD,
                                    token=w.GOOD)), BAD_AUTH_HEADER),
    Case("TRN-08-body", "token in the JSON body: ignored, Guest",
         custom(lambda w: raw_request(w, [], body=json.dumps({"query": QUERY, "access_token": w.GOOD}).encode(),
                                    token=w.GOOD)), GUEST),
    Case("TRN-08-variables", "token in the GraphQL variables: ignored, Guest",
         custom(lambda w: raw_request(w, [], token=w.GOOD, body=json.dumps(
             {"query": QUERY, "variables": {"token": w.GOOD, "access_token": w.GOOD}}).encode())), GUEST),
    Case("TRN-08-form", "token as the form field access_token: not JSON, refused (415)", custom(_form_token),
         HttpError(415, "InvalidArgumentError", "Send the request as application/json")),
    Case("TRN-09-8K1", "a token of 8 KB + 1", auth(lambda w: "Bearer " + w.GOOD + "A" * (8193 - len(w.GOOD))),
         rejected("too_large")),
    Case("TRN-09-16K", "a 16 KB Authorization header", auth(lambda w: "Bearer " + w.GOOD + "A" * (16384 - len(w.GOOD))),
         rejected("too_large")),
    Case("TRN-09-64K", "a 64 KB Authorization header", auth(lambda w: "Bearer " + w.GOOD + "A" * (65536 - len(w.GOOD))),
         rejected("too_large")),
    Case("TRN-10", "non-ASCII bytes as the token: Bearer \\xe9\\xff", auth(lambda w: b"Bearer \xe9\xff"),
         rejected("malformed")),
    Case("TRN-11", "a valid but expired ID token: TokenExpiredError, so the client can refresh",
         bearer(lambda w: signed(w, iat=w.NOW - 7200, exp=w.NOW - 3600)), EXPIRED),
    Case("TRN-12-aud", "a valid token for another audience", bearer(lambda w: signed(w, aud="other-client")),
         rejected("bad_audience")),
    Case("TRN-12-iss", "a token from another issuer (a live loopback host): rejected, its JWKS never fetched",
         bearer(lambda w: by_attacker(w, iss=w.trap_url)), UNKNOWN_ISSUER),
    Case("TRN-13-script", "kid <script>: the answer never reflects it",
         bearer(lambda w: signed(w, {**w.HDR, "kid": "<script>alert(1)</script>"})), rejected("bad_signature"),
         leaks=("<script>", "alert(1)")),
    Case("TRN-13-path", "kid ../../etc/passwd: the answer never reflects it",
         bearer(lambda w: signed(w, {**w.HDR, "kid": "../../etc/passwd"})), rejected("bad_signature"),
         leaks=("etc/passwd",)),
    Case("TRN-13-crit", 'crit ["<img onerror>"]: PyJWT would echo the name; the answer must not',
         bearer(lambda w: signed(w, {**w.HDR, "crit": ["<img src=x onerror=alert(1)>"]})), rejected("bad_header"),
         leaks=("onerror",)),
    Case("TRN-14-crashers", "every input that crashes some PyJWT version, in a row: never a 5xx",
         custom(_crashers), rejected("malformed")),
    Case("TRN-14-SIG12", "the SIG-12 TypeError path: a verdict, never an exception",
         verifier(lambda w: hs256(w, w.PUB_PEM, {"alg": "HS256", "typ": "JWT", "kid": w.KID}),
                  misconfigured("RS256", "HS256"), lambda w: w.any_kid(w.PUB)), verdict("alg_not_allowed")),
    Case("TRN-14-html-jwks", "the JWKS endpoint answers 200 with HTML: key_unavailable, no exception",
         verifier(lambda w: w.GOOD, keys=html_jwks), verdict("key_unavailable")),
    Case("TRN-14-private-jwks", "the IdP publishes private key members: the API fails closed, no 500",
         custom(_private_jwks_api), KeyUnavailableApi(), box="private"),
    Case("TRN-15", "CORS preflight with Authorization requested and no token: 200 with CORS headers",
         custom(_preflight), Preflight()),
    Case("TRN-16", "GET with a valid token: GET is disabled (405)",
         custom(lambda w: raw_request(w, [("Authorization", "Bearer " + w.GOOD)], method="GET", body=b"",
                                    query="query=%7B%20user%20%7B%20id%20%7D%20%7D", token=w.GOOD)),
         HttpError(405, "InvalidArgumentError", "Send GraphQL requests with POST")),
    Case("TRN-16-mutation", "GET carrying a mutation: refused (405), nothing runs",
         custom(lambda w: raw_request(w, [("Authorization", "Bearer " + w.box.api_token)], method="GET", body=b"",
                                    query="query=mutation%7BnoteDelete(id%3A%22x%22)%7Bsuccess%7D%7D")),
         HttpError(405, "InvalidArgumentError", "Send GraphQL requests with POST")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_token_case(case: Case, request: pytest.FixtureRequest) -> None:
    run_case(case, request)
