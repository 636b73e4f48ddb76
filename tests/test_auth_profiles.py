"""Several Authentication Profiles in one workspace, set up through the Sandbox handle's public controls
(``add_role``, ``add_auth_profile``, ``add_user``, ``grant_role``) and used over real HTTP (lesson 11)."""
from __future__ import annotations

import pytest

from helpers import flows
from helpers.config import target_from_sandbox
from helpers.flows import exchange_code, sandbox_login, start_authorization
from helpers.sandbox import Sandbox, launch_sandbox
from tests.test_api import SIGN_UP, gql, login, new_user, only_error

STAFF = {"data": {"Notes": {"read": {"allow": True}}, "Users": {"read": {"allow": True}}}}
ROLES = "{ user { email roles { items { name } } } }"
PROFILES = "{ authenticationProfilesList { items { id name clientId selfSignUpEnabled selfSignUpEmailDomains roles { items { name } } } } }"


@pytest.fixture(scope="module")
def shop() -> tuple[Sandbox, str, str]:
    """A sandbox of this module with a customers' profile (SPA client, open) and a staff one (web client,
    one email domain, the Staff role)."""
    box = launch_sandbox()
    box.add_role("Staff", STAFF, description="Reads every note and user")
    customers = box.add_auth_profile("Customers", roles=["Note Taker"])
    staff = box.add_auth_profile("Staff portal", roles=["Staff"], self_signup="domains",
                                 email_domains=["labnotes.example"], client_id=box.web_client_id)
    yield box, customers, staff
    box.stop()


def spa_login(box: Sandbox, email: str, password: str) -> str:
    """An ID token for the SPA client (the customers' app), from the hosted login page."""
    target = target_from_sandbox(box)
    request = start_authorization(target)
    return exchange_code(target, request, sandbox_login(request, email, password)).id_token


def account(box: Sandbox, email: str) -> tuple[str, str]:
    """An identity-provider user with this email (signed up at /dbconnections/signup)."""
    flows.sign_up(target_from_sandbox(box), email, "long-enough-pass")
    return email, "long-enough-pass"


def profiles(box: Sandbox, environment: str = "") -> list[dict]:
    """The Authentication Profiles as the API lists them (the Administrator API token)."""
    url = box.api_url + (f"_{environment}" if environment else "")
    return gql(url, PROFILES, box.api_token).json()["data"]["authenticationProfilesList"]["items"]


def sign_up(box: Sandbox, token: str, email: str, profile: str | None) -> dict:
    return gql(box.api_url, SIGN_UP, token, {"user": {"email": email}, "profile": profile}).json()


def role_names(user: dict) -> list[str]:
    return [r["name"] for r in user["roles"]["items"]]


def test_the_api_lists_the_new_profiles_after_the_seeded_one(shop):
    box, customers, staff = shop
    items = profiles(box)
    assert [p["id"] for p in items] == [box.auth_profile_id, customers, staff]
    assert items[1] == {"id": customers, "name": "Customers", "clientId": box.spa_client_id, "selfSignUpEnabled": True,
                        "selfSignUpEmailDomains": [], "roles": {"items": [{"name": "Note Taker"}]}}
    assert items[2]["clientId"] == box.web_client_id and items[2]["selfSignUpEmailDomains"] == ["labnotes.example"]
    assert items[2]["roles"] == {"items": [{"name": "Staff"}]}


def test_each_profile_gives_its_own_roles_at_sign_up(shop):
    box, customers, staff = shop
    customer, password = new_user(box, "customer")
    token = spa_login(box, customer, password)
    assert role_names(sign_up(box, token, customer, customers)["data"]["userSignUpWithToken"]) == ["Guest", "Note Taker"]
    employee, password = account(box, "maria@labnotes.example")
    staff_token = login(box, employee, password)["id_token"]      # the web client: the staff portal
    signed = sign_up(box, staff_token, employee, staff)["data"]["userSignUpWithToken"]
    assert role_names(signed) == ["Guest", "Staff"]
    assert role_names(gql(box.api_url, ROLES, staff_token).json()["data"]["user"]) == ["Guest", "Staff"]
    everyone = gql(box.api_url, "{ usersList { items { email } } }", staff_token).json()["data"]["usersList"]["items"]
    assert {customer, employee, "ada@example.com"} <= {u["email"] for u in everyone}   # Staff reads every user
    own = gql(box.api_url, "{ usersList { items { email } } }", token).json()["data"]["usersList"]["items"]
    assert own == [{"email": customer}]                                               # Note Taker: itself


