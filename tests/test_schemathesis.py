"""Schemathesis (software nobody here wrote) fuzzes the API from its GraphQL schema, as Guest, with the
Administrator API token and with Ada's ID token: a fixed seed, a bounded number of examples per operation.

Its own checks pass: every answer is a JSON object of GraphQL's response shape that keeps the schema's promises
(``response_schema_conformance``: no null for a non-null field), and valid data is not refused as malformed
(``positive_data_acceptance``). Its ``not_a_server_error`` is replaced by a stricter check of ours: it counts
every error that has a ``path`` as a server failure, while 8base answers a refused operation (NotAuthorizedError,
EntityNotFoundError...) with such an error and HTTP 200. Ours: HTTP status below 500, JSON, every error with an
8base ``code``, and never ``InternalError``.
"""
from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.specs.openapi.checks import response_schema_conformance

from helpers.sandbox import launch_sandbox
from helpers.sandbox.api.seed import SCHEMA_FILE

pytestmark = pytest.mark.slow  # Schemathesis fuzzes every operation: `make test-fast` leaves it out

EXAMPLES = 30  # per operation and identity: 12 operations x 3 identities x 30, about 1000 requests (~45 s)
schema = schemathesis.graphql.from_path(SCHEMA_FILE)


@pytest.fixture(scope="module")
def fuzzed():
    """A sandbox of this module alone: the fuzzer creates notes and API tokens by the hundred."""
    box = launch_sandbox()
    tokens = requests.post(box.idp_url + "oauth/token", timeout=10, json={
        "grant_type": "password", "client_id": box.web_client_id, "client_secret": box.web_client_secret,
        "username": "ada@example.com", "password": "ada-sandbox-pass", "scope": "openid profile email"})
    yield box, {"guest": None, "api-token": box.api_token, "id-token": tokens.json()["id_token"]}
    box.stop()


def eight_base_shaped(ctx, response, case) -> bool | None:
    """The API's answer: below 500, JSON, each error with an 8base code, never InternalError."""
    assert response.status_code < 500, response.status_code
    assert "application/json" in response.headers.get("content-type", [""])[0], response.headers
    body = json.loads(response.content)
    for error in body.get("errors") or []:
        assert isinstance(error.get("code"), str), error
        assert error["code"] != "InternalError", (case.body, error)
    return None


@pytest.mark.parametrize("identity", ["guest", "api-token", "id-token"])
@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_schemathesis_finds_no_fault(case, identity, fuzzed):
    box, tokens = fuzzed
    headers = {"Authorization": f"Bearer {tokens[identity]}"} if tokens[identity] else {}
    case.call_and_validate(base_url=box.api_url, headers=headers, timeout=10,
                           checks=[eight_base_shaped, response_schema_conformance, positive_data_acceptance])
