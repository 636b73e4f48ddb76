"""GraphQL abuse over real HTTP: every oversized, over-nested, batched or unreadable request gets a clean error.

Limits (``data/sandbox/api.json`` settings, checked in ``helpers/sandbox/api/core.py`` before authentication,
validation and execution): ``max_query_tokens``, ``max_query_depth`` (``ofType`` chains do not count, so
introspection works), ``max_aliases`` (counted once per use of a fragment), ``max_body_bytes`` (413).
An answer over a limit is HTTP 400 with ``data: null`` and one error whose message and details are fixed
texts: the query is never repeated back.

Already covered elsewhere, not repeated here: ``{not json``, ``[]``, ``{"query": 5}``, ``text/plain``, a syntax
error and an unknown field (tests/test_api.py ``test_unreadable_requests_get_a_clean_4xx``); a declared body over
1 MB through the client (tests/test_graphql.py ``test_invalid_argument_error_on_a_413``); GET, and GET carrying a
mutation on ``/<workspaceId>`` (tests/test_api_token_transport.py TRN-16, TRN-16-mutation).
"""
from __future__ import annotations

import json
import time

import graphql
import pytest
import requests

TIMEOUT = 20
CREATE = 'mutation { noteCreate(data: {title: "abuse-must-not-exist"}) { id } }'


def nested(depth: int) -> str:
    """A valid query exactly ``depth`` field levels deep (the leaf included), down the schema's one cycle:
    usersList > items (User) > roles > items (Role) > users > items (User) > roles ..."""
    names = ["usersList"] + [("items", "roles", "items", "users")[i % 4] for i in range(depth - 2)]
    if names[-1] != "items":
        leaf = "count"  # a ...ListResponse
    else:
        leaf = "name" if names[-2] == "roles" else "id"  # a Role, or a User
    text = leaf
    for name in reversed(names):
        text = f"{name} {{ {text} }}"
    return "{ " + text + " }"


def post(url: str, body, token: str | None = None, **kwargs) -> requests.Response:
    """POST a JSON value (dict, list) or raw bytes sent as application/json."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, (dict, list)):
        return requests.post(url, json=body, headers=headers, timeout=TIMEOUT, **kwargs)
    return requests.post(url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=TIMEOUT,
                         **kwargs)


def refused(response: requests.Response, status: int, message: str) -> dict:
    """The one clean error: the status, the fixed message, code InvalidArgumentError, no trace, no echo."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert body["data"] is None and len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert (error["message"], error["code"]) == (message, "InvalidArgumentError"), error
    assert set(error) == {"message", "code", "details"}, error  # no locations, no path, nothing from the query
    assert "Traceback" not in response.text
    return error


def notes_titled(sandbox, title: str) -> int:
    return sum(n.title == title for n in sandbox.api.database(sandbox.workspace_id).notes())


# ------------------------------------------------------------------ depth
def test_a_query_at_the_depth_limit_runs_and_one_level_more_is_refused(sandbox):
    limit = sandbox.api.settings.max_query_depth
    assert limit == 12
    at_limit = post(sandbox.api_url, {"query": nested(limit)}, sandbox.api_token)
    assert at_limit.status_code == 200 and "errors" not in at_limit.json(), at_limit.text[:300]
    too_deep = post(sandbox.api_url, {"query": nested(limit + 1)}, sandbox.api_token)
    error = refused(too_deep, 400, "The query is nested too deeply")
    assert error["details"] == {"query": "At most 12 levels of nested fields are allowed."}
    assert "usersList" not in too_deep.text and "roles" not in too_deep.text


@pytest.mark.parametrize("tail, allowed", [("roles { count }", True), ("roles { items { name } }", False)],
                         ids=["12-levels", "13-levels"])
def test_depth_counts_through_fragments_and_inline_fragments(sandbox, tail, allowed):
    # 4 levels in the operation + 6 in F (its inline fragment adds none) + the tail in G: 12 or 13
    query = ("{ usersList { items { roles { items { ...F } } } } } "
             "fragment F on Role { users { items { ... on User { roles { items { users { items { ...G } } } } } } } } "
             f"fragment G on User {{ {tail} }}")
    response = post(sandbox.api_url, {"query": query}, sandbox.api_token)
    if allowed:
        assert response.status_code == 200 and "errors" not in response.json(), response.text[:300]
    else:
        refused(response, 400, "The query is nested too deeply")


