"""Property-based fuzzing (Hypothesis): whatever arrives, no 500, no uncaught exception, no stack trace.

- ``helpers.verify.verify_token`` on arbitrary strings and bytes, and on JWTs with forged headers and payloads
  (some validly signed): it returns claims or raises ``TokenRejected`` with a catalogued code, nothing else;
- the identity provider's ``POST /oauth/token`` with arbitrary form and JSON bodies, content types and
  Authorization headers: a JSON OAuth error below 500, or tokens;
- the GraphQL API with arbitrary bodies, queries built from the schema with arbitrary arguments and variables,
  Authorization, ``workspace`` and ``environment`` headers: below 500, JSON, and never the ``InternalError``
  that stands for an exception inside a resolver.

The catalogued cases of tests/test_api_token_*.py and the unit cases of tests/test_verify.py are not
repeated: these tests look for the inputs nobody listed. Every run is the same (``derandomize=True``, no example
database) and bounded (``max_examples``), so that CI is deterministic and quick. HTTP fuzzing runs against a
sandbox of this module alone: its mutations (notes, users, API tokens) touch no other test's data.
"""
from __future__ import annotations

import base64
import json
import string

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.sandbox import Sandbox, launch_sandbox
from helpers.verify import ID_TOKEN_WHERE_ACCESS_EXPECTED, REASONS, Expectations, KeySourceUnavailable, \
    TokenRejected, verify_token

pytestmark = pytest.mark.slow  # property-based fuzzing over real HTTP: `make test-fast` leaves it out

TIMEOUT = 20
ISS, AUD = "https://issuer.example/", "client-1"
NOW = 1_800_000_000
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ------------------------------------------------------------------ shared strategies
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=60).map(str.lstrip)  # what a header value can carry: latin-1, no control characters
raw_json_text = st.one_of(  # texts json.loads accepts that are not clean UTF-8 text or not plain values
    st.sampled_from(['"\\ud800"', '"x\\udfff"', '"\\udfff\\ud800"']),  # lone surrogates: no UTF-8 encoding
    st.sampled_from(['"a\\u0000b"', "1e999", "-0", "NaN", "Infinity", '"\\ud83d\\ude00"',
                     "123456789012345678901234567890", '"' + "\u202e" * 3 + '"', '{"__proto__": {}}']),
)


RAW = "@@raw@@"


def splice(value: object, raw: str) -> str:
    """``value`` as JSON, its ``RAW`` placeholder string replaced by a raw JSON text."""
    return json.dumps(value).replace(f'"{RAW}"', raw, 1)


# ------------------------------------------------------------------ helpers.verify.verify_token
EXPECT = Expectations(issuer=ISS, audience=AUD)
REASON_TEXTS = set(REASONS.values()) | {ID_TOKEN_WHERE_ACCESS_EXPECTED}


def key_lookup(kind: str):
    def lookup(kid):
        if kind == "key":
            return KEY.public_key()
        if kind == "other":
            return OTHER_KEY.public_key()
        if kind == "missing":
            raise KeyError(kid)
        if kind == "down":
            raise KeySourceUnavailable("down")
        if kind == "crash":
            raise RuntimeError("a key source bug")
        return {"none": None, "text": "not a key", "number": 7}[kind]
    return lookup


