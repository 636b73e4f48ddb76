"""graphql-core's messages stay readable and never carry the caller's values (issue 16, faults 4 and 5)."""
from __future__ import annotations

import json
import re

import pytest
import requests
from graphql import GraphQLError, parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.sandbox.api.messages import INVALID_FALLBACK, NAME, QUOTE_HINT, SYNTAX_FALLBACK, caller_safe, schema_names
from helpers.sandbox.api.resolvers import build_schema

SECRET = "evil-echo-4242"


def messages_of(query: str) -> list[str]:
    try:
        document = parse(query)
    except GraphQLError as error:
        return [error.message]
    return [e.message for e in validate(build_schema(), document)]


@pytest.mark.parametrize("query, expected", [
    ('mutation { noteUpdate(filter: {id: "x"}) { id } }',
     "Argument 'Mutation.noteUpdate(data:)' of type 'NoteUpdateInput!' is required, but it was not provided."),
    ("{ nosuchfield }", "Cannot query field 'nosuchfield' on type 'Query'."),
    ('{ usersList(first: "evil-echo-4242") { count } }',
     "Int cannot represent non-integer value."),
    ('mutation { noteCreate(data: {body: "evil-echo-4242"}) { id } }',
     "Expected value of type 'NoteCreateInput' to include required field 'title'."),
    ('{ note(id: "x") { id } "evil-echo-4242" }', "Syntax Error: Expected Name, found String."),
    ("{ __typename", "Syntax Error: Expected Name, found <EOF>."),
    ("{ a: __typename ^ }", "Syntax Error: Unexpected character."),
    ("query($x: Int = 1.5e) { __typename }", "Syntax Error: Invalid number, expected digit but got another character."),
    ("{ usersList(first: .123) { count } }",
     "Syntax Error: Invalid number, expected a digit before the decimal point."),
    ("{ usersList(first: 0123) { count } }", "Syntax Error: Invalid number, unexpected digit after 0."),
    ('{ a(x: "\\q") }', "Syntax Error: Invalid character escape sequence."),
    ('{ a(x: "\\u12") }', "Syntax Error: Invalid Unicode escape sequence."),
    ("{ a .. b }", "Syntax Error: Unexpected '..', did you mean '...'?"),
])
def test_graphql_core_messages_keep_names_and_drop_values(query, expected):
    assert [caller_safe(m) for m in messages_of(query)][0] == expected


def test_every_message_of_a_set_of_mistakes_is_whole_and_readable():
    mistakes = ['{ notesList(filter: {title: {equals: "evil-echo-4242"}}, first: "x") { items { idd } } }',
                "query A { __typename } query A { __typename }", "{ ...F }", "query($v: Nope) { __typename }",
                "fragment F on Note { id } { __typename }", '{ user(id: 12345678901) { id } }',
                "{ notesList { items { id @nosuch } } }", "subscription { a: __typename b: __typename }"]
    for query in mistakes:
        for message in map(caller_safe, messages_of(query)):
            assert message.endswith((".", "?")) and SECRET not in message and "12345678901" not in message, message
            assert message not in (INVALID_FALLBACK, SYNTAX_FALLBACK), (query, message)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(max_size=30))
def test_no_value_comes_back_only_names_may(text):
    value = f"Zq{text}Zq"  # marked, so that it cannot be a word of the message by chance
    literal = json.dumps(value)
    for query in (f"{{ usersList(first: {literal}) {{ count }} }}", f"{{ note(id: 1) {{ id }} {literal} }}",
                  f"mutation {{ noteCreate(data: {{title: {literal}, nope: 1}}) {{ id }} }}", f"{{ {value} }}",
                  f"{{ note(id: {value}) {{ id }} }}"):
        for message in map(caller_safe, messages_of(query)):
            assert value not in message or re.fullmatch(NAME, value), (query, message)
            assert message == QUOTE_HINT or '"' not in message, message  # graphql-core's fixed hint about quotes
            assert message.endswith((".", "?", "'")), message


def test_the_api_sends_them_with_a_code_and_never_echoes_operation_name(sandbox):
    answer = requests.post(sandbox.api_url, timeout=10,
                           json={"query": "{ __typename }", "operationName": [SECRET]})
    assert answer.status_code == 400 and SECRET not in answer.text
    assert answer.json()["errors"][0]["message"] == "operationName must be a string"
    for name in ("", "evil echo 4242", "B"):
        answer = requests.post(sandbox.api_url, json={"query": "query A { __typename }", "operationName": name},
                               timeout=10)
        error = answer.json()["errors"][0]
        assert answer.status_code == 400 and error["message"] == "operationName names no operation of the query"
        assert (name or "''") not in answer.text
    answer = requests.post(sandbox.api_url, json={"query": 'mutation { noteUpdate(filter: {id: "x"}) { id } }'},
                           timeout=10)
    error = answer.json()["errors"][0]
    assert error["code"] == "InvalidArgumentError" and error["message"].endswith("but it was not provided.")


def test_a_message_that_cannot_be_made_safe_becomes_fixed_text_not_a_stump():
    long_name = "a" * 200  # a GraphQL name, but no schema has one this long: not repeated
    assert caller_safe(messages_of(f"{{ {long_name} }}")[0]) == INVALID_FALLBACK
    assert caller_safe("Syntax Error: Unexpected Name 'a', did you mean '0.123'?") == SYNTAX_FALLBACK


@pytest.mark.parametrize("query, expected", [
    ("{ evil_echo_4242 }", "Cannot query field '…' on type 'Query'."),
    ("{ usr { id } }", "Cannot query field '…' on type 'Query'. Did you mean 'user'?"),
    ("query A { __typename } query A { __typename }", "There can be only one operation named '…'."),
    ("{ ...evil_echo_4242 }", "Unknown fragment '…'."),
    ("query($evil_echo_4242: Int) { __typename }", "Variable '…' is never used."),
    ('mutation { noteUpdate(filter: {id: "x"}) { id } }',
     "Argument 'Mutation.noteUpdate(data:)' of type 'NoteUpdateInput!' is required, but it was not provided."),
])
def test_names_the_caller_made_up_are_not_repeated_the_schemas_are(query, expected):
    known = schema_names(build_schema())
    assert {"Query", "user", "noteUpdate", "NoteUpdateInput", "data", "Int"} <= known
    assert "evil_echo_4242" not in known
    assert [caller_safe(m, known) for m in messages_of(query)][0] == expected


def test_the_api_never_repeats_a_name_the_caller_made_up(sandbox):
    for query in ("{ evil_echo_4242 }", "query evil_echo_4242 { __typename } query evil_echo_4242 { __typename }",
                  "{ ...evil_echo_4242 }", "query($evil_echo_4242: Int) { __typename }",
                  "{ notesList { items { id @evil_echo_4242 } } }", "{ user(evil_echo_4242: 1) { id } }"):
        answer = requests.post(sandbox.api_url, json={"query": query}, timeout=10)
        assert "evil_echo_4242" not in answer.text, (query, answer.text)
        errors = answer.json()["errors"]
        assert errors and all(e["code"] == "InvalidArgumentError" and e["message"].endswith((".", "?"))
                              for e in errors), answer.text
