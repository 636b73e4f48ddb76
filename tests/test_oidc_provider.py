"""The flows against a provider nobody here wrote: panva's node-oidc-provider, in two configurations.

A person logs in with a real (headless) Chromium on the provider's login page; :func:`helpers.flows.browser_login`
catches the callback on a loopback port. "defaults": the provider's own token choices (opaque access
tokens, scope claims in /userinfo only, OIDC Core §5.4); "resource": RFC 8707 resource indicators give
a JWT access token (RFC 9068) for one API. Discovery says ``authorization_response_iss_parameter_supported``,
so every callback carries ``iss`` (RFC 9207) and the flows check it.
"""
from __future__ import annotations

import dataclasses
import json

import jwt
import pytest

from helpers import flows
from helpers.attacks import tampered_payload
from helpers.config import ConfigError, load_target
from helpers.doctor import diagnose
from helpers.graphql import GraphQLCallError, GraphQLClient
from helpers.provider_check import examine_login
from helpers.sandbox import launch_sandbox
from helpers.tokens import kind_of
from tests.oidc_provider import RESOURCE, start_node_provider
from tests.scripted_chromium import log_in

pytestmark = pytest.mark.slow  # node-oidc-provider and a real browser: `make test-fast` leaves it out


def env_file_for(provider, folder, **extra: str):
    """A .env describing the provider as a generic ``oidc`` target (what a learner writes)."""
    values = {"AUTH_FLOWS_TARGET": "oidc", "OIDC_ISSUER": provider.issuer, "SPA_CLIENT_ID": provider.spa_client_id,
              "REDIRECT_URI": provider.redirect_uri, "LAB_USER_EMAIL": provider.user["email"],
              "LAB_USER_PASSWORD": provider.user["password"], **extra}
    path = folder / f"{provider.mode}.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


@pytest.fixture(scope="module", params=["defaults", "resource"])
def provider(request, tmp_path_factory):
    running = start_node_provider(request.param, tmp_path_factory.mktemp(request.param))
    yield running
    running.stop()


@pytest.fixture
def target(provider, tmp_path):
    extra = {"API_AUDIENCE": RESOURCE, "M2M_CLIENT_ID": provider.m2m_client_id,
             "M2M_CLIENT_SECRET": provider.m2m_client_secret} if provider.mode == "resource" else {}
    return load_target(env_file_for(provider, tmp_path, **extra))


def chromium_login(target, page, user, **options):
    return flows.browser_login(target, open_browser=lambda url: log_in(page, url, user["email"], user["password"]),
                               wait=30, **options)


def test_discovery_promises_iss_in_callbacks_and_the_target_sends_resource(target):
    assert target.kind == "oidc" and target.iss_parameter_supported
    assert target.audience_parameter == "resource"


def test_a_chromium_login_gives_tokens_whose_shape_follows_the_configuration(target, provider, browser_page):
    audience = RESOURCE if provider.mode == "resource" else None
    request, callback = chromium_login(target, browser_page, provider.user, audience=audience)
    assert callback.params["iss"] == provider.issuer and "resource=" in (request.url if audience else "resource=")
    tokens = flows.exchange_code(target, request, callback)
    id_claims = jwt.decode(tokens.id_token, options={"verify_signature": False})
    assert id_claims["aud"] == provider.spa_client_id and id_claims["nonce"] == request.nonce
    if provider.mode == "defaults":
        assert "email" not in id_claims  # OIDC Core §5.4: with an access token for /userinfo, scope claims go there
        assert kind_of(tokens.access_token) == "opaque"
        with pytest.raises(jwt.DecodeError):
            jwt.get_unverified_header(tokens.access_token)
        assert flows.userinfo(target, tokens.access_token)["email"] == provider.user["email"]
    else:
        header = jwt.get_unverified_header(tokens.access_token)
        claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
        assert header["typ"] == "at+jwt" and claims["aud"] == RESOURCE  # RFC 9068 §2.1, §3
        assert kind_of(tokens.access_token) == "access token" and claims["client_id"] == provider.spa_client_id
        assert id_claims["email"] == provider.user["email"]  # the access token is the API's: /userinfo is out of reach


def test_the_claims_parameter_puts_email_into_the_id_token(target, provider, browser_page):
    asked = json.dumps({"id_token": {"email": None, "email_verified": None}})  # OIDC Core §5.5
    request, callback = chromium_login(target, browser_page, provider.user, claims=asked)
    tokens = flows.exchange_code(target, request, callback)
    assert jwt.decode(tokens.id_token, options={"verify_signature": False})["email"] == provider.user["email"]


