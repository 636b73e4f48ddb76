"""The doctor's order: which checks run, in which order, which depend on which; and :func:`diagnose`.

The checks run in the order of :data:`CHECKS`, so the first problem is the cause and later findings are its
consequences; a check that depends on a failed one is ``skipped``. A check is a function of the gathered
:class:`~helpers.doctor.facts.Facts` that returns its :class:`Finding`.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable

from .facts import Facts, build_finding
from .reads import short
from .report import Diagnosis, Finding
from .token_checks import (check_audience, check_email_claim, check_expiry, check_issuer_profile, check_jwt,
                           check_signature, check_token_type)
from .user_checks import (check_api_answer, check_email_case, check_email_changed, check_environment, check_roles,
                          check_self_signup, check_signed_up, check_workspace)

DEFAULT_OPERATION = "{ user { id } }"
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

Check = Callable[[Facts], Finding]
"""A check: the gathered facts in, its finding out."""

ORDER: tuple[Check, ...] = (
    check_jwt, check_token_type, check_signature, check_issuer_profile, check_audience, check_expiry,
    check_email_claim, check_email_case, check_environment, check_workspace, check_email_changed,
    check_self_signup, check_signed_up, check_roles, check_api_answer,
)
"""The check functions, in the order of :data:`CHECKS` (``check_<id>``)."""
assert [f.__name__ for f in ORDER] == [f"check_{c}" for c in CHECKS], "ORDER and CHECKS must list the same checks"


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
        facts = Facts(token, endpoint, api_token, operation, also_check, time.time() if now is None else now)
        findings = run_checks(facts)
    except Exception as exc:  # bad arguments (a malformed also_check, a now that is no number): say so, never raise
        findings = [Finding(check, "Not checked", "unknown", f"The doctor could not start ({type(exc).__name__}): "
                            "check the arguments (token and endpoint strings, also_check URLs or (url, api_token) "
                            "pairs, now in seconds).", "Report this as a bug of helpers.doctor if the arguments "
                            "are right.") for check in CHECKS]
    return Diagnosis(str(endpoint), findings)


def run_checks(facts: Facts) -> list[Finding]:
    """Every check in order over the facts: skipped when a check it depends on found a problem, redacted."""
    for check, function in zip(CHECKS, ORDER):
        try:
            blocker = _blocker(facts, check)
            finding = _skipped(check, blocker) if blocker else function(facts)
        except Exception as exc:  # a doctor that crashes helps no one: the crash becomes a finding
            finding = build_finding(check, "unknown", "The doctor could not run this check",
                                    f"{type(exc).__name__} while checking: {short(str(exc), 200)}",
                                    "Report this as a bug of helpers.doctor.")
        facts.found[check] = facts.redact(finding)
    return [facts.found[c] for c in CHECKS]


def _blocker(facts: Facts, check: str) -> str | None:
    for dependency in REQUIRES[check]:
        earlier = facts.found.get(dependency)
        if dependency == "jwt" and facts.parts is None:
            return dependency
        if earlier is not None and earlier.status == "problem":
            return dependency
    return None


def _skipped(check: str, blocker: str) -> Finding:
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
    return build_finding(check, "skipped", "Not checked", f"Not checked: {why}.", f"Fix '{blocker}' first.")
