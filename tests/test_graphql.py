"""The GraphQL client against the sandbox API: data, one exception class per 8base code, curl and fetch."""
from __future__ import annotations

import base64
import json
import re
import secrets
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from helpers.graphql import (EntityExistsError, EntityNotFoundError, ExternalServiceError, GraphQLCallError,
                             GraphQLClient, InternalError, InvalidArgumentError, InvalidTokenError, MissingHeaderError,
                             NotAuthorizedError, TokenExpiredError, UserNotFoundError, ValidationError, as_curl,
                             as_fetch, error_class)
from helpers.sandbox import launch_sandbox
from helpers.sandbox.api.seed import DEFAULT_API_FILE

USER_QUERY = "{ user { id email } }"
SIGN_UP = "mutation($user: UserCreateInput!) { userSignUpWithToken(user: $user) { id email } }"
CODES = ("TokenExpiredError", "InvalidTokenError", "UserNotFoundError", "NotAuthorizedError", "EntityNotFoundError",
         "EntityExistsError", "ValidationError", "MissingHeaderError", "InvalidArgumentError", "ExternalServiceError",
         "InternalError")


def login(sandbox, email: str = "ada@example.com", password: str = "ada-sandbox-pass") -> dict:
    response = requests.post(sandbox.idp_url + "oauth/token", timeout=10, json={
        "grant_type": "password", "client_id": sandbox.web_client_id, "client_secret": sandbox.web_client_secret,
        "username": email, "password": password, "scope": "openid profile email"})
    assert response.status_code == 200, response.text
    return response.json()


def new_user(sandbox) -> tuple[str, str]:
    email, password = f"client-{secrets.token_hex(5)}@example.com", "long-enough-pass"
    response = requests.post(sandbox.idp_url + "dbconnections/signup", timeout=10, json={
        "client_id": sandbox.spa_client_id, "email": email, "password": password, "connection": sandbox.connection})
    assert response.status_code == 200, response.text
    return email, password


@pytest.fixture(scope="module")
def ada(sandbox) -> str:
    return login(sandbox)["id_token"]


@pytest.fixture
def admin(sandbox) -> GraphQLClient:
    return GraphQLClient(sandbox.api_url, sandbox.api_token)


# ------------------------------------------------------------------ success, raw answers
def test_execute_returns_the_data(sandbox, ada):
    data = GraphQLClient(sandbox.api_url, ada).execute(USER_QUERY)
    assert data["user"]["email"] == "ada@example.com"


def test_execute_passes_variables(admin):
    data = admin.execute("query($n: Int) { usersList(first: $n) { items { email } count } }", {"n": 1})
    assert len(data["usersList"]["items"]) == 1 and data["usersList"]["count"] >= 1


def test_post_returns_the_raw_response_and_never_raises(sandbox):
    answer = GraphQLClient(sandbox.api_url).post("{ notesList { count } }")
    assert isinstance(answer, requests.Response) and answer.status_code == 200
    assert answer.json()["errors"][0]["code"] == "NotAuthorizedError"
    assert GraphQLClient(sandbox.api_url, "one two").post(USER_QUERY).status_code == 400  # a 4xx: still no raise


def test_with_token_keeps_everything_else(sandbox, ada):
    client = GraphQLClient(sandbox.api_host, workspace=sandbox.workspace_id, environment="dev", timeout=3)
    other = client.with_token(ada)
    assert (other.url, other.workspace, other.environment, other.timeout, other.token) == (
        sandbox.api_host, sandbox.workspace_id, "dev", 3, ada)
    assert client.token is None and "Authorization" not in client.headers
    assert other.with_token(None).headers == client.headers
    assert ada not in repr(other)  # a notebook that prints the client does not print the token


