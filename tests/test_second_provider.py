"""Bring your own tenant, offline: a second, independently configured provider described by a .env.

The second provider (data/sandbox/second-tenant.json) has other client ids, secrets, audience,
connection, users and callback than the default seed, and its endpoints at other paths (a
Keycloak-like layout; Auth0's paths answer 404 there). A .env written for it is loaded as a generic
``oidc`` target, and every flow, the doctor, the preflight checks and an authenticated GraphQL call
must work from its discovery document alone.
"""
from __future__ import annotations

import dataclasses
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from helpers.config import ConfigError, load_target
from helpers.doctor import diagnose
from helpers.flows import (FlowError, client_credentials, exchange_code, logout_url, password_realm, refresh,
                           sandbox_login, start_authorization, userinfo)
from helpers.graphql import GraphQLClient, UserNotFoundError
from helpers.jwks import JwksCache
from helpers.preflight import preflight
from helpers.sandbox import SECOND_TENANT_FILE, launch_sandbox
from helpers.sandbox.idp.seed import AUTH0_PATHS
from helpers.tokens import decode_parts
from helpers.verify import Expectations, verify_token

SECOND = json.loads(SECOND_TENANT_FILE.read_text())
MARA = next(u for u in SECOND["users"] if u["email"] == "mara@second.example")
SIGN_UP = """mutation SignUp($user: UserCreateInput!, $authProfileId: ID) {
  userSignUpWithToken(user: $user, authProfileId: $authProfileId) { email }
}"""


@pytest.fixture(scope="module")
def second():
    box = launch_sandbox(seed_path=SECOND_TENANT_FILE)
    yield box
    box.stop()


def env_text(box, **changes: str) -> str:
    """A .env for the second provider, as a learner would write it from its settings (keys can be changed)."""
    values = {"AUTH_FLOWS_TARGET": "oidc", "OIDC_ISSUER": box.idp_url, "SPA_CLIENT_ID": box.spa_client_id,
              "REDIRECT_URI": box.redirect_uri, "WEB_CLIENT_ID": box.web_client_id,
              "WEB_CLIENT_SECRET": box.web_client_secret, "M2M_CLIENT_ID": box.m2m_client_id,
              "M2M_CLIENT_SECRET": box.m2m_client_secret, "API_AUDIENCE": box.api_audience,
              "CONNECTION": box.connection, "GRAPHQL_URL": box.api_url, "AUTH_PROFILE_ID": box.auth_profile_id,
              "API_TOKEN": box.api_token, "LAB_USER_EMAIL": MARA["email"], "LAB_USER_PASSWORD": MARA["password"],
              "AUDIENCE_PARAMETER": "audience",  # Auth0-shaped: it takes audience, not RFC 8707 resource
              **changes}
    return "".join(f"{k}={v}\n" for k, v in values.items() if v is not None)


@pytest.fixture(scope="module")
def target(second, tmp_path_factory):
    path = tmp_path_factory.mktemp("second") / ".env"
    path.write_text(env_text(second))
    return load_target(path)


def log_in(target, session=None, **options):
    request = start_authorization(target, **options)
    return request, exchange_code(target, request, sandbox_login(request, MARA["email"], MARA["password"], session))


# -------------------------------------------------------------------- nothing from the default seed
def test_the_second_provider_shares_nothing_with_the_default_seed(second, sandbox):
    for name in ("spa_client_id", "web_client_id", "m2m_client_id", "m2m_client_secret", "web_client_secret",
                 "api_audience", "connection", "redirect_uri"):
        assert getattr(second, name) != getattr(sandbox, name), name
    assert second.idp_url != sandbox.idp_url
    assert {u["email"] for u in second.users}.isdisjoint({u["email"] for u in sandbox.users})


def test_auth0_paths_do_not_exist_on_the_second_provider(second):
    for path in (*AUTH0_PATHS.values(), "v2/logout"):
        assert requests.get(second.idp_url + path, timeout=5).status_code in (404, 405), path
        assert requests.post(second.idp_url + path, timeout=5).status_code in (404, 405), path


def test_the_target_comes_from_the_env_and_the_discovery_document(target, second):
    document = requests.get(second.idp_url + ".well-known/openid-configuration", timeout=5).json()
    assert target.kind == "oidc" and target.issuer == second.idp_url
    assert target.authorization_endpoint == document["authorization_endpoint"] == \
        second.idp_url + "protocol/openid-connect/auth"
    assert target.token_endpoint == second.idp_url + "protocol/openid-connect/token"
    assert target.jwks_uri == second.idp_url + "protocol/openid-connect/certs"
    assert target.userinfo_endpoint == second.idp_url + "protocol/openid-connect/userinfo"
    assert target.logout_endpoint == document["end_session_endpoint"]
    assert (target.spa_client_id, target.audience, target.connection) == (
        "second-notes-spa", "urn:second:notes-api", "second-people")
    assert target.users == ((MARA["email"], MARA["password"]),)  # the test user named in .env


