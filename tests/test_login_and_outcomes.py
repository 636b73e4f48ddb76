"""helpers/login.py (one login the lesson-01 way, on any target) and helpers/outcomes.py (an 8base error printed)."""
from __future__ import annotations

from dataclasses import replace

import jwt
import pytest
import requests

from helpers.config import Target, target_from_sandbox
from helpers.flows import FlowError
from helpers.graphql import GraphQLClient
from helpers.login import log_in
from helpers.outcomes import attempt


@pytest.fixture(scope="module")
def target(sandbox) -> Target:
    return target_from_sandbox(sandbox)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_log_in_on_the_sandbox_gives_the_users_id_token_and_an_api_access_token_on_request(target):
    email, password = target.users[0]
    plain = log_in(target, email, password)
    assert claims(plain.id_token)["email"] == email and claims(plain.id_token)["aud"] == target.spa_client_id
    for_api = log_in(target, email, password, audience=target.audience)
    assert target.audience in claims(for_api.access_token)["aud"]


def test_log_in_keeps_the_providers_session_in_the_given_session(target):
    email, password = target.users[0]
    browser = requests.Session()
    log_in(target, email, password, session=browser)
    assert browser.cookies, "the provider's session cookie, for a later prompt=none"


def test_a_wrong_password_is_an_error_not_tokens(target):
    with pytest.raises(FlowError, match="Wrong email or password"):
        log_in(target, target.users[0][0], "not-the-password")


def test_attempt_returns_data_or_prints_the_8base_error(target, capsys):
    email, password = target.users[0]
    client = GraphQLClient(target.api_url, log_in(target, email, password).id_token)
    assert attempt(client, "{ user { email } }") == {"user": {"email": email}}
    assert capsys.readouterr().out == ""
    assert attempt(GraphQLClient(target.api_url, "not-a-jwt"), "{ user { email } }") is None
    printed = capsys.readouterr().out
    assert printed.startswith("InvalidTokenError (HTTP ") and "Traceback" not in printed


def test_log_in_on_an_oidc_target_asks_for_the_email_in_the_id_token(target, monkeypatch):
    seen = {}

    def start(target_, **options):
        seen.update(options)
        raise RuntimeError("stop here")

    monkeypatch.setattr("helpers.login.start_authorization", start)
    with pytest.raises(RuntimeError):
        log_in(replace(target, kind="oidc"))
    assert '"email"' in seen["claims"]
    with pytest.raises(RuntimeError):
        log_in(target)
    assert seen["claims"] is None
