"""The sandbox GraphQL API over real HTTP: who may do what, and each error as 8base returns it."""
from __future__ import annotations

import concurrent.futures
import json
import uuid

import pytest
import requests

from helpers.sandbox import launch_sandbox
from tests.idp_driver import authorize_params, browser_login, callback_params, request_url

USER_QUERY = "{ user { id email } }"
SIGN_UP = "mutation($user: UserCreateInput!, $profile: ID) { userSignUpWithToken(user: $user, authProfileId: $profile) { id email roles { items { name } } } }"
NOT_AUTHORIZED = "You don't have permission to perform this operation"
SEED_BODY = {"data": {"user": None}, "errors": [  # 8base's answer to { user { id } }, shared/seed/forum-thread.txt
    {"message": "User is absent", "locations": [{"line": 1, "column": 3}], "path": ["user"],
     "code": "UserNotFoundError", "details": {"user": "User is absent"}}]}
SEED_ERROR = SEED_BODY["errors"][0]


def login(sandbox, email: str, password: str, scope: str = "openid profile email", audience=None) -> dict:
    """Tokens from the password grant (the web client's ID tokens are accepted by the API's profile)."""
    body = {"grant_type": "password", "client_id": sandbox.web_client_id, "client_secret": sandbox.web_client_secret,
            "username": email, "password": password, "scope": scope, "audience": audience}
    response = requests.post(sandbox.idp_url + "oauth/token", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def new_user(sandbox, prefix: str = "u") -> tuple[str, str]:
    """A fresh identity-provider user (signed up at /dbconnections/signup)."""
    email, password = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com", "long-enough-pass"
    response = requests.post(sandbox.idp_url + "dbconnections/signup", timeout=10, json={
        "client_id": sandbox.spa_client_id, "email": email, "password": password, "connection": sandbox.connection})
    assert response.status_code == 200, response.text
    return email, password


def gql(url: str, query: str, token: str | None = None, variables: dict | None = None, **headers) -> requests.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=10)


def only_error(response: requests.Response) -> dict:
    body = response.json()
    assert response.status_code == 200 and len(body["errors"]) == 1, body
    return body["errors"][0]


@pytest.fixture(scope="module")
def ada(sandbox) -> str:
    return login(sandbox, "ada@example.com", "ada-sandbox-pass")["id_token"]


# ------------------------------------------------------------------ the acceptance story
def test_user_is_absent_until_user_sign_up_with_token(sandbox):
    email, password = new_user(sandbox, "absent")
    id_token = login(sandbox, email, password)["id_token"]
    answer = gql(sandbox.api_url, "{ user { id } }", id_token)
    assert answer.status_code == 200
    assert answer.json() == SEED_BODY  # the whole body the forum thread captured from 8base
    signed_up = gql(sandbox.api_url, SIGN_UP, id_token, {"user": {"email": email}, "profile": sandbox.auth_profile_id})
    user = signed_up.json()["data"]["userSignUpWithToken"]
    assert user["email"] == email and [r["name"] for r in user["roles"]["items"]] == ["Guest", "Note Taker"]
    assert gql(sandbox.api_url, USER_QUERY, id_token).json() == {"data": {"user": {"id": user["id"], "email": email}}}


def test_every_operation_but_sign_up_is_refused_while_the_user_is_absent(sandbox):
    email, password = new_user(sandbox, "absent2")
    id_token = login(sandbox, email, password)["id_token"]
    error = only_error(gql(sandbox.api_url, "{ __typename notesList { count } }", id_token))
    assert error["code"] == "UserNotFoundError" and error["path"] == ["notesList"]
    assert gql(sandbox.api_url, "{ __typename }", id_token).json() == {"data": {"__typename": "Query"}}


