"""Users, their roles, and API tokens (stored as hashes only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mat.database import utcnow
from mat.extensions import db

ROLES = ("nurse", "prescriber", "auditor", "admin")


class User(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    initials: Mapped[str] = mapped_column(String(8))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Per-account lockout (mat.auth.credentials): consecutive failed passwords, and until when
    # the account refuses every password after too many.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names.intersection(roles))

    # Flask-Login's user protocol (kept explicit rather than inheriting UserMixin's defaults).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserRole(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint("role IN ('nurse', 'prescriber', 'auditor', 'admin')", name="known_role"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    user: Mapped[User] = relationship(back_populates="roles")


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]  # DELETE /tokens/current, deactivation, role change
    user: Mapped[User] = relationship(lazy="joined")


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """A browser session, kept on the server (``mat.auth.sessions``): the cookie holds only a
    random id, whose hash names this row. Ending the row ends the session everywhere, so a
    copied cookie stops working at sign-out, deactivation or a role change."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON: CSRF token, flashes, station
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(40))


class PasswordReset(db.Model):  # type: ignore[name-defined,misc]
    """A one-time code an admin issues so a user sets a new password themselves: the admin never
    sees or chooses a password. Stored as a hash; used once; expires."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the CLI
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
