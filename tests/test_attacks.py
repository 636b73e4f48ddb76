"""Every attack shown in lesson 07 is also a test against the sandbox API (helpers/attacks.py).

Each token of ``ATTACKS`` is sent to the GraphQL API as ``Authorization: Bearer <token>``: the API must
refuse it with HTTP 200 and the GraphQL error of the attack's catalog entry, echo nothing the attacker
wrote and show no traceback. The same token handed to ``helpers.verify.verify_token`` (configured as the
API configures it) must give the attack's verifier code.
"""
from __future__ import annotations

import socket
from datetime import datetime

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from helpers.attacks import (ATTACKER_AUDIENCE, ATTACKER_ISSUER, ATTACKS, VERIFIER_CODES, AttackInputs, alg_none,
                             attacker_key, expired, foreign_key_same_kid, hs256_key_confusion, jku_header_injection,
                             jwk_header_injection, not_yet_valid, public_key_pem, tampered_payload)
from helpers.config import target_from_sandbox
from helpers.catalog import entries, explain
from helpers.flows import password_realm
from helpers.jwks import JwksCache
from helpers.sandbox import Sandbox
from helpers.tokens import b64url_decode, decode_parts
from helpers.verify import REASONS, Expectations, TokenRejected, verify_token

NOW = int(datetime.fromisoformat("2026-03-02T09:00:00Z").timestamp())
QUERY = "{ user { id email } }"


@pytest.fixture(scope="module")
def inputs(sandbox: Sandbox) -> AttackInputs:
    """Grace's own login (she plays the attacker), the published key, Ada as the victim, the IdP's signer."""
    sandbox.clock.freeze(NOW)
    target = target_from_sandbox(sandbox)
    (victim, _), (attacker, password) = target.users[:2]
    tokens = password_realm(target, attacker, password, audience=target.audience)
    jwks = requests.get(target.jwks_uri, timeout=10).json()
    pem = public_key_pem(jwks, decode_parts(tokens.id_token).header["kid"])
    return AttackInputs(tokens.id_token, tokens.access_token, pem, victim, sandbox.idp.keys.sign, NOW)


def send(sandbox: Sandbox, token: str) -> requests.Response:
    return requests.post(sandbox.api_url, json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"},
                         timeout=10)


def api_verdict(sandbox: Sandbox, token: str) -> str:
    """The verifier's code for ``token``, configured as the API configures it."""
    expect = Expectations(issuer=sandbox.idp_url, audience=(sandbox.spa_client_id, sandbox.web_client_id),
                          token_use="id", leeway=sandbox.api.settings.token_leeway)
    try:
        verify_token(token, JwksCache(sandbox.idp_url + ".well-known/jwks.json").key_for, expect, now=NOW)
    except TokenRejected as rejected:
        return rejected.code
    return "accepted"


def test_the_attack_list():
    names = [a.name for a in ATTACKS]
    assert len(names) == len(set(names)) == 11
    known = {e.id for e in entries()}
    assert all(a.catalog_id in known and a.verifier_code in REASONS for a in ATTACKS)
    assert set(VERIFIER_CODES) == {a.catalog_id for a in ATTACKS}
    assert all(a.changed and "\n" not in a.changed for a in ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_the_api_refuses_every_attack(attack, sandbox: Sandbox, inputs: AttackInputs):
    sandbox.clock.freeze(NOW)
    token = attack.build(inputs)
    answer = send(sandbox, token)
    assert answer.status_code == 200, answer.text[:300]
    body = answer.json()
    assert body["data"] is None and len(body["errors"]) == 1, body
    assert explain(body).id == attack.catalog_id, body["errors"][0]
    assert body["errors"][0]["path"] == ["user"]

    text = answer.text + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    assert "Traceback" not in text and 'File "' not in text and "-----BEGIN" not in text
    assert token not in text
    assert all(len(part) < 16 or part not in text for part in token.split(".")), "echoes part of the token"
    for attacker_text in (inputs.jku_url, "attacker.example", ATTACKER_ISSUER, ATTACKER_AUDIENCE, inputs.victim_email,
                          '"jwk"', '"jku"'):
        assert attacker_text not in text, f"the answer echoes {attacker_text!r}"

    assert api_verdict(sandbox, token) == attack.verifier_code


def test_a_jku_url_is_never_fetched(sandbox: Sandbox, inputs: AttackInputs):
    sandbox.clock.freeze(NOW)
    with socket.socket() as trap:  # a listening socket that is never answered: any connection is a fetch
        trap.bind(("127.0.0.1", 0))
        trap.listen(4)
        trap.setblocking(False)
        url = f"http://127.0.0.1:{trap.getsockname()[1]}/.well-known/jwks.json"
        answer = send(sandbox, jku_header_injection(inputs.id_token, url))
        assert explain(answer.json()).id == "api-token-bad-signature"
        with pytest.raises(BlockingIOError):
            trap.accept()


# ---------------------------------------------------------------------- the anatomy of each forgery
def test_forgeries_change_only_what_they_say(inputs: AttackInputs):
    original = decode_parts(inputs.id_token)
    kid = original.header["kid"]

    none = decode_parts(alg_none(inputs.id_token))
    assert none.header == {"alg": "none", "typ": "JWT"} and none.signature_b64 == ""
    assert none.payload == original.payload

    confused = decode_parts(hs256_key_confusion(inputs.id_token, inputs.public_key_pem))
    assert confused.header == {**original.header, "alg": "HS256"} and len(confused.signature) == 32

    tampered = decode_parts(tampered_payload(inputs.id_token, email=inputs.victim_email))
    assert tampered.payload == {**original.payload, "email": inputs.victim_email}
    assert (tampered.header_b64, tampered.signature_b64) == (original.header_b64, original.signature_b64)

    foreign = decode_parts(foreign_key_same_kid(inputs.id_token))
    assert foreign.header == original.header and foreign.signature != original.signature

    injected = decode_parts(jwk_header_injection(inputs.id_token))
    assert injected.header["kid"] == injected.header["jwk"]["kid"] == kid
    assert set(injected.header["jwk"]) == {"kty", "e", "n", "kid"}  # public members only
    attacker_n = attacker_key().public_key().public_numbers().n
    assert int.from_bytes(b64url_decode(injected.header["jwk"]["n"]), "big") == attacker_n

    jku = decode_parts(jku_header_injection(inputs.id_token, "https://attacker.example/k.json"))
    assert jku.header == {**original.header, "jku": "https://attacker.example/k.json"}


def test_genuinely_signed_variants_keep_the_lifetime(inputs: AttackInputs):
    claims = decode_parts(inputs.id_token).payload
    lifetime = claims["exp"] - claims["iat"]
    old = decode_parts(expired(inputs.id_token, inputs.sign, NOW)).payload
    assert old["exp"] == NOW - 3600 and old["exp"] - old["iat"] == lifetime
    early = decode_parts(not_yet_valid(inputs.id_token, inputs.sign, NOW)).payload
    assert early["iat"] == NOW + 3600 and early["exp"] - early["iat"] == lifetime


def test_public_key_pem_is_the_published_key(sandbox: Sandbox, inputs: AttackInputs):
    kid = decode_parts(inputs.id_token).header["kid"]
    jwks = requests.get(sandbox.idp_url + ".well-known/jwks.json", timeout=10).json()
    published = sandbox.idp.keys.public_key(kid).public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public_key_pem(jwks, kid) == published == inputs.public_key_pem
