"""Checks 1-7: the token itself (a JWT? which kind? signed by whom, for whom, when, with an email?).

Each check takes the :class:`~helpers.doctor.facts.Facts` and returns its :class:`Finding`.
"""
from __future__ import annotations

from typing import Any

from ..jwe import protected_header
from ..jwks import JwksCache
from ..tokens import readable_time
from ..verify import REASONS, Expectations, TokenRejected, verify_token
from .facts import NEED_ADMIN, Facts, build_finding
from .reads import as_list, jwks_uri_of, loose, short
from .report import Finding

ACCESS_TYPES = ("at+jwt", "application/at+jwt")
JWE_VERDICT = ("an access token issued without an audience: encrypted, only the identity provider can read it; "
               "send the ID token")


# ---------------------------------------------------------------------- 1-7: the token
def check_jwt(facts: Facts) -> Finding:
    note = " (the pasted value began with 'Bearer ', which the doctor removed)" if facts.had_bearer else ""
    if facts.parts is not None:
        names = ", ".join(facts.claims) or "none"
        return build_finding("jwt", "ok", "A JWT",
                             f"A signed JWT{note}: alg {short(facts.header.get('alg'))}, kid "
                             f"{short(facts.header.get('kid'))}, typ {short(facts.header.get('typ', '(none)'))};"
                             f" claims: {names}.", "Nothing to do.")
    if not facts.token:
        return build_finding("jwt", "problem", "No token", "The token is empty.",
                             "Paste the value the app sends after 'Authorization: Bearer '.")
    dots = facts.token.count(".")
    shape = f"{len(facts.token)} characters, {dots + 1} dot-separated part{'s' if dots else ''}"
    answer = facts.answer
    encrypted = protected_header(facts.token)
    if encrypted is not None:  # Auth0's access token for a login without an audience (helpers/jwe.py)
        header = ", ".join(f"{k} {short(encrypted.get(k))}" for k in ("alg", "enc", "iss") if k in encrypted)
        return build_finding("jwt", "problem", "An encrypted access token (JWE)",
                             f"Not a JWT{note} but a JWE ({shape}; protected header: {header}): {JWE_VERDICT}. "
                             f"The API answered {answer.summary()}.",
                             "Send the ID token: the id_token of the same login (scope 'openid profile email'), "
                             "as 'Authorization: Bearer <id_token>'.")
    if answer.failure is None and (answer.error is None or answer.code == "NotAuthorizedError"):
        return build_finding("jwt", "warning", "Not a JWT: an API token the API accepts",
                             f"Not a JWT{note} ({shape}; {facts.not_a_jwt}). The API accepted it as a bearer "
                             f"token (it answered {answer.summary()}), so it is an API token of this "
                             "workspace: it acts with its own roles, never as a user.",
                             "To call the API as a user, send the user's ID token (a JWT) instead.")
    return build_finding("jwt", "problem", "Not a JWT",
                         f"Not a JWT{note} ({shape}; {facts.not_a_jwt}). An opaque string is an API token, or an "
                         "opaque access token: a provider issues one when the login names no API (an older Auth0 "
                         "tenant without audience, a standard provider without an RFC 8707 resource, or simply "
                         "by choice: RFC 6749 §1.4 leaves its format to the provider); only the provider's /userinfo "
                         f"reads it. The API answered {answer.summary()}.",
                         "Send the ID token: the id_token of the token response (scope 'openid profile "
                         "email'), as 'Authorization: Bearer <id_token>'.")


