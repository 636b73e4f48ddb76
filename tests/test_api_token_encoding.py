"""The JWT security catalog §1.4, encoding and structure (ENC), against the sandbox GraphQL API.

How the cases are written and sent: tests/token_cases/__init__.py.
"""
from __future__ import annotations

import re

import pytest

from tests.token_cases.answers import (ACCEPTED, BAD_AUTH_HEADER, NOT_A_TOKEN, Case, ServerRefuses, Verified, rejected,
                                       verdict)
from tests.token_cases.runner import run_case
from tests.token_cases.sending import auth, bearer, header_text, noncanonical, padded, signed, verifier
from tests.token_cases.world import ADA, j

CASES: list[Case] = [
    # ---- 1.4 Encoding and structure (ENC) ----------------------------------------------------------------
    Case("ENC-01-E01", 'empty token after "Bearer "', auth(lambda w: "Bearer "), BAD_AUTH_HEADER),
    Case("ENC-01-E01-verifier", 'the verifier given ""', verifier(lambda w: ""), verdict("malformed")),
    Case("ENC-01-E02", "the verifier given None", verifier(lambda w: None), verdict("malformed")),
    Case("ENC-01-E19", "the verifier given 123", verifier(lambda w: 123), verdict("malformed")),
    Case("ENC-02-E03", 'one segment "abc"', bearer(lambda w: "abc"), NOT_A_TOKEN, verifier_code="malformed"),
    Case("ENC-02-E04", "four segments GOOD + .AAAA", bearer(lambda w: w.GOOD + ".AAAA"), NOT_A_TOKEN,
         verifier_code="malformed"),
    Case("ENC-02-E05", "a five-part JWE (not supported, never decrypted)",
         bearer(lambda w: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"), NOT_A_TOKEN, verifier_code="malformed"),
    Case("ENC-03-E06", 'non-base64url header "!!!"', bearer(lambda w: f"!!!.{w.p}.{w.s}"), rejected("malformed")),
    Case("ENC-03-E07", "standard-base64 + and / in the signature",
         bearer(lambda w: f"{w.h}.{w.p}.{w.s.replace('-', '+').replace('_', '/')}" if re.search("[-_]", w.s)
                else f"{w.h}.{w.p}.+/{w.s[2:]}"), rejected("malformed")),
    Case("ENC-04", "non-canonical base64url: an unused low bit of the last signature character flipped",
         bearer(lambda w: f"{w.h}.{w.p}.{noncanonical(w.s)}"), rejected("malformed")),
    Case("ENC-05", "trailing = padding on the signature segment (AWS ALB style): accepted, same bytes",
         bearer(lambda w: f"{w.h}.{w.p}.{padded(w.s)}"), ACCEPTED),
    Case("ENC-05-header", "= padding on the header segment changes the signing input: the signature fails",
         bearer(lambda w: f"{padded(w.h)}.{w.p}.{w.s}"),  # h is 110 characters (the kid is a 43-character thumbprint)
         rejected("bad_signature")),
    Case("ENC-06-E10", "header segment is not JSON", bearer(lambda w: w.craft("not json", w.claims())),
         rejected("malformed")),
    Case("ENC-06-E11", "payload not JSON, validly signed", bearer(lambda w: w.craft(w.HDR, "not json")),
         rejected("malformed")),
    Case("ENC-06-E12", "payload a JSON array, validly signed", bearer(lambda w: w.craft(w.HDR, "[1,2]")),
         rejected("malformed")),
    Case("ENC-06-E13", "payload invalid UTF-8, validly signed", bearer(lambda w: w.craft(w.HDR, b'{"sub":"\xff\xfe"}')),
         rejected("malformed")),
    Case("ENC-07-E14", "trailing newline: the verifier does not strip", verifier(lambda w: w.GOOD + "\n"),
         verdict("malformed")),
    Case("ENC-07-E15", "leading space: the verifier does not strip", verifier(lambda w: " " + w.GOOD),
         verdict("malformed")),
    Case("ENC-07-E16", "non-ASCII é inside the token, at the API",
         auth(lambda w: b"Bearer " + w.GOOD[:20].encode() + b"\xe9" + w.GOOD[20:].encode()), rejected("malformed")),
    Case("ENC-07-E16-verifier", "non-ASCII é inside the token, at the verifier",
         verifier(lambda w: w.GOOD[:20] + "é" + w.GOOD[20:]), verdict("malformed")),
    Case("ENC-07-E17", "NUL byte inside the token", verifier(lambda w: w.GOOD[:20] + "\x00" + w.GOOD[20:]),
         verdict("malformed")),
    Case("ENC-07-E17-api", "NUL byte inside the Authorization header: the HTTP server refuses it (400)",
         auth(lambda w: f"Bearer {w.GOOD[:20]}\x00{w.GOOD[20:]}"), ServerRefuses()),
    Case("ENC-08-E20", "2 MB header, valid signature",
         verifier(lambda w: w.craft(header_text(w, '"x":"%s"' % ("a" * 2**21)), w.claims())), verdict("too_large")),
    Case("ENC-08-E21", "2 MB payload, valid signature", verifier(lambda w: signed(w, x="a" * 2**21)),
         verdict("too_large")),
    *[Case(f"ENC-08-junk-{mb}MB", f"{mb} MB of junk with a bad signature: capped before decoding, fast",
           verifier(lambda w, n=mb: f"{w.h}.{'A' * (n << 20)}.{w.s}"), verdict("too_large"), max_seconds=1.0)
      for mb in (1, 8, 32)],
    Case("ENC-09", "UTF-8 BOM before the header JSON, valid signature: accepted, consistently",
         bearer(lambda w: w.craft(b"\xef\xbb\xbf" + j(w.HDR), w.claims())), ACCEPTED),
    Case("ENC-10", "the token as bytes", verifier(lambda w: w.GOOD.encode()), Verified(lambda c: c["email"] == ADA)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_token_case(case: Case, request: pytest.FixtureRequest) -> None:
    run_case(case, request)