def test_each_root_field_gets_its_null_and_its_error_while_the_user_is_absent(sandbox):
    email, password = new_user(sandbox, "absent3")
    id_token = login(sandbox, email, password)["id_token"]
    body = gql(sandbox.api_url, "{ user { id }\n  me: user(email: \"a@b.c\") { email } __typename }", id_token).json()
    assert body["data"] == {"user": None, "me": None, "__typename": "Query"}
    assert body["errors"] == [
        {**SEED_ERROR, "locations": [{"line": 1, "column": 3}], "path": ["user"]},
        {**SEED_ERROR, "locations": [{"line": 2, "column": 3}], "path": ["me"]}]
    # a non-null root field (notesList: NoteListResponse!) makes data null, as GraphQL's null propagation does
    body = gql(sandbox.api_url, "{ user { id } notesList { count } }", id_token).json()
    assert body["data"] is None and [e["path"] for e in body["errors"]] == [["user"], ["notesList"]]
    assert all(e["details"] == {"user": "User is absent"} for e in body["errors"])
    mutation = gql(sandbox.api_url, 'mutation { noteCreate(data: {title: "t"}) { id } }', id_token).json()
    assert mutation == {"data": None, "errors": [{**SEED_ERROR, "locations": [{"line": 1, "column": 12}],
                                                  "path": ["noteCreate"]}]}


def test_the_access_token_of_the_same_login_is_refused(sandbox):
    tokens = login(sandbox, "ada@example.com", "ada-sandbox-pass", audience=sandbox.api_audience)
    error = only_error(gql(sandbox.api_url, USER_QUERY, tokens["access_token"]))
    assert error["code"] == "InvalidTokenError" and error["message"] == "Invalid token"
    assert error["details"] == {"token": "This is an access token, but an ID token is expected here."}


def test_the_encrypted_access_token_of_a_login_without_audience_is_refused(sandbox):
    tokens = login(sandbox, "ada@example.com", "ada-sandbox-pass")
    assert tokens["access_token"].count(".") == 4  # a JWE, as current Auth0 tenants issue
    for query in (USER_QUERY, "{ __typename }"):
        error = only_error(gql(sandbox.api_url, query, tokens["access_token"]))
        assert (error["code"], error["message"]) == ("InvalidTokenError", "Invalid token")
        assert error["details"] == {"token": "The token is encrypted (a JWE): only the identity provider that issued "
                                             "it can read it."}


def test_an_older_tenants_opaque_access_token_is_neither_a_jwt_nor_an_api_token(sandbox):
    sandbox.idp.configure(userinfo_token_format="opaque")
    try:
        tokens = login(sandbox, "ada@example.com", "ada-sandbox-pass")
    finally:
        sandbox.idp.configure(userinfo_token_format="jwe")
    error = only_error(gql(sandbox.api_url, USER_QUERY, tokens["access_token"]))
    assert error["code"] == "InvalidTokenError"
    assert "neither a valid ID token nor an API token" in error["details"]["token"]


def test_an_expired_id_token_says_token_expired_exactly(sandbox, ada):
    sandbox.clock.advance(36000)
    error = only_error(gql(sandbox.api_url, USER_QUERY, ada))
    assert (error["message"], error["code"], error["details"]) == ("Token expired", "TokenExpiredError",
                                                                    {"token": "jwt expired"})


def test_a_token_from_an_unregistered_issuer_is_invalid_and_its_keys_are_never_fetched(sandbox, own_sandbox):
    foreign = login(own_sandbox, "ada@example.com", "ada-sandbox-pass")["id_token"]  # another IdP (port)
    before = set(sandbox.api.authenticator.caches())
    error = only_error(gql(sandbox.api_url, USER_QUERY, foreign))
    assert error["code"] == "InvalidTokenError"
    assert error["details"] == {"token": "The token's issuer is not the domain of any Authentication Profile of "
                                         "this workspace."}
    assert set(sandbox.api.authenticator.caches()) == before


def test_no_token_is_the_guest(sandbox):
    assert gql(sandbox.api_url, USER_QUERY).json() == {"data": {"user": None}}
    error = only_error(gql(sandbox.api_url, "{ notesList { count } }"))
    assert error == {"message": NOT_AUTHORIZED, "locations": [{"line": 1, "column": 3}], "path": ["notesList"],
                     "code": "NotAuthorizedError", "details": {"permissions": NOT_AUTHORIZED}}


