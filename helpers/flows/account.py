"""The user's other endpoints: ``/userinfo``, the logout URL and Auth0's sign-up."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import requests

from ..config import ConfigError, Target
from .authorize import required
from .grants import error_from
from .records import TIMEOUT, FlowError, HttpExchange


# -------------------------------------------------------------------- other endpoints
def userinfo(target: Target, access_token: str) -> dict[str, Any]:
    """The user's claims from ``/userinfo`` for an access token."""
    url = required(target, "userinfo_endpoint", "a userinfo_endpoint in the discovery document")
    response = requests.get(url, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)
    exchange = HttpExchange.from_response(response)
    if response.status_code == 401:
        challenge = dict(re.findall(r'(\w+)="([^"]*)"', response.headers.get("www-authenticate", "")))
        raise FlowError(401, "invalid_token", challenge.get("error_description", "The access token was refused."),
                        exchange)
    if response.status_code != 200:
        raise error_from(response, exchange)
    return response.json()


def logout_url(target: Target, return_to: str, client_id: str | None = None) -> str:
    """Where to send the browser to end the session and come back to ``return_to``."""
    endpoint = required(target, "logout_endpoint", "a logout endpoint (end_session_endpoint)")
    client_id = client_id or required(target, "spa_client_id", "SPA_CLIENT_ID")
    if target.kind == "oidc":  # OpenID Connect RP-Initiated Logout 1.0
        params = {"client_id": client_id, "post_logout_redirect_uri": return_to}
    else:  # Auth0's /v2/logout
        params = {"returnTo": return_to, "client_id": client_id}
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def sign_up(target: Target, email: str, password: str, **profile: Any) -> dict[str, Any]:
    """Create a database user with Auth0's ``/dbconnections/signup`` (profile fields go in the body)."""
    if target.kind == "oidc":
        raise ConfigError("Sign-up through /dbconnections/signup is Auth0's API; a generic OIDC provider has none.")
    body = {"client_id": required(target, "spa_client_id", "SPA_CLIENT_ID"), "email": email, "password": password,
            "connection": target.connection, **profile}
    response = requests.post(target.issuer + "dbconnections/signup", json=body, timeout=TIMEOUT)
    exchange = HttpExchange.from_response(response)
    if response.status_code != 200:
        raise error_from(response, exchange)
    return response.json()

