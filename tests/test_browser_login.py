"""A real browser (headless Chromium) logs in through the sandbox with the sample single-page app.

Each test clicks what a user clicks; screenshots of every step land in ``tests/artifacts/<test>/``.
The app, the identity provider and the GraphQL API are three origins, so CORS and the cookie flags are the
browser's own decisions, not simulated ones.
"""
from __future__ import annotations

import importlib.util
import json
import re
import struct
import time
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest

from helpers.catalog import explain
from helpers.sandbox import launch_sandbox
from helpers.sandbox.idp.app import SESSION_COOKIE
from helpers.sandbox.idp.seed import DEFAULT_TENANT_FILE
from tests.sample_app_driver import (TIMEOUT_MS, log_in_on_hosted_page, log_in_with_code, open_app,
                                     record_traffic, wait_for_status, wait_until_settled)

pytestmark = pytest.mark.slow  # a real browser: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parents[1]
ADA_API_ID = "cl0labuserada00000000001"  # data/sandbox/api.json: Ada is a user of the workspace


@pytest.fixture(scope="module")
def box():
    """A sandbox of these tests alone: they sign users up and move its clock."""
    sandbox = launch_sandbox()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def ada(box):
    return next(u for u in box.users if u["email"] == "ada@example.com")


def text(page, selector: str) -> str:
    return page.text_content(selector) or ""


def test_code_and_pkce_login_through_the_hosted_page_shows_the_user(browser_page, box, ada):
    page = browser_page
    traffic = record_traffic(page)
    open_app(page, box.sample_app_url)
    assert text(page, "#status") == "You are not logged in."
    page.shot("01-app-logged-out")
    page.click("#login-code")
    page.wait_for_selector("#login-form", timeout=TIMEOUT_MS)
    page.shot("02-hosted-login-page")
    log_in_on_hosted_page(page, box.idp_url, ada["email"], ada["password"], box.sample_app_url)
    wait_for_status(page, "Logged in as ada@example.com.")
    page.wait_for_selector("#api-user:not([hidden])", timeout=TIMEOUT_MS)
    page.shot("03-logged-in")

    assert text(page, "#api-user-id") == ADA_API_ID and text(page, "#api-user-email") == "ada@example.com"
    assert text(page, "#profile-sub") == "auth0|65f1c0de0000000000000001"
    assert text(page, "#profile-flow") == "authorization code + PKCE"
    assert page.url == box.sample_app_url  # the code is out of the address bar
    # The authorization request: PKCE S256 computed in the page (43 base64url characters), no verifier sent.
    (authorize,) = traffic.query_of(box.idp_url + "authorize")
    assert authorize["code_challenge_method"] == "S256" and re.fullmatch(r"[A-Za-z0-9_-]{43}", authorize["code_challenge"])
    assert "code_verifier" not in authorize and authorize["response_type"] == "code"
    # The token request and the API call went from the page, cross-origin, with the ID token as bearer.
    (token_call,) = traffic.to(box.idp_url + "oauth/token", "POST")
    assert token_call.all_headers()["origin"] == box.sample_app_url.rstrip("/")
    (api_call,) = traffic.to(box.api_url, "POST")
    bearer = api_call.all_headers()["authorization"].removeprefix("Bearer ")
    assert bearer.count(".") == 2 and bearer.startswith("eyJ")


