"""What the doctor learns over HTTP: the API's answer to the operation, and the profiles and users an admin
API token may read; plus the small text helpers every check uses."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from ..graphql import GraphQLCallError, GraphQLClient
from ..jwks import discovered_jwks_uri
from ..verify import issuer_of_profile_domain

ACCEPTED_CODES = ("UserNotFoundError", "NotAuthorizedError")  # errors the API sends only after verifying the token
PAGE = 500
MAX_USERS = 10_000
TIMEOUT = 10.0
PROFILES_QUERY = ("query DoctorProfiles { authenticationProfilesList { items { id name domain clientId "
                  "selfSignUpEnabled selfSignUpEmailDomains } } }")
USERS_QUERY = ("query DoctorUsers($first: Int, $skip: Int) { usersList(first: $first, skip: $skip) "
               "{ count items { id email firstName lastName roles { items { name } } } } }")


@dataclass(frozen=True)
class Answer:
    """What an endpoint answered: its ``data``, a GraphQL error, or a failure to get a GraphQL answer at all."""

    data: dict[str, Any] | None = None
    error: GraphQLCallError | None = None
    failure: str | None = None

    @property
    def code(self) -> str | None:
        return self.error.code if self.error is not None else None

    @property
    def accepted_token(self) -> bool:
        """The API verified the token (it answered data, or an error it sends only after verification)."""
        return self.failure is None and (self.error is None or self.code in ACCEPTED_CODES)

    @property
    def user_found(self) -> bool | None:
        """Did the API find a user for the token? ``None`` when its answer does not tell."""
        if self.failure is not None:
            return None
        if self.error is None or self.code == "NotAuthorizedError":
            return True
        return False if self.code == "UserNotFoundError" else None

    @property
    def details_text(self) -> str:
        if self.error is None:
            return ""
        return " ".join(str(v) for v in self.error.details.values())

    def summary(self) -> str:
        if self.failure is not None:
            return self.failure
        if self.error is None:
            return "data for " + (", ".join(self.data or {}) or "nothing")
        text = f"{self.code or 'a GraphQL error'} \"{short(self.error.message, 160)}\""
        if self.error.details:
            text += " (details: " + "; ".join(f"{k}: {short(v, 160)}" for k, v in self.error.details.items()) + ")"
        return text


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    domain: str
    client_id: str
    self_signup_enabled: bool | None
    email_domains: tuple[str, ...]

    @property
    def issuer(self) -> str:
        """The issuer a profile's domain stands for (:func:`helpers.verify.issuer_of_profile_domain`)."""
        return issuer_of_profile_domain(self.domain)

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.id})"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    first_name: str | None
    last_name: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Read:
    """Records read with an admin token, or why they could not be read."""

    items: tuple[Any, ...] | None
    why_not: str = ""
    truncated: bool = False


@dataclass(frozen=True)
class Place:
    """An endpoint to look for the user in (from ``also_check``)."""

    url: str
    api_token: str | None
    workspace: str | None
    environment: str

    @property
    def label(self) -> str:
        return f"workspace {self.workspace} environment {self.environment} ({self.url})"



def call(url: str, token: str | None, query: str, variables: dict[str, Any] | None = None) -> Answer:
    """Send one operation; a GraphQL error or a failure to reach the API becomes part of the answer."""
    try:
        return Answer(data=GraphQLClient(url, token, timeout=TIMEOUT).execute(query, variables))
    except GraphQLCallError as error:
        return Answer(error=error)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        return Answer(failure=f"{url} answered HTTP {status}, not a GraphQL answer")
    except requests.RequestException as exc:
        return Answer(failure=f"{url} could not be reached ({type(exc).__name__})")
    except Exception as exc:  # an invalid URL, a body that is not JSON...
        return Answer(failure=f"{url} gave no usable answer ({type(exc).__name__})")


def why_unread(answer: Answer, url: str, what: str) -> str:
    if answer.failure is not None:
        return answer.failure
    code = answer.code
    if code == "InvalidTokenError":
        return f"the api_token is not valid at {url} ({answer.summary()})"
    if code == "NotAuthorizedError":
        return f"the api_token's roles may not read {what} at {url} (it needs workspace administration)"
    return f"{url} answered {answer.summary()}"


def read_profiles(url: str, api_token: str | None) -> Read:
    if not api_token:
        return Read(None, "no api_token was given (authenticationProfilesList needs workspace administration)")
    answer = call(url, api_token, PROFILES_QUERY)
    if answer.data is None:
        return Read(None, why_unread(answer, url, "authenticationProfilesList"))
    items = ((answer.data.get("authenticationProfilesList") or {}).get("items")) or []
    return Read(tuple(Profile(str(p.get("id")), str(p.get("name")), str(p.get("domain") or ""),
                                str(p.get("clientId") or ""), p.get("selfSignUpEnabled"),
                                tuple(str(d) for d in p.get("selfSignUpEmailDomains") or () if d))
                       for p in items if isinstance(p, dict)))


def read_users(url: str, api_token: str | None) -> Read:
    if not api_token:
        return Read(None, "no api_token was given (usersList needs an API token that may read every user)")
    users: list[User] = []
    while len(users) < MAX_USERS:
        answer = call(url, api_token, USERS_QUERY, {"first": PAGE, "skip": len(users)})
        if answer.data is None:
            return Read(None, why_unread(answer, url, "usersList"))
        page = answer.data.get("usersList") or {}
        items = [u for u in page.get("items") or [] if isinstance(u, dict)]
        users += [User(str(u.get("id")), str(u.get("email") or ""), u.get("firstName"), u.get("lastName"),
                        tuple(r.get("name", "") for r in ((u.get("roles") or {}).get("items") or [])))
                  for u in items]
        if not items or len(users) >= (page.get("count") or 0):
            return Read(tuple(users))
    return Read(tuple(users), truncated=True)


def address_of(url: str) -> tuple[str | None, str]:
    """(workspace id, environment) of ``https://host/<workspaceId>[_<environment>]`` (Master by default)."""
    try:
        segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    except ValueError:
        segment = ""
    if not segment:
        return None, "Master"
    workspace, _, environment = segment.partition("_")
    return workspace, environment or "Master"


def place_of(item: str | tuple[str, str | None], api_token: str | None) -> Place:
    if isinstance(item, str):
        url, token = item, api_token
    else:
        url, token = str(item[0]), (item[1] if len(item) > 1 else api_token)
    workspace, environment = address_of(url)
    return Place(url, token, workspace, environment)


def jwks_uri_of(issuer: str) -> str:
    """The issuer's ``jwks_uri`` from its discovery document; Auth0's ``<issuer>.well-known/jwks.json`` when the
    issuer publishes no usable document."""
    return discovered_jwks_uri(issuer) or (issuer if issuer.endswith("/") else issuer + "/") + ".well-known/jwks.json"


def loose(issuer: str) -> str:
    return issuer.split("://", 1)[-1].rstrip("/").lower()


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else ([] if value is None else [value])


def short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"

