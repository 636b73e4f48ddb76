"""The sandbox API's records (what its store returns) and the store's exceptions."""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import string
from dataclasses import dataclass
from typing import Any, Callable

from ...verify import issuer_of_profile_domain

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    """An 8base-looking record id (25 characters, starting with ``c``)."""
    return "c" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def token_hash(token: str) -> str:
    """API tokens are stored only as a hash: the value is shown once, at creation."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    description: str
    permissions: dict[str, Any]


@dataclass(frozen=True)
class UserRecord:
    id: str
    email: str
    first_name: str | None
    last_name: str | None
    status: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ApiTokenRecord:
    id: str
    name: str
    created_at: str


@dataclass(frozen=True)
class AuthProfile:
    id: str
    name: str
    type: str
    domain: str
    client_id: str
    audiences: tuple[str, ...]
    self_signup: str
    email_domains: tuple[str, ...]

    @property
    def issuer(self) -> str:
        """The issuer this profile trusts (:func:`helpers.verify.issuer_of_profile_domain`)."""
        return issuer_of_profile_domain(self.domain)

    @property
    def accepted_audiences(self) -> tuple[str, ...]:
        return (self.client_id, *self.audiences)


@dataclass(frozen=True)
class NoteRecord:
    id: str
    title: str
    body: str | None
    created_by: str | None
    created_at: str
    updated_at: str


class EntityExists(Exception):
    """A unique value (a user's email) is taken."""


class EntityGone(Exception):
    """A row a write refers to (the note's author) no longer exists: it was deleted by a racing request."""


NoteListener = Callable[[str, NoteRecord, "NoteRecord | None"], None]
"""Called as ``listener(mutation, note, previous)`` after a note is created, updated or deleted."""


def role_of(row: sqlite3.Row) -> Role:
    return Role(row["id"], row["name"], row["description"] or "", json.loads(row["permissions"]))


def user_of(row: sqlite3.Row) -> UserRecord:
    return UserRecord(row["id"], row["email"], row["first_name"], row["last_name"], row["status"],
                      row["created_at"], row["updated_at"])


def profile_of(row: sqlite3.Row) -> AuthProfile:
    return AuthProfile(row["id"], row["name"], row["type"], row["domain"], row["client_id"],
                       tuple(json.loads(row["audiences"])), row["self_signup"], tuple(json.loads(row["email_domains"])))