# -------------------------------------------------------------------- flows
def test_code_with_pkce_gives_an_id_token_that_verifies_with_the_discovered_keys(target, second):
    request, tokens = log_in(target)
    expect = Expectations(issuer=target.issuer, audience=target.spa_client_id, token_use="id", nonce=request.nonce)
    claims = verify_token(tokens.id_token, JwksCache(target.jwks_uri).key_for, expect, now=second.clock.now())
    assert claims["email"] == MARA["email"] and claims["iss"] == second.idp_url
    assert tokens.exchange.url == target.token_endpoint


def test_password_realm_with_the_web_client_and_the_connection_from_env(target):
    tokens = password_realm(target, MARA["email"], MARA["password"])
    assert decode_parts(tokens.id_token).payload["aud"] == "second-notes-server"
    with pytest.raises(FlowError) as caught:
        password_realm(target, MARA["email"], MARA["password"], realm="Username-Password-Authentication")
    assert caught.value.status in (400, 403)  # the default seed's connection does not exist here


def test_client_credentials_for_the_audience_from_env(target):
    claims = decode_parts(client_credentials(target).access_token).payload
    assert claims["aud"] == "urn:second:notes-api" and claims["sub"] == "second-notes-worker@clients"


def test_refresh_userinfo_and_rp_initiated_logout(target):
    browser = requests.Session()
    _, tokens = log_in(target, session=browser, scope="openid profile email offline_access")
    renewed = refresh(target, tokens.refresh_token)
    assert renewed.id_token and renewed.exchange.url == target.token_endpoint
    assert userinfo(target, tokens.access_token)["email"] == MARA["email"]
    url = logout_url(target, "http://localhost:47853/")
    assert url.startswith(target.logout_endpoint) and "post_logout_redirect_uri=" in url
    bye = browser.get(url, allow_redirects=False, timeout=5)
    assert bye.status_code in (302, 303) and bye.headers["location"] == "http://localhost:47853/"
    with pytest.raises(FlowError, match="login_required"):
        sandbox_login(start_authorization(target, prompt="none"), "", "", session=browser)


# -------------------------------------------------------------------- the API, the doctor, the preflight
def test_an_authenticated_graphql_call_after_sign_up_and_the_doctor_on_each_side(target, second):
    id_token = log_in(target)[1].id_token
    client = GraphQLClient(target.api_url, id_token)
    before = diagnose(id_token, target.api_url, api_token=target.api_token, now=second.clock.now())
    assert before.finding("signature").status == "ok"
    assert target.jwks_uri in before.finding("signature").evidence  # the doctor read discovery too
    assert before.first_problem is not None and before.first_problem.check == "signed_up"
    with pytest.raises(UserNotFoundError):
        client.execute("{ user { email } }")
    user = {"email": MARA["email"], "firstName": MARA["given_name"], "lastName": MARA["family_name"]}
    client.execute(SIGN_UP, {"user": user, "authProfileId": target.auth_profile_id})
    assert client.execute("{ user { email } }") == {"user": {"email": MARA["email"]}}
    after = diagnose(id_token, target.api_url, api_token=target.api_token, now=second.clock.now())
    assert after.first_problem is None, after.headline()
    assert second.api.authenticator.caches()[target.issuer].jwks_uri == target.jwks_uri


def test_preflight_passes_every_check_for_the_right_settings(target):
    report = preflight(target)
    assert report.ok, report.table().to_string()
    assert [c.status for c in report.checks] == ["ok"] * len(report.checks)
    assert len(report.checks) == 7


@pytest.mark.parametrize("change, setting, words", [
    ({"SPA_CLIENT_ID": "sandbox-spa-client"}, "SPA_CLIENT_ID", "Unknown client"),
    ({"REDIRECT_URI": "http://localhost:3000/callback"}, "REDIRECT_URI", "Allowed Callback URLs"),
    ({"WEB_CLIENT_SECRET": "not-the-secret"}, "WEB_CLIENT_SECRET", "refused the client"),
    ({"M2M_CLIENT_SECRET": "not-the-secret"}, "M2M_CLIENT_SECRET", "401"),
    ({"API_AUDIENCE": "https://api.sandbox.test/"}, "API_AUDIENCE", "Identifier of your API"),
    ({"AUTH_PROFILE_ID": "cl0nosuchprofile00000000"}, "AUTH_PROFILE_ID", "not a profile of this issuer"),
    ({"API_TOKEN": "not-an-api-token"}, "API_TOKEN", "InvalidTokenError"),
    ({"LAB_USER_PASSWORD": "not-the-secret"}, "LAB_USER_PASSWORD", "Wrong email or password"),
    ({"GRAPHQL_URL": None, "AUTH_PROFILE_ID": None, "API_TOKEN": None}, None, None),
])
def test_preflight_names_the_wrong_setting(second, tmp_path, change, setting, words):
    path = tmp_path / ".env"
    path.write_text(env_text(second, **change))
    report = preflight(load_target(path))
    if setting is None:  # no API settings at all: skipped, not a problem
        assert report.ok and [c.status for c in report.checks][-1:] == ["skipped"] and len(report.checks) == 6
        return
    assert report.problems and all(setting in p.settings for p in report.problems), report.table().to_string()
    problem = report.problems[0]
    assert words in problem.evidence + " " + problem.fix
    shown = report.table().to_string()
    assert "not-the-secret" not in shown and "not-an-api-token" not in shown


