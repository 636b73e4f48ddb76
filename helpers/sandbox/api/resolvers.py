"""Resolvers of the sandbox GraphQL API (schema: data/sandbox/schema.graphql).

Every resolver reads the :class:`~helpers.sandbox.api.permissions.Caller` from the context and
applies the caller's roles: table actions, row filters, field flags.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ariadne import MutationType, ObjectType, QueryType, ScalarType, load_schema_from_path, make_executable_schema
from graphql import GraphQLResolveInfo, GraphQLSchema

from .errors import ApiError, not_authorized, user_absent
from .permissions import (Caller, Rule, note_matches, permission_items, require, require_custom, rule,
                              user_matches)
from .records import EntityExists, EntityGone, NoteRecord, Role, UserRecord
from .seed import SCHEMA_FILE, ApiSettings
from .store import EnvironmentDb

query = QueryType()
mutation = MutationType()
user_type = ObjectType("User")
role_type = ObjectType("Role")
note_type = ObjectType("Note")
token_type = ObjectType("ApiToken")
token_response_type = ObjectType("ApiTokenResponse")
profile_type = ObjectType("AuthenticationProfile")
json_scalar = ScalarType("JSON")
datetime_scalar = ScalarType("DateTime")


@dataclass(frozen=True)
class Context:
    """What every resolver gets: the caller, its environment's database and the API settings."""

    caller: Caller
    db: EnvironmentDb
    settings: ApiSettings


def _ctx(info: GraphQLResolveInfo) -> Context:
    return info.context


def _items(records: list[Any]) -> dict[str, Any]:
    """A ``...ListResponse``: the records and their count."""
    return {"items": records, "count": len(records)}


def _page(items: list[Any], first: int | None, skip: int | None) -> dict[str, Any]:
    start = max(skip or 0, 0)
    end = None if first is None else start + max(first, 0)
    return {"items": items[start:end], "count": len(items)}


def _visible_user(ctx: Context, user: UserRecord | None) -> bool:
    return user is not None and rule(ctx.caller, "Users", "read").reaches(lambda f: user_matches(user, f, ctx.caller))


# ---------------------------------------------------------------------- users
@query.field("user")
def resolve_user(_, info: GraphQLResolveInfo, id: str | None = None, email: str | None = None) -> UserRecord | None:
    """Without arguments: the caller. With ``id`` or ``email``: that user, if the roles let you read it."""
    ctx = _ctx(info)
    if id is None and email is None:
        if ctx.caller.user is None:
            return None  # Guest and API tokens have no user record (sandbox behaviour; 8base's is undocumented)
        target = ctx.caller.user
    else:
        target = ctx.db.user(id) if id is not None else ctx.db.user_by_email(
            email or "", case_sensitive=ctx.settings.email_case_sensitive)
    require(ctx.caller, "Users", "read")
    if target is None:
        return None
    if not _visible_user(ctx, target):
        raise not_authorized()
    return target


@query.field("usersList")
def resolve_users_list(_, info: GraphQLResolveInfo, filter: dict | None = None, first: int | None = None,
                       skip: int | None = None) -> dict[str, Any]:
    ctx = _ctx(info)
    allowed = require(ctx.caller, "Users", "read")
    users = [u for u in ctx.db.users() if allowed.reaches(lambda f, u=u: user_matches(u, f, ctx.caller))
             and (not filter or user_matches(u, filter, ctx.caller))]
    return _page(users, first, skip)


def _user_field(column: str, name: str):
    def resolve(user: UserRecord, info: GraphQLResolveInfo) -> Any:
        if name in rule(_ctx(info).caller, "Users", "read").denied_fields:
            raise not_authorized()
        return getattr(user, column)
    return resolve


for _name, _column in {"email": "email", "firstName": "first_name", "lastName": "last_name"}.items():
    user_type.set_field(_name, _user_field(_column, _name))
user_type.set_alias("createdAt", "created_at")
user_type.set_alias("updatedAt", "updated_at")


@user_type.field("roles")
def resolve_user_roles(user: UserRecord, info: GraphQLResolveInfo) -> dict[str, Any]:
    return _items(_ctx(info).db.roles_of_user(user.id))


@user_type.field("permissions")
def resolve_user_permissions(user: UserRecord, info: GraphQLResolveInfo) -> dict[str, Any]:
    return _items(permission_items(_ctx(info).db.roles_of_user(user.id)))


