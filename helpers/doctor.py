"""Why does my call fail? The token doctor: ordered checks, each with its evidence and a fix.

>>> diagnosis = diagnose(id_token, sandbox.api_url, api_token=sandbox.api_token, now=sandbox.clock.now())
>>> diagnosis.first_problem          # the cause: the first finding whose status is "problem"
Finding(check='signed_up', title='Never signed up in this environment', status='problem', ...)
>>> diagnosis.table()                # check, status, evidence, fix: one row per check, in order

The checks run in the order of :data:`CHECKS`, so the first problem is the cause and later findings
are its consequences; a check that depends on a failed one is ``skipped``. Everything is learned
over HTTP: the API's own answer to ``operation`` sent with the token, the issuer's JWKS, and (with
``api_token``, an API token with workspace administration) ``authenticationProfilesList`` and
``usersList``. What cannot be known without them is reported as ``unknown``, with the reason.
:func:`diagnose` never raises, and no finding repeats the token (or the API tokens).

This module talks to servers over HTTP only; it never imports the sandbox.
"""
from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlsplit

import pandas as pd
import requests

from .catalog import UnknownError, explain
from .graphql import GraphQLCallError, GraphQLClient
from .jwe import protected_header
from .jwks import JwksCache, discovered_jwks_uri
from .tokens import NotAJwt, TokenParts, decode_parts, readable_time
from .verify import REASONS, Expectations, TokenRejected, issuer_of_profile_domain, verify_token

__all__ = ["CHECKS", "DEFAULT_OPERATION", "STATUSES", "Diagnosis", "Finding", "diagnose", "doctor_widget"]

DEFAULT_OPERATION = "{ user { id } }"
STATUSES = ("ok", "problem", "warning", "unknown", "skipped")
CHECKS: dict[str, str] = {
    "jwt": "Is it a JWT at all?",
    "token_type": "An ID token, or an access token?",
    "signature": "Does the signature verify with the issuer's published keys?",
    "issuer_profile": "Is the issuer an Authentication Profile of this workspace?",
    "audience": "Is the audience that profile's client id?",
    "expiry": "Is the token within its lifetime, and are the clocks in step?",
    "email_claim": "Does the ID token carry an email claim?",
    "email_case": "Does a user's email differ from the token's only in case?",
    "environment": "Did the user sign up in another environment?",
    "workspace": "Did the user sign up in another workspace?",
    "email_changed": "Did the email change on one side (same name or local part)?",
    "self_signup": "Would the profile's self sign-up accept this user?",
    "signed_up": "Is there a user with the token's email here?",
    "roles": "Do the user's roles allow the operation?",
    "api_answer": "What did the API answer?",
}
"""Check id -> the question it answers, in the order the doctor asks them."""

# Checks 8-13: why is there no user with the token's email? The first that finds a cause explains the rest.
USER_CHECKS = ("email_case", "environment", "workspace", "email_changed", "self_signup", "signed_up")
# Checks that must pass before the doctor looks for the user: a token this workspace rejects has no user.
TOKEN_GATES = ("jwt", "token_type", "signature", "issuer_profile", "audience", "email_claim")
REQUIRES: dict[str, tuple[str, ...]] = {
    "jwt": (),
    "token_type": ("jwt",),
    "signature": ("jwt", "token_type"),
    "issuer_profile": ("jwt", "token_type", "signature"),
    "audience": ("jwt", "token_type", "signature", "issuer_profile"),
    "expiry": ("jwt", "token_type", "signature"),
    "email_claim": ("jwt", "token_type", "signature"),
    **{check: TOKEN_GATES + USER_CHECKS[:i] for i, check in enumerate(USER_CHECKS)},
    "roles": tuple(c for c in CHECKS if c not in ("roles", "api_answer")),
    "api_answer": (),
}
ACCEPTED_CODES = ("UserNotFoundError", "NotAuthorizedError")  # errors the API sends only after verifying the token
ACCESS_TYPES = ("at+jwt", "application/at+jwt")
JWE_VERDICT = ("an access token issued without an audience: encrypted, only the identity provider can read it; "
               "send the ID token")
PAGE = 500
MAX_USERS = 10_000
TIMEOUT = 10.0
MIN_SECRET = 8  # shorter values are not redacted (they would mangle ordinary words)

PROFILES_QUERY = ("query DoctorProfiles { authenticationProfilesList { items { id name domain clientId "
                  "selfSignUpEnabled selfSignUpEmailDomains } } }")
USERS_QUERY = ("query DoctorUsers($first: Int, $skip: Int) { usersList(first: $first, skip: $skip) "
               "{ count items { id email firstName lastName roles { items { name } } } } }")


# ---------------------------------------------------------------------- records
@dataclass(frozen=True)
class Finding:
    """One check's verdict: a stable ``check`` id, a human ``title``, a ``status``, the evidence and a fix."""

    check: str
    title: str
    status: str
    evidence: str
    fix: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")