lookups = st.sampled_from(["key", "key", "key", "other", "missing", "down", "crash", "none", "text", "number"])
header_values = st.one_of(json_values, st.sampled_from(["RS256", "none", "HS256", "ES256", "PS256", "RS512", "None"]))
forged_headers = st.one_of(
    st.fixed_dictionaries({"alg": st.sampled_from(["RS256", "RS256", "none", "HS256", "ES256", "rs256"])},
                          optional={"kid": header_values, "typ": st.sampled_from(["JWT", "at+jwt", "JOSE", 5]),
                                    "crit": json_values, "jku": st.just("http://127.0.0.1:1/"), "b64": st.booleans(),
                                    "x5c": json_values, "jwk": json_values, "zip": st.just("DEF")}),
    st.dictionaries(st.text(max_size=8), header_values, max_size=5),
    json_values,
)
claim_values = st.one_of(json_values, st.sampled_from([NOW, NOW + 3600, NOW - 10, 2**63, -1, 1.5, "1800000000"]))
forged_claims = st.one_of(
    st.fixed_dictionaries({}, optional={"iss": st.one_of(st.just(ISS), json_values),
                                        "aud": st.one_of(st.just(AUD), st.just([AUD, "x"]), json_values),
                                        "sub": st.one_of(st.just("auth0|1"), json_values),
                                        "exp": claim_values, "iat": claim_values, "nbf": claim_values,
                                        "azp": st.one_of(st.just(AUD), json_values), "nonce": json_values,
                                        "scope": json_values, "at_hash": json_values}),
    json_values,
)


@st.composite
def forged_tokens(draw) -> str | bytes:
    header, claims = draw(forged_headers), draw(forged_claims)
    h = b64u(json.dumps(header).encode()) if draw(st.booleans()) else b64u(draw(st.binary(max_size=40)))
    p = b64u(json.dumps(claims).encode())
    how = draw(st.sampled_from(["rs256", "rs256", "other-key", "random", "empty", "garbage"]))
    signing_input = f"{h}.{p}".encode()
    if how in ("rs256", "other-key"):
        key = KEY if how == "rs256" else OTHER_KEY
        signature = b64u(key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))
    elif how == "random":
        signature = b64u(draw(st.binary(min_size=1, max_size=300)))
    elif how == "empty":
        signature = ""
    else:
        signature = draw(st.text(max_size=20))
    token = f"{h}.{p}.{signature}"
    return token.encode() if draw(st.booleans()) and token.isascii() else token


any_tokens = st.one_of(
    forged_tokens(),
    st.text(max_size=200),
    st.binary(max_size=200),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.=+/", max_size=300),
    st.builds(lambda parts: ".".join(parts), st.lists(st.text(alphabet=string.ascii_letters + "-_", max_size=30),
                                                       min_size=1, max_size=6)),
    st.sampled_from([None, 0, [], {}, b"\xff\xfe.\x00.\x01", "." * 2, "a" * 9000 + ".b.c"]),
)


@fuzz(500)
@given(token=any_tokens, lookup=lookups, token_use=st.sampled_from(["id", "access"]),
       nonce=st.sampled_from([None, "n"]))
def test_verify_token_returns_claims_or_raises_token_rejected_only(token, lookup, token_use, nonce):
    expect = Expectations(issuer=ISS, audience=AUD, token_use=token_use, nonce=nonce)
    try:
        claims = verify_token(token, key_lookup(lookup), expect, now=NOW)
    except TokenRejected as rejected:
        assert rejected.code in REASONS and str(rejected) in REASON_TEXTS
        return
    # accepted: only a token really signed by the issuer's key, for this issuer and audience, within its lifetime
    assert lookup in ("key", "other") and isinstance(claims, dict)
    assert claims["iss"] == ISS and AUD in (claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]])
    assert type(claims["exp"]) is int and claims["exp"] > NOW


# ------------------------------------------------------------------ a sandbox of this module alone
@pytest.fixture(scope="module")
def box() -> Sandbox:
    sandbox = launch_sandbox()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def ada_token(box) -> str:
    response = requests.post(box.idp_url + "oauth/token", timeout=TIMEOUT, json={
        "grant_type": "password", "client_id": box.web_client_id, "client_secret": box.web_client_secret,
        "username": "ada@example.com", "password": "ada-sandbox-pass", "scope": "openid email"})
    return response.json()["id_token"]