def test_social_connection_login_then_sign_up_in_the_api(browser_page, box):
    page = browser_page
    open_app(page, box.sample_app_url)
    page.click("#login-github")  # connection=github: straight to the (simulated) GitHub page
    page.wait_for_url(re.compile(re.escape(box.idp_url + "upstream/github/")), timeout=TIMEOUT_MS)
    page.shot("01-simulated-github")
    page.click("#account-1")
    page.wait_for_url(re.compile("^" + re.escape(box.sample_app_url)), timeout=TIMEOUT_MS)
    wait_until_settled(page)
    wait_for_status(page, "Logged in as linus@example.com.")
    page.wait_for_selector("#api-absent:not([hidden])", timeout=TIMEOUT_MS)  # "User is absent"
    assert text(page, "#profile-sub") == "github|5830417"
    assert text(page, "#profile-flow") == "authorization code + PKCE (github)"
    page.shot("02-user-absent-in-the-api")
    page.click("#signup")
    page.wait_for_selector("#api-user:not([hidden])", timeout=TIMEOUT_MS)
    assert text(page, "#api-user-email") == "linus@example.com" and text(page, "#api-user-id")
    page.shot("03-signed-up")


def test_implicit_flow_as_the_8base_sdk_with_nonce_and_tokens_in_the_fragment(browser_page, box, ada):
    page = browser_page
    traffic = record_traffic(page)
    open_app(page, box.sample_app_url)
    page.click("#login-implicit")
    log_in_on_hosted_page(page, box.idp_url, ada["email"], ada["password"], box.sample_app_url)
    wait_for_status(page, "Logged in as ada@example.com.")
    page.wait_for_selector("#api-user:not([hidden])", timeout=TIMEOUT_MS)
    page.shot("01-logged-in-implicit")
    assert text(page, "#profile-flow") == "implicit (token id_token)" and text(page, "#api-user-id") == ADA_API_ID
    assert "at_hash against the access token" in text(page, "#steps")

    (authorize,) = traffic.query_of(box.idp_url + "authorize")
    assert authorize["response_type"] == "token id_token" and len(authorize["nonce"]) >= 16
    callback = next(url for url in traffic.navigations if url.startswith(box.sample_app_url + "callback#"))
    answer = parse_qs(urlsplit(callback).fragment)
    assert {"id_token", "access_token", "state", "expires_in", "token_type"} <= set(answer)
    assert not traffic.to(box.idp_url + "oauth/token")  # no token request: the tokens came in the fragment
    # The state was good for one answer: replaying the same callback URL is refused.
    page.goto(callback)
    wait_until_settled(page)
    page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
    assert text(page, "#error-code") == "mismatching_state" and text(page, "#status") == "You are not logged in."
    assert explain({"error": text(page, "#error-code"), "error_description": text(page, "#error-description")}
                   ).id == "client-state-mismatch"
    page.shot("02-replayed-callback-refused")


def test_implicit_flow_refuses_an_access_token_swapped_in_the_fragment(browser_page, box, ada):
    """Someone swaps the access token in the redirect: the ID token's at_hash no longer matches it."""
    page = browser_page
    traffic = record_traffic(page)

    def swap_access_token(route):
        answer = route.fetch(max_redirects=0)  # the login form's 302 to the app, tokens in the fragment
        base, _, fragment = answer.headers["location"].partition("#")
        params = dict(parse_qsl(fragment))
        params["access_token"] = params["access_token"][::-1]
        route.fulfill(response=answer, headers={**answer.headers, "location": base + "#" + urlencode(params)})

    page.route(box.idp_url + "u/login", swap_access_token)  # the POST only (the GET carries ?state=...)
    open_app(page, box.sample_app_url)
    page.click("#login-implicit")
    log_in_on_hosted_page(page, box.idp_url, ada["email"], ada["password"], box.sample_app_url)
    page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
    shown = {"error": text(page, "#error-code"), "error_description": text(page, "#error-description")}
    assert shown == {"error": "invalid_claim", "error_description": "Invalid claim: 'at_hash'"}
    assert explain(shown).id == "client-at-hash-mismatch"
    assert text(page, "#status") == "You are not logged in." and not traffic.to(box.api_url)
    page.shot("01-swapped-access-token-refused")


