"""The JWT security catalog §1.1, signature and algorithm (SIG), against the sandbox GraphQL API.

How the cases are written and sent: tests/token_cases/__init__.py.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.token_cases.answers import ACCEPTED, NOT_A_TOKEN, Case, Holds, rejected, verdict
from tests.token_cases.runner import run_case
from tests.token_cases.sending import bearer, by_attacker, canonical, hs256, misconfigured, static, verifier
from tests.token_cases.world import ROOT, World, b64u, j, raw_request

EC_KEY = ec.generate_private_key(ec.SECP256R1())
WEAK_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # SIG-19
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # "r = s = n" (SIG-17)


def es256(w: World, r: int, s: int, kid: bool = False) -> str:
    header = {"alg": "ES256", "typ": "JWT", **({"kid": w.KID} if kid else {})}
    return w.craft(header, w.claims(), sig=b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big")))


def pem_key(w: World) -> Callable[[str | None], Any]:
    return w.any_kid(w.PUB_PEM.decode())


def truncated_signature_code(w: World) -> str:
    """SIG-05: s[:-4] still decodes when its last character happens to be canonical (then the signature is
    simply wrong); otherwise PyJWT's strict base64url refuses it. Which one depends on the key's bytes."""
    return "bad_signature" if canonical(w.s[:-4]) else "malformed"


def _scan_helpers(w: World) -> list[str]:
    """SIG-20: no code under helpers/ skips signature checks, or takes the algorithm from the token.

    The one documented exception: ``_unverified_issuer`` in helpers/sandbox/api/auth.py reads ``iss``
    only to choose which Authentication Profile's keys verify the token.
    """
    problems = []
    allowed = {("helpers/sandbox/api/auth.py", "_unverified_issuer")}
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        functions = [(m.start(), m.group(1)) for m in re.finditer(r"^\s*def (\w+)", text, re.M)]
        for m in re.finditer(r"verify_signature[\"']?\s*[:=]\s*False", text):
            owner = next((name for start, name in reversed(functions) if start < m.start()), None)
            if (rel, owner) not in allowed:
                problems.append(f"{rel}: verify_signature False in {owner}()")
        for m in re.finditer(r"algorithms\s*=\s*\[?[^\]\n]*get_unverified_header", text):
            problems.append(f"{rel}: algorithms taken from the token header")
        if "jwt.decode(" in text and rel not in ("helpers/verify.py", "helpers/sandbox/api/auth.py"):
            problems.append(f"{rel}: jwt.decode outside the one verifier")
    auth = (ROOT / "helpers/sandbox/api/auth.py").read_text(encoding="utf-8")
    uses = re.findall(r"_unverified_issuer\(", auth)
    if len(uses) != 2:  # its definition and its one call, in verify_id_token
        problems.append(f"api/auth.py: _unverified_issuer used {len(uses) - 1} times")
    call = re.search(r"issuer = _unverified_issuer\(token\)\n\s*profiles = \[p for p in db\.auth_profiles\(\) "
                     r"if p\.issuer == issuer\]", auth)
    if call is None:
        problems.append("api/auth.py: the unverified issuer is used for more than choosing the profile")
    return problems


def _idp_keys_are_strong(w: World) -> list[str]:
    """SIG-18/19 on the IdP side: only RS256 with RSA keys of at least 2048 bits, never HS256."""
    problems = []
    for jwk in w.box.idp.keys.jwks()["keys"]:
        key = jwt.PyJWK(jwk).key
        if jwk.get("alg") != "RS256" or key.key_size < 2048:
            problems.append(f"weak or non-RS256 key {jwk.get('kid')}")
    discovery = json.loads(raw_request(w, [], method="GET", body=b"", url=w.ISS + ".well-known/openid-configuration",
                                       path="/.well-known/openid-configuration").body)
    if discovery.get("id_token_signing_alg_values_supported") != ["RS256"]:
        problems.append(f"discovery signs ID tokens with {discovery.get('id_token_signing_alg_values_supported')}")
    return problems


CASES: list[Case] = [
    # ---- 1.1 Signature and algorithm (SIG) --------------------------------------------------------------
    Case("SIG-01", "control: the valid token GOOD reaches the resolver", bearer(lambda w: w.GOOD), ACCEPTED),
    Case("SIG-02", "payload tampered (sub=admin), original signature kept",
         bearer(lambda w: f"{w.h}.{b64u(j(w.claims(sub='admin')))}.{w.s}"), rejected("bad_signature")),
    Case("SIG-03", "signature stripped, trailing dot kept (null signature, CVE-2020-28042)",
         bearer(lambda w: f"{w.h}.{w.p}."), rejected("bad_signature")),
    Case("SIG-04", "signature segment missing: two parts are not a JWT (nor an API token)",
         bearer(lambda w: f"{w.h}.{w.p}"), NOT_A_TOKEN, verifier_code="malformed"),
    Case("SIG-05", "signature truncated by 4 characters", bearer(lambda w: f"{w.h}.{w.p}.{w.s[:-4]}"),
         rejected(truncated_signature_code)),
    Case("SIG-06-S05", "all-zero signature of 1 byte", bearer(lambda w: f"{w.h}.{w.p}.{b64u(bytes(1))}"),
         rejected("bad_signature")),
    Case("SIG-06-S06", "all-zero signature of 256 bytes", bearer(lambda w: f"{w.h}.{w.p}.{b64u(bytes(256))}"),
         rejected("bad_signature")),
    Case("SIG-07", "signed by the attacker's RSA key under the IdP's kid", bearer(lambda w: by_attacker(w)),
         rejected("bad_signature")),
    *[Case(f"SIG-08-{alg}", f'alg "{alg}" with an empty signature',
           bearer(lambda w, a=alg: w.craft({"alg": a, "typ": "JWT"}, w.claims(), signer="none")),
           rejected("alg_not_allowed")) for alg in ("none", "None", "NONE", "nOnE")],
    Case("SIG-09", 'alg none against a verifier misconfigured with algorithms=("RS256","none")',
         verifier(lambda w: w.craft({"alg": "none", "typ": "JWT"}, w.claims(), signer="none"),
                  misconfigured("RS256", "none"), lambda w: w.any_kid(w.PUB)), verdict("alg_not_allowed")),
    Case("SIG-10", "RS256->HS256 confusion: HMAC keyed with the public PEM",
         bearer(lambda w: hs256(w, w.PUB_PEM)), rejected("alg_not_allowed")),
    Case("SIG-10-pkcs1", "HS256 confusion, key recovered without an exposed PEM (PKCS#1 encoding)",
         bearer(lambda w: hs256(w, w.PUB.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
                                {"alg": "HS256", "typ": "JWT", "kid": w.KID})), rejected("alg_not_allowed")),
    Case("SIG-11", "HS256/PEM token against a verifier allowing HS256, key given as a PEM string",
         verifier(lambda w: hs256(w, w.PUB_PEM), misconfigured("RS256", "HS256"), pem_key),
         verdict("alg_not_allowed")),
    Case("SIG-12", "the same, key given as an RSAPublicKey object (PyJWT raises TypeError)",
         verifier(lambda w: hs256(w, w.PUB_PEM), misconfigured("RS256", "HS256"), lambda w: w.any_kid(w.PUB)),
         verdict("alg_not_allowed")),
    Case("SIG-13", "HS256 keyed with the IdP's JWK JSON text, misconfigured verifier keyed with that text",
         verifier(lambda w: hs256(w, w.jwk_json.encode()), misconfigured("RS256", "HS256"),
                  lambda w: w.any_kid(w.jwk_json)), verdict("alg_not_allowed")),
    Case("SIG-14-S14", "HS256 with a blank secret, at the API", bearer(lambda w: hs256(w, b"")),
         rejected("alg_not_allowed")),
    Case("SIG-14-S15", 'HS256 blank secret against algorithms=("HS256",) and key ""',
         verifier(lambda w: hs256(w, b""), misconfigured("HS256"), lambda w: w.any_kid("")),
         verdict("alg_not_allowed")),
    Case("SIG-15-S16", "a valid RS512 token from the IdP's own key",
         bearer(lambda w: w.craft({**w.HDR, "alg": "RS512"}, w.claims(), signer="rs512")), rejected("alg_not_allowed")),
    Case("SIG-15-S17", "a valid PS256 token from the IdP's own key",
         bearer(lambda w: w.craft({**w.HDR, "alg": "PS256"}, w.claims(), signer="ps256")), rejected("alg_not_allowed")),
    Case("SIG-16", 'alg "rs256" (algorithm names are case-sensitive), otherwise valid',
         bearer(lambda w: w.craft({**w.HDR, "alg": "rs256"}, w.claims())), rejected("alg_not_allowed")),
    Case("SIG-17-S19", "psychic signature ES256 r=s=0 against the RS256 API",
         bearer(lambda w: es256(w, 0, 0, kid=True)), rejected("alg_not_allowed")),
    Case("SIG-17-S19n", "psychic signature ES256 r=s=n against the RS256 API",
         bearer(lambda w: es256(w, P256_ORDER, P256_ORDER, kid=True)), rejected("alg_not_allowed")),
    Case("SIG-17-S20", "psychic signature r=s=0 against an ES256 verifier with an EC key",
         verifier(lambda w: es256(w, 0, 0), misconfigured("ES256"), lambda w: w.any_kid(EC_KEY.public_key())),
         verdict("bad_signature")),
    Case("SIG-17-S21", "psychic signature r=s=n against an ES256 verifier with an EC key",
         verifier(lambda w: es256(w, P256_ORDER, P256_ORDER), misconfigured("ES256"),
                  lambda w: w.any_kid(EC_KEY.public_key())), verdict("bad_signature")),
    Case("SIG-18", "HS256 with a guessable secret ('secret'): the API never accepts HMAC at all",
         bearer(lambda w: hs256(w, b"secret", {"alg": "HS256", "typ": "JWT", "kid": w.KID})),
         rejected("alg_not_allowed")),
    Case("SIG-18-idp", "the IdP signs ID tokens only with RS256 and RSA keys of >= 2048 bits",
         static(_idp_keys_are_strong), Holds()),
    Case("SIG-19", "token signed with an RSA-1024 key that the key source returns: key length enforced",
         verifier(lambda w: w.craft(w.HDR, w.claims(), key=WEAK_KEY), keys=lambda w: w.any_kid(WEAK_KEY.public_key())),
         verdict("bad_signature")),
    Case("SIG-20-S22", "caller bug 'algorithms omitted': an empty allow-list accepts nothing",
         verifier(lambda w: w.GOOD, lambda w: w.api_expectations(algorithms=())), verdict("alg_not_allowed")),
    Case("SIG-20-S23", "static: no verify_signature=False / alg-from-header outside _unverified_issuer",
         static(_scan_helpers), Holds()),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_token_case(case: Case, request: pytest.FixtureRequest) -> None:
    run_case(case, request)