def test_a_fragment_cycle_is_refused_at_once(sandbox):
    query = "{ ...A } fragment A on Query { ...B } fragment B on Query { user { id } ...A }"
    started = time.monotonic()
    refused(post(sandbox.api_url, {"query": query}), 400, "The query is nested too deeply")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("levels", [150, 2400])
def test_hundreds_of_nested_braces_get_the_same_clean_400(sandbox, levels):
    """Past graphql-core's own nesting guard (about 200 levels) too: the same fixed error, never a 500."""
    query = "{ " + "user { " * levels + "id" + " }" * levels + " }"
    refused(post(sandbox.api_url, {"query": query}), 400, "The query is nested too deeply")


# ------------------------------------------------------------------ introspection still works
@pytest.mark.parametrize("query", [
    "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }",
    graphql.get_introspection_query(),
    graphql.get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                    schema_description=True, input_value_deprecation=True),
], ids=["nested-ofType", "standard", "standard-all-options"])
def test_introspection_queries_pass_the_limits(sandbox, query):
    body = post(sandbox.api_url, {"query": query}).json()  # as Guest: introspection needs no token
    assert "errors" not in body, body.get("errors")
    types = body["data"]["__schema"]["types"]
    assert any(t["fields"] for t in types)
    if "IntrospectionQuery" in query:  # what GraphiQL and codegen tools do with the answer
        schema = graphql.build_client_schema(body["data"])
        assert "noteCreate" in schema.mutation_type.fields and "Note" in schema.type_map


# ------------------------------------------------------------------ aliases
def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


def test_aliases_up_to_the_limit_run_and_one_more_is_refused(sandbox):
    limit = sandbox.api.settings.max_aliases
    assert limit == 30
    ok = post(sandbox.api_url, {"query": aliased(limit)}).json()
    assert ok == {"data": {f"a{i}": "Query" for i in range(limit)}}
    error = refused(post(sandbox.api_url, {"query": aliased(limit + 1)}), 400, "The query has too many aliases")
    assert error["details"] == {"query": "At most 30 aliased fields are allowed in a query."}


def test_aliases_hidden_in_a_reused_fragment_count_once_per_use(sandbox):
    fragment = "fragment F on Query { " + " ".join(f"f{i}: __typename" for i in range(8)) + " }"
    three_uses = "{ ...F ... on Query { ...F } ... on Query { ...F } a: __typename b: __typename } " + fragment
    ok = post(sandbox.api_url, {"query": three_uses})  # 3 x 8 + 2 = 26 aliases
    assert ok.status_code == 200 and "errors" not in ok.json(), ok.text[:300]
    four_uses = "{ ...F ... on Query { ...F } ... on Query { ...F } ... on Query { ...F } } " + fragment  # 32
    refused(post(sandbox.api_url, {"query": four_uses}), 400, "The query has too many aliases")


def test_a_fragment_bomb_is_refused_fast(sandbox):
    """F(n) spreads F(n-1) twice: 2**20 uses of one alias from a 1 KB query; measured once per fragment."""
    bomb = " ".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 21))
    query = "{ ...F20 } " + bomb + " fragment F0 on Query { a: __typename }"
    started = time.monotonic()
    refused(post(sandbox.api_url, {"query": query}), 400, "The query has too many aliases")
    assert time.monotonic() - started < 5