@mutation.field("userSignUpWithToken")
def resolve_sign_up(_, info: GraphQLResolveInfo, user: dict[str, Any], authProfileId: str | None = None) -> UserRecord:
    """Create the caller's user from the verified ID token and the profile's roles."""
    ctx = _ctx(info)
    caller = ctx.caller
    if caller.kind == "user":
        raise ApiError("EntityExistsError", "The user already exists",
                       {"email": "A user with the token's email is already signed up in this environment."})
    if caller.kind != "unregistered":
        raise not_authorized()
    profiles = ctx.db.auth_profiles()
    profile = next((p for p in profiles if p.id == authProfileId), None) if authProfileId else profiles[0]
    if profile is None:
        raise ApiError("EntityNotFoundError", "Authentication profile not found",
                       {"authProfileId": "No authentication profile of this workspace has this id."})
    if profile.issuer != caller.claims.get("iss") or (
            ctx.settings.check_audience and not _audience_fits(caller.claims.get("aud"), profile.accepted_audiences)):
        raise ApiError("InvalidTokenError", "Invalid token",
                       {"authProfileId": "The token was not issued for this authentication profile."})
    token_email = caller.claims.get("email")
    if not isinstance(token_email, str) or not token_email:
        raise ApiError("ValidationError", "The ID token has no email claim",
                       {"email": "Ask for the email scope at login: the API finds users by email."})
    _check_self_signup(ctx, profile.self_signup, profile.email_domains, token_email)
    email = user["email"]
    if ctx.settings.signup_email_must_match_token and not _same_email(email, token_email, ctx.settings):
        raise ApiError("ValidationError", "The email does not match the token",
                       {"email": "user.email must be the email claim of the ID token."})
    role_names = [r.name for r in ctx.db.roles_of_profile(profile.id)]
    try:
        return ctx.db.create_user(email, user.get("firstName"), user.get("lastName"), role_names)
    except EntityExists:
        raise ApiError("EntityExistsError", "The user already exists",
                       {"email": "A user with this email is already signed up in this environment."}) from None


def _audience_fits(aud: Any, accepted: tuple[str, ...]) -> bool:
    values = aud if isinstance(aud, list) else [aud]
    return bool(set(values) & set(accepted))


def _same_email(a: str, b: str, settings: ApiSettings) -> bool:
    return a == b if settings.email_case_sensitive else a.lower() == b.lower()


def _check_self_signup(ctx: Context, mode: str, domains: tuple[str, ...], email: str) -> None:
    domain_ok = mode == "domains" and email.rsplit("@", 1)[-1].lower() in {d.lower().lstrip("@") for d in domains}
    if mode == "open" or domain_ok:
        return
    error = ctx.settings.self_signup_off_error
    raise ApiError(error["code"], error["message"], {"authProfileId": error["message"]})


# ---------------------------------------------------------------------- roles, tokens, profiles
def _admin_context(info: GraphQLResolveInfo) -> Context:
    """Workspace settings (roles, API tokens, profiles) need the workspaceAdministration permission."""
    ctx = _ctx(info)
    require_custom(ctx.caller, "settings", "workspaceAdministration")
    return ctx


@query.field("rolesList")
def resolve_roles_list(_, info: GraphQLResolveInfo) -> dict[str, Any]:
    return _items(_admin_context(info).db.roles())


@role_type.field("users")
def resolve_role_users(role: Role, info: GraphQLResolveInfo) -> dict[str, Any]:
    ctx = _ctx(info)
    return _items([u for u in ctx.db.users_with_role(role.id) if _visible_user(ctx, u)])


@query.field("apiTokensList")
def resolve_api_tokens_list(_, info: GraphQLResolveInfo) -> dict[str, Any]:
    return _items(_admin_context(info).db.api_tokens())


@mutation.field("apiTokenCreate")
def resolve_api_token_create(_, info: GraphQLResolveInfo, data: dict[str, Any]) -> dict[str, Any]:
    ctx = _admin_context(info)
    wanted = (data.get("roles") or {}).get("connect") or []
    roles = ctx.db.roles()
    names = []
    for key in wanted:
        match = next((r for r in roles if r.id == key.get("id") or r.name == key.get("name")), None)
        if match is None:
            raise ApiError("ValidationError", "Unknown role", {"roles": "Every role to connect must exist."})
        names.append(match.name)
    record, value = ctx.db.create_api_token(data["name"], names)
    return {"id": record.id, "name": record.name, "token": value, "createdAt": record.created_at}


