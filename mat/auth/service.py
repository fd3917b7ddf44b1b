"""Accounts and API tokens: creating users, changing their roles or deactivating them (which
ends every session and token at once), unlocking, and expiring, revocable tokens stored as hashes.
Passwords, lockout and reset codes are in ``mat.auth.credentials``."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from mat.audit.service import record
from mat.auth.credentials import check_new_password, end_access, hash_password
from mat.auth.models import ROLES, ApiToken, User, UserRole
from mat.config import TOKEN_LIFETIME
from mat.errors import Conflict, InvalidInput, NotFound
from mat.extensions import db


def create_user(
    username: str, password: str, full_name: str, initials: str, roles: Iterable[str]
) -> User:
    roles = sorted(set(roles))
    problems: dict[str, list[str]] = {}
    if not roles or any(r not in ROLES for r in roles):
        problems["roles"] = [f"Give one or more of: {', '.join(ROLES)}."]
    try:
        check_new_password(password)
    except InvalidInput as err:
        problems.update(err.fields)
    if problems:
        raise InvalidInput("The new user is not valid.", fields=problems)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(
            f"The username {username!r} is taken; each person has their own login.",
            code="duplicate_username",
        )
    user = User(
        username=username,
        full_name=full_name,
        initials=initials.upper(),
        password_hash=hash_password(password),
        roles=[UserRole(role=r) for r in roles],
    )
    db.session.add(user)
    db.session.flush()
    record(
        "user.create",
        entity_type="user",
        entity_id=user.id,
        detail={"username": username, "roles": roles},
    )
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.", code="user_not_found")
    return user


def user_named(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user is named {username!r}.", code="user_not_found")
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))


def _active_admins_besides(user: User) -> int:
    stmt = (
        select(func.count())
        .select_from(User)
        .join(UserRole)
        .where(UserRole.role == "admin", User.active.is_(True), User.id != user.id)
    )
    return db.session.scalar(stmt) or 0


def update_user(user: User, changes: dict[str, Any], now: datetime) -> User:
    """Deactivate/reactivate a user or set their roles. Either change ends every session and
    API token of the user at once: what they may do changed, so what they hold must go.
    The last active admin cannot be deactivated or lose the role (nobody could undo it)."""
    before = {"active": user.active, "roles": sorted(user.role_names)}
    active = changes.get("active", user.active)
    roles = sorted(set(changes.get("roles", user.role_names)))
    was_admin = "admin" in user.role_names and user.active
    stays_admin = active and "admin" in roles
    if was_admin and not stays_admin and _active_admins_besides(user) == 0:
        raise Conflict(
            "This is the last active administrator; make someone else an administrator first.",
            code="last_admin",
        )
    user.active = active
    if roles != before["roles"]:
        user.roles = [UserRole(role=r) for r in roles]
    after = {"active": user.active, "roles": roles}
    sessions = tokens = 0
    if after != before:
        db.session.flush()
        reason = "deactivated" if before["active"] and not active else "roles changed"
        sessions, tokens = end_access(user, reason, now)
    record(
        "user.update",
        entity_type="user",
        entity_id=user.id,
        detail={
            "username": user.username,
            "before": before,
            "after": after,
            "sessions_ended": sessions,
            "tokens_revoked": tokens,
        },
    )
    return user


def unlock_user(user: User) -> User:
    """Lift a lockout before it runs out (the admin has checked who was trying)."""
    was = user.locked_until
    user.failed_logins, user.locked_until = 0, None
    record(
        "user.unlock",
        entity_type="user",
        entity_id=user.id,
        detail={"username": user.username, "was_locked_until": was.isoformat() if was else None},
    )
    return user


# ---- API tokens ------------------------------------------------------------------------------


def _digest(raw: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough to make a stolen table useless.
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, now: datetime) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, token_hash=_digest(raw), created_at=now, expires_at=now + TOKEN_LIFETIME
    )
    db.session.add(token)
    db.session.flush()
    return raw, token


def token_for(raw: str, now: datetime) -> ApiToken | None:
    """The live token ``raw`` names: not expired, not revoked, its user active."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.expires_at <= now or token.revoked_at is not None:
        return None
    return token if token.user.active else None


def user_for_token(raw: str, now: datetime) -> User | None:
    """The active user a live token speaks for, with their roles, in one statement: every API
    call pays for this before anything else (the same tests as ``token_for``)."""
    params = {"digest": _digest(raw), "now": now}
    return db.session.scalars(_user_for_token_statement(), params).unique().one_or_none()


@cache
def _user_for_token_statement() -> Select[tuple[User]]:
    """Built once per process with bound parameters: building a statement and its cache key
    on every API call cost more CPU than running it."""
    return (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("digest"),
            ApiToken.expires_at > bindparam("now", type_=ApiToken.expires_at.type),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
        .options(joinedload(User.roles))
    )


def revoke_token(raw: str, now: datetime) -> None:
    token = token_for(raw, now)
    if token is None:
        return
    token.revoked_at = now
    record("auth.token_revoked", entity_type="user", entity_id=token.user_id)