def test_the_id_token_from_the_hosted_login_page_works_too(sandbox):
    params = authorize_params(sandbox.spa_client_id, sandbox.redirect_uri, scope="openid email")
    answer = callback_params(browser_login(request_url(sandbox.idp_url, params), "ada@example.com", "ada-sandbox-pass"))
    tokens = requests.post(sandbox.idp_url + "oauth/token", timeout=10, json={
        "grant_type": "authorization_code", "client_id": sandbox.spa_client_id, "code": answer["code"],
        "redirect_uri": sandbox.redirect_uri, "code_verifier": params["_verifier"]}).json()
    assert gql(sandbox.api_url, USER_QUERY, tokens["id_token"]).json()["data"]["user"]["email"] == "ada@example.com"


# ------------------------------------------------------------------ roles and permissions
def test_a_user_reads_and_updates_only_their_own_notes(sandbox, ada):
    email, password = new_user(sandbox, "writer")
    other = login(sandbox, email, password)["id_token"]
    gql(sandbox.api_url, SIGN_UP, other, {"user": {"email": email}})
    created = gql(sandbox.api_url, 'mutation { noteCreate(data: {title: "mine", body: "b"}) { id createdBy { email } } }',
                  other).json()["data"]["noteCreate"]
    assert created["createdBy"] == {"email": email}
    mine = gql(sandbox.api_url, "{ notesList { items { id title } count } }", other).json()["data"]["notesList"]
    assert mine == {"items": [{"id": created["id"], "title": "mine"}], "count": 1}
    adas = gql(sandbox.api_url, "{ notesList { items { id } } }", ada).json()["data"]["notesList"]["items"]
    assert created["id"] not in [n["id"] for n in adas] and adas
    update = 'mutation($id: ID) { noteUpdate(filter: {id: $id}, data: {title: "changed"}) { title } }'
    assert gql(sandbox.api_url, update, other, {"id": created["id"]}).json()["data"] == {"noteUpdate": {"title": "changed"}}
    refused = only_error(gql(sandbox.api_url, update, ada, {"id": created["id"]}))
    assert refused["code"] == "NotAuthorizedError" and refused["path"] == ["noteUpdate"]
    assert only_error(gql(sandbox.api_url, "query($id: ID!) { note(id: $id) { title } }", ada,
                          {"id": created["id"]}))["code"] == "NotAuthorizedError"
    deleted = gql(sandbox.api_url, "mutation($id: ID) { noteDelete(filter: {id: $id}) { success } }", other,
                  {"id": created["id"]})
    assert deleted.json()["data"] == {"noteDelete": {"success": True}}


def test_a_user_sees_only_their_own_user_record_and_permissions(sandbox, ada):
    users = gql(sandbox.api_url, "{ usersList { items { email } count } }", ada).json()["data"]["usersList"]
    assert users == {"items": [{"email": "ada@example.com"}], "count": 1}
    me = gql(sandbox.api_url, "{ user { roles { items { name } } permissions { items { resource resourceType permission } } } }",
             ada).json()["data"]["user"]
    assert [r["name"] for r in me["roles"]["items"]] == ["Guest", "Note Taker"]
    notes = next(p for p in me["permissions"]["items"] if p["resource"] == "Notes")
    assert notes["resourceType"] == "data" and notes["permission"]["read"]["filter"] == {"createdBy": {"is_self": True}}
    assert only_error(gql(sandbox.api_url, "{ rolesList { count } }", ada))["code"] == "NotAuthorizedError"


def test_field_flags_hide_a_field_from_a_role():
    box = launch_sandbox()
    try:
        db = box.api.database(box.workspace_id)
        with db._write() as conn:  # the app role may read notes, but not their body
            role = db.role_named("Note Taker")
            role.permissions["data"]["Notes"]["read"]["fields"] = {"body": False}
            conn.execute("UPDATE roles SET permissions = ? WHERE id = ?", (json.dumps(role.permissions), role.id))
        token = login(box, "ada@example.com", "ada-sandbox-pass")["id_token"]
        assert gql(box.api_url, "{ notesList { items { title } } }", token).json()["data"]["notesList"]["items"]
        body = gql(box.api_url, "{ notesList { items { title body } } }", token).json()
        assert body["errors"][0]["code"] == "NotAuthorizedError" and body["errors"][0]["path"][-1] == "body"
    finally:
        box.stop()


