"""The doctor for one login on any OpenID Connect provider: what this provider does differently, and why.

:func:`examine_login` looks at what a login brought back (the callback, the token response, /userinfo,
the discovery document and the JWKS) and explains each way it differs from what Auth0 (and the
sandbox) do, citing the standard that allows it: an opaque access token, email only in /userinfo, a
callback with or without ``iss``, optional claims that are absent, ``aud`` as a string or a list, JWKs
without ``alg``/``use``. A finding is ``problem`` only when something is really wrong (a nonce that was
sent and did not come back, an ``iss`` that a provider promised and did not send, no email anywhere).
"""
from __future__ import annotations

import json
from typing import Any

import requests

from .config import ConfigError, Target, discover
from .doctor import Diagnosis, Finding
from .flows import AuthorizationRequest, Callback, FlowError, TokenSet, userinfo
from .tokens import NotAJwt, audiences, decode_parts, kind_of

__all__ = ["CHECKS", "EMAIL_IN_ID_TOKEN", "examine_login"]

EMAIL_IN_ID_TOKEN = json.dumps({"id_token": {"email": None, "email_verified": None}})
"""The ``claims`` request parameter (OpenID Connect Core §5.5) that asks for email in the ID token itself."""
CHECKS: dict[str, str] = {
    "callback_iss": "Did the callback name its issuer (RFC 9207)?",
    "access_token": "Can the app read the access token, and who is it for?",
    "email": "Where is the user's email: ID token, /userinfo, or nowhere?",
    "optional_claims": "Which optional ID token claims are absent, and does it matter?",
    "audience_form": "Is aud a string or a list?",
    "jwks": "Do the published keys name their alg and use?",
}
TIMEOUT = 10.0


def examine_login(target: Target, tokens: TokenSet, request: AuthorizationRequest | None = None,
                  callback: Callback | None = None) -> Diagnosis:
    """One finding per :data:`CHECKS` entry for this login on ``target``; asks /userinfo, discovery and the JWKS."""
    try:
        document: dict[str, Any] = discover(target.issuer)
    except ConfigError:
        document = {}
    id_claims = _payload(tokens.id_token)
    findings = [_callback_iss(target, callback), _access_token(tokens.access_token),
                _email(target, tokens.access_token, id_claims, document), _optional_claims(id_claims, request),
                _audience_form(id_claims), _jwks(target)]
    return Diagnosis(target.issuer, findings)


def _payload(token: str | None) -> dict[str, Any]:
    try:
        return decode_parts(token or "").payload
    except NotAJwt:
        return {}


def _callback_iss(target: Target, callback: Callback | None) -> Finding:
    check = "callback_iss"
    if callback is None:
        return Finding(check, "Not examined", "skipped", "No callback was given.", "Pass the login's callback.")
    if "iss" in callback.params:
        same = callback.params["iss"] == target.issuer
        return Finding(check, "The callback names its issuer" if same else "The callback names another issuer",
                       "ok" if same else "problem",
                       f"iss {'is' if same else 'is not'} {target.issuer} (RFC 9207 §2); helpers.flows compares it "
                       "before using the code.", "Nothing to do." if same else "Refuse the response: a mix-up.")
    if target.iss_parameter_supported:
        return Finding(check, "The callback lacks the iss its provider promised", "problem",
                       "Discovery says authorization_response_iss_parameter_supported, yet the callback has no iss "
                       "(RFC 9207 §2.4: refuse it).", "Refuse the response and log in again.")
    return Finding(check, "No iss in the callback, and none promised", "ok",
                   "The provider does not advertise authorization_response_iss_parameter_supported (Auth0 does not), "
                   "so the callback carries no iss; the mix-up defence then rests on one redirect URI per provider "
                   "(RFC 9207 §1, lesson 07).", "Nothing to do; with several providers, give each its own redirect URI.")


def _access_token(token: str) -> Finding:
    kind = kind_of(token)
    if kind in ("opaque",) or kind.startswith("encrypted"):
        return Finding("access_token", f"The access token is {kind}", "warning",
                       f"{len(token)} characters, not a JWT the app can read ({kind}). RFC 6749 §1.4 leaves an access "
                       "token's format to the provider: asked for no API, Auth0 and standard providers alike issue one "
                       "only the provider itself reads (its /userinfo).",
                       "Never decode it in the app. For a token an API can verify, name the API: Auth0's audience, or "
                       "RFC 8707's resource (AUDIENCE_PARAMETER) where the provider issues RFC 9068 JWT access tokens. "
                       "An 8base-style API wants the ID token anyway.")
    claims = _payload(token)
    return Finding("access_token", "The access token is a JWT", "ok",
                   f"A JWT {kind} for {', '.join(audiences(claims)) or '(no aud)'}"
                   f" (typ {decode_parts(token).header.get('typ', '(none)')}).", "Nothing to do.")


