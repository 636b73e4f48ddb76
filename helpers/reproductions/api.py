"""Reproductions of the GraphQL API's errors (tokens, headers, sign-up, requests it cannot read) and of CORS."""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import requests
from jwt.utils import base64url_decode, base64url_encode

from .common import (TIMEOUT, ada, claims_for, clock_moved, craft, free_port, gql, login, new_user,
                     raw_post, recipe, reproduces, self_signup, throwaway)

if TYPE_CHECKING:
    from ..sandbox import Sandbox

USER_QUERY = "{ user { id email } }"
SIGN_UP = ("mutation($user: UserCreateInput!, $profile: ID) "
           "{ userSignUpWithToken(user: $user, authProfileId: $profile) { id email } }")


@reproduces("api-token-expired")
def _expired_id_token(sb: "Sandbox") -> requests.Response:
    id_token = login(sb).id_token
    with clock_moved(sb, 36_000 + 1):
        return gql(sb.api_url, USER_QUERY, id_token)


recipe("api-token-access-token", lambda sb: gql(sb.api_url, USER_QUERY,
                                                  login(sb, audience=sb.api_audience).access_token))
recipe("api-token-malformed", lambda sb: gql(sb.api_url, USER_QUERY, "abc.def.ghi"))
recipe("api-token-not-api-token", lambda sb: gql(sb.api_url, USER_QUERY, "not-a-real-api-token"))
recipe("api-token-encrypted", lambda sb: gql(sb.api_url, USER_QUERY, login(sb).access_token))  # no audience


@reproduces("api-token-bad-signature")
def _tampered(sb: "Sandbox") -> requests.Response:
    header, payload, signature = login(sb).id_token.split(".")
    claims = json.loads(base64url_decode(payload))
    claims["name"] = "Someone Else"
    forged = ".".join([header, base64url_encode(json.dumps(claims).encode()).decode(), signature])
    return gql(sb.api_url, USER_QUERY, forged)


@reproduces("api-token-unknown-issuer")
def _foreign_issuer(sb: "Sandbox") -> requests.Response:
    with throwaway() as other:  # another identity provider (another port: another issuer)
        foreign = login(other).id_token
    return gql(sb.api_url, USER_QUERY, foreign)


@reproduces("api-token-wrong-audience")
def _other_audience(sb: "Sandbox") -> requests.Response:
    def profile_for_another_client(api: dict[str, Any]) -> None:
        profile = api["workspaces"][0]["authentication_profiles"][0]
        profile.update(client_id="another-client", audiences=[])
    with throwaway(api=profile_for_another_client) as box:
        return gql(box.api_url, USER_QUERY, login(box).id_token)


@reproduces("api-token-not-yet-valid")
def _from_the_future(sb: "Sandbox") -> requests.Response:
    with clock_moved(sb, 3600):
        id_token = login(sb).id_token
    return gql(sb.api_url, USER_QUERY, id_token)


recipe("api-token-alg-not-allowed", lambda sb: gql(sb.api_url, USER_QUERY, craft(
    claims_for(sb), {"alg": "HS256", "typ": "JWT"}, hashlib.sha256(b"guessed secret").digest())))
recipe("api-token-bad-header", lambda sb: gql(sb.api_url, USER_QUERY, craft(
    claims_for(sb), {"alg": "RS256", "typ": "JWT", "kid": "catalog", "crit": ["exp"]})))
recipe("api-token-too-large", lambda sb: gql(sb.api_url, USER_QUERY, "x" * 9000))
recipe("api-token-bad-scheme", lambda sb: requests.post(
    sb.api_url, json={"query": USER_QUERY}, headers={"Authorization": "Token abc"}, timeout=TIMEOUT))


@reproduces("api-token-email-unverified")
def _unverified_email(sb: "Sandbox") -> requests.Response:
    email, password = new_user(sb, "unverified")  # new database users have email_verified false
    id_token = login(sb, email, password).id_token
    with sb.api_settings(require_email_verified=True):
        return gql(sb.api_url, USER_QUERY, id_token)


@reproduces("api-signup-profile-mismatch")
def _sign_up_with_another_profile(sb: "Sandbox") -> requests.Response:
    def second_profile(api: dict[str, Any]) -> None:
        profiles = api["workspaces"][0]["authentication_profiles"]
        profiles.append({**profiles[0], "id": "cl0catalogotherprofile01", "name": "Another application",
                         "client_id": "another-client", "audiences": []})
    with throwaway(api=second_profile) as box:
        email, password = new_user(box, "profile")
        return gql(box.api_url, SIGN_UP, login(box, email, password).id_token,
                    {"user": {"email": email}, "profile": "cl0catalogotherprofile01"})