def test_guest_may_not_create_notes(sandbox):
    error = only_error(gql(sandbox.api_url, 'mutation { noteCreate(data: {title: "x"}) { id } }'))
    assert error["code"] == "NotAuthorizedError" and error["path"] == ["noteCreate"]
    assert gql(sandbox.api_url, 'mutation { noteCreate(data: {title: "x"}) { id } }').json()["data"] is None


def test_an_api_token_does_what_its_roles_allow(sandbox):
    admin = sandbox.api_token
    listed = gql(sandbox.api_url, "{ usersList { count } notesList { count } rolesList { items { name } } }", admin).json()
    assert listed["data"]["usersList"]["count"] >= 1 and listed["data"]["notesList"]["count"] >= 1
    assert gql(sandbox.api_url, USER_QUERY, admin).json() == {"data": {"user": None}}
    created = gql(sandbox.api_url, 'mutation { apiTokenCreate(data: {name: "reader", roles: {connect: [{name: "Guest"}]}}) '
                                   "{ name token roles { items { name } } } }", admin).json()["data"]["apiTokenCreate"]
    assert created["name"] == "reader" and created["roles"]["items"] == [{"name": "Guest"}] and len(created["token"]) > 20
    guest_token = created["token"]
    assert only_error(gql(sandbox.api_url, "{ notesList { count } }", guest_token))["code"] == "NotAuthorizedError"
    tokens = gql(sandbox.api_url, "{ apiTokensList { items { name } } }", admin).json()["data"]["apiTokensList"]["items"]
    assert {"name": "reader"} in tokens  # the value itself is shown only once, at creation
    assert only_error(gql(sandbox.api_url, "{ apiTokensList { count } }", guest_token))["code"] == "NotAuthorizedError"
    assert only_error(gql(sandbox.api_url, USER_QUERY, "not-a-real-api-token"))["code"] == "InvalidTokenError"


def test_authentication_profiles_list_shows_the_trusted_provider(sandbox):
    profiles = gql(sandbox.api_url, "{ authenticationProfilesList { items { id domain clientId selfSignUpEnabled "
                                    "roles { items { name } } } } }", sandbox.api_token).json()
    profile = profiles["data"]["authenticationProfilesList"]["items"][0]
    assert profile == {"id": sandbox.auth_profile_id, "domain": sandbox.idp_url, "clientId": sandbox.spa_client_id,
                       "selfSignUpEnabled": True, "roles": {"items": [{"name": "Note Taker"}]}}


# ------------------------------------------------------------------ addressing
def test_environments_have_their_own_users(sandbox, ada):
    dev = sandbox.api_url + "_dev"
    assert gql(dev, USER_QUERY, ada).json()["errors"][0]["code"] == "UserNotFoundError"
    by_header = gql(sandbox.api_host, USER_QUERY, ada, workspace=sandbox.workspace_id, environment="dev")
    assert by_header.json()["errors"][0]["code"] == "UserNotFoundError"
    master = gql(sandbox.api_host, USER_QUERY, ada, workspace=sandbox.workspace_id)
    assert master.json()["data"]["user"]["email"] == "ada@example.com"


def test_another_workspace_of_the_same_provider_does_not_know_the_user(sandbox, ada):
    other = sandbox.api_host + "cl0otherworkspace0000002"
    assert only_error(gql(other, USER_QUERY, ada))["code"] == "UserNotFoundError"


def test_unknown_workspace_and_environment(sandbox):
    error = only_error(gql(sandbox.api_host + "nosuchworkspace", USER_QUERY))
    assert error["code"] == "EntityNotFoundError" and error["details"] == {"workspaceId": "Workspace not found"}
    assert only_error(gql(sandbox.api_url + "_nosuchenv", USER_QUERY))["code"] == "EntityNotFoundError"
    assert only_error(gql(sandbox.api_host, USER_QUERY))["code"] == "MissingHeaderError"


def test_cors_preflight_needs_no_token(sandbox):
    response = requests.options(sandbox.api_url, timeout=10, headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "http://localhost:3000")
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_introspection_works_without_a_token(sandbox):
    body = gql(sandbox.api_url, "{ __schema { queryType { name } mutationType { name } } }").json()
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}, "mutationType": {"name": "Mutation"}}}}
    fields = gql(sandbox.api_url, '{ __type(name: "Mutation") { fields { name } } }').json()
    assert "userSignUpWithToken" in [f["name"] for f in fields["data"]["__type"]["fields"]]