def check_token_type(facts: Facts) -> Finding:
    claims, reasons = facts.claims, []
    typ = str(facts.header.get("typ", ""))
    if typ.lower() in ACCESS_TYPES:
        reasons.append(f"typ is {typ}")
    if "scope" in claims:
        reasons.append(f"a scope claim ({short(claims['scope'])})")
    if "gty" in claims:
        reasons.append(f"a gty claim ({short(claims['gty'])})")
    userinfo = [a for a in as_list(claims.get("aud"))
                if isinstance(a, str) and a.rstrip("/").endswith("/userinfo")]
    if userinfo:
        reasons.append(f"aud includes {userinfo[0]}")
    aud = short(claims.get("aud"))
    if not reasons:
        return build_finding("token_type", "ok", "An ID token",
                             f"No access-token signs (typ {short(typ or '(none)')}, no scope, no gty, aud {aud}).",
                             "Nothing to do.")
    machine = claims.get("gty") == "client-credentials" or str(claims.get("sub", "")).endswith("@clients")
    title = ("Machine access token sent instead of a user's ID token" if machine
             else "Access token sent instead of the ID token")
    return build_finding("token_type", "problem", title,
                         f"An access token: {'; '.join(reasons)}; aud {aud}. 8base authenticates users with the ID "
                         "token (aud = the application's client id) and finds the user by its email claim.",
                         "Send the id_token (auth0-spa-js: getIdTokenClaims().__raw; the token response's "
                         "id_token), not the access_token; ask for response_type with id_token and scope "
                         "'openid profile email'.")


def check_signature(facts: Facts) -> Finding:
    iss = facts.claims.get("iss")
    if not isinstance(iss, str) or not iss.startswith(("http://", "https://")):
        return build_finding("signature", "unknown", "No issuer URL to fetch keys from",
                             f"iss is {short(iss)}: not an http(s) URL, so its JWKS cannot be fetched.",
                             "Use a token from an OpenID Connect provider (its iss is an https URL).")
    jwks_uri = jwks_uri_of(iss)
    cache = JwksCache(jwks_uri, timeout=5.0)
    kid = facts.header.get("kid")
    try:  # audience and times are later checks: here only whether the issuer's keys sign this token
        verify_token(facts.token, cache.key_for, Expectations(issuer=iss, audience=None, token_use="id"),
                     now=facts.now)
    except TokenRejected as rejected:
        code = rejected.code
        if code == "key_unavailable":
            return build_finding("signature", "unknown", "The issuer's keys could not be fetched",
                                 f"{jwks_uri} did not give a usable key set, so the signature was not checked.",
                                 "Check that the issuer is reachable and publishes its JWKS there.")
        if code in ("malformed", "too_large", "alg_not_allowed", "bad_header", "bad_signature"):
            return _signature_problem(facts, code, jwks_uri, cache, kid)
        # every other verdict comes after the signature verified (type, times, claims: later checks)
    return build_finding("signature", "ok", "The signature verifies",
                         f"Verified with the key kid {short(kid)} published at {jwks_uri}.", "Nothing to do.")


def _signature_problem(facts: Facts, code: str, jwks_uri: str, cache: JwksCache, kid: Any) -> Finding:
    published = cache.stats().kids
    if code == "bad_signature" and published and kid not in published:
        evidence = (f"No key with kid {short(kid)} is published at {jwks_uri} (published: "
                    f"{', '.join(published)}): another tenant's key, or a key that was rotated away and revoked.")
    elif code == "bad_signature":
        evidence = (f"The signature does not verify with the published key kid {short(kid)} of {jwks_uri}: "
                    "the token was altered after signing, or forged.")
    elif code == "alg_not_allowed":
        evidence = (f"alg {short(facts.header.get('alg'))} is not an RS256 public-key signature: a verifier must "
                    "refuse it (none or HMAC tokens can be made by anyone).")
    else:
        evidence = REASONS[code]
    return build_finding("signature", "problem", "The signature does not verify", evidence,
                         "Use the token exactly as the identity provider issued it (no edits, no re-signing); "
                         "log in again to get a fresh one.")