def test_silent_renewal_with_prompt_none_then_logout_ends_the_session(browser_page, box, ada):
    page = browser_page
    traffic = record_traffic(page)
    log_in_with_code(page, box.sample_app_url, box.idp_url, ada["email"], ada["password"])
    first_iat = text(page, "#profile-iat")
    box.clock.advance(120)  # so that the renewed ID token is visibly newer
    try:
        page.click("#renew")
        page.wait_for_function("() => document.getElementById('profile-flow').textContent.startsWith('silent')",
                               timeout=TIMEOUT_MS)
        page.wait_for_selector("#api-user:not([hidden])", timeout=TIMEOUT_MS)
    finally:
        box.clock.reset()
    page.shot("01-renewed-silently")
    assert text(page, "#profile-iat") != first_iat and text(page, "#status") == "Logged in as ada@example.com."
    silent = [q for q in traffic.query_of(box.idp_url + "authorize") if q.get("prompt") == "none"]
    assert len(silent) == 1 and silent[0]["response_mode"] == "web_message"
    assert page.url == box.sample_app_url  # the page never left: the answer came by postMessage

    page.click("#logout")
    page.wait_for_url(box.sample_app_url, timeout=TIMEOUT_MS)
    wait_until_settled(page)
    assert text(page, "#status") == "You are not logged in."
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    page.shot("02-logged-out")
    page.click("#renew")  # no session any more: prompt=none answers login_required, never a login page
    page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
    assert text(page, "#error-code") == "login_required" and page.url == box.sample_app_url
    page.shot("03-renewal-after-logout-login-required")


def test_the_login_session_cookie_is_httponly_and_samesite_in_the_browser_jar(browser_page, box, ada):
    page = browser_page
    log_in_with_code(page, box.sample_app_url, box.idp_url, ada["email"], ada["password"])
    (cookie,) = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["domain"] == "localhost" and cookie["path"] == "/"
    assert cookie["expires"] > time.time() + 3600  # a persistent session (days), not a tab-lifetime cookie
    # Cookies belong to a host, not to a port: the app's page on localhost:APP gets the identity provider's
    # cookie too... except from scripts, because it is HttpOnly.
    assert SESSION_COOKIE + "=" not in page.evaluate("document.cookie")
    page.shot("01-logged-in")


def test_the_app_opened_at_an_unregistered_origin_meets_the_callback_mismatch_page(browser_page, box):
    """Its redirect_uri follows the origin it runs at; 127.0.0.1:APP is not an Allowed Callback URL."""
    page = browser_page
    open_app(page, box.sample_app_url.replace("localhost", "127.0.0.1"))
    page.click("#login-code")
    page.wait_for_url(re.compile("^" + re.escape(box.idp_url + "authorize?")), timeout=TIMEOUT_MS)
    assert text(page, "#error-code") == "invalid_request"
    assert text(page, "#error-description").startswith("Callback URL mismatch.")
    page.shot("01-callback-url-mismatch")


FETCHES = """async ([apiUrl, tokenUrl, userinfoUrl]) => {
  const results = {};
  const attempt = async (name, url, init) => {
    try {
      const response = await fetch(url, init);
      const body = await response.text();
      results[name] = {status: response.status, body: body.startsWith('{') ? JSON.parse(body) : body};
    } catch (error) {
      results[name] = {failed: error.name + ': ' + error.message};
    }
  };
  // JSON bodies (and Authorization) are not "simple": the browser sends a preflight first.
  await attempt('api', apiUrl, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                body: JSON.stringify({query: '{ __typename }'})});
  await attempt('token', tokenUrl, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                    body: JSON.stringify({grant_type: 'authorization_code', code: 'not-a-code',
                                                          client_id: 'sandbox-spa-client'})});
  await attempt('userinfo', userinfoUrl, {headers: {'Authorization': 'Bearer not-a-token'}});
  return results;
}"""