@dataclass
class Diagnosis:
    """Every finding for one token and endpoint, in check order; the first problem is the cause."""

    endpoint: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def first_problem(self) -> Finding | None:
        """The cause: the first finding with status ``problem`` (``None`` when nothing is wrong)."""
        return next((f for f in self.findings if f.status == "problem"), None)

    def finding(self, check: str) -> Finding:
        """The finding of one check id (``KeyError`` for an id that is not in :data:`CHECKS`)."""
        for found in self.findings:
            if found.check == check:
                return found
        raise KeyError(check)

    def table(self) -> pd.DataFrame:
        """The findings as a DataFrame: check, status, evidence, fix."""
        return pd.DataFrame([{"check": f.check, "status": f.status, "evidence": f.evidence, "fix": f.fix}
                             for f in self.findings], columns=["check", "status", "evidence", "fix"])

    def headline(self) -> str:
        """One sentence: the cause and its fix, or that no check found a problem."""
        cause = self.first_problem
        if cause is None:
            return "No check found a problem."
        return f"The cause ({cause.check}): {cause.title}. Fix: {cause.fix}"

    def __repr__(self) -> str:
        lines = [self.headline()]
        lines += [f"  {f.status:<8} {f.check:<15} {f.title}" for f in self.findings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cause = self.first_problem
        head = ("<b>No check found a problem.</b>" if cause is None else
                f"<b>The cause ({html.escape(cause.check)}): {html.escape(cause.title)}.</b><br>"
                f"<b>Fix:</b> {html.escape(cause.fix)}")
        return f"<p>{head}</p>" + self.table().to_html(index=False, escape=True)


@dataclass(frozen=True)
class _Answer:
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
        text = f"{self.code or 'a GraphQL error'} \"{_short(self.error.message, 160)}\""
        if self.error.details:
            text += " (details: " + "; ".join(f"{k}: {_short(v, 160)}" for k, v in self.error.details.items()) + ")"
        return text


@dataclass(frozen=True)
class _Profile:
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
class _User:
    id: str
    email: str
    first_name: str | None
    last_name: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class _Read:
    """Records read with an admin token, or why they could not be read."""

    items: tuple[Any, ...] | None
    why_not: str = ""
    truncated: bool = False


@dataclass(frozen=True)
class _Place:
    """An endpoint to look for the user in (from ``also_check``)."""

    url: str
    api_token: str | None
    workspace: str | None
    environment: str

    @property
    def label(self) -> str:
        return f"workspace {self.workspace} environment {self.environment} ({self.url})"


# ---------------------------------------------------------------------- the public function
def diagnose(token: str, endpoint: str, *, api_token: str | None = None, operation: str = DEFAULT_OPERATION,
             also_check: Iterable[str | tuple[str, str | None]] = (), now: float | None = None) -> Diagnosis:
    """Run the ordered checks on a token sent to a GraphQL endpoint and return every finding.

    ``api_token``: an API token with workspace administration, to read the workspace's Authentication
    Profiles and users. ``also_check``: other endpoints (``endpoint + "_dev"``, another workspace) where
    the user may have signed up, each a URL (read with ``api_token``) or a ``(url, api_token)`` pair.
    ``now`` defaults to ``time.time()`` (lessons pass ``sandbox.clock.now()``). ``operation`` is really sent
    with the token, so keep it a read-only query. Never raises.
    """
    try:
        doctor = _Doctor(token, endpoint, api_token, operation, also_check, time.time() if now is None else now)
        findings = doctor.run()
    except Exception as exc:  # bad arguments (a malformed also_check, a now that is no number): say so, never raise
        findings = [Finding(check, "Not checked", "unknown", f"The doctor could not start ({type(exc).__name__}): "
                            "check the arguments (token and endpoint strings, also_check URLs or (url, api_token) "
                            "pairs, now in seconds).", "Report this as a bug of helpers.doctor if the arguments "
                            "are right.") for check in CHECKS]
    return Diagnosis(str(endpoint), findings)


# ---------------------------------------------------------------------- the doctor
class _Doctor:
    """One diagnosis: the facts (fetched lazily, each at most once) and one method per check."""

    def __init__(self, token: Any, endpoint: Any, api_token: str | None, operation: str,
                 also_check: Iterable[str | tuple[str, str | None]], now: float) -> None:
        raw = token if isinstance(token, str) else ""
        cleaned = raw.strip()
        self.had_bearer = cleaned[:7].lower() == "bearer "
        self.token = cleaned[7:].strip() if self.had_bearer else cleaned
        self.endpoint = str(endpoint or "").strip()
        self.api_token = api_token.strip() if isinstance(api_token, str) and api_token.strip() else None
        self.operation = operation
        self.now = float(now)
        self.workspace, self.environment = _address(self.endpoint)
        self.places = [_place(item, self.api_token) for item in also_check]
        self.secrets = sorted({s for s in (raw, cleaned, self.token, self.api_token,
                                           *(p.api_token for p in self.places)) if s and len(s) >= MIN_SECRET},
                              key=len, reverse=True)
        self.found: dict[str, Finding] = {}
        try:
            self.parts: TokenParts | None = decode_parts(self.token)
            self.not_a_jwt = ""
        except NotAJwt as exc:
            self.parts, self.not_a_jwt = None, str(exc)

    # ------------------------------------------------------------------ running
    def run(self) -> list[Finding]:
        for check in CHECKS:
            try:
                blocker = self._blocker(check)
                finding = self._skipped(check, blocker) if blocker else getattr(self, "check_" + check)()
            except Exception as exc:  # a doctor that crashes helps no one: the crash becomes a finding
                finding = self._finding(check, "unknown", "The doctor could not run this check",
                                        f"{type(exc).__name__} while checking: {_short(str(exc), 200)}",
                                        "Report this as a bug of helpers.doctor.")
            self.found[check] = finding
        return [self.found[c] for c in CHECKS]

    def _blocker(self, check: str) -> str | None:
        for dependency in REQUIRES[check]:
            earlier = self.found.get(dependency)
            if dependency == "jwt" and self.parts is None:
                return dependency
            if earlier is not None and earlier.status == "problem":
                return dependency
        return None

    def _skipped(self, check: str, blocker: str) -> Finding:
        if blocker == "jwt":
            why = "the value is not a JWT, so it has no claims to check"
        elif check in USER_CHECKS and blocker in USER_CHECKS:
            why = f"the user's absence is already explained by '{blocker}'"
        elif check in USER_CHECKS:
            why = f"'{blocker}' found a problem, so this workspace never looks the user up"
        elif check == "roles":
            why = f"'{blocker}' found a problem; permissions apply only once the API knows the user"
        else:
            why = f"it depends on '{blocker}', which found a problem"
        return self._finding(check, "skipped", "Not checked", f"Not checked: {why}.", f"Fix '{blocker}' first.")

    def _finding(self, check: str, status: str, title: str, evidence: str, fix: str) -> Finding:
        return Finding(check, self._redact(title), status, self._redact(evidence), self._redact(fix))

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text

    # ------------------------------------------------------------------ facts
    @property
    def claims(self) -> dict[str, Any]:
        return self.parts.payload if self.parts is not None else {}

    @property
    def header(self) -> dict[str, Any]:
        return self.parts.header if self.parts is not None else {}

    @property
    def email(self) -> str | None:
        email = self.claims.get("email")
        return email if isinstance(email, str) and email else None

    @property
    def where(self) -> str:
        return f"workspace {self.workspace or '(unknown)'} environment {self.environment}"

    @cached_property
    def answer(self) -> _Answer:
        """The API's own answer to ``operation`` sent with the token."""
        if not self.endpoint.startswith(("http://", "https://")):
            return _Answer(failure=f"the endpoint {_short(self.endpoint, 80)!r} is not an http(s) URL")
        if not self.token:
            return _Answer(failure="no token was given, so nothing was sent")
        return _call(self.endpoint, self.token, self.operation)

    @cached_property
    def profiles(self) -> _Read:
        return _read_profiles(self.endpoint, self.api_token)

    @cached_property
    def users(self) -> _Read:
        return _read_users(self.endpoint, self.api_token)

    @cached_property
    def time_trouble(self) -> str | None:
        """Why the token's times would make any API refuse it (by this machine's clock), or ``None``."""
        exp, iat, nbf = (self.claims.get(name) for name in ("exp", "iat", "nbf"))
        if type(exp) is not int:
            return "the token has no integer exp claim"
        if self.now >= exp:
            return f"exp {readable_time(exp, self.now)} has passed"
        for name, value in (("iat", iat), ("nbf", nbf)):
            if type(value) is int and value > self.now:
                return f"{name} {readable_time(value, self.now)} lies in the future"
        return None

    @cached_property
    def matching_profiles(self) -> list[_Profile]:
        iss = self.claims.get("iss")
        return [p for p in (self.profiles.items or ()) if p.issuer == iss]

    @cached_property
    def profile(self) -> _Profile | None:
        """The profile this token is for: issuer and client id match, else the first with its issuer."""
        audiences = _as_list(self.claims.get("aud"))
        return next((p for p in self.matching_profiles if p.client_id in audiences),
                    self.matching_profiles[0] if self.matching_profiles else None)

    @cached_property
    def presence(self) -> tuple[str, str]:
        """Is there a user for the token's email here? (verdict, evidence).

        ``exact`` (usersList has exactly the email), ``api`` (the API found a user), ``absent``
        (usersList has none), ``absent_per_api`` (User is absent, usersList unread), ``unknown``.
        """
        email, users, found = self.email, self.users, self.answer.user_found
        if users.items is not None:
            exact = [u for u in users.items if u.email == email]
            if exact:
                return "exact", f"user {exact[0].id} of {self.where} has exactly the email {email}"
        if found:
            return "api", (f"the API found a user for this token (it answered {self.answer.summary()})"
                           + ("" if users.items is not None else f"; usersList not read: {users.why_not}"))
        if users.items is not None:
            return "absent", (f"none of the {len(users.items)} users of {self.where} has the email {email}"
                              + (" (only the first users were read)" if users.truncated else "")
                              + f"; the API answered {self.answer.summary()}")
        if found is False:
            return "absent_per_api", (f"the API answered {self.answer.summary()}; usersList not read: "
                                      f"{users.why_not}")
        return "unknown", f"usersList not read ({users.why_not}) and the API answered {self.answer.summary()}"

    def _not_needed(self, check: str) -> Finding | None:
        """The ok finding of a user check when the user exists (or ``unknown`` when that cannot be told)."""
        verdict, evidence = self.presence
        if verdict in ("exact", "api"):
            return self._finding(check, "ok", "Not needed: the user exists here", f"Not needed: {evidence}.",
                                 "Nothing to do.")
        if verdict == "unknown":
            return self._finding(check, "unknown", "Cannot tell whether the user exists",
                                 f"Cannot tell: {evidence}.", _NEED_ADMIN)
        return None

    # ------------------------------------------------------------------ 1-7: the token
    def check_jwt(self) -> Finding:
        note = " (the pasted value began with 'Bearer ', which the doctor removed)" if self.had_bearer else ""
        if self.parts is not None:
            names = ", ".join(self.claims) or "none"
            return self._finding("jwt", "ok", "A JWT",
                                 f"A signed JWT{note}: alg {_short(self.header.get('alg'))}, kid "
                                 f"{_short(self.header.get('kid'))}, typ {_short(self.header.get('typ', '(none)'))};"
                                 f" claims: {names}.", "Nothing to do.")
        if not self.token:
            return self._finding("jwt", "problem", "No token", "The token is empty.",
                                 "Paste the value the app sends after 'Authorization: Bearer '.")
        dots = self.token.count(".")
        shape = f"{len(self.token)} characters, {dots + 1} dot-separated part{'s' if dots else ''}"
        answer = self.answer
        encrypted = protected_header(self.token)
        if encrypted is not None:  # Auth0's access token for a login without an audience (helpers/jwe.py)
            header = ", ".join(f"{k} {_short(encrypted.get(k))}" for k in ("alg", "enc", "iss") if k in encrypted)
            return self._finding("jwt", "problem", "An encrypted access token (JWE)",
                                 f"Not a JWT{note} but a JWE ({shape}; protected header: {header}): {JWE_VERDICT}. "
                                 f"The API answered {answer.summary()}.",
                                 "Send the ID token: the id_token of the same login (scope 'openid profile email'), "
                                 "as 'Authorization: Bearer <id_token>'.")
        if answer.failure is None and (answer.error is None or answer.code == "NotAuthorizedError"):
            return self._finding("jwt", "warning", "Not a JWT: an API token the API accepts",
                                 f"Not a JWT{note} ({shape}; {self.not_a_jwt}). The API accepted it as a bearer "
                                 f"token (it answered {answer.summary()}), so it is an API token of this "
                                 "workspace: it acts with its own roles, never as a user.",
                                 "To call the API as a user, send the user's ID token (a JWT) instead.")
        return self._finding("jwt", "problem", "Not a JWT",
                             f"Not a JWT{note} ({shape}; {self.not_a_jwt}). An opaque string is an API token, or an "
                             "opaque access token: a provider issues one when the login names no API (an older Auth0 "
                             "tenant without audience, a standard provider without an RFC 8707 resource, or simply "
                             "by choice: RFC 6749 §1.4 leaves its format to the provider); only the provider's /userinfo "
                             f"reads it. The API answered {answer.summary()}.",
                             "Send the ID token: the id_token of the token response (scope 'openid profile "
                             "email'), as 'Authorization: Bearer <id_token>'.")

    def check_token_type(self) -> Finding:
        claims, reasons = self.claims, []
        typ = str(self.header.get("typ", ""))
        if typ.lower() in ACCESS_TYPES:
            reasons.append(f"typ is {typ}")
        if "scope" in claims:
            reasons.append(f"a scope claim ({_short(claims['scope'])})")
        if "gty" in claims:
            reasons.append(f"a gty claim ({_short(claims['gty'])})")
        userinfo = [a for a in _as_list(claims.get("aud"))
                    if isinstance(a, str) and a.rstrip("/").endswith("/userinfo")]
        if userinfo:
            reasons.append(f"aud includes {userinfo[0]}")
        aud = _short(claims.get("aud"))
        if not reasons:
            return self._finding("token_type", "ok", "An ID token",
                                 f"No access-token signs (typ {_short(typ or '(none)')}, no scope, no gty, aud {aud}).",
                                 "Nothing to do.")
        machine = claims.get("gty") == "client-credentials" or str(claims.get("sub", "")).endswith("@clients")
        title = ("Machine access token sent instead of a user's ID token" if machine
                 else "Access token sent instead of the ID token")
        return self._finding("token_type", "problem", title,
                             f"An access token: {'; '.join(reasons)}; aud {aud}. 8base authenticates users with the ID "
                             "token (aud = the application's client id) and finds the user by its email claim.",
                             "Send the id_token (auth0-spa-js: getIdTokenClaims().__raw; the token response's "
                             "id_token), not the access_token; ask for response_type with id_token and scope "
                             "'openid profile email'.")

    def check_signature(self) -> Finding:
        iss = self.claims.get("iss")
        if not isinstance(iss, str) or not iss.startswith(("http://", "https://")):
            return self._finding("signature", "unknown", "No issuer URL to fetch keys from",
                                 f"iss is {_short(iss)}: not an http(s) URL, so its JWKS cannot be fetched.",
                                 "Use a token from an OpenID Connect provider (its iss is an https URL).")
        jwks_uri = _jwks_uri_of(iss)
        cache = JwksCache(jwks_uri, timeout=5.0)
        kid = self.header.get("kid")
        try:  # audience and times are later checks: here only whether the issuer's keys sign this token
            verify_token(self.token, cache.key_for, Expectations(issuer=iss, audience=None, token_use="id"),
                         now=self.now)
        except TokenRejected as rejected:
            code = rejected.code
            if code == "key_unavailable":
                return self._finding("signature", "unknown", "The issuer's keys could not be fetched",
                                     f"{jwks_uri} did not give a usable key set, so the signature was not checked.",
                                     "Check that the issuer is reachable and publishes its JWKS there.")
            if code in ("malformed", "too_large", "alg_not_allowed", "bad_header", "bad_signature"):
                return self._signature_problem(code, jwks_uri, cache, kid)
            # every other verdict comes after the signature verified (type, times, claims: later checks)
        return self._finding("signature", "ok", "The signature verifies",
                             f"Verified with the key kid {_short(kid)} published at {jwks_uri}.", "Nothing to do.")

    def _signature_problem(self, code: str, jwks_uri: str, cache: JwksCache, kid: Any) -> Finding:
        published = cache.stats().kids
        if code == "bad_signature" and published and kid not in published:
            evidence = (f"No key with kid {_short(kid)} is published at {jwks_uri} (published: "
                        f"{', '.join(published)}): another tenant's key, or a key that was rotated away and revoked.")
        elif code == "bad_signature":
            evidence = (f"The signature does not verify with the published key kid {_short(kid)} of {jwks_uri}: "
                        "the token was altered after signing, or forged.")
        elif code == "alg_not_allowed":
            evidence = (f"alg {_short(self.header.get('alg'))} is not an RS256 public-key signature: a verifier must "
                        "refuse it (none or HMAC tokens can be made by anyone).")
        else:
            evidence = REASONS[code]
        return self._finding("signature", "problem", "The signature does not verify", evidence,
                             "Use the token exactly as the identity provider issued it (no edits, no re-signing); "
                             "log in again to get a fresh one.")

    def check_issuer_profile(self) -> Finding:
        iss = self.claims.get("iss")
        profiles, answer = self.profiles, self.answer
        if profiles.items is not None:
            if self.matching_profiles:
                names = ", ".join(p.label for p in self.matching_profiles)
                return self._finding("issuer_profile", "ok", "The issuer is an Authentication Profile's domain",
                                     f"iss {iss} is the domain of profile {names}.", "Nothing to do.")
            known = ", ".join(p.issuer for p in profiles.items) or "none"
            near = [p for p in profiles.items if _loose(p.issuer) == _loose(str(iss))]
            hint = (f" It differs from {near[0].label}'s domain only in scheme, case or trailing slash: the match "
                    "is exact." if near else "")
            if answer.accepted_token:
                return self._finding("issuer_profile", "warning", "The API accepts an issuer no profile lists",
                                     f"iss {iss} is not a profile's domain (profiles trust: {known}), yet the API "
                                     f"accepted the token ({answer.summary()}).{hint}",
                                     "Check which profile the API matched (the api_token may read another workspace).")
            return self._finding("issuer_profile", "problem", "The issuer is not an Authentication Profile of this "
                                 "workspace", f"iss {iss} is the domain of no Authentication Profile of {self.where} "
                                 f"(the profiles trust: {known}).{hint} The API answered {answer.summary()}.",
                                 f"Log in through the identity provider of one of this workspace's profiles, or add "
                                 f"an Authentication Profile whose domain is {iss} (Settings > Authentication).")
        if answer.accepted_token:
            return self._finding("issuer_profile", "ok", "The API accepts the issuer",
                                 f"The API accepted the token ({answer.summary()}), so iss {iss} is a profile's domain;"
                                 f" the profiles themselves were not read: {profiles.why_not}.", "Nothing to do.")
        return self._finding("issuer_profile", "unknown", "Cannot tell whether a profile trusts the issuer",
                             f"iss {iss}; authenticationProfilesList not read: {profiles.why_not}. The API answered "
                             f"{answer.summary()}.", _NEED_ADMIN)

    def check_audience(self) -> Finding:
        aud, answer = self.claims.get("aud"), self.answer
        audiences = _as_list(aud)
        if self.profiles.items is None or not self.matching_profiles:
            if answer.accepted_token:
                return self._finding("audience", "ok", "The API accepts the audience",
                                     f"aud {_short(aud)}: the API accepted the token ({answer.summary()}).",
                                     "Nothing to do.")
            return self._finding("audience", "unknown", "Cannot tell whether the audience is the profile's client id",
                                 f"aud {_short(aud)}; the profile's clientId was not read: {self.profiles.why_not}.",
                                 _NEED_ADMIN)
        profile = self.profile
        assert profile is not None
        client_ids = ", ".join(dict.fromkeys(p.client_id for p in self.matching_profiles))
        if profile.client_id in audiences:
            return self._finding("audience", "ok", "The audience is the profile's client id",
                                 f"aud {_short(aud)} names the clientId of profile {profile.label}.", "Nothing to do.")
        if answer.accepted_token:
            return self._finding("audience", "ok", "The API accepts the audience",
                                 f"aud {_short(aud)} is not the profile's clientId ({client_ids}), but the API "
                                 f"accepted the token ({answer.summary()}): the profile lists it among its "
                                 "audiences, which authenticationProfilesList does not show.", "Nothing to do.")
        other_reason = self._other_rejection()
        if answer.code == "InvalidTokenError" and other_reason is None:
            return self._finding("audience", "problem", "The token was issued for another application",
                                 f"aud {_short(aud)} is not the clientId of this issuer's profiles ({client_ids}), and "
                                 f"the API refused the token: {answer.summary()}.",
                                 f"Log in with the application whose client id is {profile.client_id}, or add "
                                 f"{_short(aud)} to the profile {profile.label} as its client id or an audience.")
        why = other_reason or f"the API's answer ({answer.summary()}) does not tell"
        return self._finding("audience", "warning", "The audience is not the profile's client id",
                             f"aud {_short(aud)} is not the clientId of this issuer's profiles ({client_ids}); a "
                             f"profile may also list it among its audiences, and {why}.",
                             "If the API refuses the token, log in with the profile's application "
                             f"({profile.client_id}) or add this audience to the profile.")

    def _other_rejection(self) -> str | None:
        """Another reason the API refused the token than its audience, when one is known."""
        if self.time_trouble:
            return f"the token's times explain a refusal ({self.time_trouble})"
        details = self.answer.details_text
        if details and REASONS["bad_audience"] not in details and self.answer.code == "InvalidTokenError":
            known = [text for code, text in REASONS.items() if code != "bad_audience" and text in details]
            if known or "verified" in details:
                return f"the API names another reason ({_short(details, 160)})"
        return None

    def check_expiry(self) -> Finding:
        claims, answer = self.claims, self.answer
        exp, iat = claims.get("exp"), claims.get("iat")
        if type(exp) is not int:
            return self._finding("expiry", "problem", "The token has no valid exp",
                                 f"exp is {_short(exp)}: an ID token must carry an integer exp.",
                                 "Use the ID token as the identity provider issued it.")
        if self.now >= exp:
            return self._finding("expiry", "problem", "The token has expired",
                                 f"exp {readable_time(exp, self.now)}; now is {readable_time(int(self.now))}. The API "
                                 f"answered {answer.summary()}.",
                                 "Get a fresh ID token (silent login / checkSession, a refresh token, or log in again)"
                                 " and retry once; never reuse a stored ID token past its exp.")
        for name, value in (("iat", iat), ("nbf", claims.get("nbf"))):
            if type(value) is int and value > self.now:
                return self._finding("expiry", "problem", "Clock skew: the token was issued in the future",
                                     f"{name} {readable_time(value, self.now)} is {int(value - self.now)} s ahead of "
                                     f"this clock: the identity provider's clock and this one disagree. The API "
                                     f"answered {answer.summary()}.",
                                     "Synchronise the clocks (NTP) on the identity provider's and the API's side; "
                                     "a verifier may allow a small leeway.")
        if answer.code == "TokenExpiredError":
            return self._finding("expiry", "problem", "Clock skew: the API thinks the token has expired",
                                 f"exp {readable_time(exp, self.now)} is still ahead by this clock, but the API "
                                 f"answered {answer.summary()}: its clock is ahead of this one.",
                                 "Synchronise the clocks (NTP); meanwhile get a fresh token and retry.")
        left = int(exp - self.now)
        status, title = ("warning", "The token expires within a minute") if left < 60 else ("ok", "Within its lifetime")
        return self._finding("expiry", status, title, f"exp {readable_time(exp, self.now)}"
                             + (f"; iat {readable_time(iat, self.now)}" if type(iat) is int else "") + ".",
                             "Refresh it before it expires." if status == "warning" else "Nothing to do.")

    def check_email_claim(self) -> Finding:
        claims, email = self.claims, self.email
        if email is None:
            present = ", ".join(claims) or "none"
            return self._finding("email_claim", "problem", "The ID token has no email claim: the scope lacked email, "
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
        details = self.answer.details_text
        if verified is not True and self.answer.code == "InvalidTokenError" and "verified" in details:
            return self._finding("email_claim", "problem", "The email is not verified, and the API requires it",
                                 f"email {email}, email_verified {_short(verified)}; the API answered "
                                 f"{self.answer.summary()}.",
                                 "Have the user verify the email at the identity provider, then log in again.")
        return self._finding("email_claim", "ok", "The token carries an email",
                             f"email {email} (email_verified "
                             f"{_short(verified if verified is not None else '(absent)')}).",
                             "Nothing to do.")

    # ------------------------------------------------------------------ 8-13: why is there no user?
    def check_email_case(self) -> Finding:
        email = self.email or ""
        verdict, evidence = self.presence
        variants = [u for u in (self.users.items or ()) if u.email != email and u.email.lower() == email.lower()]
        if verdict == "exact":
            return self._not_needed("email_case")  # type: ignore[return-value]
        if verdict == "api" and variants:
            return self._finding("email_case", "warning", "The stored email differs in case; this API matched anyway",
                                 f"The token says {email}, user {variants[0].id} has {variants[0].email}; the API "
                                 f"found the user all the same ({self.answer.summary()}). An API that compares emails "
                                 "exactly would answer 'User is absent'.",
                                 "Store the email exactly as the identity provider sends it.")
        if verdict == "absent" and variants:
            return self._finding("email_case", "problem", "The user's email differs only in case",
                                 f"The token says {email}; user {variants[0].id} of {self.where} has "
                                 f"{variants[0].email}. This API compares emails exactly, so it answered "
                                 f"{self.answer.summary()}.",
                                 f"Update the Users record's email to exactly {email} (or normalise emails to lower "
                                 "case on both sides).")
        if verdict == "absent":
            return self._finding("email_case", "ok", "No email differs only in case",
                                 f"No user of {self.where} has {email} in another case.", "Nothing to do.")
        return self._not_needed("email_case") or self._unread_users("email_case")

    def check_environment(self) -> Finding:
        return self._not_needed("environment") or self._elsewhere("environment")

    def check_workspace(self) -> Finding:
        return self._not_needed("workspace") or self._elsewhere("workspace")

    def _elsewhere(self, kind: str) -> Finding:
        email = self.email or ""
        places = [p for p in self.places if self._kind_of(p) == kind]
        if not places:
            example = (f"{self.endpoint}_dev" if kind == "environment" else
                       "(another workspace's endpoint, an API token of that workspace)")
            other = f"environment of workspace {self.workspace}" if kind == "environment" else "workspace"
            return self._finding(kind, "unknown", f"No other {kind} was searched",
                                 f"also_check names no other {other}, so the doctor did not look there.",
                                 f"Pass also_check=[...] with the other {kind}s the app may have used, e.g. "
                                 f"{example}.")
        hits, clean, unread = [], [], []
        for place in places:
            read = _read_users(place.url, place.api_token)
            if read.items is None:
                unread.append(f"{place.label}: {read.why_not}")
                continue
            match = next((u for u in read.items if u.email.lower() == email.lower()), None)
            (hits.append((place, match)) if match else clean.append(place.label))
        if hits:
            place, user = hits[0]
            return self._finding(kind, "problem", f"The user signed up in another {kind}",
                                 f"User {user.id} with the email {user.email} exists in {place.label}, not in "
                                 f"{self.where}: each {kind} has its own Users table.",
                                 f"Point the app at the endpoint the user signed up in ({place.url}), or sign the user "
                                 f"up here too (userSignUpWithToken against {self.endpoint}).")
        if unread:
            return self._finding(kind, "unknown", f"Could not search every other {kind}",
                                 "Could not read usersList in " + "; ".join(unread)
                                 + (f". Not found in: {', '.join(clean)}." if clean else "."),
                                 f"Give an API token with workspace administration that is valid in that {kind} "
                                 "(also_check=[(url, api_token)]).")
        return self._finding(kind, "ok", f"Not in another {kind}",
                             f"No user with the email {email} in: {', '.join(clean)}.", "Nothing to do.")

    def _kind_of(self, place: _Place) -> str | None:
        if place.workspace is not None and place.workspace == self.workspace:
            return None if place.environment.lower() == self.environment.lower() else "environment"
        return "workspace"

    def check_email_changed(self) -> Finding:
        not_needed = self._not_needed("email_changed")
        if not_needed is not None:
            return not_needed
        if self.users.items is None:
            return self._unread_users("email_changed")
        email, claims = self.email or "", self.claims
        local = email.rsplit("@", 1)[0].lower()
        given, family = (str(claims.get(n) or "").strip().lower() for n in ("given_name", "family_name"))
        name = str(claims.get("name") or "").strip().lower()
        for user in self.users.items:
            first, last = (user.first_name or "").strip().lower(), (user.last_name or "").strip().lower()
            same_name = bool(first and last) and ((first, last) == (given, family) or f"{first} {last}" == name)
            same_local = user.email.rsplit("@", 1)[0].lower() == local
            if same_name or same_local:
                why = (f"the same name ({user.first_name} {user.last_name})" if same_name
                       else f"the same local part ({local}@)")
                return self._finding("email_changed", "problem", "The email changed on one side",
                                     f"No user has {email}, but user {user.id} ({user.email}) has {why}: the email was "
                                     "changed in 8base or at the identity provider, and 8base matches on the email "
                                     "alone.",
                                     f"If it is the same person, set that Users record's email to {email} (or change "
                                     "it back at the identity provider); never edit the email on one side only.")
        return self._finding("email_changed", "ok", "No user looks like the same person",
                             f"No user of {self.where} has the token's name or the local part {local}@.",
                             "Nothing to do.")

    def check_self_signup(self) -> Finding:
        not_needed = self._not_needed("self_signup")
        if not_needed is not None:
            return not_needed
        if self.profiles.items is None:
            return self._finding("self_signup", "unknown", "Cannot read the profile's self sign-up setting",
                                 f"authenticationProfilesList not read: {self.profiles.why_not}.", _NEED_ADMIN)
        profile = self.profile
        if profile is None:
            return self._finding("self_signup", "unknown", "No profile for this token",
                                 "No Authentication Profile of this workspace has the token's issuer.", _NEED_ADMIN)
        email = self.email or ""
        domain = email.rsplit("@", 1)[-1].lower()
        allowed = {d.lower().lstrip("@") for d in profile.email_domains if d}
        swallowed = ("userSignUpWithToken was refused for this user, and an app that swallows that error shows "
                     "'User is absent' on every later request")
        if profile.self_signup_enabled is False:
            return self._finding("self_signup", "problem", "Self sign-up is off: the sign-up was refused",
                                 f"Profile {profile.label} has selfSignUpEnabled false: {swallowed}.",
                                 f"Turn self sign-up on for the profile (Open to all, or the domain {domain}), or "
                                 "invite the user; and show sign-up errors instead of swallowing them.")
        if allowed and domain not in allowed:
            return self._finding("self_signup", "problem", "Self sign-up excludes this email's domain",
                                 f"Profile {profile.label} accepts self sign-up only from {', '.join(sorted(allowed))};"
                                 f" {email} is not among them: {swallowed}.",
                                 f"Add {domain} to the profile's self sign-up domains, or invite the user; and show "
                                 "sign-up errors instead of swallowing them.")
        if profile.self_signup_enabled is None:
            return self._finding("self_signup", "unknown", "The profile does not say whether self sign-up is on",
                                 f"Profile {profile.label} returned no selfSignUpEnabled.", _NEED_ADMIN)
        scope = f"open to {', '.join(sorted(allowed))}" if allowed else "open to all"
        return self._finding("self_signup", "ok", "Self sign-up would accept this user",
                             f"Profile {profile.label}: self sign-up {scope}.", "Nothing to do.")

    def check_signed_up(self) -> Finding:
        verdict, evidence = self.presence
        if verdict in ("exact", "api"):
            return self._finding("signed_up", "ok", "A user with this email exists here", f"{evidence[0].upper()}"
                                 f"{evidence[1:]}.", "Nothing to do.")
        if verdict == "absent":
            unsearched = [c for c in ("environment", "workspace") if self.found.get(c) and
                          self.found[c].status == "unknown"]
            caveat = (f" Not searched or not readable: other {' and other '.join(s + 's' for s in unsearched)}."
                      if unsearched else "")
            profile = self.profile.id if self.profile else "<authentication profile id>"
            return self._finding("signed_up", "problem", "Never signed up in this environment",
                                 f"No user with this email: {evidence}.{caveat} Logging in at the identity provider "
                                 "does not create the Users record.",
                                 "After login, call mutation { userSignUpWithToken(user: {email: <the token's email>}, "
                                 f"authProfileId: \"{profile}\") {{ id }} }} once with the ID token as Bearer, "
                                 "then retry.")
        return self._finding("signed_up", "unknown", "Cannot tell why no user matches",
                             f"{evidence[0].upper()}{evidence[1:]}.", _NEED_ADMIN)

    def _unread_users(self, check: str) -> Finding:
        return self._finding(check, "unknown", "Cannot read the workspace's users",
                             f"usersList not read: {self.users.why_not}. The API answered {self.answer.summary()}.",
                             _NEED_ADMIN)

    # ------------------------------------------------------------------ 14-15: the API's answer
    def check_roles(self) -> Finding:
        answer = self.answer
        if answer.failure is not None:
            return self._finding("roles", "unknown", "No answer from the API", f"{answer.failure}.",
                                 "Check the endpoint URL and that the API is reachable.")
        if answer.error is None:
            return self._finding("roles", "ok", "The roles allow the operation",
                                 f"The API ran {_short(self.operation, 80)} and answered {answer.summary()}.",
                                 "Nothing to do.")
        if answer.code == "NotAuthorizedError":
            user = next((u for u in (self.users.items or ()) if u.email == self.email), None)
            roles = (f"; the user's roles: {', '.join(user.roles) or 'none'}" if user is not None
                     else "; the user's roles were not read" + (f" ({self.users.why_not})" if self.users.why_not
                                                               else ""))
            return self._finding("roles", "problem", "The user's roles do not allow the operation",
                                 f"The API knows the user but refused {_short(self.operation, 80)}: "
                                 f"{answer.summary()}{roles}.",
                                 "Give one of the user's roles the permission the operation needs (for { user { id } }:"
                                 " Users > Read, filtered to the user's own record, id = __loggedInUserId), or assign a"
                                 " role that has it (a profile's roles are what new users get at sign-up).")
        why = "no user matched the token" if answer.code == "UserNotFoundError" else \
            f"the API answered {answer.code or 'an error'} before any permission applied"
        return self._finding("roles", "skipped", "Not checked", f"Not checked: {why} (see api_answer).",
                             "Fix the cause above first.")

    def check_api_answer(self) -> Finding:
        answer = self.answer
        if answer.failure is not None:
            return self._finding("api_answer", "unknown", "No GraphQL answer", f"{answer.failure}.",
                                 "Check the endpoint URL (https://api.8base.com/<workspaceId>, or _<environment>) "
                                 "and that the API is reachable.")
        if answer.error is None:
            return self._finding("api_answer", "ok", "The API answered with data",
                                 f"{_short(self.operation, 80)} returned {_short(json.dumps(answer.data), 200)}.",
                                 "Nothing to do.")
        error = answer.error
        try:
            entry = explain(error)
            cause, fix = f" Catalog {entry.id}: {entry.cause}", entry.fix
        except UnknownError:
            cause, fix = "", "Look the code up with helpers.catalog.search(...)."
        return self._finding("api_answer", "problem", f"{error.code or 'GraphQL error'}: {_short(error.message, 100)}",
                             f"The API answered {answer.summary()}.{cause}", fix)


_NEED_ADMIN = ("Pass api_token= an API token with workspace administration (Settings > API Tokens, a role with "
               "workspace administration) so the doctor can read the profiles and users.")


# ---------------------------------------------------------------------- HTTP: answers and admin reads
def _call(url: str, token: str | None, query: str, variables: dict[str, Any] | None = None) -> _Answer:
    """Send one operation; a GraphQL error or a failure to reach the API becomes part of the answer."""
    try:
        return _Answer(data=GraphQLClient(url, token, timeout=TIMEOUT).execute(query, variables))
    except GraphQLCallError as error:
        return _Answer(error=error)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        return _Answer(failure=f"{url} answered HTTP {status}, not a GraphQL answer")
    except requests.RequestException as exc:
        return _Answer(failure=f"{url} could not be reached ({type(exc).__name__})")
    except Exception as exc:  # an invalid URL, a body that is not JSON...
        return _Answer(failure=f"{url} gave no usable answer ({type(exc).__name__})")


def _why_unread(answer: _Answer, url: str, what: str) -> str:
    if answer.failure is not None:
        return answer.failure
    code = answer.code
    if code == "InvalidTokenError":
        return f"the api_token is not valid at {url} ({answer.summary()})"
    if code == "NotAuthorizedError":
        return f"the api_token's roles may not read {what} at {url} (it needs workspace administration)"
    return f"{url} answered {answer.summary()}"


def _read_profiles(url: str, api_token: str | None) -> _Read:
    if not api_token:
        return _Read(None, "no api_token was given (authenticationProfilesList needs workspace administration)")
    answer = _call(url, api_token, PROFILES_QUERY)
    if answer.data is None:
        return _Read(None, _why_unread(answer, url, "authenticationProfilesList"))
    items = ((answer.data.get("authenticationProfilesList") or {}).get("items")) or []
    return _Read(tuple(_Profile(str(p.get("id")), str(p.get("name")), str(p.get("domain") or ""),
                                str(p.get("clientId") or ""), p.get("selfSignUpEnabled"),
                                tuple(str(d) for d in p.get("selfSignUpEmailDomains") or () if d))
                       for p in items if isinstance(p, dict)))


def _read_users(url: str, api_token: str | None) -> _Read:
    if not api_token:
        return _Read(None, "no api_token was given (usersList needs an API token that may read every user)")
    users: list[_User] = []
    while len(users) < MAX_USERS:
        answer = _call(url, api_token, USERS_QUERY, {"first": PAGE, "skip": len(users)})
        if answer.data is None:
            return _Read(None, _why_unread(answer, url, "usersList"))
        page = answer.data.get("usersList") or {}
        items = [u for u in page.get("items") or [] if isinstance(u, dict)]
        users += [_User(str(u.get("id")), str(u.get("email") or ""), u.get("firstName"), u.get("lastName"),
                        tuple(r.get("name", "") for r in ((u.get("roles") or {}).get("items") or [])))
                  for u in items]
        if not items or len(users) >= (page.get("count") or 0):
            return _Read(tuple(users))
    return _Read(tuple(users), truncated=True)


# ---------------------------------------------------------------------- small helpers
def _address(url: str) -> tuple[str | None, str]:
    """(workspace id, environment) of ``https://host/<workspaceId>[_<environment>]`` (Master by default)."""
    try:
        segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    except ValueError:
        segment = ""
    if not segment:
        return None, "Master"
    workspace, _, environment = segment.partition("_")
    return workspace, environment or "Master"


def _place(item: str | tuple[str, str | None], api_token: str | None) -> _Place:
    if isinstance(item, str):
        url, token = item, api_token
    else:
        url, token = str(item[0]), (item[1] if len(item) > 1 else api_token)
    workspace, environment = _address(url)
    return _Place(url, token, workspace, environment)


def _jwks_uri_of(issuer: str) -> str:
    """The issuer's ``jwks_uri`` from its discovery document; Auth0's ``<issuer>.well-known/jwks.json`` when the
    issuer publishes no usable document."""
    return discovered_jwks_uri(issuer) or (issuer if issuer.endswith("/") else issuer + "/") + ".well-known/jwks.json"


def _loose(issuer: str) -> str:
    return issuer.split("://", 1)[-1].rstrip("/").lower()


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else ([] if value is None else [value])


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------- the widget
def doctor_widget(token: str = "", endpoint: str = "", *, api_token: str | None = None,
                  also_check: Sequence[str | tuple[str, str | None]] = (), operation: str = DEFAULT_OPERATION,
                  now: Callable[[], float] | None = None) -> Any:
    """Paste a token and an endpoint (and optionally an admin API token), press Diagnose: see the findings."""
    import ipywidgets as w
    from IPython.display import HTML

    token_box = w.Textarea(value=token, placeholder="Paste the token the app sends (after 'Authorization: Bearer ')",
                           layout=w.Layout(width="100%", height="80px"))
    endpoint_box = w.Text(value=endpoint, placeholder="https://api.8base.com/<workspaceId> (or ..._<environment>)",
                          description="endpoint", layout=w.Layout(width="100%"))
    admin_box = w.Password(value=api_token or "", placeholder="optional: an API token with workspace administration",
                           description="api token", layout=w.Layout(width="100%"))
    button = w.Button(description="Diagnose", button_style="primary")
    out = w.Output()

    def show(*items: Any) -> None:
        out.outputs = ()
        for item in items:
            out.append_display_data(item)

    def run(_: Any = None) -> None:
        if not token_box.value.strip() or not endpoint_box.value.strip():
            show(HTML("<i>Paste a token and an endpoint, then press Diagnose.</i>"))
            return
        show(diagnose(token_box.value, endpoint_box.value.strip(), api_token=admin_box.value.strip() or None,
                      operation=operation, also_check=also_check, now=now() if now else None))

    button.on_click(run)
    show(HTML("<i>Paste a token and an endpoint, then press Diagnose.</i>"))
    return w.VBox([token_box, endpoint_box, admin_box, button, out])