def _with_authorization(sb: "Sandbox", value: str, url: str | None = None) -> requests.Response:
    return requests.post(url or sb.api_url, json={"query": USER_QUERY}, headers={"Authorization": value},
                         timeout=TIMEOUT)


recipe("api-header-no-token", lambda sb: _with_authorization(sb, "Bearer "))
recipe("api-header-several-tokens", lambda sb: _with_authorization(sb, "Bearer one two"))
recipe("api-header-repeated", lambda sb: raw_post(
    sb.api_url, [("Content-Type", "application/json"), ("Authorization", f"Bearer {sb.api_token}"),
                 ("Authorization", f"Bearer {sb.api_token}")], json.dumps({"query": USER_QUERY}).encode()))
recipe("api-header-token-in-url", lambda sb: _with_authorization(sb, f"Bearer {sb.api_token}",
                                                                  sb.api_url + "?access_token=x"))
recipe("api-header-tab", lambda sb: _with_authorization(sb, f"Bearer\t{sb.api_token}"))


@reproduces("api-user-absent")
def _absent(sb: "Sandbox") -> requests.Response:
    email, password = new_user(sb, "absent")
    return gql(sb.api_url, USER_QUERY, login(sb, email, password).id_token)


recipe("api-not-authorized", lambda sb: gql(sb.api_url, "{ notesList { count } }"))


@reproduces("api-self-signup-off")
def _self_signup_off(sb: "Sandbox") -> requests.Response:
    email, password = new_user(sb, "selfsignup")
    id_token = login(sb, email, password).id_token
    with self_signup(sb, "off"):
        return gql(sb.api_url, SIGN_UP, id_token, {"user": {"email": email}, "profile": sb.auth_profile_id})


recipe("api-workspace-not-found", lambda sb: gql(sb.api_host + "nosuchworkspace", USER_QUERY))
recipe("api-environment-not-found", lambda sb: gql(sb.api_url + "_nosuchenv", USER_QUERY))


@reproduces("api-auth-profile-not-found")
def _unknown_profile(sb: "Sandbox") -> requests.Response:
    email, password = new_user(sb, "noprofile")
    return gql(sb.api_url, SIGN_UP, login(sb, email, password).id_token,
                {"user": {"email": email}, "profile": "nosuchprofile"})


recipe("api-record-not-found", lambda sb: gql(
    sb.api_url, 'mutation { noteUpdate(filter: {id: "nosuchnote"}, data: {title: "t"}) { id } }', sb.api_token))
recipe("api-user-exists", lambda sb: gql(sb.api_url, SIGN_UP, login(sb).id_token,
                                           {"user": {"email": ada(sb)[0]}}))


@reproduces("api-signup-no-email")
def _no_email_claim(sb: "Sandbox") -> requests.Response:
    email, password = new_user(sb, "noemail")
    id_token = login(sb, email, password, scope="openid profile").id_token
    return gql(sb.api_url, SIGN_UP, id_token, {"user": {"email": email}})


@reproduces("api-signup-email-mismatch")
def _other_email(sb: "Sandbox") -> requests.Response:
    email, password = new_user(sb, "mismatch")
    return gql(sb.api_url, SIGN_UP, login(sb, email, password).id_token,
                {"user": {"email": "someone.else@example.com"}})


recipe("api-unknown-role", lambda sb: gql(
    sb.api_url, 'mutation { apiTokenCreate(data: {name: "catalog", roles: {connect: [{name: "No such role"}]}}) '
                "{ id } }", sb.api_token))
recipe("api-workspace-header-missing", lambda sb: gql(sb.api_host, USER_QUERY))
recipe("api-get-not-allowed", lambda sb: requests.get(sb.api_url, timeout=TIMEOUT))
recipe("api-method-not-allowed", lambda sb: requests.put(sb.api_url, json={"query": USER_QUERY}, timeout=TIMEOUT))
recipe("api-endpoint-not-found", lambda sb: gql(sb.api_url + "/extra", USER_QUERY))
recipe("api-operation-name-not-string", lambda sb: _api_body(sb, b'{"query": "{ __typename }", "operationName": ["x"]}'))
recipe("api-operation-name-unknown", lambda sb: _api_body(sb, b'{"query": "query A { __typename }", "operationName": "B"}'))
recipe("api-content-type", lambda sb: requests.post(sb.api_url, data=json.dumps({"query": USER_QUERY}),
                                                     headers={"Content-Type": "text/plain"}, timeout=TIMEOUT))