def clean_answer(response: requests.Response) -> None:
    """No 5xx, no stack trace, no exception name, whatever the request."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    text = response.text
    assert "Traceback" not in text and 'File "' not in text and "Internal Server Error" not in text, text[:500]


# ------------------------------------------------------------------ POST /oauth/token
OAUTH_NAMES = ["grant_type", "client_id", "client_secret", "username", "password", "realm", "scope", "audience",
               "code", "redirect_uri", "code_verifier", "refresh_token", "nonce"]
# where a raw JSON text goes: the values the identity provider hashes or compares as bytes come first
SPLICE_FIRST = ["client_secret", "password", "username", "code_verifier", "refresh_token", "code", "scope",
                "audience", "realm", "redirect_uri", "nonce", "client_id", "grant_type"]
GRANTS = ["authorization_code", "password", "client_credentials", "refresh_token",
          "http://auth0.com/oauth/grant-type/password-realm", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer"]


often = st.sampled_from([True, True, True, False])  # True first: what Hypothesis draws most


@st.composite
def token_requests(draw, box: Sandbox):
    known = {
        "grant_type": st.sampled_from(GRANTS),
        "client_id": st.sampled_from([box.spa_client_id, box.web_client_id, box.m2m_client_id]),
        "client_secret": st.sampled_from([box.web_client_secret, box.m2m_client_secret]),
        "username": st.sampled_from(["ada@example.com", "ADA@example.com", "nobody@example.com"]),
        "password": st.sampled_from(["ada-sandbox-pass", "wrong"]),
        "realm": st.sampled_from([box.connection, "github"]),
        "scope": st.sampled_from(["openid", "openid email offline_access", "read:notes", "write:notes"]),
        "audience": st.sampled_from([box.api_audience, "https://elsewhere/"]),
        "redirect_uri": st.just(box.redirect_uri),
    }
    # Hypothesis favours the first, simplest choice of each draw: that choice is always the plausible one here
    # (a known grant, client and secret, a body that says its content type), so the fuzz reaches the grants.
    params = {}
    if draw(often):
        params["grant_type"] = draw(known["grant_type"])
        params["client_id"] = draw(known["client_id"])
        if params["client_id"] != box.spa_client_id and draw(often):
            params["client_secret"] = box.web_client_secret if params["client_id"] == box.web_client_id \
                else box.m2m_client_secret
    for name in draw(st.lists(st.sampled_from(OAUTH_NAMES), max_size=6, unique=True)):
        params[name] = draw(st.one_of(known.get(name, st.nothing()), st.text(max_size=40), json_values)
                            if name in known else st.one_of(st.text(max_size=40), json_values))
    params.update(draw(st.dictionaries(st.text(max_size=10), json_values, max_size=2)))
    shape = draw(st.sampled_from(["json", "raw-json", "form", "json", "raw-json", "form", "bytes", "form-twice"]))
    if shape == "json":
        body, content_type = json.dumps(params).encode(), "application/json"
    elif shape == "raw-json":
        params[draw(st.sampled_from(SPLICE_FIRST))] = RAW
        body, content_type = splice(params, draw(raw_json_text)).encode(), "application/json"
    elif shape in ("form", "form-twice"):
        pairs = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in params.items()]
        if shape == "form-twice" and pairs:
            pairs.append(pairs[0])
        body = "&".join(f"{requests.utils.quote(k)}={requests.utils.quote(v)}" for k, v in pairs).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body, content_type = draw(st.binary(max_size=300)), draw(st.sampled_from(["application/json", ""]))
    if not draw(often):  # now and then a content type that does not say what the body is
        content_type = draw(st.sampled_from(["text/plain", "application/json; charset=latin-1", "multipart/form-data",
                                             "APPLICATION/JSON"]) | header_text)
    headers = {"Content-Type": content_type}
    authorization = None if draw(often) else draw(st.one_of(
        st.builds(lambda i, s: "Basic " + base64.b64encode(f"{i}:{s}".encode()).decode(),
                  st.sampled_from([box.m2m_client_id, box.web_client_id, "x", ""]) | st.text(max_size=20),
                  st.sampled_from([box.m2m_client_secret, "wrong"]) | st.text(max_size=20)),
        st.builds(lambda raw: "Basic " + base64.b64encode(raw).decode(), st.binary(max_size=40)),
        header_text.map(lambda t: "Basic " + t), header_text))
    if authorization is not None:
        headers["Authorization"] = authorization
    return body, headers


@fuzz(150)
@given(data=st.data())
def test_the_token_endpoint_answers_any_body_with_an_oauth_error_or_tokens(box, data):
    body, headers = data.draw(token_requests(box))
    response = requests.post(box.idp_url + "oauth/token", data=body, headers=headers, timeout=TIMEOUT)
    clean_answer(response)
    answer = response.json()
    if response.status_code == 200:
        assert "access_token" in answer and answer["token_type"] == "Bearer"
    else:
        assert 400 <= response.status_code < 500 and isinstance(answer.get("error"), str), answer


# ------------------------------------------------------------------ the GraphQL endpoint
def literal(value) -> str:
    """A GraphQL literal for a JSON-ish value (strings JSON-quoted, objects as {k: v})."""
    if isinstance(value, dict):
        fields = ", ".join(f"{k}: {literal(v)}" for k, v in value.items() if k.isidentifier())
        return "{" + fields + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if not isinstance(value, float) else repr(value)


argument_values = st.one_of(json_values, st.sampled_from(["", "c" + "0" * 24, "cl0labnote00000000000001", -1, 2**31,
                                                           "ada@example.com", "%", "_", "'; DROP TABLE notes; --"]))
filters = st.fixed_dictionaries({}, optional={
    "id": st.fixed_dictionaries({}, optional={"equals": argument_values, "in": st.lists(argument_values, max_size=3)}),
    "title": st.fixed_dictionaries({}, optional={"contains": argument_values, "starts_with": argument_values,
                                                 "equals": argument_values}),
    "email": st.fixed_dictionaries({}, optional={"contains": argument_values, "not_equals": argument_values}),
    "createdBy": st.fixed_dictionaries({}, optional={"is_self": argument_values, "email": st.just({"equals": "x"})}),
    "is_self": argument_values, "OR": st.just([{"is_self": True}, {}]), "AND": st.just([]),
})
OPERATIONS = [
    "query($a: Int, $b: Int, $f: NoteFilter) {{ notesList(first: $a, skip: $b, filter: $f) "
    "{{ count items {{ id title body createdBy {{ email }} }} }} }}",
    "query($a: Int, $f: UserFilter) {{ usersList(first: $a, filter: $f) "
    "{{ count items {{ email roles {{ items {{ name }} }} permissions {{ count }} }} }} }}",
    "query($i: ID, $e: String) {{ user(id: $i, email: $e) {{ id email }} }}",
    "query($i: ID!) {{ note(id: $i) {{ id title createdBy {{ id }} }} }}",
    "{{ rolesList {{ items {{ name users {{ count }} }} }} apiTokensList {{ count }} "
    "authenticationProfilesList {{ items {{ domain roles {{ count }} selfSignUpEmailDomains }} }} }}",
    "mutation($t: String!, $b: String) {{ noteCreate(data: {{title: $t, body: $b}}) {{ id title }} }}",
    "mutation($i: ID, $t: String) {{ noteUpdate(filter: {{id: $i}}, data: {{title: $t}}) {{ id }} }}",
    "mutation($i: ID, $force: Boolean) {{ noteDelete(filter: {{id: $i}}, data: {{force: $force}}) {{ success }} }}",
    "mutation($n: String!, $r: [RoleKeyFilter!]) {{ apiTokenCreate(data: {{name: $n, roles: {{connect: $r}}}}) "
    "{{ name roles {{ count }} }} }}",
    "mutation($u: UserCreateInput!, $p: ID) {{ userSignUpWithToken(user: $u, authProfileId: $p) {{ id }} }}",
    "{{ notesList(filter: {filter}) {{ count }} }}",
    "{{ usersList(first: {value}, skip: {value}) {{ count }} }}",
    "{{ user(email: {value}) {{ id }} }}",
    "mutation {{ noteCreate(data: {{title: {value}}}) {{ id }} }}",
]


@st.composite
def graphql_requests(draw, box: Sandbox, ada: str):
    template = draw(st.sampled_from(OPERATIONS))
    query = template.format(filter=literal(draw(filters)), value=literal(draw(argument_values)))
    query = draw(st.one_of(st.just(query), st.text(max_size=80), st.just(query[: len(query) // 2]),
                           st.just(query.replace("{", "{ a: __typename ", 1))))
    variables = draw(st.one_of(
        st.fixed_dictionaries({}, optional={name: argument_values for name in "abiteftnrup"} | {
            "f": st.one_of(filters, json_values), "force": argument_values,
            "u": st.one_of(st.fixed_dictionaries({"email": argument_values}), json_values),
            "r": st.one_of(st.lists(st.fixed_dictionaries({}, optional={"name": argument_values,
                                                                        "id": argument_values}), max_size=2),
                           json_values)}),
        json_values))
    body: dict = {"query": query, "variables": variables}
    if draw(st.booleans()):
        body["operationName"] = draw(st.one_of(st.none(), st.text(max_size=10), json_values))
    shape = draw(st.sampled_from(["json"] * 6 + ["raw-json", "raw-json", "other-json", "bytes"]))
    if shape == "json":
        raw = json.dumps(body).encode()
    elif shape == "raw-json":
        where = draw(st.sampled_from(["operationName", "query", *(body["variables"] if isinstance(
            body["variables"], dict) else [])]))
        if where in ("operationName", "query"):
            body[where] = RAW
        else:
            body["variables"][where] = RAW
        raw = splice(body, draw(raw_json_text)).encode()
    elif shape == "other-json":
        raw = json.dumps(draw(json_values)).encode()
    else:
        raw = draw(st.binary(max_size=200))
    forged = draw(forged_tokens())
    forged = forged.decode() if isinstance(forged, bytes) else forged
    authorization = draw(st.one_of(
        st.none(), st.just("Bearer " + box.api_token), st.just("Bearer " + ada), st.just("bearer  " + ada),
        st.just("Bearer " + ada[:-3]), header_text.map(lambda t: "Bearer " + t), header_text,
        st.just("Bearer " + forged) if forged.isascii() and forged.isprintable() else st.none()))
    headers = {"Content-Type": draw(st.sampled_from(["application/json"] * 8 + ["text/plain"]) | header_text)}
    if authorization is not None:
        headers["Authorization"] = authorization
    target = draw(st.sampled_from(["path", "path", "path", "dev", "host", "unknown", "odd"]))
    url = {"path": box.api_url, "dev": box.api_url + "_dev", "host": box.api_host,
           "unknown": box.api_host + "cl0nosuchworkspace000009", "odd": box.api_url + "_%E2%80%AE%00"}[target]
    for name, known in (("workspace", box.workspace_id), ("environment", "dev")):
        value = draw(st.one_of(st.none(), st.just(known), header_text))
        if value is not None:
            headers[name] = value
    return url, raw, headers


@fuzz(250)
@given(data=st.data())
def test_the_graphql_endpoint_answers_any_request_cleanly(box, ada_token, data):
    url, raw, headers = data.draw(graphql_requests(box, ada_token))
    response = requests.post(url, data=raw, headers=headers, timeout=TIMEOUT)
    clean_answer(response)
    answer = response.json()
    assert isinstance(answer, dict) and ("data" in answer or "errors" in answer), answer
    for error in answer.get("errors") or []:
        assert error.get("code") != "InternalError", (raw[:300], error)  # an exception inside a resolver
        assert isinstance(error.get("code"), str), error  # every answer has an 8base code (issue 16)
        assert isinstance(error.get("message"), str) and len(error["message"]) <= 300, error