def test_an_issuer_written_without_its_slash_is_refused_with_both_spellings(second, tmp_path):
    path = tmp_path / ".env"
    path.write_text(env_text(second, OIDC_ISSUER=second.idp_url.rstrip("/")))
    with pytest.raises(ConfigError, match="identical") as caught:
        load_target(path)
    assert repr(second.idp_url) in str(caught.value)


def test_the_command_line_starts_the_second_provider_with_the_same_json_keys(second, sandbox):
    assert set(second.info()) == set(sandbox.info())
    assert second.info()["api_settings"]["jwks_from_discovery"] is True
    assert sandbox.info()["api_settings"]["jwks_from_discovery"] is False


# -------------------------------------------------------------------- failure paths
def test_preflight_of_an_unreachable_provider_reports_problems_and_never_raises(target):
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    gone = dataclasses.replace(target, issuer=dead, authorization_endpoint=dead + "auth", token_endpoint=dead + "token",
                               api_url=None)
    report = preflight(gone)
    assert not report.ok
    statuses = {c.settings: c.status for c in report.checks}
    assert statuses["OIDC_ISSUER"] == "problem" and statuses["SPA_CLIENT_ID, REDIRECT_URI"] == "problem"
    assert all("did not answer" in c.evidence for c in report.problems[1:])


def test_a_seed_with_a_bad_endpoint_path_is_refused(tmp_path):
    from helpers.sandbox.idp.seed import SeedError, load_seed
    raw = dict(SECOND, settings={"endpoint_paths": {"token_endpoint": "/absolute/token"}})
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(SeedError, match="endpoint_paths"):
        load_seed(path)
    raw["settings"] = {"endpoint_paths": {"introspection_endpoint": "introspect"}}
    path.write_text(json.dumps(raw))
    with pytest.raises(SeedError, match="endpoint_paths"):
        load_seed(path)


def test_the_api_fails_closed_when_the_issuers_discovery_cannot_be_read():
    from helpers.config import target_from_sandbox
    box = launch_sandbox(jwks_from_discovery=True, jwks_timeout=1.0)
    try:
        email, password = box.users[0]["email"], box.users[0]["password"]
        id_token = password_realm(target_from_sandbox(box), email, password).id_token
        box._servers[0].stop()  # the identity provider is gone before the API ever read its discovery document
        answer = requests.post(box.api_url, json={"query": "{ user { id } }"}, timeout=10,
                               headers={"Authorization": f"Bearer {id_token}"})
        assert answer.status_code == 200 and answer.json()["errors"][0]["code"] == "ExternalServiceError"
        assert "Traceback" not in answer.text and box.api.authenticator.caches() == {}
    finally:
        box.stop()


# -------------------------------------------------------------------- a person's browser
def scripted_person(target, email=MARA["email"], password=MARA["password"]):
    """What a person does when browser_login opens the URL: log in on the page, land on the callback."""
    def open_browser(url: str) -> bool:
        query = dict(parse_qsl(urlsplit(url).query))
        request = dataclasses.replace(start_authorization(target), url=url, state=query["state"])
        requests.get(sandbox_login(request, email, password).url, timeout=10)
        return True
    return open_browser


def test_browser_login_catches_the_callback_on_the_loopback_redirect_uri(target, second, capsys):
    from helpers.flows import browser_login
    request, callback = browser_login(target, open_browser=scripted_person(target), audience=target.audience)
    assert "Log in in your browser" in capsys.readouterr().out
    assert callback.url.startswith(target.redirect_uri) and callback.params["state"] == request.state
    tokens = exchange_code(target, request, callback)
    assert decode_parts(tokens.id_token).payload["email"] == MARA["email"]
    assert decode_parts(tokens.access_token).payload["aud"][0] == "urn:second:notes-api"


def test_browser_login_refuses_a_redirect_uri_that_is_not_on_this_machine(target):
    from helpers.flows import browser_login
    elsewhere = dataclasses.replace(target, redirect_uri="https://app.example.com/callback")
    with pytest.raises(ConfigError) as caught:
        browser_login(elsewhere, open_browser=lambda url: pytest.fail("no browser may open"))
    assert caught.value.settings == ("REDIRECT_URI",) and "http://localhost:3000/callback" in str(caught.value)


def test_browser_login_gives_up_after_its_wait_and_reports_a_refused_login(target):
    from helpers.flows import browser_login
    with pytest.raises(FlowError, match="login_timeout"):
        browser_login(target, open_browser=lambda url: True, wait=0.3)
    with pytest.raises(FlowError) as caught:  # the person types a wrong password: the page says so, they give up
        browser_login(target, open_browser=lambda url: requests.get(
            target.redirect_uri + "?error=access_denied&error_description=The+user+cancelled", timeout=5))
    assert caught.value.error == "access_denied" and "cancelled" in caught.value.description