def _email(target: Target, access_token: str, id_claims: dict[str, Any], document: dict[str, Any]) -> Finding:
    if "email" in id_claims:
        return Finding("email", "The ID token carries the email", "ok", f"email {id_claims['email']}.",
                       "Nothing to do.")
    try:
        profile = userinfo(target, access_token) if target.userinfo_endpoint else {}
    except (FlowError, requests.RequestException, ValueError):
        profile = {}
    supported = document.get("claims_parameter_supported") is True
    ask = ("ask for it in the ID token with the claims request parameter (OpenID Connect Core §5.5: "
           f"claims={EMAIL_IN_ID_TOKEN}; discovery says claims_parameter_supported: {str(supported).lower()}), "
           "or turn on the provider's setting that puts scope claims into the ID token (node-oidc-provider: "
           "conformIdTokenClaims false; Keycloak: the mapper's 'Add to ID token')")
    if "email" in profile:
        return Finding("email", "The email is only in /userinfo", "warning",
                       "The ID token has no email, /userinfo has it: the provider follows OpenID Connect Core §5.4, "
                       "which returns the scope's claims from /userinfo when an access token is issued too (Auth0 "
                       "puts them in the ID token). An 8base-style API finds users by the ID token's email.",
                       f"For such an API, {ask}.")
    return Finding("email", "No email anywhere", "problem",
                   "Neither the ID token nor /userinfo has an email: the scope did not ask for it, or the user has none.",
                   f"Ask for scope 'openid profile email'; then, if it stays in /userinfo, {ask}.")


def _optional_claims(claims: dict[str, Any], request: AuthorizationRequest | None) -> Finding:
    if not claims:
        return Finding("optional_claims", "Not examined", "skipped", "No readable ID token.", "Log in with scope openid.")
    notes, status = [], "ok"
    sent_nonce = bool(request and request.nonce)
    if "nonce" not in claims:
        if sent_nonce:
            status = "problem"
            notes.append("nonce was sent and did not come back: refuse the token (OIDC Core §3.1.3.7 step 11)")
        else:
            notes.append("no nonce, none was sent (it is echoed only when sent)")
    for name, why in (("sid", "sent for session logout only (OIDC Front-/Back-Channel Logout)"),
                      ("at_hash", "optional in the code flow (OIDC Core §3.1.3.6)"),
                      ("auth_time", "required only when max_age was asked (OIDC Core §2)"),
                      ("azp", "needed only with several audiences (OIDC Core §2)")):
        if name not in claims:
            notes.append(f"no {name}: {why}")
    return Finding("optional_claims", "Optional claims: absent is allowed" if status == "ok" else "A sent nonce is missing",
                   status, "; ".join(notes) + "." if notes else "Every claim Auth0 sends is present.",
                   "Read optional claims with .get(); never index them." if status == "ok"
                   else "Refuse the ID token and log in again.")


def _audience_form(claims: dict[str, Any]) -> Finding:
    aud = claims.get("aud")
    form = "a list" if isinstance(aud, list) else "a string"
    return Finding("audience_form", f"aud is {form}", "ok",
                   f"aud is {form} ({', '.join(audiences(claims)) or 'absent'}); RFC 7519 §4.1.3 allows either.",
                   "Compare with helpers.tokens.audiences(claims), which gives a list in both cases.")


def _jwks(target: Target) -> Finding:
    try:
        keys = requests.get(target.jwks_uri, timeout=TIMEOUT).json().get("keys", [])
    except (requests.RequestException, ValueError, AttributeError):
        return Finding("jwks", "The JWKS could not be read", "unknown", f"GET {target.jwks_uri} failed.",
                       "Check the provider's jwks_uri.")
    missing = sorted({name for key in keys for name in ("alg", "use") if name not in key})
    if not missing:
        return Finding("jwks", "Every key names alg and use", "ok", f"{len(keys)} key(s).", "Nothing to do.")
    return Finding("jwks", f"Keys without {' and '.join(missing)}", "ok",
                   f"{len(keys)} key(s); {', '.join(missing)} absent: RFC 7517 §4.2/§4.4 make both optional.",
                   "Choose the key by kid and take the algorithm from your own allow-list, never from the key.")