def test_workspace_and_environment_headers_address_the_api(sandbox, ada):
    on_host = GraphQLClient(sandbox.api_host, ada, workspace=sandbox.workspace_id)
    assert on_host.headers == {"Content-Type": "application/json", "Authorization": f"Bearer {ada}",
                               "workspace": sandbox.workspace_id}
    answer = on_host.post(USER_QUERY)
    assert answer.request.headers["workspace"] == sandbox.workspace_id
    assert on_host.execute(USER_QUERY)["user"]["email"] == "ada@example.com"
    dev = GraphQLClient(sandbox.api_host, ada, workspace=sandbox.workspace_id, environment="dev")
    assert dev.post(USER_QUERY).request.headers["environment"] == "dev"
    with pytest.raises(UserNotFoundError):  # Ada is signed up in Master only
        dev.execute(USER_QUERY)


# ------------------------------------------------------------------ one exception class per code
def test_error_class_maps_every_8base_code_and_falls_back():
    for code in CODES:
        cls = error_class(code)
        assert cls.__name__ == code and issubclass(cls, GraphQLCallError) and cls is not GraphQLCallError
    assert error_class("BillingPlanLimitError") is GraphQLCallError
    assert error_class(None) is GraphQLCallError
    assert issubclass(GraphQLCallError, Exception)


def check(raised: pytest.ExceptionInfo, cls: type, status: int, message: str | None = None) -> GraphQLCallError:
    """The evidence every raised error carries: code, message, details, path, body and response."""
    error = raised.value
    assert type(error) is cls and error.code == cls.__name__
    assert isinstance(error.response, requests.Response) and error.response.status_code == status == error.status
    first = error.response.json()["errors"][0]
    assert error.body == error.response.json() and error.errors == error.body["errors"]
    assert (error.message, error.details, error.path) == (first["message"], first.get("details", {}), first.get("path"))
    if message is not None:
        assert error.message == message
    assert error.code in str(error) and error.message in str(error)
    assert error.explain().code == error.code
    return error


def test_token_expired_error(sandbox, ada):
    sandbox.clock.advance(36_001)
    try:
        with pytest.raises(TokenExpiredError) as raised:
            GraphQLClient(sandbox.api_url, ada).execute(USER_QUERY)
    finally:
        sandbox.clock.advance(-36_001)
    error = check(raised, TokenExpiredError, 200, "Token expired")
    assert error.details == {"token": "jwt expired"} and error.path == ["user"]
    assert error.explain().id == "api-token-expired"


def test_invalid_token_error_with_200_and_with_400(sandbox):
    with pytest.raises(InvalidTokenError) as raised:
        GraphQLClient(sandbox.api_url, "abc.def.ghi").execute(USER_QUERY)
    error = check(raised, InvalidTokenError, 200, "Invalid token")
    assert error.details["token"].startswith("The token is not a well-formed")
    with pytest.raises(InvalidTokenError) as raised:  # a 4xx with a GraphQL-shaped body raises the same way
        GraphQLClient(sandbox.api_url, "one two").execute(USER_QUERY)
    error = check(raised, InvalidTokenError, 400, "Invalid authorization header")
    assert error.explain().id == "api-header-several-tokens"


def test_user_not_found_error(sandbox):
    email, password = new_user(sandbox)
    with pytest.raises(UserNotFoundError) as raised:
        GraphQLClient(sandbox.api_url, login(sandbox, email, password)["id_token"]).execute(USER_QUERY)
    error = check(raised, UserNotFoundError, 200, "User is absent")
    assert error.path == ["user"] and error.body["data"] == {"user": None}
    assert error.details == {"user": "User is absent"} and error.explain().id == "api-user-absent"


def test_not_authorized_error(sandbox):
    with pytest.raises(NotAuthorizedError) as raised:
        GraphQLClient(sandbox.api_url).execute("{ notesList { count } }")
    error = check(raised, NotAuthorizedError, 200, "You don't have permission to perform this operation")
    assert error.details == {"permissions": error.message}