# ------------------------------------------------------------------ size
def test_a_query_just_under_the_body_limit_is_refused_by_its_token_count_fast(sandbox):
    """Parsing and validating 1 MB of fields would hold a worker for tens of seconds: the token limit stops it."""
    unit = "user { id } "
    query = "{ " + unit * ((sandbox.api.settings.max_body_bytes - 100) // len(unit)) + "}"
    started = time.monotonic()
    error = refused(post(sandbox.api_url, {"query": query}, sandbox.api_token), 400, "The query is too long")
    assert error["details"] == {"query": "At most 5000 tokens are allowed in a query."}
    assert time.monotonic() - started < 10


def test_a_chunked_body_over_the_limit_is_413_without_a_declared_length(sandbox):
    limit = sandbox.api.settings.max_body_bytes
    sent = {"bytes": 0}

    def chunks():  # requests sends a generator with Transfer-Encoding: chunked
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(limit // 65536 + 2):
            sent["bytes"] += 65536
            yield b"x" * 65536
        yield b'"}}'

    response = requests.post(sandbox.api_url, data=chunks(), headers={"Content-Type": "application/json"},
                             timeout=TIMEOUT)
    refused(response, 413, "The request body is too large")
    assert "content-length" not in {k.lower() for k in response.request.headers}


def test_a_body_at_the_limit_is_read(sandbox):
    limit = sandbox.api.settings.max_body_bytes
    skeleton = json.dumps({"query": "{ __typename }", "variables": {"pad": ""}}).encode()
    body = skeleton.replace(b'""', b'"' + b"x" * (limit - len(skeleton)) + b'"')
    assert len(body) == limit
    assert post(sandbox.api_url, body).json() == {"data": {"__typename": "Query"}}
    refused(post(sandbox.api_url, body[:-2] + b'x"}}'), 413, "The request body is too large")


# ------------------------------------------------------------------ batches
def test_a_batch_of_a_thousand_mutations_is_refused_whole_and_runs_nothing(sandbox):
    batch = [{"query": CREATE}] * 1000
    started = time.monotonic()
    refused(post(sandbox.api_url, batch, sandbox.api_token), 400, "Batched requests are not supported")
    assert time.monotonic() - started < 5
    assert notes_titled(sandbox, "abuse-must-not-exist") == 0


def test_several_operations_in_one_document_run_only_the_named_one(sandbox):
    """The GraphQL way of batching: one document, many operations; without operationName nothing runs."""
    document = "\n".join(f"mutation M{i} {{ noteCreate(data: {{title: \"abuse-must-not-exist\"}}) {{ id }} }}"
                         for i in range(20))
    response = post(sandbox.api_url, {"query": document}, sandbox.api_token)
    assert response.status_code in (200, 400) and response.json()["errors"], response.text[:300]
    assert notes_titled(sandbox, "abuse-must-not-exist") == 0


# ------------------------------------------------------------------ unreadable bodies
@pytest.mark.parametrize("data", [
    b"",
    b"\xff\xfe{\x00",                                                   # not UTF-8
    b'{"query": "{ __typename }", "variables": {"s": "\\ud800"}}',      # a lone surrogate: not text
    b'{"query": "{ __typename }", "operationName": "\\udfff"}',
    b"[" * 100_000 + b"]" * 100_000,                                   # nested past the JSON parser's recursion
    b'{"query": ' * 50_000 + b"1" + b"}" * 50_000,
    b'"{ __typename }"',
    b"null",
    b'{"query": "{ __typename }", "variables": [1, 2]}',
    b'{"query": ["{ __typename }"]}',
    b'{"query": "{ __typename }"} trailing',
], ids=["empty", "not-utf8", "surrogate-variable", "surrogate-operation-name", "deep-array", "deep-object",
        "string", "null", "variables-list", "query-list", "trailing-garbage"])
def test_unreadable_bodies_get_a_clean_400(sandbox, data):
    response = post(sandbox.api_url, data)
    assert response.status_code == 400, (response.status_code, response.text[:300])
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidArgumentError" and "Traceback" not in response.text


@pytest.mark.parametrize("content_type", [
    None, "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/graphql",
    "application/jsonx", "text/json", "application/json-patch+json",
])
def test_other_content_types_are_415(sandbox, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = requests.post(sandbox.api_url, data=json.dumps({"query": CREATE}).encode(), timeout=TIMEOUT,
                             headers={"Authorization": f"Bearer {sandbox.api_token}", **headers})
    if content_type is None:
        assert "content-type" not in {k.lower() for k in response.request.headers}
    refused(response, 415, "Send the request as application/json")
    assert notes_titled(sandbox, "abuse-must-not-exist") == 0


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_with_parameters_or_another_case_is_json(sandbox, content_type):
    response = requests.post(sandbox.api_url, data=b'{"query": "{ __typename }"}', timeout=TIMEOUT,
                             headers={"Content-Type": content_type})
    assert response.json() == {"data": {"__typename": "Query"}}


# ------------------------------------------------------------------ GET never runs anything
@pytest.mark.parametrize("where", ["host", "path-json-body"])
def test_get_that_tries_a_mutation_is_405_and_runs_nothing(sandbox, where):
    auth = {"Authorization": f"Bearer {sandbox.api_token}"}
    if where == "host":  # the bare host with the workspace header (TRN-16-mutation covers /<workspaceId>?query=)
        response = requests.get(sandbox.api_host, params={"query": CREATE}, timeout=TIMEOUT,
                                headers={**auth, "workspace": sandbox.workspace_id})
    else:  # a GET that carries the mutation as a JSON body
        response = requests.get(sandbox.api_url, data=json.dumps({"query": CREATE}), timeout=TIMEOUT,
                                headers={**auth, "Content-Type": "application/json"})
    refused(response, 405, "Send GraphQL requests with POST")
    assert notes_titled(sandbox, "abuse-must-not-exist") == 0
