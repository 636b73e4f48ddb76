"""The doctor's facts: the inputs cleaned, the token decoded, and what the servers say, each learned once."""
from __future__ import annotations

from functools import cached_property
from typing import Any, Iterable

from ..tokens import NotAJwt, TokenParts, decode_parts, readable_time
from .reads import Answer, Profile, Read, address_of, as_list, call, place_of, read_profiles, read_users, short
from .report import Finding

MIN_SECRET = 8  # shorter values are not redacted (they would mangle ordinary words)
NEED_ADMIN = ("Pass api_token= an API token with workspace administration (Settings > API Tokens, a role with "
              "workspace administration) so the doctor can read the profiles and users.")


class Facts:
    """What the checks look at, gathered once per diagnosis: the cleaned inputs and the decoded token at once,
    the HTTP reads (the API's answer, profiles, users) on first use and at most once, so a check that is
    skipped costs no request."""

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
        self.workspace, self.environment = address_of(self.endpoint)
        self.places = [place_of(item, self.api_token) for item in also_check]
        self.secrets = sorted({s for s in (raw, cleaned, self.token, self.api_token,
                                           *(p.api_token for p in self.places)) if s and len(s) >= MIN_SECRET},
                              key=len, reverse=True)
        self.found: dict[str, Finding] = {}
        try:
            self.parts: TokenParts | None = decode_parts(self.token)
            self.not_a_jwt = ""
        except NotAJwt as exc:
            self.parts, self.not_a_jwt = None, str(exc)

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
    def answer(self) -> Answer:
        """The API's own answer to ``operation`` sent with the token."""
        if not self.endpoint.startswith(("http://", "https://")):
            return Answer(failure=f"the endpoint {short(self.endpoint, 80)!r} is not an http(s) URL")
        if not self.token:
            return Answer(failure="no token was given, so nothing was sent")
        return call(self.endpoint, self.token, self.operation)

    @cached_property
    def profiles(self) -> Read:
        return read_profiles(self.endpoint, self.api_token)

    @cached_property
    def users(self) -> Read:
        return read_users(self.endpoint, self.api_token)

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
    def matching_profiles(self) -> list[Profile]:
        iss = self.claims.get("iss")
        return [p for p in (self.profiles.items or ()) if p.issuer == iss]

    @cached_property
    def profile(self) -> Profile | None:
        """The profile this token is for: issuer and client id match, else the first with its issuer."""
        audiences = as_list(self.claims.get("aud"))
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

    def redact(self, finding: Finding) -> Finding:
        """The finding with the token and the API tokens replaced by ``<token>`` (no finding repeats them)."""
        def clean(text: str) -> str:
            for secret in self.secrets:
                text = text.replace(secret, "<token>")
            return text
        return Finding(finding.check, clean(finding.title), finding.status, clean(finding.evidence),
                       clean(finding.fix))


def build_finding(check: str, status: str, title: str, evidence: str, fix: str) -> Finding:
    """A check's finding, its fields in the order a check thinks of them (status before title)."""
    return Finding(check, title, status, evidence, fix)
