"""auth0.js v9, Auth0's own library and the one 8base's SDK logs in with, unchanged, against the sandbox in a
real headless Chromium: ``authorize`` -> hosted login -> ``parseHash`` (which checks the ID token's signature in
the page, fetching the JWKS cross-origin) -> ``checkSession`` (hidden iframe, ``web_message``) -> ``logout``.
The ID token it obtains is answered by the GraphQL API; its access token is refused."""
from __future__ import annotations

import importlib.util

import pytest

from helpers.sandbox.idp.app import SESSION_COOKIE
from tests.sample_app_driver import record_traffic
from tests.sdk_pages import ROOT, auth0js_login, back_on, call, require_bundles, sdk_sandbox
from tests.test_browser_login import _png_size

pytestmark = pytest.mark.slow  # a real browser: `make test-fast` leaves it out

ADA = ("ada@example.com", "ada-sandbox-pass")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_bundles()
    with sdk_sandbox(tmp_path_factory.mktemp("auth0js")) as (box, origin):
        yield box, origin


def test_auth0js_logs_in_as_8base_checks_the_id_token_in_the_page_and_calls_the_api(browser_page, lab):
    box, origin = lab
    page = browser_page
    traffic = record_traffic(page)
    parsed = auth0js_login(page, box, origin, *ADA)
    assert parsed["ok"], parsed
    tokens = parsed["result"]
    assert tokens["email"] == ADA[0] and tokens["tokenType"] == "Bearer" and tokens["idToken"].count(".") == 2
    (authorize,) = traffic.query_of(box.idp_url + "authorize")
    assert authorize["response_type"] == "token id_token" and authorize["scope"] == "openid email profile"
    assert len(authorize["nonce"]) >= 16 and "response_mode" not in authorize  # the fragment, implicit's default
    # parseHash checked the signature in the page: it fetched the JWKS from the page's origin (CORS "*")
    (keys,) = traffic.to(box.idp_url + ".well-known/jwks.json", "GET")
    assert keys.all_headers()["origin"] == origin
    assert keys.response().all_headers()["access-control-allow-origin"] == "*"

    user = call(page, "graphql", tokens["idToken"], "ID token")
    assert user == {"ok": True, "result": {"data": {"user": {"email": ADA[0]}}}}
    refused = call(page, "graphql", tokens["accessToken"], "access token")["result"]
    assert refused["errors"][0]["code"] == "InvalidTokenError" and not (refused.get("data") or {}).get("user")
    page.shot("01-parse-hash-and-api")


def test_auth0js_check_session_renews_silently_then_logout_ends_the_session(browser_page, lab):
    box, origin = lab
    page = browser_page
    traffic = record_traffic(page)
    first = auth0js_login(page, box, origin, *ADA)["result"]
    renewed = call(page, "checkSession")
    assert renewed["ok"], renewed
    assert renewed["result"]["email"] == ADA[0] and renewed["result"]["idToken"] != first["idToken"]  # another nonce
    silent = [q for q in traffic.query_of(box.idp_url + "authorize") if q.get("prompt") == "none"]
    assert len(silent) == 1 and silent[0]["response_mode"] == "web_message"
    assert call(page, "graphql", renewed["result"]["idToken"], "renewed ID token")["result"]["data"]["user"]
    page.shot("01-check-session")

    call(page, "logout")
    back_on(page, origin + "/auth0js.html")
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    after = call(page, "checkSession")  # no session any more: prompt=none answers login_required
    assert after == {"ok": False, "error": {"error": "login_required", "error_description": "Login required"}}
    page.shot("02-logged-out")


def test_the_lesson_screenshot_is_reproduced_by_its_tool(chromium, tmp_path):
    """tools/refresh_screenshots.py makes notebooks/images/8base-sdk-auth0js-parse-hash.png (lesson 01)."""
    require_bundles()
    spec = importlib.util.spec_from_file_location("refresh_screenshots", ROOT / "tools" / "refresh_screenshots.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shown = tool.capture_8base_sdk(chromium, tmp_path / "sdk.png")
    assert '"responseType": "token id_token"' in shown and '"email": "ada@example.com"' in shown
    assert '{"data":{"user":{"email":"ada@example.com"}}}' in shown and "InvalidTokenError" in shown
    assert "failed" not in shown and "eyJ" not in shown  # every step succeeded; no token value on the picture
    assert _png_size(tmp_path / "sdk.png") == _png_size(tool.SDK_PARSE_HASH)  # the committed one: same page
