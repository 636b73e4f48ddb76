"""The sample single-page app's server, its place in the tenant seed, and the CORS answers it relies on
(over plain HTTP; tests/test_browser_login.py shows a real browser taking the same decisions)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from helpers.catalog import explain
from helpers.sandbox import launch_sandbox, load_seed
from helpers.sandbox.sample_app_server import SAMPLE_APP_DIR
from helpers.sandbox.idp.seed import fill_placeholders, origin_of
from helpers.sandbox.common.server import bind_loopback

ROOT = Path(__file__).resolve().parents[1]
STRANGER = "https://evil.example"


def preflight(url: str, origin: str, headers: str = "content-type") -> requests.Response:
    return requests.options(url, timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers})


# ------------------------------------------------------------------ the seed
def test_placeholders_are_filled_and_unfilled_urls_left_out():
    raw = {"urls": ["http://a/", "{sample_app_origin}/callback"], "about": "{sample_app_origin} is the app"}
    assert fill_placeholders(raw, {"sample_app_origin": "http://localhost:1"}) == {
        "urls": ["http://a/", "http://localhost:1/callback"], "about": "http://localhost:1 is the app"}
    assert fill_placeholders(raw, {}) == {"urls": ["http://a/"], "about": "{sample_app_origin} is the app"}


def test_the_spa_client_registers_the_sample_app_only_when_it_runs():
    without = load_seed().clients["sandbox-spa-client"]
    assert not any("{" in url for url in without.callbacks + without.allowed_logout_urls + without.web_origins)
    spa = load_seed(facts={"sample_app_origin": "http://localhost:4321"}).clients["sandbox-spa-client"]
    assert spa.callbacks == without.callbacks + ("http://localhost:4321/callback",)
    assert "http://localhost:4321/" in spa.allowed_logout_urls and "http://localhost:4321" in spa.web_origins
    assert spa.cors_origins == {"http://localhost:3000", "http://localhost:8888", "http://localhost:4321"}
    assert origin_of("http://localhost:4321/callback?x=1#y") == "http://localhost:4321"


# ------------------------------------------------------------------ the app's server
def test_the_app_is_served_on_its_own_origin_with_its_facts(sandbox):
    app = sandbox.sample_app_url
    assert app.startswith("http://localhost:") and app.endswith("/") and sandbox.info()["sample_app_url"] == app
    assert origin_of(app) not in (origin_of(sandbox.idp_url), origin_of(sandbox.api_url))
    home, callback = requests.get(app, timeout=10), requests.get(app + "callback", timeout=10)
    assert home.status_code == callback.status_code == 200 and home.text == callback.text
    policy = home.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert f"connect-src 'self' {origin_of(sandbox.idp_url)} {origin_of(sandbox.api_url)}" in policy
    assert f"frame-src {origin_of(sandbox.idp_url)}" in policy
    config = requests.get(app + "config.json", timeout=10).json()
    assert config == {
        "idp_url": sandbox.idp_url, "client_id": sandbox.spa_client_id, "api_url": sandbox.api_url,
        "auth_profile_id": sandbox.auth_profile_id, "redirect_uri": app + "callback", "logout_return_to": app,
        "social_connections": [{"name": "github", "display_name": "GitHub"},
                               {"name": "google-oauth2", "display_name": "Google"}]}
    assert config["redirect_uri"] in sandbox.idp.seed.clients[sandbox.spa_client_id].callbacks
    # Its own URLs follow the origin it is opened at (which the tenant may not have registered).
    other = app.replace("localhost", "127.0.0.1")
    assert requests.get(other + "config.json", timeout=10).json()["redirect_uri"] == other + "callback"
    script = requests.get(app + "static/app.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def test_the_app_loads_nothing_from_elsewhere():
    """No CDN: every src/href of the page is a path on the app's own server."""
    page = (SAMPLE_APP_DIR / "index.html").read_text(encoding="utf-8")
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert references and all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    script = (SAMPLE_APP_DIR / "app.js").read_text(encoding="utf-8")
    assert not re.search(r"\bimport\b.*\bfrom\b|https?://", re.sub(r"//.*|/\*[\s\S]*?\*/", "", script))


