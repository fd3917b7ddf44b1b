"""Passwords: checking them, locking an account after too many wrong ones, and one-time reset
codes an admin issues without ever seeing or choosing a password.

Lockout (per account, on top of the per-address limits of ``mat.auth.api``): after
``LOCK_AFTER`` wrong passwords in a row the account refuses every password for ``LOCK_FOR``,
the right one included; an admin may unlock it sooner (audited, ``mat.auth.accounts``). A wrong
witness password at a dose correction counts too: the witness field must not be a way to guess a
colleague's password. A username that does not exist gets the same answers after the same number
of tries (a counter in the rate-limit storage), so the lockout does not tell which accounts exist.

The failure count is written by the refusal itself (``MatError.on_refusal``), after the
request's work is rolled back, in the same commit as the refusal's audit event.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import parse
from sqlalchemy import select, update

from mat.audit.service import record
from mat.auth.models import ApiToken, PasswordReset, User
from mat.auth.sessions import end_sessions
from mat.errors import InvalidInput, MatError, TooManyRequests, Unauthorized
from mat.extensions import db

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
UNKNOWN_NAME_LIMIT = parse(
    f"{LOCK_AFTER} per 15 minutes"
)  # the 6th try is refused, as for a real one
RESET_VALID_FOR = timedelta(hours=24)
LOCKED_MESSAGE = (
    "Too many wrong passwords for this account: it is locked for 15 minutes. Wait, or ask an "
    "administrator to unlock it."
)


@cache
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so a wrong username costs as much as a
    # wrong password. Made on first use, not at import: every CLI command would pay for it.
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    try:
        stored = user.password_hash if user else _dummy_hash()
        return _hasher.verify(stored, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "The new password is too short.",
            fields={field: [f"Use at least {MIN_PASSWORD_LENGTH} characters."]},
        )


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _count_failure(user_id: int, now: datetime) -> None:
    """One more wrong password; the one that reaches ``LOCK_AFTER`` locks the account."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    user.failed_logins += 1
    if user.failed_logins >= LOCK_AFTER:
        user.failed_logins = 0
        user.locked_until = now + LOCK_FOR
        record(
            "auth.locked",
            entity_type="user",
            entity_id=user.id,
            detail={"username": user.username, "until": (now + LOCK_FOR).isoformat()},
        )


def _unknown_name_allowed(username: str) -> bool:
    """A try for a username that does not exist: counted like a real account's failures."""
    from mat.web_extensions import limiter  # a sign-in's: the user commands do not load the web

    return limiter.limiter.hit(UNKNOWN_NAME_LIMIT, "mat-unknown-user", username.lower())


def locked_error(username: str, **audit: str) -> MatError:
    return TooManyRequests(
        LOCKED_MESSAGE, code="account_locked", audit_detail={"username": username, **audit}
    )


def check_password(username: str, password: str, now: datetime, *, purpose: str) -> User:
    """The user ``username`` if ``password`` is theirs and the account may sign in.

    Refusals: ``Unauthorized`` (wrong username or password, or an inactive account; one message
    for all, so none tells which), ``TooManyRequests`` ``account_locked``.
    ``purpose`` ("sign_in", "witness") is written in the refusal's audit event.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        password_matches(None, password)
        if not _unknown_name_allowed(username):
            raise locked_error(username, purpose=purpose)
        raise _wrong(username, purpose)
    if is_locked(user, now):
        raise locked_error(username, purpose=purpose)
    if not password_matches(user, password):
        user_id = user.id
        raise _wrong(username, purpose, on_refusal=lambda: _count_failure(user_id, now))
    if not user.active:
        raise _wrong(username, purpose)
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins, user.locked_until = 0, None
    return user


def _wrong(username: str, purpose: str, **kwargs: object) -> Unauthorized:
    return Unauthorized(
        "Wrong username or password.",
        code="bad_credentials",
        audit_detail={"username": username, "purpose": purpose},
        **kwargs,  # type: ignore[arg-type]
    )


def end_access(user: User, reason: str, now: datetime) -> tuple[int, int]:
    """Every session and API token of ``user`` stops working at once."""
    sessions = end_sessions(user.id, reason, now)
    tokens = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount  # type: ignore[attr-defined]
    return sessions, tokens or 0


# ---- password resets ------------------------------------------------------------------------


def _code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _new_code() -> str:
    # 20 characters of an unambiguous alphabet (100 bits), grouped for reading over the phone.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def issue_reset(user: User, by: User | None, now: datetime) -> tuple[str, PasswordReset]:
    """A one-time code for ``user`` to set their own password; earlier unused codes end."""
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    code = _new_code()
    reset = PasswordReset(
        user_id=user.id,
        code_hash=_code_digest(code),
        issued_by_id=by.id if by else None,
        issued_at=now,
        expires_at=now + RESET_VALID_FOR,
    )
    db.session.add(reset)
    db.session.flush()
    record(
        "user.password_reset_issued",
        entity_type="user",
        entity_id=user.id,
        detail={"username": user.username, "expires_at": reset.expires_at.isoformat()},
    )
    return code, reset


def redeem_reset(username: str, code: str, new_password: str, now: datetime) -> User:
    """The user sets a new password with the code; every session and token of theirs ends and
    a lockout is lifted. A wrong or used code is refused like a wrong password."""
    user = db.session.scalar(select(User).where(User.username == username))
    reset = None
    if user is not None:
        reset = db.session.scalar(
            select(PasswordReset).where(
                PasswordReset.user_id == user.id,
                PasswordReset.code_hash == _code_digest(code),
                PasswordReset.used_at.is_(None),
                PasswordReset.expires_at > now,
            )
        )
    if user is None or reset is None or not user.active:
        if user is None and not _unknown_name_allowed(username):
            raise locked_error(username, purpose="password_reset")
        raise Unauthorized(
            "The username or the reset code is wrong, used or expired; ask an administrator for "
            "a new code.",
            code="bad_reset_code",
            audit_detail={"username": username, "purpose": "password_reset"},
        )
    check_new_password(new_password, "new_password")
    reset.used_at = now
    user.password_hash = hash_password(new_password)
    user.failed_logins, user.locked_until = 0, None
    sessions, tokens = end_access(user, "password reset", now)
    record(
        "user.password_reset",
        entity_type="user",
        entity_id=user.id,
        detail={"username": user.username, "sessions_ended": sessions, "tokens_revoked": tokens},
    )
    return user
