"""Reproductions of the checks a client makes itself (state, nonce, at_hash, expiry, issuer, RFC 9207 iss)."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

from ..exceptions import FlowError, TokenRejected
from ..flows import exchange_code, sandbox_login, start_authorization
from ..jwks import JwksCache
from ..verify import Expectations, verify_token
from .common import ada, client_error, clock_moved, hosted_login, login, reproduces, target

if TYPE_CHECKING:
    from ..sandbox import Sandbox


def _jwks_keys(sb: "Sandbox") -> Callable[[str | None], Any]:
    return JwksCache(sb.idp_url + ".well-known/jwks.json").key_for


def _refusal(check: Callable[[], Any], refused: type[Exception], checker: str) -> dict[str, Any]:
    """Run a check that must refuse; its error in the OAuth shape the library reports."""
    try:
        check()
    except refused as error:
        return client_error(error)
    raise RuntimeError(f"{checker} accepted it: nothing to reproduce")


def _verify_error(sb: "Sandbox", token: str, audience: str, **expect: Any) -> dict[str, Any]:
    expected = Expectations(issuer=expect.pop("issuer", sb.idp_url), audience=audience, **expect)
    return _refusal(lambda: verify_token(token, _jwks_keys(sb), expected, now=sb.clock.now()), TokenRejected,
                    "verify_token")


@reproduces("client-state-mismatch")
def _state_mismatch(sb: "Sandbox") -> dict[str, Any]:
    from authlib.oauth2.rfc6749.errors import MismatchingStateException
    from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response

    _, callback = hosted_login(sb)
    return _refusal(lambda: parse_authorization_code_response(callback.url, state="state-the-app-remembers"),
                    MismatchingStateException, "Authlib")


@reproduces("client-nonce-mismatch")
def _nonce_mismatch(sb: "Sandbox") -> dict[str, Any]:
    request, callback = hosted_login(sb)
    tokens = exchange_code(target(sb), request, callback)
    return _verify_error(sb, tokens.id_token or "", sb.spa_client_id, nonce="nonce-of-another-login")


@reproduces("client-at-hash-mismatch")
def _at_hash_mismatch(sb: "Sandbox") -> dict[str, Any]:
    from authlib.oidc.core import ImplicitIDToken
    from joserfc.errors import JoseError

    request, callback = hosted_login(sb, response_type="token id_token", audience=sb.api_audience)
    nonce, answer = request.nonce, callback.params
    other_access_token = login(sb).access_token  # from another login
    claims = verify_token(answer["id_token"], _jwks_keys(sb), Expectations(
        issuer=sb.idp_url, audience=sb.spa_client_id, nonce=nonce), now=sb.clock.now())  # signature, iss, aud, exp
    id_token = ImplicitIDToken(claims, {"alg": "RS256"}, {"iss": {"values": [sb.idp_url]}},
                               {"nonce": nonce, "client_id": sb.spa_client_id, "access_token": other_access_token})
    # Authlib's OIDC checks, at_hash among them
    return _refusal(lambda: id_token.validate(now=int(sb.clock.now())), JoseError, "Authlib")


@reproduces("client-token-expired")
def _expired_in_storage(sb: "Sandbox") -> dict[str, Any]:
    stored = login(sb).id_token
    with clock_moved(sb, 36_000 + 1):
        return _verify_error(sb, stored, sb.web_client_id)


@reproduces("client-issuer-mismatch")
def _issuer_without_slash(sb: "Sandbox") -> dict[str, Any]:
    return _verify_error(sb, login(sb).id_token, sb.web_client_id, issuer=sb.idp_url.rstrip("/"))


def _sandbox_callback(sb: "Sandbox", **target_changes: Any) -> tuple[Any, Any, Any]:
    """A code+PKCE login on the sandbox through helpers.flows: (target, request, callback)."""
    lab = target(sb, **target_changes)
    request = start_authorization(lab)
    return lab, request, sandbox_login(request, *ada(sb))


def _refused_callback(lab: Any, request: Any, callback: Any) -> dict[str, Any]:
    return _refusal(lambda: exchange_code(lab, request, callback), FlowError, "exchange_code")


@reproduces("client-callback-iss-mismatch")
def _iss_mismatch(sb: "Sandbox") -> dict[str, Any]:
    lab, request, callback = _sandbox_callback(sb)
    mixed_up = dataclasses.replace(callback, params={**callback.params, "iss": "https://attacker.example/"})
    return _refused_callback(lab, request, mixed_up)


@reproduces("client-callback-iss-missing")
def _iss_missing(sb: "Sandbox") -> dict[str, Any]:
    return _refused_callback(*_sandbox_callback(sb, iss_parameter_supported=True))
