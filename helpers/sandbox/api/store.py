"""The sandbox API's data: one SQLite database per workspace environment, as 8base keeps them apart (records in
:mod:`~helpers.sandbox.api.records`, the databases of all workspaces in :mod:`~helpers.sandbox.api.workspaces`)."""
from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..common.clock import Clock
from .records import (ApiTokenRecord, AuthProfile, EntityExists, EntityGone, NoteListener, NoteRecord, Role,
                      UserRecord, new_id, profile_of, role_of, token_hash, user_of)
from .seed import ApiSeed, AuthProfileSeed, WorkspaceSeed

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, first_name TEXT, last_name TEXT, timezone TEXT,
  status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roles (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, permissions TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_roles (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, role_id TEXT NOT NULL REFERENCES roles(id),
  PRIMARY KEY (user_id, role_id));
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_token_roles (
  token_id TEXT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE, role_id TEXT NOT NULL REFERENCES roles(id),
  PRIMARY KEY (token_id, role_id));
CREATE TABLE IF NOT EXISTS auth_profiles (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, domain TEXT NOT NULL, client_id TEXT NOT NULL,
  audiences TEXT NOT NULL, self_signup TEXT NOT NULL, email_domains TEXT NOT NULL, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_profile_roles (
  profile_id TEXT NOT NULL REFERENCES auth_profiles(id) ON DELETE CASCADE, role_id TEXT NOT NULL REFERENCES roles(id),
  PRIMARY KEY (profile_id, role_id));
CREATE TABLE IF NOT EXISTS notes (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT, created_by TEXT REFERENCES users(id),
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
"""


class EnvironmentDb:
    """One environment's database. Every write runs in one transaction under one lock."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL: a commit does not wait for the disk; a killed process still leaves a
        # consistent database (only a power cut may lose the last commits), and start-up is not fsync-bound.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(f"BEGIN;\n{SCHEMA}\nCOMMIT;")  # the tables in one transaction
        # The reads every authenticated request makes (profiles, the user by email, the user's roles) are
        # remembered until the data may have changed: a transaction of this object (counted when it begins and
        # when it ends), or a commit by another connection (SQLite's data_version tells). Bench B2/B3.
        self._writes = 0
        self._remembered: dict[tuple[Any, ...], Any] = {}
        self._remembered_at: tuple[int, int] | None = None
        self._note_listeners: list[NoteListener] = []

    def _remember(self, key: tuple[Any, ...], read: Any) -> Any:
        with self._lock:
            version = (self._writes, self._db.execute("PRAGMA data_version").fetchone()[0])
            if version != self._remembered_at:
                self._remembered, self._remembered_at = {}, version
            if key not in self._remembered:
                self._remembered[key] = read()
            return self._remembered[key]

    def listen_to_notes(self, listener: NoteListener) -> None:
        """Call ``listener`` after every committed note change, in commit order (under the write lock)."""
        with self._lock:
            self._note_listeners.append(listener)

    def _notes_changed(self, mutation: str, note: NoteRecord, previous: NoteRecord | None = None) -> None:
        for listener in list(self._note_listeners):
            listener(mutation, note, previous)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _now(self) -> str:
        moment = datetime.fromtimestamp(self.clock.now(), tz=timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def _rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _write(self) -> "_Transaction":
        return _Transaction(self)

    # ------------------------------------------------------------------ seeding
    @property
    def seeded(self) -> bool:
        return bool(self._rows("SELECT 1 FROM meta WHERE key = 'seeded'"))

    def seed(self, api: ApiSeed, workspace: WorkspaceSeed, environment: str) -> None:
        """Fill a new database from the seed (an existing database keeps its data)."""
        if self.seeded:
            self._follow_identity_provider(workspace)
            return
        with self._write() as db:
            for role in api.roles:
                db.execute("INSERT INTO roles VALUES (?, ?, ?, ?)",
                           (new_id(), role.name, role.description, json.dumps(role.permissions)))
            for position, p in enumerate(workspace.authentication_profiles):
                db.execute("INSERT INTO auth_profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (p.id, p.name, p.type, p.domain, p.client_id, json.dumps(p.audiences), p.self_signup,
                            json.dumps(p.self_signup_email_domains), position))
                self._link_roles(db, "auth_profile_roles", p.id, p.roles)
            for t in workspace.api_tokens:
                db.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?)",
                           (t["id"], t["name"], token_hash(t["token"]), self._now()))
                self._link_roles(db, "api_token_roles", t["id"], t.get("roles", []))
            for u in workspace.users:
                if u.get("environment", "Master") == environment:
                    self._insert_user(db, u["email"], u.get("firstName"), u.get("lastName"), u.get("roles", []),
                                      user_id=u.get("id"))
            for n in workspace.notes:
                if n.get("environment", "Master") == environment:
                    author = db.execute("SELECT id FROM users WHERE email = ?", (n["createdBy"],)).fetchone()
                    now = self._now()
                    db.execute("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?)",
                               (n.get("id") or new_id(), n["title"], n.get("body"), author["id"] if author else None,
                                now, now))
            db.execute("INSERT INTO meta VALUES ('seeded', ?)", (self._now(),))

    def _follow_identity_provider(self, workspace: WorkspaceSeed) -> None:
        """A kept database: point the seeded profiles at the identity provider as it runs now (its port)."""
        with self._write() as db:
            for p in workspace.authentication_profiles:
                db.execute("UPDATE auth_profiles SET domain = ?, client_id = ?, audiences = ? WHERE id = ?",
                           (p.domain, p.client_id, json.dumps(p.audiences), p.id))

    @staticmethod
    def _link_roles(db: sqlite3.Connection, table: str, owner: str, role_names: Any) -> None:
        for name in role_names:
            role = db.execute("SELECT id FROM roles WHERE name = ?", (name,)).fetchone()
            if role is None:
                raise ValueError(f"unknown role {name!r}")
            db.execute(f"INSERT OR IGNORE INTO {table} VALUES (?, ?)", (owner, role["id"]))  # noqa: S608 - fixed names

    # ------------------------------------------------------------------ roles
    def roles(self) -> list[Role]:
        return [role_of(r) for r in self._rows("SELECT * FROM roles ORDER BY rowid")]

    def roles_of_user(self, user_id: str) -> list[Role]:
        return list(self._remember(("roles_of_user", user_id), lambda: [role_of(r) for r in self._rows(
            "SELECT roles.* FROM roles JOIN user_roles ON roles.id = role_id WHERE user_id = ? ORDER BY roles.rowid",
            user_id)]))

    def roles_of_token(self, token_id: str) -> list[Role]:
        return [role_of(r) for r in self._rows(
            "SELECT roles.* FROM roles JOIN api_token_roles ON roles.id = role_id WHERE token_id = ? "
            "ORDER BY roles.rowid", token_id)]

    def roles_of_profile(self, profile_id: str) -> list[Role]:
        return [role_of(r) for r in self._rows(
            "SELECT roles.* FROM roles JOIN auth_profile_roles ON roles.id = role_id WHERE profile_id = ? "
            "ORDER BY roles.rowid", profile_id)]

    def role_named(self, name: str) -> Role | None:
        rows = self._rows("SELECT * FROM roles WHERE name = ?", name)
        return role_of(rows[0]) if rows else None

    def create_role(self, name: str, description: str, permissions: dict[str, Any]) -> Role:
        """A new role of this environment (a role's name is unique)."""
        role = Role(new_id(), name, description, permissions)
        with self._write() as db:
            if db.execute("SELECT 1 FROM roles WHERE name = ?", (name,)).fetchone():
                raise EntityExists(name)
            db.execute("INSERT INTO roles VALUES (?, ?, ?, ?)", (role.id, name, description, json.dumps(permissions)))
        return role

    def grant_role(self, user_id: str, role_name: str) -> None:
        """Give a user one more role (kept if the user has it already)."""
        with self._write() as db:
            self._link_roles(db, "user_roles", user_id, [role_name])

    def users_with_role(self, role_id: str) -> list[UserRecord]:
        return [user_of(r) for r in self._rows(
            "SELECT users.* FROM users JOIN user_roles ON users.id = user_id WHERE role_id = ? ORDER BY users.rowid",
            role_id)]

    # ------------------------------------------------------------------ users
    def users(self) -> list[UserRecord]:
        return [user_of(r) for r in self._rows("SELECT * FROM users ORDER BY rowid")]

    def user(self, user_id: str) -> UserRecord | None:
        rows = self._rows("SELECT * FROM users WHERE id = ?", user_id)
        return user_of(rows[0]) if rows else None

    def user_by_email(self, email: str, case_sensitive: bool) -> UserRecord | None:
        sql = "SELECT * FROM users WHERE email = ?" if case_sensitive else \
            "SELECT * FROM users WHERE lower(email) = lower(?) ORDER BY rowid"

        def read() -> UserRecord | None:
            rows = self._rows(sql, email)
            return user_of(rows[0]) if rows else None
        return self._remember(("user_by_email", email, case_sensitive), read)

    def create_user(self, email: str, first_name: str | None, last_name: str | None,
                    role_names: Any) -> UserRecord:
        with self._write() as db:  # the check, the insert and the read back in one transaction
            if db.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
                raise EntityExists(email)
            user_id = self._insert_user(db, email, first_name, last_name, role_names)
            return user_of(db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())

    def _insert_user(self, db: sqlite3.Connection, email: str, first_name: str | None, last_name: str | None,
                     role_names: Any, user_id: str | None = None) -> str:
        user_id = user_id or new_id()
        now = self._now()
        db.execute("INSERT INTO users VALUES (?, ?, ?, ?, NULL, 'active', ?, ?)",
                   (user_id, email, first_name, last_name, now, now))
        self._link_roles(db, "user_roles", user_id, ["Guest", *role_names])  # every user is also a Guest
        return user_id

    def update_user(self, user_id: str, **fields: Any) -> None:
        columns = {"email": "email", "firstName": "first_name", "lastName": "last_name"}
        with self._write() as db:
            for name, value in fields.items():
                db.execute(f"UPDATE users SET {columns[name]} = ?, updated_at = ? WHERE id = ?",  # noqa: S608
                           (value, self._now(), user_id))

    def delete_user(self, user_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE notes SET created_by = NULL WHERE created_by = ?", (user_id,))
            db.execute("DELETE FROM users WHERE id = ?", (user_id,))

    # ------------------------------------------------------------------ API tokens
    def api_token(self, token: str) -> ApiTokenRecord | None:
        rows = self._rows("SELECT id, name, created_at FROM api_tokens WHERE token_hash = ?", token_hash(token))
        return ApiTokenRecord(**dict(rows[0])) if rows else None

    def api_tokens(self) -> list[ApiTokenRecord]:
        return [ApiTokenRecord(**dict(r)) for r in self._rows("SELECT id, name, created_at FROM api_tokens")]

    def create_api_token(self, name: str, role_names: Any) -> tuple[ApiTokenRecord, str]:
        value = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-" \
                f"{secrets.token_hex(6)}"
        record = ApiTokenRecord(new_id(), name, self._now())
        with self._write() as db:
            db.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?)",
                       (record.id, name, token_hash(value), record.created_at))
            self._link_roles(db, "api_token_roles", record.id, role_names)
        return record, value

    # ------------------------------------------------------------------ authentication profiles
    def auth_profiles(self) -> list[AuthProfile]:
        return list(self._remember(("auth_profiles",), lambda: [
            profile_of(r) for r in self._rows("SELECT * FROM auth_profiles ORDER BY position")]))

    def add_auth_profile(self, profile: AuthProfileSeed) -> None:
        """Add (or replace) an Authentication Profile after the seed, with its roles for new users."""
        with self._write() as db:
            position = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM auth_profiles").fetchone()[0]
            db.execute("INSERT OR REPLACE INTO auth_profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (profile.id, profile.name, profile.type, profile.domain, profile.client_id,
                        json.dumps(profile.audiences), profile.self_signup,
                        json.dumps(profile.self_signup_email_domains), position))
            self._link_roles(db, "auth_profile_roles", profile.id, profile.roles)

    def set_self_signup(self, profile_id: str, mode: str, email_domains: tuple[str, ...] = ()) -> None:
        with self._write() as db:
            db.execute("UPDATE auth_profiles SET self_signup = ?, email_domains = ? WHERE id = ?",
                       (mode, json.dumps(list(email_domains)), profile_id))

    # ------------------------------------------------------------------ notes
    def notes(self) -> list[NoteRecord]:
        return [NoteRecord(**dict(r)) for r in self._rows("SELECT * FROM notes ORDER BY rowid")]

    def note(self, note_id: str) -> NoteRecord | None:
        rows = self._rows("SELECT * FROM notes WHERE id = ?", note_id)
        return NoteRecord(**dict(rows[0])) if rows else None

    def create_note(self, title: str, body: str | None, created_by: str | None) -> NoteRecord:
        now = self._now()
        record = NoteRecord(new_id(), title, body, created_by, now, now)
        with self._lock:
            with self._write() as db:
                if created_by is not None and not db.execute("SELECT 1 FROM users WHERE id = ?",
                                                             (created_by,)).fetchone():
                    raise EntityGone(created_by)  # the author was deleted after the request was authenticated
                db.execute("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?)",
                           (record.id, title, body, created_by, now, now))
            self._notes_changed("create", record)
        return record

    def update_note(self, note_id: str, **fields: Any) -> NoteRecord | None:
        """The updated note, or None when no note has this id (any more: a racing delete may have won)."""
        with self._lock:
            with self._write() as db:  # read, write and read back in one transaction
                previous = db.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
                if previous is None:
                    return None
                for name in ("title", "body"):
                    if name in fields:
                        db.execute(f"UPDATE notes SET {name} = ?, updated_at = ? WHERE id = ?",  # noqa: S608
                                   (fields[name], self._now(), note_id))
                updated = NoteRecord(**dict(db.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()))
            self._notes_changed("update", updated, NoteRecord(**dict(previous)))
        return updated

    def delete_note(self, note_id: str) -> NoteRecord | None:
        """The deleted note, or None when no note has this id (any more: a racing delete may have won)."""
        with self._lock:
            with self._write() as db:
                previous = db.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
                if previous is None:
                    return None
                db.execute("DELETE FROM notes WHERE id = ?", (note_id,))
            deleted = NoteRecord(**dict(previous))
            self._notes_changed("delete", deleted, deleted)
        return deleted


class _Transaction:
    """``with db._write() as conn``: BEGIN IMMEDIATE ... COMMIT (or ROLLBACK), under the lock."""

    def __init__(self, owner: EnvironmentDb) -> None:
        self.owner = owner

    def __enter__(self) -> sqlite3.Connection:
        self.owner._lock.acquire()
        self.owner._db.execute("BEGIN IMMEDIATE")
        self.owner._writes += 1  # reads inside the transaction see its changes, never a remembered answer
        return self.owner._db

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.owner._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.owner._writes += 1
            self.owner._lock.release()
