"""Checks 8-15: why is there no user with the token's email, and what did the API answer?

Each check takes the :class:`~helpers.doctor.facts.Facts` and returns its :class:`Finding`.
"""
from __future__ import annotations

import json

from ..catalog import UnknownError, explain
from .facts import NEED_ADMIN, Facts, build_finding
from .reads import Place, read_users, short
from .report import Finding


def _not_needed(facts: Facts, check: str) -> Finding | None:
    """The ok finding of a user check when the user exists (or ``unknown`` when that cannot be told)."""
    verdict, evidence = facts.presence
    if verdict in ("exact", "api"):
        return build_finding(check, "ok", "Not needed: the user exists here", f"Not needed: {evidence}.",
                             "Nothing to do.")
    if verdict == "unknown":
        return build_finding(check, "unknown", "Cannot tell whether the user exists",
                             f"Cannot tell: {evidence}.", NEED_ADMIN)
    return None


# ---------------------------------------------------------------------- 8-13: why is there no user?
def check_email_case(facts: Facts) -> Finding:
    email = facts.email or ""
    verdict, evidence = facts.presence
    variants = [u for u in (facts.users.items or ()) if u.email != email and u.email.lower() == email.lower()]
    if verdict == "exact":
        return _not_needed(facts, "email_case")  # type: ignore[return-value]
    if verdict == "api" and variants:
        return build_finding("email_case", "warning", "The stored email differs in case; this API matched anyway",
                             f"The token says {email}, user {variants[0].id} has {variants[0].email}; the API "
                             f"found the user all the same ({facts.answer.summary()}). An API that compares emails "
                             "exactly would answer 'User is absent'.",
                             "Store the email exactly as the identity provider sends it.")
    if verdict == "absent" and variants:
        return build_finding("email_case", "problem", "The user's email differs only in case",
                             f"The token says {email}; user {variants[0].id} of {facts.where} has "
                             f"{variants[0].email}. This API compares emails exactly, so it answered "
                             f"{facts.answer.summary()}.",
                             f"Update the Users record's email to exactly {email} (or normalise emails to lower "
                             "case on both sides).")
    if verdict == "absent":
        return build_finding("email_case", "ok", "No email differs only in case",
                             f"No user of {facts.where} has {email} in another case.", "Nothing to do.")
    return _not_needed(facts, "email_case") or _unread_users(facts, "email_case")


def check_environment(facts: Facts) -> Finding:
    return _not_needed(facts, "environment") or _elsewhere(facts, "environment")


def check_workspace(facts: Facts) -> Finding:
    return _not_needed(facts, "workspace") or _elsewhere(facts, "workspace")


def _elsewhere(facts: Facts, kind: str) -> Finding:
    email = facts.email or ""
    places = [p for p in facts.places if _kind_of(facts, p) == kind]
    if not places:
        example = (f"{facts.endpoint}_dev" if kind == "environment" else
                   "(another workspace's endpoint, an API token of that workspace)")
        other = f"environment of workspace {facts.workspace}" if kind == "environment" else "workspace"
        return build_finding(kind, "unknown", f"No other {kind} was searched",
                             f"also_check names no other {other}, so the doctor did not look there.",
                             f"Pass also_check=[...] with the other {kind}s the app may have used, e.g. "
                             f"{example}.")
    hits, clean, unread = [], [], []
    for place in places:
        read = read_users(place.url, place.api_token)
        if read.items is None:
            unread.append(f"{place.label}: {read.why_not}")
            continue
        match = next((u for u in read.items if u.email.lower() == email.lower()), None)
        (hits.append((place, match)) if match else clean.append(place.label))
    if hits:
        place, user = hits[0]
        return build_finding(kind, "problem", f"The user signed up in another {kind}",
                             f"User {user.id} with the email {user.email} exists in {place.label}, not in "
                             f"{facts.where}: each {kind} has its own Users table.",
                             f"Point the app at the endpoint the user signed up in ({place.url}), or sign the user "
                             f"up here too (userSignUpWithToken against {facts.endpoint}).")
    if unread:
        return build_finding(kind, "unknown", f"Could not search every other {kind}",
                             "Could not read usersList in " + "; ".join(unread)
                             + (f". Not found in: {', '.join(clean)}." if clean else "."),
                             f"Give an API token with workspace administration that is valid in that {kind} "
                             "(also_check=[(url, api_token)]).")
    return build_finding(kind, "ok", f"Not in another {kind}",
                         f"No user with the email {email} in: {', '.join(clean)}.", "Nothing to do.")