def _api_body(sb: "Sandbox", data: bytes) -> requests.Response:
    return requests.post(sb.api_url, data=data, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)


recipe("api-body-not-json", lambda sb: _api_body(sb, b"{not json"))
recipe("api-batched", lambda sb: _api_body(sb, b"[]"))
recipe("api-query-too-deep", lambda sb: gql(
    sb.api_url, "{ " + "notesList { items { createdBy { roles { items { users { items { " * 3 + "id" + " } } } } } } }" * 3 + " }"))
recipe("api-query-too-many-aliases", lambda sb: gql(
    sb.api_url, "{ " + " ".join(f"a{i}: __typename" for i in range(sb.api_setting("max_aliases") + 1)) + " }"))
recipe("api-query-too-long", lambda sb: gql(
    sb.api_url, "{ " + "__typename " * (sb.api_setting("max_query_tokens") + 1) + "}"))
recipe("api-no-query", lambda sb: _api_body(sb, b'{"query": 5}'))
recipe("api-variables-not-object", lambda sb: _api_body(sb, b'{"query": "{ __typename }", "variables": "{}"}'))
recipe("api-body-too-large", lambda sb: _api_body(
    sb, json.dumps({"query": "{ __typename }", "variables": {"padding": "x" * sb.api_setting("max_body_bytes")}})
    .encode()))


@reproduces("api-jwks-unavailable")
def _keys_out_of_reach(sb: "Sandbox") -> requests.Response:
    down = f"http://localhost:{free_port()}/"  # nothing listens there: the provider is down

    def profile_for_a_provider_that_is_down(api: dict[str, Any]) -> None:
        profiles = api["workspaces"][0]["authentication_profiles"]
        profiles.append({**profiles[0], "id": "cl0catalogdownprofile001", "domain": down})
    with throwaway(api=profile_for_a_provider_that_is_down) as box:
        return gql(box.api_url, USER_QUERY, craft(claims_for(box, issuer=down)))


@reproduces("api-note-title-null")
def _null_title(sb: "Sandbox") -> requests.Response:
    created = gql(sb.api_url, 'mutation { noteCreate(data: {title: "catalog"}) { id } }', sb.api_token)
    note_id = created.json()["data"]["noteCreate"]["id"]
    update = "mutation($id: ID) { noteUpdate(filter: {id: $id}, data: {title: null}) { id } }"
    answer = gql(sb.api_url, update, sb.api_token, {"id": note_id})
    gql(sb.api_url, "mutation($id: ID) { noteDelete(filter: {id: $id}) { success } }", sb.api_token, {"id": note_id})
    return answer


recipe("api-graphql-invalid-query", lambda sb: gql(sb.api_url, "{ nosuchfield }"))
recipe("api-graphql-invalid-variables", lambda sb: gql(sb.api_url, "query($x: Int) { usersList(first: $x) { count } }",
                                                         sb.api_token, {"x": "E"}))
recipe("api-graphql-syntax", lambda sb: gql(sb.api_url, "{ __typename"))


# -- CORS: a browser's preflight from an origin the sandbox does not allow (issue 7, browser) ---------
def _preflight(url: str, headers: str, origin: str = "https://evil.example") -> requests.Response:
    return requests.options(url, timeout=TIMEOUT, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers})


def _app_origin(sb: "Sandbox") -> str:
    return sb.sample_app_url.rstrip("/")  # an origin both the identity provider and the API allow


recipe("idp-token-cors-origin-not-allowed", lambda sb: _preflight(sb.idp_url + "oauth/token", "content-type"))
recipe("api-cors-origin-not-allowed", lambda sb: _preflight(sb.api_url, "authorization, content-type"))
recipe("idp-token-cors-request-not-allowed", lambda sb: _preflight(
    sb.idp_url + "oauth/token", "content-type, x-made-up-header", _app_origin(sb)))
recipe("api-cors-request-not-allowed", lambda sb: _preflight(
    sb.api_url, "authorization, x-made-up-header", _app_origin(sb)))
