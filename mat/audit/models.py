"""``AuditEvent``: one row per action, read or refusal; ``AuditCheckpoint``: a signed statement
of how long the chain was. Both are never updated or deleted (triggers).

Each event stores the hash of the previous one and its own keyed hash over its content
(``mat.audit.chain``), so an edit, a deletion or a reordering breaks the chain at a place
``verify`` can name. ``prev_hash`` is unique: two events can never claim the same predecessor, so
concurrent writers cannot fork it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mat.extensions import db

GENESIS = "0" * 64
# Bounded columns that take text from the outside world (a request path, a proxy's header):
# the writer cuts the text to these lengths rather than let the insert fail.
ACTION_LENGTH = 80
CLIENT_ADDR_LENGTH = 64


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)  # date-range reads by auditors
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(80))
    roles: Mapped[str] = mapped_column(String(80), default="")
    client_addr: Mapped[str | None] = mapped_column(String(CLIENT_ADDR_LENGTH))
    action: Mapped[str] = mapped_column(String(ACTION_LENGTH), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # "done" or "refused"
    rules: Mapped[str] = mapped_column(Text, default="")  # comma-separated rule ids
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    # Digests of the clinical rows the event records, canonical JSON (``mat.audit.records``).
    records: Mapped[str] = mapped_column(Text, default="")
    # How ``hash`` was made: "hmac-sha256:<key id>", or "sha256" for events before keyed hashing.
    scheme: Mapped[str] = mapped_column(String(40))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(db.Model):  # type: ignore[name-defined,misc]
    """ "The chain held ``events`` events through event ``through_id``, ending in ``head_hash``",
    signed with the audit key. Written at least hourly while the trail grows (and on demand);
    auditors export them and keep them elsewhere, so a trail cut short is still caught."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    through_id: Mapped[int] = mapped_column(unique=True)
    events: Mapped[int]
    head_hash: Mapped[str] = mapped_column(String(64))
    scheme: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(String(64))


class StagedRead(db.Model):  # type: ignore[name-defined,misc]
    """A read of protected health information, recorded in the reading request's own
    transaction without the chain's lock, and moved into ``audit_events`` (chained, with its
    original ``at``) by the next chained write or by ``flask audit seal`` (``mat.audit.staging``).

    Never updated; deleted only by sealing: the database refuses any other DELETE (a trigger
    that lets it through only while the transaction-local ``mat.sealing`` setting is on on
    PostgreSQL, or while the connection's ``mat_sealing()`` function answers 1 on SQLite)."""

    __tablename__ = "audit_staged_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    user_id: Mapped[int | None]
    username: Mapped[str | None] = mapped_column(String(80))
    roles: Mapped[str] = mapped_column(String(80), default="")
    client_addr: Mapped[str | None] = mapped_column(String(CLIENT_ADDR_LENGTH))
    action: Mapped[str] = mapped_column(String(ACTION_LENGTH))
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(16))
    rules: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
