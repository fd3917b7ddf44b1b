"""``AuditEvent``: one row per action, read or refusal; never updated or deleted.

Each event stores the hash of the previous one and its own hash over its content, so an edit,
a deletion or a reordering breaks the chain at a place ``verify_chain`` can name. ``prev_hash`` is
unique: two events can never claim the same predecessor, so concurrent writers cannot fork it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mat.extensions import db

GENESIS = "0" * 64


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)  # date-range reads by auditors
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(80))
    roles: Mapped[str] = mapped_column(String(80), default="")
    client_addr: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(80), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # "done" or "refused"
    rules: Mapped[str] = mapped_column(String(400), default="")  # comma-separated rule ids
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