def test_the_cli_takes_an_app_port_and_prints_the_app_url():
    free = bind_loopback(0)
    port = free.getsockname()[1]
    free.close()
    process = subprocess.Popen([sys.executable, "-m", "helpers.sandbox", "--app-port", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        facts = json.loads(process.stdout.readline())
        assert facts["sample_app_url"] == f"http://localhost:{port}/"
        assert requests.get(facts["sample_app_url"], timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


# ------------------------------------------------------------------ CORS at the identity provider
@pytest.mark.parametrize("path, headers", [("oauth/token", "content-type"), ("userinfo", "authorization")])
def test_the_identity_provider_answers_preflights_from_registered_origins_only(sandbox, path, headers):
    for origin in (origin_of(sandbox.sample_app_url), "http://localhost:3000"):
        answer = preflight(sandbox.idp_url + path, origin, headers)
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == origin
        assert "POST" in answer.headers["access-control-allow-methods"]
    refused = preflight(sandbox.idp_url + path, STRANGER, headers)
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert refused.json()["error"] == "invalid_request" and STRANGER not in refused.text
    assert explain(refused).id == "idp-token-cors-origin-not-allowed"


def test_a_cross_origin_token_answer_is_readable_only_by_a_registered_origin(sandbox):
    body = {"grant_type": "authorization_code", "client_id": sandbox.spa_client_id, "code": "not-a-code"}
    ours = requests.post(sandbox.idp_url + "oauth/token", json=body, timeout=10,
                         headers={"Origin": origin_of(sandbox.sample_app_url)})
    assert ours.status_code == 403 and ours.headers["access-control-allow-origin"] == origin_of(sandbox.sample_app_url)
    theirs = requests.post(sandbox.idp_url + "oauth/token", json=body, timeout=10, headers={"Origin": STRANGER})
    # The server still answers (CORS is enforced by the browser, which hides this answer from the script).
    assert theirs.status_code == 403 and "access-control-allow-origin" not in theirs.headers


def test_only_the_script_endpoints_carry_cors_headers(sandbox):
    origin = origin_of(sandbox.sample_app_url)
    for path in ("authorize?client_id=x", "u/login"):
        answer = requests.get(sandbox.idp_url + path, headers={"Origin": origin}, timeout=10, allow_redirects=False)
        assert "access-control-allow-origin" not in answer.headers, path
    assert preflight(sandbox.idp_url + "u/login", origin).status_code == 405  # no CORS handling: not a preflight answer


@pytest.mark.parametrize("path", [".well-known/jwks.json", ".well-known/openid-configuration"])
def test_the_keys_and_discovery_answer_any_origin_with_a_star(sandbox, path):
    """As Auth0's: any page may read them (auth0.js fetches the JWKS to check an ID token in the page)."""
    for origin in (STRANGER, origin_of(sandbox.sample_app_url), "null"):
        answer = requests.get(sandbox.idp_url + path, headers={"Origin": origin}, timeout=10)
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*", origin
        assert origin not in answer.text
    asked = requests.options(sandbox.idp_url + path, timeout=10, headers={  # a GET needs no preflight; if asked:
        "Origin": STRANGER, "Access-Control-Request-Method": "GET"})
    assert asked.status_code == 200 and asked.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in asked.headers  # public: never with the browser's cookies
    assert explain(preflight(sandbox.idp_url + path, STRANGER)).id == "idp-token-cors-request-not-allowed"  # POST
    server = requests.get(sandbox.idp_url + path, timeout=10)  # no Origin: no CORS headers at all
    assert not [name for name in server.headers if name.lower().startswith("access-control-")]
    # the token endpoint and /userinfo keep their allow-list
    assert "access-control-allow-origin" not in preflight(sandbox.idp_url + "oauth/token", STRANGER).headers
    assert "access-control-allow-origin" not in preflight(sandbox.idp_url + "userinfo", STRANGER, "authorization").headers


# ------------------------------------------------------------------ CORS at the GraphQL API
def test_the_api_answers_preflights_from_its_allowed_origins_a_live_setting():
    box = launch_sandbox()
    try:
        app = origin_of(box.sample_app_url)
        assert box.api.settings.cors_allowed_origins == ("http://localhost:3000", "http://localhost:8888", app)
        allowed = preflight(box.api_url, app, "authorization, content-type")
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == app
        refused = preflight(box.api_url, STRANGER, "authorization, content-type")
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
        assert explain(refused).id == "api-cors-origin-not-allowed" and STRANGER not in refused.text
        box.api.configure(cors_allowed_origins=("*",))  # every origin
        assert preflight(box.api_url, STRANGER).headers["access-control-allow-origin"] == STRANGER
        box.api.configure(cors_allowed_origins=())  # none
        assert preflight(box.api_url, app).status_code == 400
    finally:
        box.stop()


def test_token_answers_to_servers_are_untouched_by_cors(sandbox):
    """No Origin header (a server, a notebook): no CORS headers and no Vary from the identity provider."""
    answer = requests.post(sandbox.idp_url + "oauth/token", json={"grant_type": "client_credentials"}, timeout=10)
    assert answer.status_code == 400 and "vary" not in answer.headers
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("where, headers, entry", [
    ("idp", "content-type, x-made-up-header", "idp-token-cors-request-not-allowed"),
    ("api", "authorization, x-made-up-header", "api-cors-request-not-allowed"),
])
def test_an_allowed_origin_asking_for_a_header_not_allowed_gets_a_catalogued_refusal(sandbox, where, headers, entry):
    """Starlette's own answer would be plain text; the sandbox answers with its catalog, repeating nothing."""
    url = sandbox.idp_url + "oauth/token" if where == "idp" else sandbox.api_url
    origin = sandbox.sample_app_url.rstrip("/")
    assert preflight(url, origin, headers.split(", x-")[0]).status_code == 200  # the same origin, allowed headers
    refused = preflight(url, origin, headers)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert refused.headers["content-type"].startswith("application/json")
    assert "x-made-up-header" not in refused.text and origin not in refused.text
    assert explain(refused).id == entry
