"""Refresh Token Rotation as Auth0 documents it: per application, a reuse interval, reuse detection that
revokes the whole family, refresh tokens for browsers only with rotation, and the migration when the setting
is switched (https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation,
.../configure-refresh-token-rotation, .../use-refresh-token-rotation)."""
from __future__ import annotations

import json

import pytest
import requests

from helpers.catalog import explain
from helpers.sandbox import launch_sandbox
from helpers.sandbox.idp.seed import DEFAULT_TENANT_FILE, RotationPolicy, SeedError, load_seed
from tests.idp_driver import authorize_params, browser_login, callback_params, request_url

ADA = ("ada@example.com", "ada-sandbox-pass")
REFUSED = {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}


@pytest.fixture(scope="module")
def box():
    """A sandbox of these tests alone: they switch the SPA's setting and move the clock."""
    sandbox = launch_sandbox()
    yield sandbox
    sandbox.stop()


@pytest.fixture(autouse=True)
def _spa_setting_back(box):
    before = box.refresh_token_rotation()
    yield
    box.set_refresh_token_rotation(before.rotating, reuse_interval=before.reuse_interval)
    box.clock.reset()


def login(box, origin: str | None = None) -> dict:
    """The SPA's code + PKCE login with offline_access; ``origin``: the token request comes from a page."""
    params = authorize_params(box.spa_client_id, box.redirect_uri, scope="openid profile email offline_access")
    answer = callback_params(browser_login(request_url(box.idp_url, params), *ADA))
    body = {"grant_type": "authorization_code", "client_id": box.spa_client_id, "code": answer["code"],
            "redirect_uri": box.redirect_uri, "code_verifier": params["_verifier"]}
    response = requests.post(box.idp_url + "oauth/token", json=body, timeout=10,
                             headers={"Origin": origin} if origin else {})
    assert response.status_code == 200, response.text
    return response.json()


def refresh(box, token: str, origin: str | None = None) -> requests.Response:
    return requests.post(box.idp_url + "oauth/token", timeout=10, headers={"Origin": origin} if origin else {},
                         json={"grant_type": "refresh_token", "client_id": box.spa_client_id, "refresh_token": token})


def refused(response: requests.Response) -> bool:
    return response.status_code == 403 and response.json() == REFUSED


def test_the_seed_turns_rotation_on_for_the_single_page_app_only(box):
    assert box.refresh_token_rotation() == RotationPolicy(rotating=True, reuse_interval=0)
    assert box.refresh_token_rotation(box.web_client_id) == RotationPolicy(rotating=False, reuse_interval=0)


def test_each_refresh_returns_a_new_token_and_spends_the_old_one(box):
    first = login(box)["refresh_token"]
    answer = refresh(box, first)
    assert answer.status_code == 200
    second = answer.json()["refresh_token"]
    assert second != first and answer.json()["id_token"]
    third = refresh(box, second).json()["refresh_token"]
    assert len({first, second, third}) == 3


def test_a_spent_token_presented_again_revokes_the_whole_family(box):
    """Auth0's example: a thief replays refresh token 1 after the app used it; token 2 dies with it."""
    stolen = login(box)["refresh_token"]
    newest = refresh(box, stolen).json()["refresh_token"]  # the app renews first
    replay = refresh(box, stolen)  # the thief
    assert refused(replay) and explain(replay).id == "idp-token-bad-refresh-token"
    assert "reuse" in explain(replay).cause
    assert refused(refresh(box, newest))  # the app's own newest token is revoked too: log in again
    other = login(box)["refresh_token"]  # another login is another family, untouched
    assert refresh(box, other).status_code == 200


def test_the_thief_renewing_first_is_caught_when_the_app_renews(box):
    stolen = login(box)["refresh_token"]
    thief = refresh(box, stolen).json()["refresh_token"]
    assert refused(refresh(box, stolen))  # the app presents the token the thief already spent
    assert refused(refresh(box, thief))  # the thief's token is revoked with the family


def test_within_the_reuse_interval_the_previous_token_may_be_exchanged_once_more(box):
    box.set_refresh_token_rotation(True, reuse_interval=30)
    box.clock.freeze()
    first = login(box)["refresh_token"]
    lost = refresh(box, first).json()["refresh_token"]  # the app never received this answer
    box.clock.advance(10)
    retry = refresh(box, first)  # a retry inside the interval: a new token, no breach
    assert retry.status_code == 200 and retry.json()["refresh_token"] not in (first, lost)
    kept = retry.json()["refresh_token"]
    assert refresh(box, kept).status_code == 200  # the family lives on
    assert refused(refresh(box, lost))  # the lost answer's token was replaced: presenting it is a reuse


