"""Which endpoint takes which token: send any token to the GraphQL API or to ``/userinfo`` and keep a short,
comparable record of the answer.

Nothing here reads the token: a JWT, an opaque string or an encrypted (JWE) access token is sent as it is, and
only the endpoint's answer decides. The API is called as the forum's ``fetch`` does (``POST`` with
``Authorization: Bearer``, RFC 6750 §2.1: https://www.rfc-editor.org/rfc/rfc6750#section-2.1); ``/userinfo``
as OpenID Connect Core §5.3 says (https://openid.net/specs/openid-connect-core-1_0.html#UserInfo).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import requests

from .config import Target
from .flows import FlowError, userinfo
from .graphql import GraphQLClient

API = "GraphQL API"
USERINFO = "/userinfo"
ENDPOINTS = (API, USERINFO)
"""The two endpoints a login's tokens can be sent to, by the names the lessons use."""

DEFAULT_QUERY = "{ user { id email } }"


@dataclass(frozen=True)
class EndpointAnswer:
    """What one endpoint said to one token: its HTTP status (None: no answer), whether it accepted the token,
    and one line: the data it returned, or its error code and message."""

    endpoint: str
    status: int | None
    accepted: bool
    summary: str

    def __str__(self) -> str:
        verdict = "accepted" if self.accepted else "refused"
        status = "no answer" if self.status is None else f"HTTP {self.status}"
        return f"{self.endpoint}: {verdict} ({status}): {self.summary}"


def send_token(target: Target, endpoint: str, token: str, query: str = DEFAULT_QUERY) -> EndpointAnswer:
    """Send ``token`` as a bearer token to ``endpoint`` (one of :data:`ENDPOINTS`) and record the answer."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}: choose one of {', '.join(ENDPOINTS)}")
    try:
        if endpoint == API:
            return _api_answer(GraphQLClient(target.api_url, token).post(query))
        return _userinfo_answer(target, token)
    except requests.RequestException as error:
        return EndpointAnswer(endpoint, None, False, f"the request failed ({type(error).__name__})")


def _api_answer(response: requests.Response) -> EndpointAnswer:
    """The API's answer: accepted when it returned data without errors (8base answers errors in the body)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not ({"data", "errors"} & set(body)):
        return EndpointAnswer(API, response.status_code, False, "not a GraphQL answer")
    if body.get("errors"):
        error = body["errors"][0]
        details = error.get("details") or {}
        text = " ".join(str(v) for v in details.values()) if isinstance(details, dict) and details else ""
        return EndpointAnswer(API, response.status_code, False,
                              f"{error.get('code', 'error')}: {text or error.get('message', '')}".strip())
    return EndpointAnswer(API, response.status_code, True, json.dumps(body["data"]))


def _userinfo_answer(target: Target, token: str) -> EndpointAnswer:
    """``/userinfo``'s answer: whose profile came back, or the refusal (error and description)."""
    try:
        profile = userinfo(target, token)
    except FlowError as error:
        return EndpointAnswer(USERINFO, error.status, False, f"{error.error}: {error.description}")
    who = profile.get("email") or profile.get("sub", "?")
    return EndpointAnswer(USERINFO, 200, True, f"the profile of {who}")


def answers_table(answers: dict[tuple[str, str], EndpointAnswer]) -> pd.DataFrame:
    """One row per (token name, endpoint): the verdict, the HTTP status and the one-line answer."""
    return pd.DataFrame([{"token": label, "sent to": endpoint, "verdict": "accepted" if a.accepted else "refused",
                          "HTTP": "-" if a.status is None else str(a.status), "answer": a.summary}
                         for (label, endpoint), a in answers.items()])