def check_issuer_profile(facts: Facts) -> Finding:
    iss = facts.claims.get("iss")
    profiles, answer = facts.profiles, facts.answer
    if profiles.items is not None:
        if facts.matching_profiles:
            names = ", ".join(p.label for p in facts.matching_profiles)
            return build_finding("issuer_profile", "ok", "The issuer is an Authentication Profile's domain",
                                 f"iss {iss} is the domain of profile {names}.", "Nothing to do.")
        known = ", ".join(p.issuer for p in profiles.items) or "none"
        near = [p for p in profiles.items if loose(p.issuer) == loose(str(iss))]
        hint = (f" It differs from {near[0].label}'s domain only in scheme, case or trailing slash: the match "
                "is exact." if near else "")
        if answer.accepted_token:
            return build_finding("issuer_profile", "warning", "The API accepts an issuer no profile lists",
                                 f"iss {iss} is not a profile's domain (profiles trust: {known}), yet the API "
                                 f"accepted the token ({answer.summary()}).{hint}",
                                 "Check which profile the API matched (the api_token may read another workspace).")
        return build_finding("issuer_profile", "problem", "The issuer is not an Authentication Profile of this "
                             "workspace", f"iss {iss} is the domain of no Authentication Profile of {facts.where} "
                             f"(the profiles trust: {known}).{hint} The API answered {answer.summary()}.",
                             f"Log in through the identity provider of one of this workspace's profiles, or add "
                             f"an Authentication Profile whose domain is {iss} (Settings > Authentication).")
    if answer.accepted_token:
        return build_finding("issuer_profile", "ok", "The API accepts the issuer",
                             f"The API accepted the token ({answer.summary()}), so iss {iss} is a profile's domain;"
                             f" the profiles themselves were not read: {profiles.why_not}.", "Nothing to do.")
    return build_finding("issuer_profile", "unknown", "Cannot tell whether a profile trusts the issuer",
                         f"iss {iss}; authenticationProfilesList not read: {profiles.why_not}. The API answered "
                         f"{answer.summary()}.", NEED_ADMIN)


def check_audience(facts: Facts) -> Finding:
    aud, answer = facts.claims.get("aud"), facts.answer
    audiences = as_list(aud)
    if facts.profiles.items is None or not facts.matching_profiles:
        if answer.accepted_token:
            return build_finding("audience", "ok", "The API accepts the audience",
                                 f"aud {short(aud)}: the API accepted the token ({answer.summary()}).",
                                 "Nothing to do.")
        return build_finding("audience", "unknown", "Cannot tell whether the audience is the profile's client id",
                             f"aud {short(aud)}; the profile's clientId was not read: {facts.profiles.why_not}.",
                             NEED_ADMIN)
    profile = facts.profile
    assert profile is not None
    client_ids = ", ".join(dict.fromkeys(p.client_id for p in facts.matching_profiles))
    if profile.client_id in audiences:
        return build_finding("audience", "ok", "The audience is the profile's client id",
                             f"aud {short(aud)} names the clientId of profile {profile.label}.", "Nothing to do.")
    if answer.accepted_token:
        return build_finding("audience", "ok", "The API accepts the audience",
                             f"aud {short(aud)} is not the profile's clientId ({client_ids}), but the API "
                             f"accepted the token ({answer.summary()}): the profile lists it among its "
                             "audiences, which authenticationProfilesList does not show.", "Nothing to do.")
    other_reason = _other_rejection(facts)
    if answer.code == "InvalidTokenError" and other_reason is None:
        return build_finding("audience", "problem", "The token was issued for another application",
                             f"aud {short(aud)} is not the clientId of this issuer's profiles ({client_ids}), and "
                             f"the API refused the token: {answer.summary()}.",
                             f"Log in with the application whose client id is {profile.client_id}, or add "
                             f"{short(aud)} to the profile {profile.label} as its client id or an audience.")
    why = other_reason or f"the API's answer ({answer.summary()}) does not tell"
    return build_finding("audience", "warning", "The audience is not the profile's client id",
                         f"aud {short(aud)} is not the clientId of this issuer's profiles ({client_ids}); a "
                         f"profile may also list it among its audiences, and {why}.",
                         "If the API refuses the token, log in with the profile's application "
                         f"({profile.client_id}) or add this audience to the profile.")


def _other_rejection(facts: Facts) -> str | None:
    """Another reason the API refused the token than its audience, when one is known."""
    if facts.time_trouble:
        return f"the token's times explain a refusal ({facts.time_trouble})"
    details = facts.answer.details_text
    if details and REASONS["bad_audience"] not in details and facts.answer.code == "InvalidTokenError":
        known = [text for code, text in REASONS.items() if code != "bad_audience" and text in details]
        if known or "verified" in details:
            return f"the API names another reason ({short(details, 160)})"
    return None