def test_after_the_reuse_interval_a_retry_is_a_breach(box):
    box.set_refresh_token_rotation(True, reuse_interval=30)
    box.clock.freeze()
    first = login(box)["refresh_token"]
    second = refresh(box, first).json()["refresh_token"]
    box.clock.advance(31)
    assert refused(refresh(box, first)) and refused(refresh(box, second))


def test_only_the_previous_token_may_be_reused_even_within_the_interval(box):
    box.set_refresh_token_rotation(True, reuse_interval=60)
    box.clock.freeze()
    first = login(box)["refresh_token"]
    second = refresh(box, first).json()["refresh_token"]
    third = refresh(box, second).json()["refresh_token"]
    assert refused(refresh(box, first))  # the second-to-last token: breach detection
    assert refused(refresh(box, third))


def test_a_browser_gets_a_refresh_token_only_when_the_application_rotates(box):
    page = box.sample_app_url.rstrip("/")
    rotating = login(box, origin=page)
    assert rotating["refresh_token"]
    assert "refresh_token" in refresh(box, rotating["refresh_token"], origin=page).json()
    box.set_refresh_token_rotation(False)
    from_page = login(box, origin=page)
    assert "refresh_token" not in from_page and from_page["id_token"]
    from_server = login(box)  # no Origin: a native app or a server may still hold a non-rotating token
    assert from_server["refresh_token"]
    again = refresh(box, from_server["refresh_token"])
    assert again.status_code == 200 and "refresh_token" not in again.json()
    assert refresh(box, from_server["refresh_token"]).status_code == 200  # not spent: it does not rotate


def test_switching_rotation_on_migrates_non_rotating_tokens(box):
    """Exchanging a non-rotating token under rotation gives a rotating one and deletes the application's other
    non-rotating tokens for the same API and user."""
    box.set_refresh_token_rotation(False)
    old, sibling = login(box)["refresh_token"], login(box)["refresh_token"]
    box.set_refresh_token_rotation(True)
    answer = refresh(box, old)
    assert answer.status_code == 200 and answer.json()["refresh_token"] not in (old, sibling)
    assert refused(refresh(box, sibling)) and refused(refresh(box, old))
    assert refresh(box, answer.json()["refresh_token"]).status_code == 200


def test_switching_rotation_off_revokes_the_rotating_family(box):
    """Exchanging a rotating token with rotation off gives a non-rotating one and revokes the family."""
    first = login(box)["refresh_token"]
    second = refresh(box, first).json()["refresh_token"]
    box.set_refresh_token_rotation(False)
    answer = refresh(box, second)
    plain = answer.json()["refresh_token"]
    assert answer.status_code == 200 and plain not in (first, second)
    assert refused(refresh(box, second))
    for _ in range(2):  # non-rotating: no new token, the same one keeps working
        again = refresh(box, plain)
        assert again.status_code == 200 and "refresh_token" not in again.json()
    assert "refresh_token" not in refresh(box, login(box)["refresh_token"], origin=box.sample_app_url.rstrip("/"))


def test_a_replayed_authorization_code_revokes_the_rotating_family_it_started(box):
    params = authorize_params(box.spa_client_id, box.redirect_uri, scope="openid offline_access")
    code = callback_params(browser_login(request_url(box.idp_url, params), *ADA))["code"]
    body = {"grant_type": "authorization_code", "client_id": box.spa_client_id, "code": code,
            "redirect_uri": box.redirect_uri, "code_verifier": params["_verifier"]}
    first = requests.post(box.idp_url + "oauth/token", json=body, timeout=10).json()["refresh_token"]
    descendant = refresh(box, first).json()["refresh_token"]
    assert requests.post(box.idp_url + "oauth/token", json=body, timeout=10).status_code == 403  # the replay
    assert refused(refresh(box, descendant))


def test_the_public_control_checks_its_input_and_the_seed_its_setting(box, tmp_path):
    with pytest.raises(ValueError):
        box.set_refresh_token_rotation(True, reuse_interval=-1)
    with pytest.raises(KeyError):
        box.set_refresh_token_rotation(True, client_id="no-such-client")
    previous = box.set_refresh_token_rotation(False, client_id=box.web_client_id)
    assert previous == RotationPolicy(False, 0) and box.refresh_token_rotation() == RotationPolicy(True, 0)
    tenant = json.loads(DEFAULT_TENANT_FILE.read_text(encoding="utf-8"))
    tenant["clients"][0]["refresh_token"] = {"rotation_type": "sometimes"}
    (tmp_path / "tenant.json").write_text(json.dumps(tenant), encoding="utf-8")
    with pytest.raises(SeedError, match="rotation_type"):
        load_seed(tmp_path / "tenant.json")
