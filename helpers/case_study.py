"""The desk of lesson 06 (the case study *User is absent*): new people logged in, signed up in the API, the
app's one call, and the doctor consulted as support would; each section's answer and diagnosis are kept for
the case file."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .config import Target
from .doctor import Diagnosis, diagnose
from .flows import TokenSet, exchange_code, sandbox_login, sign_up, start_authorization
from .graphql import GraphQLCallError, GraphQLClient
from .tokens import decode_parts

SIGN_UP = """mutation SignUp($user: UserCreateInput!) {
  userSignUpWithToken(user: $user) { id email roles { items { name } } }
}"""
NEW_ID = re.compile(r"\bc[a-z0-9]{24}\b")
"""Ids of new records (25 characters): different at every run, so printed as ``<new id>``."""
PASSWORD = "case-study-pass"
"""The password of every new person of the case study."""


def mask(text: str) -> str:
    """The text with new record ids replaced by ``<new id>``."""
    return NEW_ID.sub("<new id>", text)


class CaseStudy:
    """The functions every section of lesson 06 uses, on one target; ``now`` is the sandbox clock's reading."""

    def __init__(self, target: Target, now: Callable[[], float], password: str = PASSWORD) -> None:
        self.target, self.now, self.password = target, now, password
        self.symptom: dict[str, str] = {}        # section -> the API's answer ("data" or an error code)
        self.verdict: dict[str, Diagnosis] = {}  # section -> the doctor's diagnosis

    def log_in(self, email: str, password: str | None = None, **options: Any) -> TokenSet:
        """Tokens from the hosted login page (code + PKCE, SPA client); options such as scope or audience."""
        request = start_authorization(self.target, **options)
        return exchange_code(self.target, request, sandbox_login(request, email, password or self.password))

    def new_person(self, email: str, **profile: Any) -> str:
        """A new user at the identity provider (Auth0's /dbconnections/signup), logged in: the ID token."""
        sign_up(self.target, email, self.password, **profile)
        return self.log_in(email).id_token

    def sign_up_in_api(self, id_token: str, endpoint: str | None = None) -> str:
        """userSignUpWithToken with the token's email and names; print the new record, return its id."""
        claims = decode_parts(id_token).payload
        user = {"email": claims.get("email", ""), "firstName": claims.get("given_name"),
                "lastName": claims.get("family_name")}
        client = GraphQLClient(endpoint or self.target.api_url, id_token)
        created = client.execute(SIGN_UP, {"user": {k: v for k, v in user.items() if v is not None}})
        record = created["userSignUpWithToken"]
        roles = ", ".join(role["name"] for role in record["roles"]["items"])
        print(f"signed up at {client.url}: {record['email']} (roles {roles})")
        return record["id"]

    def ask(self, id_token: str, endpoint: str | None = None, *, section: str | None = None) -> None:
        """The app's call ``{ user { email } }`` with the token as a bearer: print the data or the error's code
        and message; with ``section``, record the answer for the case file."""
        try:
            data = GraphQLClient(endpoint or self.target.api_url, id_token).execute("{ user { email } }")
            answer = "data"
            print("data:", data)
        except GraphQLCallError as error:
            answer = error.code or "error"
            print(f"{error.code}: {error.message}")
        if section:
            self.symptom[section] = answer

    def consult(self, token: str, endpoint: str | None = None, **options: Any) -> Diagnosis:
        """Run the doctor as support would (the target's Administrator API token, the sandbox's clock); print its
        headline, the first problem's check id and its evidence."""
        options.setdefault("api_token", self.target.api_token)
        diagnosis = diagnose(token, endpoint or self.target.api_url, now=self.now(), **options)
        print(mask(diagnosis.headline()))
        if diagnosis.first_problem is not None:
            print("first problem:", diagnosis.first_problem.check)
            print("evidence:", mask(diagnosis.first_problem.evidence))
        return diagnosis