@token_type.field("roles")
@token_response_type.field("roles")
def resolve_token_roles(token: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    token_id = token["id"] if isinstance(token, dict) else token.id
    return _items(_ctx(info).db.roles_of_token(token_id))


token_type.set_alias("createdAt", "created_at")


@query.field("authenticationProfilesList")
def resolve_profiles_list(_, info: GraphQLResolveInfo) -> dict[str, Any]:
    return _items(_admin_context(info).db.auth_profiles())


profile_type.set_alias("clientId", "client_id")
profile_type.set_alias("selfSignUpEmailDomains", "email_domains")


@profile_type.field("selfSignUpEnabled")
def resolve_self_signup_enabled(profile: Any, _info: GraphQLResolveInfo) -> bool:
    return profile.self_signup != "off"


@profile_type.field("roles")
def resolve_profile_roles(profile: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return _items(_ctx(info).db.roles_of_profile(profile.id))


# ---------------------------------------------------------------------- notes
def reaches_note(ctx: Context, allowed: Rule, note: NoteRecord) -> bool:
    """Whether the caller's read rule for Notes reaches this note (notesList, note events)."""
    return allowed.reaches(lambda f: note_matches(note, f, ctx.caller, ctx.db))


@query.field("notesList")
def resolve_notes_list(_, info: GraphQLResolveInfo, filter: dict | None = None, first: int | None = None,
                       skip: int | None = None) -> dict[str, Any]:
    ctx = _ctx(info)
    allowed = require(ctx.caller, "Notes", "read")
    notes = [n for n in ctx.db.notes() if reaches_note(ctx, allowed, n)
             and (not filter or note_matches(n, filter, ctx.caller, ctx.db))]
    return _page(notes, first, skip)


@query.field("note")
def resolve_note(_, info: GraphQLResolveInfo, id: str) -> NoteRecord | None:
    ctx = _ctx(info)
    allowed = require(ctx.caller, "Notes", "read")
    note = ctx.db.note(id)
    if note is None:
        return None
    if not reaches_note(ctx, allowed, note):
        raise not_authorized()
    return note


@mutation.field("noteCreate")
def resolve_note_create(_, info: GraphQLResolveInfo, data: dict[str, Any]) -> NoteRecord:
    ctx = _ctx(info)
    require(ctx.caller, "Notes", "create")
    author = ctx.caller.user.id if ctx.caller.user else None
    try:
        return ctx.db.create_note(data["title"], data.get("body"), author)
    except EntityGone:
        raise user_absent() from None  # the caller's user was deleted meanwhile: as if it had been before


def _note_not_found() -> ApiError:
    return ApiError("EntityNotFoundError", "Record not found", {"id": "No note has this id."})


def _note_for_change(ctx: Context, action: str, note_id: str | None) -> NoteRecord:
    allowed = require(ctx.caller, "Notes", action)
    note = ctx.db.note(note_id) if note_id else None
    if note is None:
        raise _note_not_found()
    if not reaches_note(ctx, allowed, note):
        raise not_authorized()
    return note


@mutation.field("noteUpdate")
def resolve_note_update(_, info: GraphQLResolveInfo, data: dict[str, Any], filter: dict | None = None) -> NoteRecord:
    ctx = _ctx(info)
    note = _note_for_change(ctx, "update", (filter or {}).get("id") or data.get("id"))
    denied = rule(ctx.caller, "Notes", "update").denied_fields
    changes = {k: v for k, v in data.items() if k in ("title", "body")}
    if "title" in changes and changes["title"] is None:
        raise ApiError("ValidationError", "A note needs a title", {"title": "title cannot be null."})
    if set(changes) & denied:
        raise not_authorized()
    updated = ctx.db.update_note(note.id, **changes)
    if updated is None:  # a racing noteDelete won after the check: what the update after the delete answers
        raise _note_not_found()
    return updated


@mutation.field("noteDelete")
def resolve_note_delete(_, info: GraphQLResolveInfo, filter: dict | None = None,
                        data: dict | None = None) -> dict[str, bool]:
    ctx = _ctx(info)
    note = _note_for_change(ctx, "delete", (filter or {}).get("id") or (data or {}).get("id"))
    if ctx.db.delete_note(note.id) is None:  # a racing noteDelete won: what the second of two deletes answers
        raise _note_not_found()
    return {"success": True}


def _note_field(name: str):
    def resolve(note: NoteRecord, info: GraphQLResolveInfo) -> Any:
        if name in rule(_ctx(info).caller, "Notes", "read").denied_fields:
            raise not_authorized()
        return getattr(note, name)
    return resolve


for _name in ("title", "body"):
    note_type.set_field(_name, _note_field(_name))
note_type.set_alias("createdAt", "created_at")
note_type.set_alias("updatedAt", "updated_at")


@note_type.field("createdBy")
def resolve_note_author(note: NoteRecord, info: GraphQLResolveInfo) -> UserRecord | None:
    ctx = _ctx(info)
    author = ctx.db.user(note.created_by) if note.created_by else None
    return author if _visible_user(ctx, author) else None


@json_scalar.serializer
def serialize_json(value: Any) -> Any:
    return value


@datetime_scalar.serializer
def serialize_datetime(value: Any) -> Any:
    return value


@functools.cache
def build_schema() -> GraphQLSchema:
    """The executable schema: SDL from ``data/sandbox/schema.graphql`` plus these resolvers. Built once per
    process and shared by every API in it (neither the file nor the resolvers change while it runs)."""
    return make_executable_schema(load_schema_from_path(str(SCHEMA_FILE)), query, mutation, user_type, role_type,
                                  note_type, token_type, token_response_type, profile_type, json_scalar,
                                  datetime_scalar)