def test_a_callback_from_another_issuer_or_without_iss_is_refused(target, provider, browser_page):
    request, callback = chromium_login(target, browser_page, provider.user)
    forged = dataclasses.replace(callback, params={**callback.params, "iss": "https://attacker.example"})
    with pytest.raises(flows.FlowError) as mismatch:
        flows.exchange_code(target, request, forged)
    assert mismatch.value.error == "iss_mismatch" and "attacker" not in str(mismatch.value)
    stripped = dataclasses.replace(callback, params={k: v for k, v in callback.params.items() if k != "iss"})
    with pytest.raises(flows.FlowError) as missing:
        flows.exchange_code(target, request, stripped)
    assert missing.value.error == "iss_missing"
    assert flows.exchange_code(target, request, callback).id_token  # the genuine callback still works


def test_browser_login_refuses_a_callback_whose_iss_is_not_the_issuer(target, provider):
    def attacker_browser(url: str) -> None:  # the mix-up: the answer comes from another authorization server
        import requests
        from urllib.parse import parse_qsl, urlsplit
        query = dict(parse_qsl(urlsplit(url).query))
        requests.get(query["redirect_uri"], params={"code": "x", "state": query["state"],
                                                    "iss": "https://attacker.example"}, timeout=5)

    with pytest.raises(flows.FlowError) as refused:
        flows.browser_login(target, open_browser=attacker_browser, wait=10)
    assert refused.value.error == "iss_mismatch"


def test_refresh_and_the_m2m_grant_name_the_resource(target, provider, browser_page):
    request, callback = chromium_login(target, browser_page, provider.user)
    tokens = flows.exchange_code(target, request, callback)
    renewed = flows.refresh(target, tokens.refresh_token)
    assert renewed.id_token and renewed.access_token != tokens.access_token
    if provider.mode == "resource":
        machine = flows.client_credentials(target)
        assert "resource=" in machine.exchange.request_body and "audience" not in machine.exchange.request_body
        assert jwt.decode(machine.access_token, options={"verify_signature": False})["aud"] == RESOURCE


# ------------------------------------------------------------------ the sandbox API trusting the provider
@pytest.fixture(scope="module")
def trusting_api(provider):
    box = launch_sandbox(trust_issuer=provider.issuer, trust_client_id=provider.spa_client_id)
    yield box
    box.stop()


def test_the_json_line_names_the_trusted_issuer_and_its_profile(trusting_api, provider):
    facts = json.loads(json.dumps(trusting_api.info()))
    assert facts["trusted_issuer"] == provider.issuer and facts["trusted_client_id"] == provider.spa_client_id
    profiles = GraphQLClient(trusting_api.api_url, trusting_api.api_token).execute(
        "{ authenticationProfilesList { items { id type domain clientId } } }")["authenticationProfilesList"]["items"]
    assert {"id": facts["trusted_auth_profile_id"], "type": "TRUSTED_ISSUER", "domain": provider.issuer,
            "clientId": provider.spa_client_id} in profiles


def test_the_trusting_api_accepts_the_providers_id_token_and_refuses_a_forged_one(
        target, provider, trusting_api, browser_page):
    asked = json.dumps({"id_token": {"email": None, "email_verified": None}})
    request, callback = chromium_login(target, browser_page, provider.user, claims=asked)
    id_token = flows.exchange_code(target, request, callback).id_token
    api = GraphQLClient(trusting_api.api_url, id_token)
    with pytest.raises(GraphQLCallError) as absent:
        api.execute("{ user { email } }")
    assert absent.value.code == "UserNotFoundError"  # verified, but not yet a user of the workspace
    api.execute("mutation($p: ID, $e: String!) { userSignUpWithToken(authProfileId: $p, user: {email: $e}) { id } }",
                {"p": trusting_api.trusted_auth_profile_id, "e": provider.user["email"]})
    assert api.execute("{ user { email } }")["user"]["email"] == provider.user["email"]
    with pytest.raises(GraphQLCallError) as forged:
        api.with_token(tampered_payload(id_token, email="someone.else@oidc.example")).execute("{ user { email } }")
    assert forged.value.code == "InvalidTokenError"


def test_the_cli_takes_the_issuer_and_client_id_together(capsys):
    from helpers.sandbox.__main__ import main
    with pytest.raises(SystemExit):
        main(["--trust-issuer", "https://login.example.com"])
    assert "go together" in capsys.readouterr().err


