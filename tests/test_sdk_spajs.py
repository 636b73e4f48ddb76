"""auth0-spa-js v2, Auth0's SDK for single-page apps, unchanged, against the sandbox in a real headless Chromium:
``loginWithRedirect`` / ``handleRedirectCallback`` (code + PKCE), ``getTokenSilently`` through the hidden iframe
and again through refresh tokens with rotation, ``loginWithPopup`` and ``logout``. The ID token it obtains is
answered by the GraphQL API; its access token is refused."""
from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from helpers.sandbox.idp.app import SESSION_COOKIE
from tests.sample_app_driver import record_traffic
from tests.sdk_pages import (back_on, call, log_in_on_hosted_page, open_page, require_bundles, sdk_sandbox,
                             spajs_login)

pytestmark = pytest.mark.slow  # a real browser: `make test-fast` leaves it out

ADA = ("ada@example.com", "ada-sandbox-pass")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_bundles()
    with sdk_sandbox(tmp_path_factory.mktemp("spajs")) as (box, origin):
        yield box, origin


def token_posts(traffic, box) -> list[dict[str, str]]:
    """The form of every POST /oauth/token the page made."""
    return [dict(parse_qsl(r.post_data or "")) for r in traffic.to(box.idp_url + "oauth/token", "POST")]


def test_redirect_login_then_silent_renewal_through_the_iframe_then_logout(browser_page, lab):
    box, origin = lab
    page = browser_page
    traffic = record_traffic(page)
    logged_in = spajs_login(page, box, origin, *ADA)
    assert logged_in["ok"], logged_in
    assert logged_in["result"]["email"] == ADA[0]
    (authorize,) = traffic.query_of(box.idp_url + "authorize")
    assert authorize["response_type"] == "code" and authorize["code_challenge_method"] == "S256"
    assert "offline_access" not in authorize["scope"]
    user = call(page, "graphql", logged_in["result"]["idToken"], "ID token")
    assert user == {"ok": True, "result": {"data": {"user": {"email": ADA[0]}}}}

    renewed = call(page, "getTokenSilently")
    assert renewed["ok"], renewed
    silent = [q for q in traffic.query_of(box.idp_url + "authorize") if q.get("prompt") == "none"]
    assert len(silent) == 1 and silent[0]["response_mode"] == "web_message"
    assert [p["grant_type"] for p in token_posts(traffic, box)] == ["authorization_code"] * 2  # code via the iframe
    refused = call(page, "graphql", renewed["result"]["accessToken"], "access token")["result"]
    assert refused["errors"][0]["code"] == "InvalidTokenError" and not (refused.get("data") or {}).get("user")
    page.shot("01-redirect-and-iframe")

    call(page, "logout")
    back_on(page, origin + "/spajs.html")
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    after = call(page, "getTokenSilently")
    assert after["ok"] is False and after["error"]["error"] == "login_required"
    page.shot("02-logged-out")


def test_refresh_tokens_rotate_each_renewal(browser_page, lab):
    box, origin = lab
    page = browser_page
    traffic = record_traffic(page)
    assert box.refresh_token_rotation().rotating  # the seed's setting for the single-page app
    logged_in = spajs_login(page, box, origin, *ADA, refresh=True)
    assert logged_in["ok"], logged_in
    (authorize,) = traffic.query_of(box.idp_url + "authorize")
    assert "offline_access" in authorize["scope"].split()
    for _ in range(3):  # each renewal spends the refresh token the previous one returned
        renewed = call(page, "getTokenSilently")
        assert renewed["ok"], renewed
    posts = token_posts(traffic, box)
    assert [p["grant_type"] for p in posts] == ["authorization_code"] + ["refresh_token"] * 3
    spent = [p["refresh_token"] for p in posts[1:]]
    assert len(set(spent)) == 3  # a new refresh token every time: the SDK keeps the rotated one
    assert not [q for q in traffic.query_of(box.idp_url + "authorize") if q.get("prompt") == "none"]  # no iframe
    answer = call(page, "graphql", renewed["result"]["idToken"], "renewed ID token")["result"]
    assert answer == {"data": {"user": {"email": ADA[0]}}}
    page.shot("01-refresh-token-rotation")


def test_without_rotation_a_browser_gets_no_refresh_token_and_the_sdk_says_so(browser_page, lab):
    """Auth0 gives a browser a refresh token only when rotation is on; auth0-spa-js v2 then reports
    ``missing_refresh_token`` (it falls back to the iframe only with ``useRefreshTokensFallback``)."""
    box, origin = lab
    page = browser_page
    previous = box.set_refresh_token_rotation(False)
    try:
        assert spajs_login(page, box, origin, *ADA, refresh=True)["ok"]
        renewed = call(page, "getTokenSilently")
    finally:
        box.set_refresh_token_rotation(previous.rotating, reuse_interval=previous.reuse_interval)
    assert renewed["ok"] is False and renewed["error"]["error"] == "missing_refresh_token"
    page.shot("01-missing-refresh-token")


def test_popup_login_answers_the_opener(browser_page, lab):
    box, origin = lab
    page = browser_page
    open_page(page, origin + "/spajs.html")
    with page.expect_popup() as opened:
        page.click("#login-popup")  # a click: the user gesture a popup needs
    popup = opened.value
    log_in_on_hosted_page(popup, box.idp_url, *ADA)
    page.wait_for_function("() => document.getElementById('steps').textContent.includes('loginWithPopup()')",
                           timeout=15_000)
    assert popup.is_closed()  # the SDK closed it when the web_message reached the opener
    shown = call(page, "getTokenSilently")  # from the SDK's cache and session, now logged in
    assert shown["ok"] and shown["result"]["email"] == ADA[0]
    answer = call(page, "graphql", shown["result"]["idToken"], "ID token")["result"]
    assert answer == {"data": {"user": {"email": ADA[0]}}}
    assert "loginWithPopup()" in page.inner_text("#steps") and "failed" not in page.inner_text("#steps")
    page.shot("01-popup-login")