def check_expiry(facts: Facts) -> Finding:
    claims, answer = facts.claims, facts.answer
    exp, iat = claims.get("exp"), claims.get("iat")
    if type(exp) is not int:
        return build_finding("expiry", "problem", "The token has no valid exp",
                             f"exp is {short(exp)}: an ID token must carry an integer exp.",
                             "Use the ID token as the identity provider issued it.")
    if facts.now >= exp:
        return build_finding("expiry", "problem", "The token has expired",
                             f"exp {readable_time(exp, facts.now)}; now is {readable_time(int(facts.now))}. The API "
                             f"answered {answer.summary()}.",
                             "Get a fresh ID token (silent login / checkSession, a refresh token, or log in again)"
                             " and retry once; never reuse a stored ID token past its exp.")
    for name, value in (("iat", iat), ("nbf", claims.get("nbf"))):
        if type(value) is int and value > facts.now:
            return build_finding("expiry", "problem", "Clock skew: the token was issued in the future",
                                 f"{name} {readable_time(value, facts.now)} is {int(value - facts.now)} s ahead of "
                                 f"this clock: the identity provider's clock and this one disagree. The API "
                                 f"answered {answer.summary()}.",
                                 "Synchronise the clocks (NTP) on the identity provider's and the API's side; "
                                 "a verifier may allow a small leeway.")
    if answer.code == "TokenExpiredError":
        return build_finding("expiry", "problem", "Clock skew: the API thinks the token has expired",
                             f"exp {readable_time(exp, facts.now)} is still ahead by this clock, but the API "
                             f"answered {answer.summary()}: its clock is ahead of this one.",
                             "Synchronise the clocks (NTP); meanwhile get a fresh token and retry.")
    left = int(exp - facts.now)
    status, title = ("warning", "The token expires within a minute") if left < 60 else ("ok", "Within its lifetime")
    return build_finding("expiry", status, title, f"exp {readable_time(exp, facts.now)}"
                         + (f"; iat {readable_time(iat, facts.now)}" if type(iat) is int else "") + ".",
                         "Refresh it before it expires." if status == "warning" else "Nothing to do.")


def check_email_claim(facts: Facts) -> Finding:
    claims, email = facts.claims, facts.email
    if email is None:
        present = ", ".join(claims) or "none"
        return build_finding("email_claim", "problem", "The ID token has no email claim: the scope lacked email, "
                             "or the provider keeps it for /userinfo",
                             f"No email claim (claims: {present}). The API finds users by the token's email, so "
                             "no user can match. Either the login's scope did not ask for email (Auth0 then leaves "
                             "it out), or the provider follows OpenID Connect Core §5.4: when it also issues an "
                             "access token, a standard provider may return the scope's claims from /userinfo only "
                             "(Auth0 always puts them in the ID token).",
                             "Ask for scope 'openid profile email' at login (auth0-spa-js: authorizationParams."
                             "scope). If the scope had email, ask for email in the ID token with the claims request "
                             "parameter (OpenID Connect Core §5.5: claims={\"id_token\": {\"email\": null}}, when "
                             "discovery says claims_parameter_supported) or turn on the provider's setting that puts "
                             "scope claims into the ID token. Then sign the user up or log in again.")
    verified = claims.get("email_verified")
    details = facts.answer.details_text
    if verified is not True and facts.answer.code == "InvalidTokenError" and "verified" in details:
        return build_finding("email_claim", "problem", "The email is not verified, and the API requires it",
                             f"email {email}, email_verified {short(verified)}; the API answered "
                             f"{facts.answer.summary()}.",
                             "Have the user verify the email at the identity provider, then log in again.")
    return build_finding("email_claim", "ok", "The token carries an email",
                         f"email {email} (email_verified "
                         f"{short(verified if verified is not None else '(absent)')}).",
                         "Nothing to do.")