def test_entity_not_found_error(sandbox, admin):
    with pytest.raises(EntityNotFoundError) as raised:
        GraphQLClient(sandbox.api_host, workspace="nosuchworkspace").execute(USER_QUERY)
    assert check(raised, EntityNotFoundError, 200, "Workspace not found").details == {"workspaceId": "Workspace not found"}
    with pytest.raises(EntityNotFoundError) as raised:
        admin.execute('mutation { noteDelete(filter: {id: "nosuchnote"}) { success } }')
    error = check(raised, EntityNotFoundError, 200, "Record not found")
    assert error.body["data"] == {"noteDelete": None}  # partial data stays readable on the exception


def test_entity_exists_error(sandbox, ada):
    with pytest.raises(EntityExistsError) as raised:
        GraphQLClient(sandbox.api_url, ada).execute(SIGN_UP, {"user": {"email": "ada@example.com"}})
    assert check(raised, EntityExistsError, 200).path == ["userSignUpWithToken"]


def test_validation_error(admin):
    with pytest.raises(ValidationError) as raised:
        admin.execute('mutation { apiTokenCreate(data: {name: "t", roles: {connect: [{name: "No such role"}]}}) { id } }')
    check(raised, ValidationError, 200, "Unknown role")


def test_missing_header_error(sandbox):
    with pytest.raises(MissingHeaderError) as raised:
        GraphQLClient(sandbox.api_host).execute(USER_QUERY)
    check(raised, MissingHeaderError, 200, "Workspace is not specified")


def test_invalid_argument_error_on_a_413(sandbox, admin):
    padding = "x" * sandbox.api.settings.max_body_bytes
    with pytest.raises(InvalidArgumentError) as raised:
        admin.execute("{ __typename }", {"padding": padding})
    check(raised, InvalidArgumentError, 413, "The request body is too large")


def test_a_null_title_is_a_validation_error(admin):
    note = admin.execute('mutation { noteCreate(data: {title: "client test"}) { id } }')["noteCreate"]["id"]
    try:
        with pytest.raises(ValidationError) as raised:
            admin.execute("mutation($id: ID) { noteUpdate(filter: {id: $id}, data: {title: null}) { id } }", {"id": note})
        check(raised, ValidationError, 200, "A note needs a title")
    finally:
        admin.execute("mutation($id: ID) { noteDelete(filter: {id: $id}) { success } }", {"id": note})