def _kind_of(facts: Facts, place: Place) -> str | None:
    if place.workspace is not None and place.workspace == facts.workspace:
        return None if place.environment.lower() == facts.environment.lower() else "environment"
    return "workspace"


def check_email_changed(facts: Facts) -> Finding:
    not_needed = _not_needed(facts, "email_changed")
    if not_needed is not None:
        return not_needed
    if facts.users.items is None:
        return _unread_users(facts, "email_changed")
    email, claims = facts.email or "", facts.claims
    local = email.rsplit("@", 1)[0].lower()
    given, family = (str(claims.get(n) or "").strip().lower() for n in ("given_name", "family_name"))
    name = str(claims.get("name") or "").strip().lower()
    for user in facts.users.items:
        first, last = (user.first_name or "").strip().lower(), (user.last_name or "").strip().lower()
        same_name = bool(first and last) and ((first, last) == (given, family) or f"{first} {last}" == name)
        same_local = user.email.rsplit("@", 1)[0].lower() == local
        if same_name or same_local:
            why = (f"the same name ({user.first_name} {user.last_name})" if same_name
                   else f"the same local part ({local}@)")
            return build_finding("email_changed", "problem", "The email changed on one side",
                                 f"No user has {email}, but user {user.id} ({user.email}) has {why}: the email was "
                                 "changed in 8base or at the identity provider, and 8base matches on the email "
                                 "alone.",
                                 f"If it is the same person, set that Users record's email to {email} (or change "
                                 "it back at the identity provider); never edit the email on one side only.")
    return build_finding("email_changed", "ok", "No user looks like the same person",
                         f"No user of {facts.where} has the token's name or the local part {local}@.",
                         "Nothing to do.")


def check_self_signup(facts: Facts) -> Finding:
    not_needed = _not_needed(facts, "self_signup")
    if not_needed is not None:
        return not_needed
    if facts.profiles.items is None:
        return build_finding("self_signup", "unknown", "Cannot read the profile's self sign-up setting",
                             f"authenticationProfilesList not read: {facts.profiles.why_not}.", NEED_ADMIN)
    profile = facts.profile
    if profile is None:
        return build_finding("self_signup", "unknown", "No profile for this token",
                             "No Authentication Profile of this workspace has the token's issuer.", NEED_ADMIN)
    email = facts.email or ""
    domain = email.rsplit("@", 1)[-1].lower()
    allowed = {d.lower().lstrip("@") for d in profile.email_domains if d}
    swallowed = ("userSignUpWithToken was refused for this user, and an app that swallows that error shows "
                 "'User is absent' on every later request")
    if profile.self_signup_enabled is False:
        return build_finding("self_signup", "problem", "Self sign-up is off: the sign-up was refused",
                             f"Profile {profile.label} has selfSignUpEnabled false: {swallowed}.",
                             f"Turn self sign-up on for the profile (Open to all, or the domain {domain}), or "
                             "invite the user; and show sign-up errors instead of swallowing them.")
    if allowed and domain not in allowed:
        return build_finding("self_signup", "problem", "Self sign-up excludes this email's domain",
                             f"Profile {profile.label} accepts self sign-up only from {', '.join(sorted(allowed))};"
                             f" {email} is not among them: {swallowed}.",
                             f"Add {domain} to the profile's self sign-up domains, or invite the user; and show "
                             "sign-up errors instead of swallowing them.")
    if profile.self_signup_enabled is None:
        return build_finding("self_signup", "unknown", "The profile does not say whether self sign-up is on",
                             f"Profile {profile.label} returned no selfSignUpEnabled.", NEED_ADMIN)
    scope = f"open to {', '.join(sorted(allowed))}" if allowed else "open to all"
    return build_finding("self_signup", "ok", "Self sign-up would accept this user",
                         f"Profile {profile.label}: self sign-up {scope}.", "Nothing to do.")


