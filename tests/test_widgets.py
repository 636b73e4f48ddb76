"""Widgets are thin: they call a function and show its result in their Output."""
from __future__ import annotations

import pandas as pd

from helpers.endpoints import API, USERINFO, EndpointAnswer
from helpers.sandbox.common.keys import KeyRing
from helpers.widgets import (as_text, error_explorer, flow_stepper, graphql_playground, token_inspector,
                             token_to_endpoint)

KEYS = KeyRing()


def shown(box) -> list[dict]:
    return list(box.children[-1].outputs)


def test_token_inspector_explains_a_pasted_token_and_refuses_junk():
    inspector = token_inspector()
    assert "Paste a token" in shown(inspector)[0]["data"]["text/html"]
    inspector.children[0].value = KEYS.sign({"iss": "http://x/", "sub": "auth0|1", "exp": 2_000_000_000})
    outputs = shown(inspector)
    assert len(outputs) == 2 and "#fb015b" in outputs[0]["data"]["text/html"]
    assert "auth0|1" in outputs[1]["data"]["text/html"]
    inspector.children[0].value = "not-a-token"
    assert "Not a JWT" in shown(inspector)[0]["data"]["text/html"]
    inspector.children[0].value = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn"  # a JWE's five parts
    text = shown(inspector)[0]["data"]["text/html"]
    assert "An encrypted token (JWE)" in text and "A256GCM" in text and "Not a JWT" not in text


def test_error_explorer_filters_the_catalog():
    catalog = pd.DataFrame([{"code": "UserNotFoundError", "layer": "API", "message": "User is absent"},
                            {"code": "invalid_grant", "layer": "identity provider", "message": "Wrong email or password."}])
    explorer = error_explorer(catalog)
    assert "UserNotFoundError" in shown(explorer)[0]["data"]["text/plain"]
    explorer.children[0].value = "wrong email"
    text = shown(explorer)[0]["data"]["text/plain"]
    assert "invalid_grant" in text and "UserNotFoundError" not in text


def test_graphql_playground_sends_with_the_chosen_token():
    calls = []
    playground = graphql_playground(lambda q, t: calls.append((q, t)) or {"data": {"ok": t}},
                                    {"none": None, "ada": "token-a"})
    which, button = playground.children[0].children
    which.value = "ada"
    button.click()
    assert calls == [("{ user { id email } }", "token-a")]
    assert "token-a" in shown(playground)[0]["data"]["text/plain"]


def test_flow_stepper_runs_one_step_per_click():
    ran = []
    stepper = flow_stepper([("first", lambda: ran.append(1) or "one"), ("second", lambda: ran.append(2) or "two")])
    title, button = stepper.children[0], stepper.children[1]
    assert "Step 1 of 2" in title.value
    button.click()
    assert ran == [1] and "Step 2 of 2" in title.value and "'one'" in shown(stepper)[1]["data"]["text/plain"]
    button.click()
    assert ran == [1, 2] and button.disabled and "Done" in title.value


def test_token_to_endpoint_sends_the_picked_pair_and_keeps_one_row_per_pair():
    calls = []

    def send(endpoint, token):
        calls.append((endpoint, token))
        return EndpointAnswer(endpoint, 401 if endpoint == USERINFO else 200, endpoint == API, f"answer {len(calls)}")

    picker = token_to_endpoint(send, {"ID token": "id-t", "access token": "at-t"})
    which, where, button = picker.children[0].children
    assert list(where.options) == [API, USERINFO] and "press Send" in shown(picker)[0]["data"]["text/html"]
    which.value, where.value = "access token", USERINFO
    button.click()
    where.value = API
    button.click()
    button.click()  # the same pair again: its row is replaced, not repeated
    assert calls == [(USERINFO, "at-t"), (API, "at-t"), (API, "at-t")]
    text = as_text(picker)
    assert text == shown(picker)[0]["data"]["text/plain"]
    assert "answer 1" in text and "answer 3" in text and "answer 2" not in text
    assert "refused" in text and "accepted" in text and "401" in text
