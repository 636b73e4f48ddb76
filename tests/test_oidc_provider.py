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
from helpers.config import load_target
from helpers.tokens import kind_of
from tests.oidc_provider import RESOURCE, start_node_provider
from tests.scripted_chromium import log_in


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