def check_signed_up(facts: Facts) -> Finding:
    verdict, evidence = facts.presence
    if verdict in ("exact", "api"):
        return build_finding("signed_up", "ok", "A user with this email exists here", f"{evidence[0].upper()}"
                             f"{evidence[1:]}.", "Nothing to do.")
    if verdict == "absent":
        unsearched = [c for c in ("environment", "workspace") if facts.found.get(c) and
                      facts.found[c].status == "unknown"]
        caveat = (f" Not searched or not readable: other {' and other '.join(s + 's' for s in unsearched)}."
                  if unsearched else "")
        profile = facts.profile.id if facts.profile else "<authentication profile id>"
        return build_finding("signed_up", "problem", "Never signed up in this environment",
                             f"No user with this email: {evidence}.{caveat} Logging in at the identity provider "
                             "does not create the Users record.",
                             "After login, call mutation { userSignUpWithToken(user: {email: <the token's email>}, "
                             f"authProfileId: \"{profile}\") {{ id }} }} once with the ID token as Bearer, "
                             "then retry.")
    return build_finding("signed_up", "unknown", "Cannot tell why no user matches",
                         f"{evidence[0].upper()}{evidence[1:]}.", NEED_ADMIN)


def _unread_users(facts: Facts, check: str) -> Finding:
    return build_finding(check, "unknown", "Cannot read the workspace's users",
                         f"usersList not read: {facts.users.why_not}. The API answered {facts.answer.summary()}.",
                         NEED_ADMIN)


# ---------------------------------------------------------------------- 14-15: the API's answer
def check_roles(facts: Facts) -> Finding:
    answer = facts.answer
    if answer.failure is not None:
        return build_finding("roles", "unknown", "No answer from the API", f"{answer.failure}.",
                             "Check the endpoint URL and that the API is reachable.")
    if answer.error is None:
        return build_finding("roles", "ok", "The roles allow the operation",
                             f"The API ran {short(facts.operation, 80)} and answered {answer.summary()}.",
                             "Nothing to do.")
    if answer.code == "NotAuthorizedError":
        user = next((u for u in (facts.users.items or ()) if u.email == facts.email), None)
        roles = (f"; the user's roles: {', '.join(user.roles) or 'none'}" if user is not None
                 else "; the user's roles were not read" + (f" ({facts.users.why_not})" if facts.users.why_not
                                                           else ""))
        return build_finding("roles", "problem", "The user's roles do not allow the operation",
                             f"The API knows the user but refused {short(facts.operation, 80)}: "
                             f"{answer.summary()}{roles}.",
                             "Give one of the user's roles the permission the operation needs (for { user { id } }:"
                             " Users > Read, filtered to the user's own record, id = __loggedInUserId), or assign a"
                             " role that has it (a profile's roles are what new users get at sign-up).")
    why = "no user matched the token" if answer.code == "UserNotFoundError" else \
        f"the API answered {answer.code or 'an error'} before any permission applied"
    return build_finding("roles", "skipped", "Not checked", f"Not checked: {why} (see api_answer).",
                         "Fix the cause above first.")


def check_api_answer(facts: Facts) -> Finding:
    answer = facts.answer
    if answer.failure is not None:
        return build_finding("api_answer", "unknown", "No GraphQL answer", f"{answer.failure}.",
                             "Check the endpoint URL (https://api.8base.com/<workspaceId>, or _<environment>) "
                             "and that the API is reachable.")
    if answer.error is None:
        return build_finding("api_answer", "ok", "The API answered with data",
                             f"{short(facts.operation, 80)} returned {short(json.dumps(answer.data), 200)}.",
                             "Nothing to do.")
    error = answer.error
    try:
        entry = explain(error)
        cause, fix = f" Catalog {entry.id}: {entry.cause}", entry.fix
    except UnknownError:
        cause, fix = "", "Look the code up with helpers.catalog.search(...)."
    return build_finding("api_answer", "problem", f"{error.code or 'GraphQL error'}: {short(error.message, 100)}",
                         f"The API answered {answer.summary()}.{cause}", fix)
