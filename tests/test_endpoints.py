"""helpers.endpoints against the running sandbox: each token of one login sent to each endpoint."""
from __future__ import annotations

from dataclasses import replace

import pytest

from helpers.config import Target, target_from_sandbox
from helpers.endpoints import API, ENDPOINTS, USERINFO, EndpointAnswer, answers_table, send_token
from helpers.flows import exchange_code, sandbox_login, start_authorization

ADA = ("ada@example.com", "ada-sandbox-pass")


@pytest.fixture(scope="module")
def target(sandbox) -> Target:
    return target_from_sandbox(sandbox)


@pytest.fixture(scope="module")
def login(target):
    """Ada's tokens, the access token without an audience (opaque today, encrypted soon: never read here)."""
    request = start_authorization(target)
    return exchange_code(target, request, sandbox_login(request, *ADA))


def test_the_id_token_is_for_the_api_and_the_access_token_for_userinfo(target, login):
    answers = {(kind, endpoint): send_token(target, endpoint, token)
               for kind, token in (("id", login.id_token), ("access", login.access_token)) for endpoint in ENDPOINTS}
    assert answers["id", API].accepted and answers["id", API].status == 200
    assert "ada@example.com" in answers["id", API].summary
    assert not answers["id", USERINFO].accepted and answers["id", USERINFO].status == 401
    assert answers["id", USERINFO].summary.startswith("invalid_token: ")
    assert not answers["access", API].accepted and answers["access", API].summary.startswith("InvalidTokenError")
    assert answers["access", USERINFO] == EndpointAnswer(USERINFO, 200, True, "the profile of ada@example.com")


def test_any_string_gets_an_answer_without_being_decoded(target):
    """Not a JWT at all (as an encrypted token is not a JWS): both endpoints still answer, and refuse."""
    for endpoint in ENDPOINTS:
        answer = send_token(target, endpoint, "not.a-token")
        assert not answer.accepted and answer.status in (200, 401)


def test_the_text_form_says_verdict_status_and_answer():
    answer = EndpointAnswer(USERINFO, 401, False, "invalid_token: no")
    assert str(answer) == "/userinfo: refused (HTTP 401): invalid_token: no"
    assert str(EndpointAnswer(API, None, False, "x")).startswith("GraphQL API: refused (no answer)")


def test_the_table_has_one_row_per_token_and_endpoint():
    table = answers_table({("ID token", API): EndpointAnswer(API, 200, True, "{}"),
                           ("ID token", USERINFO): EndpointAnswer(USERINFO, None, False, "down")})
    assert table.to_dict("records") == [
        {"token": "ID token", "sent to": API, "verdict": "accepted", "HTTP": "200", "answer": "{}"},
        {"token": "ID token", "sent to": USERINFO, "verdict": "refused", "HTTP": "-", "answer": "down"}]


def test_an_unknown_endpoint_is_refused_by_name(target):
    with pytest.raises(ValueError, match="GraphQL API, /userinfo"):
        send_token(target, "/oauth/token", "x")


def test_an_endpoint_that_does_not_answer_is_a_record_not_an_exception(target, unused_port):
    down = replace(target, api_url=f"http://127.0.0.1:{unused_port}/graphql")
    answer = send_token(down, API, "x")
    assert answer.status is None and not answer.accepted and "ConnectionError" in answer.summary


def test_a_non_graphql_answer_is_refused(target):
    page = replace(target, api_url=target.issuer + ".well-known/openid-configuration")
    answer = send_token(page, API, "x")
    assert not answer.accepted and answer.summary == "not a GraphQL answer"


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on: bound, read, then closed."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