def test_an_outsider_is_refused_by_the_staff_profile_and_stays_absent(shop):
    box, _customers, staff = shop
    outsider, password = new_user(box, "eve")
    token = login(box, outsider, password)["id_token"]
    error = only_error(gql(box.api_url, SIGN_UP, token, {"user": {"email": outsider}, "profile": staff}))
    assert error["code"] == box.api.settings.self_signup_off_error["code"] == "NotAuthorizedError"
    assert error["details"] == {"authProfileId": box.api.settings.self_signup_off_error["message"]}
    assert only_error(gql(box.api_url, ROLES, token))["code"] == "UserNotFoundError"


def test_a_profile_refuses_the_tokens_of_another_client(shop):
    box, customers, _staff = shop
    email, password = new_user(box, "wrong-app")
    web_token = login(box, email, password)["id_token"]                 # aud: the web client, not the SPA
    error = only_error(gql(box.api_url, SIGN_UP, web_token, {"user": {"email": email}, "profile": customers}))
    assert (error["code"], error["details"]) == (
        "InvalidTokenError", {"authProfileId": "The token was not issued for this authentication profile."})


def test_without_an_auth_profile_id_the_first_profile_signs_the_user_up(shop):
    box, _customers, _staff = shop
    email, password = new_user(box, "no-id")
    signed = sign_up(box, spa_login(box, email, password), email, None)["data"]["userSignUpWithToken"]
    assert role_names(signed) == ["Guest", "Note Taker"]          # the seeded profile's role


def test_an_invited_user_needs_no_sign_up_and_grant_role_adds_a_role(shop):
    box, _customers, _staff = shop
    email, password = new_user(box, "contractor")                 # not of the staff domain
    user_id = box.add_user(email, roles=["Note Taker"], first_name="Con")
    token = login(box, email, password)["id_token"]
    user = gql(box.api_url, "{ user { id roles { items { name } } } }", token).json()["data"]["user"]
    assert user["id"] == user_id and role_names(user) == ["Guest", "Note Taker"]
    box.grant_role(email, "Staff")
    box.grant_role(email, "Staff")                                  # granted twice: still once
    assert role_names(gql(box.api_url, ROLES, token).json()["data"]["user"]) == ["Guest", "Note Taker", "Staff"]


def test_the_controls_refuse_what_a_workspace_cannot_hold(shop):
    box, _customers, _staff = shop
    before = profiles(box)
    with pytest.raises(ValueError, match="exists already"):
        box.add_role("Staff")
    with pytest.raises(ValueError, match="self_signup"):
        box.add_auth_profile("x", self_signup="invited")
    with pytest.raises(ValueError, match="email_domains"):
        box.add_auth_profile("x", self_signup="domains")
    with pytest.raises(ValueError, match="email_domains"):
        box.add_auth_profile("x", email_domains=["labnotes.example"])
    with pytest.raises(ValueError, match="unknown role"):
        box.add_auth_profile("x", roles=["Nobody"])
    assert profiles(box) == before                                    # nothing half-made
    with pytest.raises(ValueError, match="exists already"):
        box.add_user("ada@example.com")
    with pytest.raises(ValueError, match="no user"):
        box.grant_role("nobody@example.com", "Staff")


def test_settings_belong_to_one_environment(shop):
    box, customers, _staff = shop
    assert customers not in {p["id"] for p in profiles(box, "dev")}
    with pytest.raises(ValueError, match="unknown role"):
        box.add_auth_profile("Dev staff", roles=["Staff"], environment="dev")   # Staff exists in Master only
    dev_profile = box.add_auth_profile("Dev customers", roles=["Note Taker"], environment="dev")
    assert dev_profile in {p["id"] for p in profiles(box, "dev")}
    assert dev_profile not in {p["id"] for p in profiles(box)}