@pytest.mark.parametrize("data, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"[]", "application/json", 400),
    (b'{"query": 5}', "application/json", 400),
    (b'{"query": "{ user { id } }"}', "text/plain", 415),
    (b'{"query": "{ user { "}', "application/json", 400),
    (b'{"query": "{ nosuchfield }"}', "application/json", 400),
])
def test_unreadable_requests_get_a_clean_4xx(sandbox, data, content_type, status):
    response = requests.post(sandbox.api_url, data=data, headers={"Content-Type": content_type}, timeout=10)
    assert response.status_code == status and response.json()["errors"]
    assert "Traceback" not in response.text


# ------------------------------------------------------------------ settings for what 8base leaves undocumented
def test_sign_up_rules_self_sign_up_off_domains_and_email_match(sandbox):
    db = sandbox.api.database(sandbox.workspace_id)
    email, password = new_user(sandbox, "rules")
    id_token = login(sandbox, email, password)["id_token"]
    mismatch = only_error(gql(sandbox.api_url, SIGN_UP, id_token, {"user": {"email": "someone@else.example"}}))
    assert mismatch["code"] == "ValidationError" and mismatch["path"] == ["userSignUpWithToken"]
    try:
        db.set_self_signup(sandbox.auth_profile_id, "off")
        off = only_error(gql(sandbox.api_url, SIGN_UP, id_token, {"user": {"email": email}}))
        assert off["code"] == "NotAuthorizedError"
        assert off["message"] == "Self sign-up is not allowed for this authentication profile"
        db.set_self_signup(sandbox.auth_profile_id, "domains", ("company.example",))
        assert only_error(gql(sandbox.api_url, SIGN_UP, id_token, {"user": {"email": email}}))["code"] == "NotAuthorizedError"
        db.set_self_signup(sandbox.auth_profile_id, "domains", ("example.com",))
        assert gql(sandbox.api_url, SIGN_UP, id_token, {"user": {"email": email}}).json()["data"]["userSignUpWithToken"]
    finally:
        db.set_self_signup(sandbox.auth_profile_id, "open")
    again = only_error(gql(sandbox.api_url, SIGN_UP, id_token, {"user": {"email": email}}))
    assert again["code"] == "EntityExistsError"


def test_sign_up_without_the_email_scope_explains_itself(sandbox):
    email, password = new_user(sandbox, "noemail")
    id_token = login(sandbox, email, password, scope="openid profile")["id_token"]
    assert only_error(gql(sandbox.api_url, USER_QUERY, id_token))["code"] == "UserNotFoundError"
    error = only_error(gql(sandbox.api_url, SIGN_UP, id_token, {"user": {"email": email}}))
    assert error["code"] == "ValidationError" and error["message"] == "The ID token has no email claim"


def test_email_case_and_audience_settings():
    box = launch_sandbox(email_case_sensitive=False, check_audience=False)
    try:
        db = box.api.database(box.workspace_id)
        db.update_user("cl0labuserada00000000001", email="Ada@Example.com")
        token = login(box, "ada@example.com", "ada-sandbox-pass")["id_token"]
        assert gql(box.api_url, USER_QUERY, token).json()["data"]["user"]["email"] == "Ada@Example.com"
        box.api.configure(email_case_sensitive=True)
        assert only_error(gql(box.api_url, USER_QUERY, token))["code"] == "UserNotFoundError"
    finally:
        box.stop()


def test_the_audience_check_setting(sandbox):
    box = launch_sandbox()
    try:
        db = box.api.database(box.workspace_id)
        with db._write() as conn:  # a profile that names another client
            conn.execute("UPDATE auth_profiles SET client_id = 'another-client', audiences = '[]'")
        token = login(box, "ada@example.com", "ada-sandbox-pass")["id_token"]
        error = only_error(gql(box.api_url, USER_QUERY, token))
        assert error["code"] == "InvalidTokenError" and error["details"]["token"] == "The token was issued for another audience."
        box.api.configure(check_audience=False)
        assert gql(box.api_url, USER_QUERY, token).json()["data"]["user"]["email"] == "ada@example.com"
    finally:
        box.stop()