def test_external_service_error_when_the_jwks_cannot_be_fetched(tmp_path):
    with socket.socket() as probe:  # a port where nothing listens: the provider is down
        probe.bind(("localhost", 0))
        down = f"http://localhost:{probe.getsockname()[1]}/"
    seed = json.loads(Path(DEFAULT_API_FILE).read_text(encoding="utf-8"))
    profiles = seed["workspaces"][0]["authentication_profiles"]
    profiles.append({**profiles[0], "id": "cl0downprofile0000000001", "domain": down})
    (tmp_path / "api.json").write_text(json.dumps(seed), encoding="utf-8")
    box = launch_sandbox(api_seed_path=tmp_path / "api.json")
    try:
        def part(value: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
        token = ".".join([part({"alg": "RS256", "typ": "JWT", "kid": "k1"}),
                          part({"iss": down, "sub": "auth0|x", "aud": box.web_client_id, "iat": 1, "exp": 2}), "c2ln"])
        with pytest.raises(ExternalServiceError) as raised:
            GraphQLClient(box.api_url, token).execute(USER_QUERY)
        error = check(raised, ExternalServiceError, 200)
        assert error.explain().id == "api-jwks-unavailable"
    finally:
        box.stop()


def test_graphql_validation_errors_carry_a_code_too(sandbox):
    with pytest.raises(InvalidArgumentError) as raised:
        GraphQLClient(sandbox.api_url).execute("{ nosuchfield }")
    error = raised.value
    assert error.code == "InvalidArgumentError" and error.status == 400
    assert error.explain().id == "api-graphql-invalid-query"


def test_errors_without_a_code_raise_the_base_class():
    error = GraphQLCallError.from_error({"message": "Cannot query field 'x' on type 'Query'."})  # another server's
    assert type(error) is GraphQLCallError and error.code is None


def test_an_answer_that_is_not_graphql_raises_http_error(sandbox):
    with pytest.raises(requests.HTTPError):
        GraphQLClient(sandbox.idp_url + "no/such/path").execute(USER_QUERY)


# ------------------------------------------------------------------ curl and fetch
TRICKY = {"t": "it's a \"quoted\" $HOME `date` \\ back\nslash ü ' && echo pwned"}
TITLE_QUERY = "query Q($t: String!) { notesList(filter: {title: {equals: $t}}) { count items { title } } }"


@pytest.fixture
def tricky_note(admin):
    note = admin.execute("mutation($t: String!) { noteCreate(data: {title: $t}) { id } }", TRICKY)["noteCreate"]["id"]
    yield note
    admin.execute("mutation($id: ID) { noteDelete(filter: {id: $id}) { success } }", {"id": note})


def test_as_curl_quotes_every_argument(sandbox):
    command = as_curl(sandbox.api_url, TITLE_QUERY, TRICKY, sandbox.api_token)
    words = shlex.split(command.replace(" \\\n  ", " "))
    assert words[:5] == ["curl", "-sS", "-X", "POST", sandbox.api_url]
    assert "Authorization: Bearer " + sandbox.api_token in words and "Content-Type: application/json" in words
    body = words[words.index("--data-raw") + 1]
    assert json.loads(body) == {"query": TITLE_QUERY, "variables": TRICKY}
    guest = as_curl(sandbox.api_url, "{ __typename }")
    assert "Authorization" not in guest
    assert json.loads(shlex.split(guest.replace(" \\\n  ", " "))[-1]) == {"query": "{ __typename }", "variables": {}}
    addressed = GraphQLClient(sandbox.api_host, "t0k", workspace="ws1", environment="dev").as_curl("{ __typename }")
    assert "-H workspace: ws1" in addressed.replace("'", "") and "environment: dev" in addressed


def test_as_curl_runs_in_a_shell_and_gets_the_same_answer(sandbox, admin, tricky_note):
    assert shutil.which("curl"), "curl is needed to run the generated command"
    command = as_curl(sandbox.api_url, TITLE_QUERY, TRICKY, sandbox.api_token)
    ran = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0, ran.stderr
    expected = admin.post(TITLE_QUERY, TRICKY).json()
    assert json.loads(ran.stdout) == expected
    assert expected["data"]["notesList"] == {"count": 1, "items": [{"title": TRICKY["t"]}]}


def test_as_fetch_writes_javascript_with_json_literals(sandbox, admin, tricky_note):
    code = as_fetch(sandbox.api_url, TITLE_QUERY, TRICKY, sandbox.api_token)
    url = re.match(r'fetch\((".*?"), \{', code).group(1)
    assert json.loads(url) == sandbox.api_url
    assert 'method: "POST"' in code
    block = re.search(r"headers: \{\n(.*?)\n  \},", code, re.S).group(1)
    headers = json.loads("{" + block.strip().rstrip(",") + "}")
    assert headers == {"Content-Type": "application/json", "Authorization": f"Bearer {sandbox.api_token}"}
    body = re.search(r"body: JSON\.stringify\((.*)\),\n\}\)", code, re.S).group(1)
    assert json.loads(body) == {"query": TITLE_QUERY, "variables": TRICKY}
    assert "response.json()" in code
    node = shutil.which("node")
    if node:  # where Node 18+ is installed, the snippet also runs and prints the same data
        ran = subprocess.run([node, "-e", code], capture_output=True, text=True, timeout=30)
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout) == admin.execute(TITLE_QUERY, TRICKY)
