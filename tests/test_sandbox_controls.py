"""The Sandbox handle's public controls (helpers/sandbox/controls.py): API settings, key caches, the API's own
verification and lookup, API tokens, a user's email, self sign-up, signing with the provider's key, taking the
provider down."""
from __future__ import annotations

import jwt
import pytest
import requests

from helpers.config import target_from_sandbox
from helpers.flows import password_realm, sign_up


def ask(box, token: str | None, query: str = "{ user { email } }") -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(box.api_url, json={"query": query}, headers=headers, timeout=10).json()


def ada_token(box) -> str:
    target = target_from_sandbox(box)
    return password_realm(target, *target.users[0]).id_token


def test_set_api_setting_returns_the_previous_value_and_changes_the_api_live(own_sandbox):
    assert own_sandbox.api_setting("email_case_sensitive") is True
    token = ada_token(own_sandbox)
    assert own_sandbox.set_api_setting("email_case_sensitive", False) is True
    assert own_sandbox.api_setting("email_case_sensitive") is False
    assert own_sandbox.info()["api_settings"]["email_case_sensitive"] is False
    assert ask(own_sandbox, token) == {"data": {"user": {"email": "ada@example.com"}}}


def test_an_unknown_setting_is_refused_and_changes_nothing(own_sandbox):
    before = own_sandbox.info()["api_settings"]
    with pytest.raises(ValueError, match="no setting 'jwks_ttl'"):
        own_sandbox.set_api_settings(jwks_cache_ttl=1, jwks_ttl=5)
    with pytest.raises(ValueError):
        own_sandbox.api_setting("nope")
    assert own_sandbox.info()["api_settings"] == before


def test_api_settings_block_counts_fetches_and_puts_the_settings_back_even_on_error(own_sandbox):
    token = ada_token(own_sandbox)
    with own_sandbox.api_settings(jwks_cache_ttl=0):
        assert own_sandbox.api_setting("jwks_cache_ttl") == 0
        for _ in range(3):
            assert "data" in ask(own_sandbox, token)
        assert own_sandbox.jwks_fetches() == 3           # no cache: one fetch per request
    assert own_sandbox.api_setting("jwks_cache_ttl") == 600
    assert own_sandbox.jwks_fetches() == 0               # the caches started empty again
    for _ in range(3):
        ask(own_sandbox, token)
    assert own_sandbox.jwks_fetches() == 1               # the seed's policy: one fetch serves them all
    with pytest.raises(RuntimeError), own_sandbox.api_settings(jwks_cooldown=0):
        raise RuntimeError("a failing cell")
    assert own_sandbox.api_setting("jwks_cooldown") == 30


def test_key_caches_show_each_issuers_cache_and_empty_key_caches_forgets_them(own_sandbox):
    ask(own_sandbox, ada_token(own_sandbox))
    caches = own_sandbox.key_caches()
    assert list(caches) == [own_sandbox.idp_url]
    cache = caches[own_sandbox.idp_url]
    assert cache.jwks_uri == own_sandbox.idp_url + ".well-known/jwks.json" and cache.ttl == 600
    assert len(cache.stats().kids) == 2                  # the current key and the next one
    own_sandbox.empty_key_caches()
    assert own_sandbox.key_caches() == {} and own_sandbox.jwks_fetches() == 0


def test_verify_as_api_and_find_user_are_the_apis_own_steps(own_sandbox):
    token = ada_token(own_sandbox)
    claims = own_sandbox.verify_as_api(token)
    assert claims["email"] == "ada@example.com" and claims["iss"] == own_sandbox.idp_url
    user = own_sandbox.find_user(claims["email"])
    assert user is not None and user["email"] == "ada@example.com" and user["id"]
    assert own_sandbox.find_user("ADA@example.com") is None
    assert own_sandbox.find_user("ADA@example.com", case_sensitive=False)["id"] == user["id"]
    with pytest.raises(Exception) as refused:
        own_sandbox.verify_as_api(token[:-4] + "AAAA")
    assert refused.value.code == "InvalidTokenError" == ask(own_sandbox, token[:-4] + "AAAA")["errors"][0]["code"]


