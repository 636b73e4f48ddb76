"""Teaching views of tokens: parts, kinds, explanations, comparisons, coloured anatomy."""
from __future__ import annotations

import pytest
from joserfc import jwe
from joserfc.jwk import OctKey

from helpers.jwe import protected_header
from helpers.sandbox.common.keys import KeyRing
from helpers.tokens import NotAJwt, anatomy_html, audiences, b64url_decode, claim_dictionary, compare, decode_parts, explain, kind_of, readable_time

KEYS = KeyRing()
ID_CLAIMS = {"iss": "http://localhost:1/", "sub": "auth0|1", "aud": "client", "iat": 1_800_000_000,
             "exp": 1_800_036_000, "email": "ada@example.com", "nonce": "n"}
ACCESS_CLAIMS = {"iss": "http://localhost:1/", "sub": "auth0|1", "aud": ["https://api/", "http://localhost:1/userinfo"],
                 "iat": 1_800_000_000, "exp": 1_800_086_400, "scope": "openid", "azp": "client"}


def test_decode_parts_by_hand_matches_the_signed_token():
    token = KEYS.sign(ID_CLAIMS)
    parts = decode_parts(token)
    assert parts.header == {"alg": "RS256", "typ": "JWT", "kid": KEYS.current.kid}
    assert parts.payload == ID_CLAIMS and len(parts.signature) == 256
    assert b64url_decode("eyJhIjoxfQ") == b'{"a":1}'


@pytest.mark.parametrize("bad", ["", "a.b", "a.b.c.d", "!!!.e30.x", "W10.W10.x", None])
def test_not_a_jwt(bad):
    with pytest.raises(NotAJwt):
        decode_parts(bad)


def test_kind_of():
    assert kind_of(KEYS.sign(ID_CLAIMS)) == "ID token"
    assert kind_of(KEYS.sign(ACCESS_CLAIMS)) == "access token"
    assert kind_of(KEYS.sign({**ACCESS_CLAIMS, "sub": "m2m@clients", "gty": "client-credentials"})) == "machine access token"
    assert kind_of("opaqueValue123") == "opaque"


def test_kind_of_an_encrypted_token_reads_only_its_header():
    key = OctKey.generate_key(256)
    token = jwe.encrypt_compact({"alg": "dir", "enc": "A256GCM"}, b'{"sub": "auth0|1"}', key)  # as Auth0's, no iss
    assert kind_of(token) == "encrypted (JWE)" and protected_header(token) == {"alg": "dir", "enc": "A256GCM"}
    with pytest.raises(NotAJwt):
        decode_parts(token)
    table = compare({"JWE": token})
    assert list(table.index) == ["(kind)"] and table.loc["(kind)", "JWE"] == "encrypted (JWE)"
    for almost in ("a.b.c.d.e", "e30.b.c.d.e", token.replace(".", "", 1), "eyJhbGciOiJkaXIifQ.b.c.d.e"):
        assert kind_of(almost) == "opaque", almost  # five parts are not enough: a header naming alg and enc
    header = token.split(".", 1)[0]
    assert protected_header(None) is None and protected_header(b"x") is None
    assert protected_header("W10" + token[len(header):]) is None  # [] is JSON, not a header
    assert protected_header("e" * 5000 + token[len(header):]) is None  # an oversized header is not read
    assert protected_header("é" + token) is None  # not base64url


def test_explain_names_every_claim_with_meaning_and_spec():
    table = explain(KEYS.sign(ID_CLAIMS), now=1_800_000_000)
    assert sorted(table["claim"][:3]) == ["alg", "kid", "typ"] and list(table["claim"][3:]) == list(ID_CLAIMS)
    row = table.set_index("claim").loc["exp"]
    assert row["readable"] == "2027-01-15 18:00:00 UTC (in 10:00:00)" and row["spec"] == "RFC 7519 §4.1.4"
    assert table.set_index("claim").loc["email", "link"].startswith("https://openid.net/")


def test_explain_marks_unknown_claims():
    table = explain(KEYS.sign({**ID_CLAIMS, "https://example.com/roles": ["admin"]})).set_index("claim")
    assert table.loc["https://example.com/roles", "meaning"].startswith("Not a registered claim")


def test_readable_time_past_and_non_numbers():
    assert readable_time(100, now=3700) == "1970-01-01 00:01:40 UTC (1:00:00 ago)"
    assert readable_time("9999999999") == "'9999999999'"


def test_compare_puts_tokens_side_by_side():
    table = compare({"ID token": KEYS.sign(ID_CLAIMS), "access token": KEYS.sign(ACCESS_CLAIMS), "opaque": "abc"})
    assert table.loc["aud", "ID token"] == "client"
    assert table.loc["aud", "access token"] == '["https://api/", "http://localhost:1/userinfo"]'
    assert table.loc["scope", "ID token"] == "—" and table.loc["(kind)", "opaque"] == "opaque"


def test_anatomy_html_is_coloured_and_escaped():
    page = anatomy_html(KEYS.sign({**ID_CLAIMS, "name": "<script>alert(1)</script>"}))
    assert page.count("<span style=") == 3 and "#fb015b" in page and "#d63aff" in page and "#00b9f1" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_claim_dictionary_links_every_claim_to_a_spec():
    dictionary = claim_dictionary()
    assert dictionary.index.is_unique and dictionary["link"].str.startswith("https://").all()
    assert {"iss", "sub", "aud", "exp", "iat", "nonce", "email", "azp", "at_hash"} <= set(dictionary.index)


@pytest.mark.parametrize("claims, expected", [({"aud": "a"}, ["a"]), ({"aud": ["a", "b"]}, ["a", "b"]), ({}, [])])
def test_audiences_reads_aud_as_a_string_or_a_list(claims, expected):
    assert audiences(claims) == expected
