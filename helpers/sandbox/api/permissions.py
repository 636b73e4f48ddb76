"""Roles and permissions of the sandbox API: who may create, read, update or delete which rows and fields.

A role grants, per table and action, ``allow`` plus an optional ``filter`` (which rows) and
``fields`` (which fields). A caller has several roles; an action is allowed when any role allows
it, and a row is reachable when any allowing role's filter matches it (no filter: every row).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from .errors import not_authorized
from .records import AuthProfile, NoteRecord, Role, UserRecord
from .store import EnvironmentDb

CallerKind = Literal["guest", "user", "api_token", "unregistered"]
USER_FIELDS = {"id": "id", "email": "email", "firstName": "first_name", "lastName": "last_name"}
NOTE_FIELDS = {"id": "id", "title": "title", "body": "body"}


@dataclass(frozen=True)
class Caller:
    """Who sends the request, as the API sees it after authentication."""

    kind: CallerKind
    roles: tuple[Role, ...]
    user: UserRecord | None = None
    api_token_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    profile: AuthProfile | None = None

    def variable(self, name: str) -> Any:
        """8base's dynamic variables in role filters."""
        return {
            "__loggedInUserId": self.user.id if self.user else None,
            "__loggedInUserEmail": self.user.email if self.user else None,
            "__requestingApiToken": self.api_token_id,
        }.get(name, name)


@dataclass(frozen=True)
class Rule:
    """What the caller's roles allow for one table and action."""

    allowed: bool
    filters: tuple[dict[str, Any] | None, ...]  # None: every row
    denied_fields: frozenset[str]

    def reaches(self, matches: Callable[[dict[str, Any]], bool]) -> bool:
        return self.allowed and any(f is None or matches(f) for f in self.filters)


def rule(caller: Caller, table: str, action: str) -> Rule:
    """Merge the caller's roles into one rule for ``table`` / ``action``."""
    filters: list[dict[str, Any] | None] = []
    denied: set[str] | None = None
    for role in caller.roles:
        grant = role.permissions.get("data", {}).get(table, {}).get(action, {})
        if not grant.get("allow"):
            continue
        filters.append(grant.get("filter"))
        role_denied = {name for name, ok in grant.get("fields", {}).items() if ok is False}
        denied = role_denied if denied is None else denied & role_denied
    return Rule(bool(filters), tuple(filters), frozenset(denied or ()))


def require(caller: Caller, table: str, action: str) -> Rule:
    allowed = rule(caller, table, action)
    if not allowed.allowed:
        raise not_authorized()
    return allowed


def can_custom(caller: Caller, group: str, name: str) -> bool:
    return any(role.permissions.get("custom", {}).get(group, {}).get(name, {}).get("allow") for role in caller.roles)


def require_custom(caller: Caller, group: str, name: str) -> None:
    if not can_custom(caller, group, name):
        raise not_authorized()


def permission_items(roles: tuple[Role, ...] | list[Role]) -> list[dict[str, Any]]:
    """``user { permissions { items { resource resourceType permission } } }``, merged over roles."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for role in roles:
        for resource_type, resources in role.permissions.items():
            for resource, actions in resources.items():
                target = merged.setdefault((resource_type, resource), {})
                for action, grant in actions.items():
                    if grant.get("allow") or action not in target:
                        target[action] = grant
    return [{"resource": r, "resourceType": t, "permission": p} for (t, r), p in merged.items()]


# ---------------------------------------------------------------------- filters
def _predicate(value: Any, condition: Any, caller: Caller) -> bool:
    if not isinstance(condition, dict):
        return False
    for op, expected in condition.items():
        expected = caller.variable(expected) if isinstance(expected, str) else expected
        if op == "equals" and value != expected:
            return False
        if op == "not_equals" and value == expected:
            return False
        if op == "in" and value not in [caller.variable(e) if isinstance(e, str) else e for e in expected or []]:
            return False
        if op == "contains" and (not isinstance(value, str) or str(expected) not in value):
            return False
        if op == "starts_with" and (not isinstance(value, str) or not value.startswith(str(expected))):
            return False
        if op not in ("equals", "not_equals", "in", "contains", "starts_with"):
            return False
    return True


def user_matches(user: UserRecord | None, flt: dict[str, Any], caller: Caller) -> bool:
    """Does a Users row satisfy a filter (``id``, ``email``, names, ``is_self``, ``not_self``, AND/OR)?"""
    if user is None:
        return False
    for key, condition in flt.items():
        if key == "AND" and not all(user_matches(user, f, caller) for f in condition or []):
            return False
        elif key == "OR" and not any(user_matches(user, f, caller) for f in condition or []):
            return False
        elif key == "is_self" and (caller.user is not None and user.id == caller.user.id) != bool(condition):
            return False
        elif key == "not_self" and (caller.user is None or user.id != caller.user.id) != bool(condition):
            return False
        elif key in USER_FIELDS and not _predicate(getattr(user, USER_FIELDS[key]), condition, caller):
            return False
        elif key not in ("AND", "OR", "is_self", "not_self") and key not in USER_FIELDS:
            return False
    return True


def note_matches(note: NoteRecord, flt: dict[str, Any], caller: Caller, db: EnvironmentDb) -> bool:
    """Does a Notes row satisfy a filter (``id``, ``title``, ``body``, ``createdBy`` relation, AND/OR)?"""
    for key, condition in flt.items():
        if key == "AND" and not all(note_matches(note, f, caller, db) for f in condition or []):
            return False
        elif key == "OR" and not any(note_matches(note, f, caller, db) for f in condition or []):
            return False
        elif key == "createdBy":
            author = db.user(note.created_by) if note.created_by else None
            if not user_matches(author, condition or {}, caller):
                return False
        elif key in NOTE_FIELDS and not _predicate(getattr(note, NOTE_FIELDS[key]), condition, caller):
            return False
        elif key not in ("AND", "OR", "createdBy") and key not in NOTE_FIELDS:
            return False
    return True