# ------------------------------------------------------------------ JWKS: fetched once, refetched on rotation
def test_two_hundred_requests_cause_exactly_one_jwks_fetch():
    box = launch_sandbox()
    try:
        token = login(box, "ada@example.com", "ada-sandbox-pass")["id_token"]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: gql(box.api_url, USER_QUERY, token).status_code, range(200)))
        assert answers == [200] * 200
        (cache,) = box.api.authenticator.caches().values()
        assert cache.stats().fetches == 1
    finally:
        box.stop()


def test_a_rotated_key_is_accepted_after_one_refetch():
    box = launch_sandbox(jwks_cooldown=0)
    try:
        first = login(box, "ada@example.com", "ada-sandbox-pass")["id_token"]
        assert gql(box.api_url, USER_QUERY, first).status_code == 200
        (cache,) = box.api.authenticator.caches().values()
        box.rotate_keys()  # the next key was published with the first fetch: no refetch needed
        second = login(box, "ada@example.com", "ada-sandbox-pass")["id_token"]
        assert gql(box.api_url, USER_QUERY, second).json()["data"]["user"]["email"] == "ada@example.com"
        assert cache.stats().fetches == 1
        box.rotate_keys()  # now signing with a key the cache has never seen
        third = login(box, "ada@example.com", "ada-sandbox-pass")["id_token"]
        assert gql(box.api_url, USER_QUERY, third).json()["data"]["user"]["email"] == "ada@example.com"
        assert cache.stats().fetches == 2
        assert gql(box.api_url, USER_QUERY, second).json()["data"]["user"]["email"] == "ada@example.com"  # previous key
        gone = only_error(gql(box.api_url, USER_QUERY, first))  # two rotations ago: no longer published
        assert gone["code"] == "InvalidTokenError" and gone["details"]["token"].startswith("The token's signature")
    finally:
        box.stop()


# ------------------------------------------------------------------ state
def test_concurrent_note_creation_loses_and_duplicates_nothing(sandbox):
    token = sandbox.api_token
    create = 'mutation($t: String!) { noteCreate(data: {title: $t}) { id } }'
    titles = [f"concurrent-{uuid.uuid4().hex[:6]}-{i}" for i in range(80)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda t: gql(sandbox.api_url, create, token, {"t": t}).json()["data"]["noteCreate"]["id"],
                            titles))
    assert len(set(ids)) == 80
    stored = [n.title for n in sandbox.api.database(sandbox.workspace_id).notes()]
    assert sorted(t for t in stored if t in titles) == sorted(titles)


def test_a_data_dir_keeps_users_tokens_and_notes_across_restarts(tmp_path):
    first = launch_sandbox(data_dir=tmp_path)
    try:
        email, password = new_user(first, "kept")
        token = login(first, email, password)["id_token"]
        gql(first.api_url, SIGN_UP, token, {"user": {"email": email}})
        gql(first.api_url, 'mutation { noteCreate(data: {title: "kept note"}) { id } }', token)
        api_token = gql(first.api_url, 'mutation { apiTokenCreate(data: {name: "kept", roles: {connect: [{name: "Administrator"}]}}) '
                                       "{ token } }", first.api_token).json()["data"]["apiTokenCreate"]["token"]
    finally:
        first.stop()
    assert list(tmp_path.glob("*.sqlite3"))
    second = launch_sandbox(data_dir=tmp_path)
    try:
        users = gql(second.api_url, "{ usersList { items { email } } notesList { items { title } } }", api_token).json()
        assert {"email": email} in users["data"]["usersList"]["items"]
        assert {"title": "kept note"} in users["data"]["notesList"]["items"]
    finally:
        second.stop()


@pytest.mark.parametrize("query, variables", [
    ("query($x: Int) { usersList(first: $x) { count } }", {"x": "<script>alert(1)</script>"}),
    ('{ user(email: 5<script>) { id } }', {}),
    ('{ notesList(filter: {title: {equals: 7}}) { count } }', {}),
])
def test_graphql_errors_never_repeat_the_callers_values(sandbox, query, variables):
    response = gql(sandbox.api_url, query, sandbox.api_token, variables)
    assert response.status_code in (200, 400) and response.json()["errors"]
    assert "<script>" not in response.text and "alert(1)" not in response.text and "Traceback" not in response.text
