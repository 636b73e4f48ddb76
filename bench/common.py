"""What several benchmarks share: run sizes, a sandbox, the demo user's tokens."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from helpers.sandbox import Sandbox
from helpers.sandbox.idp.seed import PASSWORD_REALM_GRANT


@dataclass(frozen=True)
class Size:
    """How much to run: ``full`` by default, ``quick`` with ``--quick``."""

    quick: bool = False

    def pick(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full


def password_realm_body(sandbox: Sandbox, scope: str = "openid profile email") -> dict[str, str]:
    """The JSON body of ``helpers.flows.password_realm`` for the first demo user (web client)."""
    user = sandbox.users[0]
    return {"client_id": sandbox.web_client_id, "client_secret": sandbox.web_client_secret,
            "username": user["email"], "password": user["password"], "realm": sandbox.connection,
            "scope": scope, "grant_type": PASSWORD_REALM_GRANT}


def id_token(sandbox: Sandbox, session: requests.Session | None = None) -> str:
    """An ID token of the first demo user (``aud`` = the web client, an audience of the API's profile)."""
    poster = session or requests
    response = poster.post(sandbox.idp_url + "oauth/token", json=password_realm_body(sandbox), timeout=10)
    response.raise_for_status()
    return response.json()["id_token"]


def check(condition: bool, message: str) -> None:
    """A benchmark that measures the wrong thing is worse than none: refuse to go on."""
    if not condition:
        raise RuntimeError(message)