def test_add_api_token_makes_a_working_token_of_the_chosen_workspace(own_sandbox):
    token = own_sandbox.add_api_token("Reader", ["Administrator"])
    answer = ask(own_sandbox, token, "{ rolesList { count } }")
    assert answer["data"]["rolesList"]["count"] >= 1
    other = own_sandbox.api_host + "cl0otherworkspace0000002"
    other_token = own_sandbox.add_api_token("Other", ["Administrator"], workspace_id="cl0otherworkspace0000002")
    headers = {"Authorization": f"Bearer {other_token}"}
    assert "data" in requests.post(other, json={"query": "{ rolesList { count } }"}, headers=headers,
                                   timeout=10).json()
    assert "errors" in ask(own_sandbox, other_token, "{ rolesList { count } }")   # not the lab workspace's


def test_sign_uses_the_providers_current_key_and_the_api_checks_the_claims(own_sandbox):
    claims = jwt.decode(ada_token(own_sandbox), options={"verify_signature": False})
    published = requests.get(own_sandbox.idp_url + ".well-known/jwks.json", timeout=5).json()["keys"]
    good = own_sandbox.sign(claims)
    assert jwt.get_unverified_header(good)["kid"] in {key["kid"] for key in published}
    assert "data" in ask(own_sandbox, good)
    no_exp = own_sandbox.sign({k: v for k, v in claims.items() if k != "exp"}, {"typ": "JWT"})
    assert ask(own_sandbox, no_exp)["errors"][0]["code"] == "InvalidTokenError"


def test_stop_identity_provider_leaves_the_api_serving_cached_keys(own_sandbox):
    token = ada_token(own_sandbox)
    assert "data" in ask(own_sandbox, token)             # the keys are now cached
    own_sandbox.stop_identity_provider()
    with pytest.raises(requests.ConnectionError):
        requests.get(own_sandbox.idp_url + ".well-known/jwks.json", timeout=2)
    assert "data" in ask(own_sandbox, token)
    own_sandbox.empty_key_caches()
    assert ask(own_sandbox, token)["errors"][0]["code"] == "ExternalServiceError"


def test_change_user_email_moves_the_lookup_and_refuses_an_unknown_user(own_sandbox):
    token = ada_token(own_sandbox)
    own_sandbox.change_user_email("ada@example.com", "ada.new@example.org")
    assert ask(own_sandbox, token)["errors"][0]["code"] == "UserNotFoundError"
    assert own_sandbox.find_user("ada.new@example.org") is not None
    own_sandbox.change_user_email("ada.new@example.org", "ada@example.com")
    assert ask(own_sandbox, token) == {"data": {"user": {"email": "ada@example.com"}}}
    with pytest.raises(ValueError, match="no user has the email"):
        own_sandbox.change_user_email("nobody@example.com", "x@example.com")


SIGN_UP = "mutation($user: UserCreateInput!) { userSignUpWithToken(user: $user) { email } }"


def sign_up_new_person(box, email: str) -> dict:
    target = target_from_sandbox(box)
    sign_up(target, email, "controls-pass-1")
    token = password_realm(target, email, "controls-pass-1").id_token
    return requests.post(box.api_url, json={"query": SIGN_UP, "variables": {"user": {"email": email}}},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10).json()


def test_set_self_signup_returns_the_previous_setting_and_the_api_follows_it(own_sandbox):
    assert own_sandbox.set_self_signup("off") == ("open", ())
    assert sign_up_new_person(own_sandbox, "off@example.com")["errors"][0]["code"] == "NotAuthorizedError"
    assert own_sandbox.set_self_signup("domains", ["company.test"]) == ("off", ())
    assert "errors" in sign_up_new_person(own_sandbox, "outsider@example.com")
    assert sign_up_new_person(own_sandbox, "insider@company.test") == {
        "data": {"userSignUpWithToken": {"email": "insider@company.test"}}}
    with pytest.raises(ValueError):
        own_sandbox.set_self_signup("domains")
    with pytest.raises(ValueError):
        own_sandbox.set_self_signup("sometimes")
    with pytest.raises(ValueError, match="no Authentication Profile"):
        own_sandbox.set_self_signup("open", profile_id="nope")
    assert own_sandbox.set_self_signup("open") == ("domains", ("company.test",))