def test_a_settings_file_can_ask_for_the_sandbox_api_trusting_the_provider(provider, tmp_path, monkeypatch):
    started = []

    def own_sandbox(**trust):  # not the session's shared sandbox: start_sandbox() would replace it
        started.append(launch_sandbox(**trust))
        return started[-1]

    monkeypatch.setattr("helpers.config.start_sandbox", own_sandbox)
    try:
        target = load_target(env_file_for(provider, tmp_path, SANDBOX_API_TRUSTS_ISSUER="true"))
        assert target.api_trusts_provider and target.api_url == started[0].api_url
        assert target.auth_profile_id == started[0].trusted_auth_profile_id
        assert started[0].trusted_issuer == provider.issuer
    finally:
        for box in started:
            box.stop()
    with pytest.raises(ConfigError, match="remove GRAPHQL_URL"):
        load_target(env_file_for(provider, tmp_path, SANDBOX_API_TRUSTS_ISSUER="true", GRAPHQL_URL="http://localhost:1/x"))


# ------------------------------------------------------------------ the doctor for a login on a generic provider
def test_examine_login_explains_what_this_provider_does_differently(target, provider, browser_page):
    request, callback = chromium_login(target, browser_page, provider.user,
                                       audience=RESOURCE if provider.mode == "resource" else None)
    tokens = flows.exchange_code(target, request, callback)
    found = {f.check: f for f in examine_login(target, tokens, request, callback).findings}
    assert found["callback_iss"].status == "ok" and found["audience_form"].status == "ok"
    assert found["jwks"].title == "Keys without alg" and "RFC 7517" in found["jwks"].evidence
    assert found["optional_claims"].status == "ok" and "no at_hash" in found["optional_claims"].evidence
    if provider.mode == "defaults":
        assert found["access_token"].status == "warning" and "opaque" in found["access_token"].title
        assert found["email"].title == "The email is only in /userinfo" and "§5.5" in found["email"].fix
        assert "claims_parameter_supported: true" in found["email"].fix
    else:
        assert found["access_token"].status == "ok" and RESOURCE in found["access_token"].evidence
        assert found["email"].status == "ok"
    no_iss = dataclasses.replace(callback, params={k: v for k, v in callback.params.items() if k != "iss"})
    without_nonce = dataclasses.replace(request, nonce="")
    again = {f.check: f for f in examine_login(target, tokens, without_nonce, no_iss).findings}
    assert again["callback_iss"].status == "problem" and "RFC 9207" in again["callback_iss"].evidence
    assert "no nonce, none was sent" not in found["optional_claims"].evidence  # this login sent one, it came back
    claims = jwt.decode(tokens.id_token, options={"verify_signature": False})
    stripped = jwt.encode({k: v for k, v in claims.items() if k != "nonce"}, "x" * 32, algorithm="HS256")  # never verified there
    lost = {f.check: f for f in examine_login(target, dataclasses.replace(tokens, id_token=stripped),
                                              request, callback).findings}
    assert lost["optional_claims"].status == "problem" and "nonce was sent" in lost["optional_claims"].evidence


def test_the_doctor_explains_the_providers_tokens(target, provider, trusting_api, browser_page):
    request, callback = chromium_login(target, browser_page, provider.user,
                                       audience=RESOURCE if provider.mode == "resource" else None)
    tokens = flows.exchange_code(target, request, callback)
    by_id = diagnose(tokens.id_token, trusting_api.api_url, api_token=trusting_api.api_token)
    assert by_id.finding("signature").status == "ok" and by_id.finding("issuer_profile").status == "ok"
    by_access = diagnose(tokens.access_token, trusting_api.api_url)
    if provider.mode == "defaults":  # email only in /userinfo, an opaque access token: both explained
        assert by_id.first_problem.check == "email_claim"
        assert "/userinfo" in by_id.first_problem.evidence and "§5.5" in by_id.first_problem.fix
        finding = by_access.finding("jwt")
        assert finding.status == "problem" and "RFC 8707 resource" in finding.evidence and "RFC 6749" in finding.evidence
    else:  # a JWT access token for the resource; email in the ID token (the user signed up in an earlier test)
        assert by_id.finding("email_claim").status == "ok" and by_id.first_problem is None
        assert by_access.finding("jwt").status == "ok" and by_access.first_problem.check == "token_type"


def test_preflight_on_the_provider_with_the_trusting_api(provider, trusting_api, tmp_path):
    from helpers.preflight import preflight
    extra = {"WEB_CLIENT_ID": provider.web_client_id, "WEB_CLIENT_SECRET": provider.web_client_secret,
             "GRAPHQL_URL": trusting_api.api_url, "AUTH_PROFILE_ID": trusting_api.trusted_auth_profile_id,
             "API_TOKEN": trusting_api.api_token}
    report = preflight(load_target(env_file_for(provider, tmp_path, **extra)))
    statuses = {check.settings: check.status for check in report.checks}
    assert report.ok, report.table().to_string()
    assert statuses["LAB_USER_EMAIL, LAB_USER_PASSWORD"] == "skipped"  # no password-realm on a standard provider
    assert statuses["API_TOKEN, AUTH_PROFILE_ID"] == "ok"  # the trusting profile names this issuer exactly
