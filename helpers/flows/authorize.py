"""The authorization request: PKCE, ``/authorize`` URLs, and the checks a callback must pass (state, iss, error)."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from jwt.utils import base64url_encode

from ..config import ConfigError, Target
from .records import AuthorizationRequest, FlowError, HttpExchange


def pkce_challenge(verifier: str) -> str:
    """The S256 ``code_challenge`` of a ``code_verifier``: BASE64URL(SHA256(verifier)) (RFC 7636 §4.2)."""
    return base64url_encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``code_verifier`` and its S256 ``code_challenge`` (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(32)  # 32 random bytes -> 43 base64url characters
    return verifier, pkce_challenge(verifier)


def start_authorization(target: Target, *, client_id: str | None = None, redirect_uri: str | None = None,
                        scope: str = "openid profile email", audience: str | None = None,
                        response_type: str = "code", response_mode: str | None = None,
                        connection: str | None = None, prompt: str | None = None,
                        claims: str | None = None) -> AuthorizationRequest:
    """Build the ``/authorize`` URL (SPA client by default) with a fresh state, nonce and PKCE pair.

    ``audience`` goes out as the target's ``audience_parameter`` (Auth0's ``audience`` or RFC 8707's
    ``resource``); ``claims`` is OIDC Core §5.5's request parameter (JSON text).
    """
    client_id = client_id or required(target, "spa_client_id", "SPA_CLIENT_ID")
    redirect_uri = redirect_uri or required(target, "redirect_uri", "REDIRECT_URI")
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier = challenge = None
    params = {"response_type": response_type, "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": scope, "state": state, "nonce": nonce}
    if "code" in response_type.split():
        verifier, challenge = pkce_pair()
        params.update(code_challenge=challenge, code_challenge_method="S256")
    optional = {target.audience_parameter: audience, "response_mode": response_mode, "connection": connection,
                "prompt": prompt, "claims": claims}
    params.update({k: v for k, v in optional.items() if v is not None})
    separator = "&" if "?" in target.authorization_endpoint else "?"
    return AuthorizationRequest(
        url=target.authorization_endpoint + separator + urlencode(params), client_id=client_id,
        redirect_uri=redirect_uri, response_type=response_type, response_mode=response_mode, scope=scope,
        state=state, nonce=nonce, code_verifier=verifier, code_challenge=challenge, audience=audience)


def parse_callback(url: str) -> dict[str, str]:
    """The parameters of a callback URL: from its fragment if it has one, else from its query."""
    parts = urlsplit(url)
    return dict(parse_qsl(parts.fragment or parts.query, keep_blank_values=True))


def raise_for_callback_error(params: dict[str, str], exchange: HttpExchange | None) -> None:
    """Raise the provider's error when the callback carries one (``error``, ``error_description``)."""
    if "error" in params:
        status = exchange.status if exchange else None
        raise FlowError(status, params["error"], params.get("error_description", ""), exchange)


def check_issuer(target: Target, params: dict[str, str], exchange: HttpExchange | None = None) -> None:
    """The mix-up defence of RFC 9207 §2.4: a callback's ``iss`` must be the issuer the request went to.

    An ``iss`` that is present is always compared; a missing one is refused only when the provider's
    discovery says ``authorization_response_iss_parameter_supported`` (then every response carries it).
    Auth0 does not advertise it (the sandbox neither); node-oidc-provider does. Error responses are
    checked too: an attacker's error is as much a mix-up as its code.
    """
    if "iss" in params:
        if params["iss"] != target.issuer:
            raise FlowError(None, "iss_mismatch", f"The callback's iss is not {target.issuer!r}, where this "
                            "login was sent: the response may come from another "
                            "provider (a mix-up attack, RFC 9207), so it is refused.", exchange)
    elif target.iss_parameter_supported:
        raise FlowError(None, "iss_missing", "The callback carries no iss although the provider's discovery "
                        "document promises one (authorization_response_iss_parameter_supported, RFC 9207): "
                        "it may come from another provider, so it is refused.", exchange)


def check_state(request: AuthorizationRequest, params: dict[str, str], exchange: HttpExchange | None) -> None:
    """Refuse a callback whose ``state`` is not the request's (RFC 6749 §10.12, CSRF)."""
    if params.get("state") != request.state:
        raise FlowError(None, "state_mismatch", "The callback's state is not the one this app sent to /authorize: "
                        "the response may be forged (CSRF), so it is refused.", exchange)


def required(target: Target, attribute: str, setting: str) -> Any:
    """The target's ``attribute``, or a :class:`ConfigError` naming the ``setting`` that provides it."""
    value = getattr(target, attribute)
    if not value:
        raise ConfigError(f"This flow needs {setting}, which the {target.kind} target does not have.", (setting,))
    return value