def test_cors_preflights_succeed_for_the_app_origin_and_fail_for_another(browser_page, box):
    page = browser_page
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    targets = [box.api_url, box.idp_url + "oauth/token", box.idp_url + "userinfo"]

    open_app(page, box.sample_app_url)  # http://localhost:APP: the SPA client's callback origin, allowed
    allowed = page.evaluate(FETCHES, targets)
    assert allowed["api"] == {"status": 200, "body": {"data": {"__typename": "Query"}}}
    assert allowed["token"]["status"] == 403 and allowed["token"]["body"]["error"] == "invalid_grant"
    assert allowed["userinfo"] == {"status": 401, "body": "Unauthorized"}  # readable: the answer named our origin

    other = box.sample_app_url.replace("localhost", "127.0.0.1")  # the same server, another origin
    open_app(page, other)
    refused = page.evaluate(FETCHES, targets)
    assert refused["api"] == {"failed": "TypeError: Failed to fetch"}
    assert refused["token"] == refused["userinfo"] == {"failed": "TypeError: Failed to fetch"}
    blocked = [m for m in console if "blocked by CORS policy" in m]
    assert len(blocked) == 3 and all("preflight" in m for m in blocked), console
    page.shot("01-other-origin-refused")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_the_lesson_screenshot_is_reproduced_by_its_tool(chromium, tmp_path):
    """tools/refresh_screenshots.py makes notebooks/images/sample-app-logged-in.png at the lessons' instant."""
    spec = importlib.util.spec_from_file_location("refresh_screenshots", ROOT / "tools" / "refresh_screenshots.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shown = tool.capture_logged_in(chromium, tmp_path / "logged-in.png")
    assert "Logged in as ada@example.com." in shown and ADA_API_ID in shown
    assert "2026-03-02T09:00:00Z" in shown and "2026-03-02T19:00:00Z" in shown  # iat and exp: frozen clocks
    assert _png_size(tmp_path / "logged-in.png") == _png_size(tool.LOGGED_IN)  # the committed one: same page


def test_silent_renewal_from_another_site_gets_login_required_the_lax_cookie_stays_home(browser_page, ada,
                                                                                        tmp_path):
    """Ports do not make sites: the app on localhost:APP and the identity provider on localhost:IDP are one
    site, so the hidden iframe carries the SameSite=Lax session cookie. Open the same app as
    http://127.0.0.1:APP, another site, and the iframe goes without it: ``prompt=none`` answers
    ``login_required`` although the user logged in a moment ago (a real tenant on another domain is in this
    position, hence Auth0's ``SameSite=None`` session cookie; browsers that block third-party cookies refuse
    even that)."""
    tenant = json.loads(DEFAULT_TENANT_FILE.read_text(encoding="utf-8"))
    spa = next(client for client in tenant["clients"] if client["app_type"] == "spa")
    other_site = "http://127.0.0.1:{sample_app_port}"  # registered, so only the cookie can make a difference
    spa["callbacks"].append(other_site + "/callback")
    spa["allowed_logout_urls"].append(other_site + "/")
    spa["web_origins"].append(other_site)
    (tmp_path / "tenant.json").write_text(json.dumps(tenant), encoding="utf-8")
    box = launch_sandbox(seed_path=tmp_path / "tenant.json", cors_allowed_origins=("*",))
    page = browser_page
    try:
        app = box.sample_app_url.replace("localhost", "127.0.0.1")
        log_in_with_code(page, app, box.idp_url, ada["email"], ada["password"])
        assert [c["sameSite"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE] == ["Lax"]
        page.click("#renew")
        page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
        assert text(page, "#error-code") == "login_required"
        page.shot("01-other-site-renewal-login-required")
        open_app(page, box.sample_app_url)  # the same browser, the same session, from the identity provider's site
        page.click("#renew")
        wait_for_status(page, "Logged in as ada@example.com.")
        assert text(page, "#profile-flow") == "silent renewal (prompt=none, web_message)"
        page.shot("02-same-site-renewal-works")
    finally:
        box.stop()
