"""Accounts and credentials: argon2 password hashes, expiring API tokens stored as hashes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from mat.audit.service import record
from mat.auth.models import ROLES, ApiToken, User, UserRole
from mat.config import TOKEN_LIFETIME
from mat.errors import Conflict, InvalidInput, Unauthorized
from mat.extensions import db

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong username costs as much as a wrong
# password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    username: str, password: str, full_name: str, initials: str, roles: Iterable[str]
) -> User:
    roles = sorted(set(roles))
    problems: dict[str, list[str]] = {}
    if not roles or any(r not in ROLES for r in roles):
        problems["roles"] = [f"Give one or more of: {', '.join(ROLES)}."]
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
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


def authenticate(username: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if not password_matches(user, password) or user is None or not user.active:
        raise Unauthorized("Wrong username or password.", code="bad_credentials")
    return user


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


def user_for_token(raw: str, now: datetime) -> User | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.expires_at <= now or not token.user.active:
        return None
    return token.user
