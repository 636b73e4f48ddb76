"""The token endpoint's grants (code, password-realm, client credentials, refresh, implicit) and its errors."""
from __future__ import annotations

import json
from typing import Any

import requests

from ..config import Target
from .authorize import check_issuer, check_state, raise_for_callback_error, required, start_authorization
from .browser import sandbox_login
from .login_page import LoginPage
from .records import TIMEOUT, AuthorizationRequest, Callback, FlowError, HttpExchange, TokenSet

PASSWORD_REALM_GRANT = "http://auth0.com/oauth/grant-type/password-realm"


# -------------------------------------------------------------------- token endpoint grants
def exchange_code(target: Target, request: AuthorizationRequest, callback: Callback,
                  client_secret: str | None = None) -> TokenSet:
    """Trade the callback's authorization code (and the PKCE verifier) for tokens."""
    last = callback.exchanges[-1] if callback.exchanges else None
    check_issuer(target, callback.params, last)
    raise_for_callback_error(callback.params, last)
    check_state(request, callback.params, last)
    code = callback.params.get("code")
    if not code:
        raise FlowError(None, "missing_code", "The callback carries no code: was this an implicit request?", last)
    body = {"grant_type": "authorization_code", "client_id": request.client_id, "code": code,
            "redirect_uri": request.redirect_uri}
    if request.code_verifier:
        body["code_verifier"] = request.code_verifier
    if request.audience and target.audience_parameter == "resource":  # RFC 8707 §2.2: name it again at /token
        body["resource"] = request.audience
    if client_secret:
        body["client_secret"] = client_secret
    return _token_request(target, data=body)


def password_realm(target: Target, email: str, password: str, *, scope: str = "openid profile email",
                   audience: str | None = None, realm: str | None = None) -> TokenSet:
    """Auth0's password-realm grant with the web client (a JSON body, as auth0-python's ``GetToken.login``)."""
    body = password_realm_body(required(target, "web_client_id", "WEB_CLIENT_ID"),
                               required(target, "web_client_secret", "WEB_CLIENT_SECRET"), email, password,
                               realm or target.connection, scope=scope, audience=audience)
    return _token_request(target, json_body=body)


def password_realm_body(client_id: str, client_secret: str, email: str, password: str, realm: str, *,
                        scope: str = "openid profile email", audience: str | None = None) -> dict[str, str]:
    """The JSON body of Auth0's password-realm grant (the one password login; the bench sends it too)."""
    body = {"client_id": client_id, "client_secret": client_secret, "username": email, "password": password,
            "realm": realm, "scope": scope, "audience": audience, "grant_type": PASSWORD_REALM_GRANT}
    return {k: v for k, v in body.items() if v is not None}


def client_credentials(target: Target, audience: str | None = None) -> TokenSet:
    """A machine-to-machine token for an API (M2M client, secret sent with HTTP Basic)."""
    client_id = required(target, "m2m_client_id", "M2M_CLIENT_ID")
    secret = required(target, "m2m_client_secret", "M2M_CLIENT_SECRET")
    body = {"grant_type": "client_credentials",
            target.audience_parameter: audience or required(target, "audience", "API_AUDIENCE")}
    return _token_request(target, data=body, auth=(client_id, secret))


def refresh(target: Target, refresh_token: str, *, client_id: str | None = None, scope: str | None = None) -> TokenSet:
    """New tokens for a refresh token; SPA client by default (the web client's secret is sent for it)."""
    client_id = client_id or required(target, "spa_client_id", "SPA_CLIENT_ID")
    body = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    if scope:
        body["scope"] = scope
    if client_id == target.web_client_id and target.web_client_secret:
        body["client_secret"] = target.web_client_secret
    return _token_request(target, data=body)


def implicit_login(target: Target, email: str, password: str, *, response_type: str = "token id_token",
                   scope: str = "openid profile email") -> tuple[AuthorizationRequest, Callback]:
    """The implicit flow on the sandbox: tokens come back in the callback's fragment."""
    request = start_authorization(target, response_type=response_type, scope=scope)
    callback = sandbox_login(request, email, password)
    check_state(request, callback.params, callback.exchanges[-1])
    return request, callback



# -------------------------------------------------------------------- plumbing: token requests and errors
def _token_request(target: Target, data: dict[str, str] | None = None, json_body: dict[str, Any] | None = None,
                   auth: tuple[str, str] | None = None) -> TokenSet:
    response = requests.post(target.token_endpoint, data=data, json=json_body, auth=auth, timeout=TIMEOUT)
    exchange = HttpExchange.from_response(response)
    if response.status_code != 200:
        raise error_from(response, exchange)
    body = _json(response)
    if not isinstance(body, dict) or "access_token" not in body:
        raise FlowError(response.status_code, "invalid_response", "The token endpoint answered no access_token.",
                        exchange)
    expires_in = body.get("expires_in")
    return TokenSet(access_token=body["access_token"], token_type=body.get("token_type", "Bearer"),
                    expires_in=int(expires_in) if expires_in is not None else None, id_token=body.get("id_token"),
                    refresh_token=body.get("refresh_token"), scope=body.get("scope"), raw=body, exchange=exchange)


def error_from_response(response: requests.Response) -> FlowError:
    """What an error answer says (OAuth JSON, a /dbconnections error, an error page), as a :class:`FlowError`."""
    return error_from(response, HttpExchange.from_response(response))


def error_from(response: requests.Response, exchange: HttpExchange) -> FlowError:
    """A FlowError from an error answer: OAuth JSON, a /dbconnections error, an error page or anything else."""
    body = _json(response)
    if isinstance(body, dict) and "error" in body:
        return FlowError(response.status_code, str(body["error"]), str(body.get("error_description", "")), exchange)
    if isinstance(body, dict) and "code" in body:
        description = body.get("description")
        if not isinstance(description, str):  # e.g. PasswordStrengthError: {"rules": [...]}
            description = str(body.get("message") or body.get("policy") or json.dumps(description))
        if body.get("policy") and body.get("message"):
            description = f"{body['message']}: {body['policy']}"
        return FlowError(response.status_code, str(body["code"]), description, exchange)
    page = LoginPage.parse(response, exchange)
    if page.error_code:
        return FlowError(response.status_code, page.error_code, page.error_description, exchange)
    return FlowError(response.status_code, f"http_{response.status_code}", response.text[:200].strip(), exchange)



def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None

