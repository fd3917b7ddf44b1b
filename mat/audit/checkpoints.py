"""Signed checkpoints of the audit chain: "N events through event X, ending in hash H".

A keyed chain cannot be re-forged without the key, but its newest events could still be cut off:
the chain that remains is intact. A checkpoint, signed with the audit key, says how long the
chain was; ``verify`` matches every checkpoint against the chain, and an auditor who exports the
checkpoints (``GET /api/v1/audit/checkpoints``, ``flask --app mat audit checkpoints``) and keeps
the file elsewhere can later prove the trail was cut even if the checkpoints in the database were
deleted with it (``flask --app mat audit verify --checkpoints FILE``).

One is written in the transaction of the first audit write after ``CHECKPOINT_EVERY`` has passed
since the last (so at least hourly while the trail grows, and a quiet clinic writes none), and
on demand (``flask --app mat audit checkpoint``, for a nightly cron at close of business).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from mat.audit.chain import checkpoint_signature
from mat.audit.keys import AuditKeys
from mat.audit.models import AuditCheckpoint, AuditEvent

CHECKPOINT_EVERY = timedelta(hours=1)
# Per database, the time of the last checkpoint this process saw committed: most writes then skip
# the query for the latest checkpoint. A stale memo only delays a checkpoint by one write.
_last_seen: dict[str, datetime] = {}
_WRITTEN = "mat_audit_checkpoint_written"


def _database(session: Session) -> str:
    return str(session.get_bind().url)


def checkpoint_if_due(
    session: Session, keys: AuditKeys, head_id: int, head_hash: str, now: datetime
) -> AuditCheckpoint | None:
    """Called by the chain writer, under the chain's lock, after it flushed new events."""
    seen = _last_seen.get(_database(session))
    if seen is not None and timedelta(0) <= now - seen < CHECKPOINT_EVERY:
        return None
    latest = latest_checkpoint(session)
    if latest is not None and timedelta(0) <= now - latest.at < CHECKPOINT_EVERY:
        _last_seen[_database(session)] = latest.at
        return None
    return write_checkpoint(session, keys, head_id, head_hash, now, latest)


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    stmt = select(AuditCheckpoint).order_by(AuditCheckpoint.through_id.desc()).limit(1)
    return session.scalars(stmt).first()


def write_checkpoint(
    session: Session,
    keys: AuditKeys,
    head_id: int,
    head_hash: str,
    now: datetime,
    latest: AuditCheckpoint | None,
) -> AuditCheckpoint | None:
    """A checkpoint through ``head_id``; the count is carried on from the latest checkpoint, so
    only the events since it are counted. None when the latest already covers ``head_id``."""
    after = latest.through_id if latest is not None else 0
    if head_id <= after:
        return None
    counted = session.scalar(
        select(func.count()).where(AuditEvent.id > after, AuditEvent.id <= head_id)
    )
    events = (latest.events if latest is not None else 0) + (counted or 0)
    checkpoint = AuditCheckpoint(
        at=now,
        through_id=head_id,
        events=events,
        head_hash=head_hash,
        scheme=keys.scheme,
        signature=checkpoint_signature(keys.current, head_id, events, head_hash, now),
    )
    session.add(checkpoint)
    session.flush()
    session.info[_WRITTEN] = now
    return checkpoint


def checkpoint_now(session: Session, keys: AuditKeys, now: datetime) -> AuditCheckpoint | None:
    """A checkpoint of the chain as it stands (the CLI's ``audit checkpoint``)."""
    head = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if head is None:
        return None
    return write_checkpoint(session, keys, head.id, head.hash, now, latest_checkpoint(session))


def all_checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.through_id)))


def as_export(checkpoint: Any) -> dict[str, Any]:
    """The form an auditor keeps (and ``verify --checkpoints`` reads back)."""
    return {
        "through_id": checkpoint.through_id,
        "events": checkpoint.events,
        "head_hash": checkpoint.head_hash,
        "at": checkpoint.at.isoformat(timespec="microseconds"),
        "scheme": checkpoint.scheme,
        "signature": checkpoint.signature,
    }


def _remember(session: Session) -> None:
    written = session.info.pop(_WRITTEN, None)
    if written is not None:
        _last_seen[_database(session)] = written


def _forget(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


event.listen(Session, "after_commit", _remember)
event.listen(Session, "after_rollback", _forget)


# ---- as verify checks them ---------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    through_id: int
    events: int
    head_hash: str
    at: datetime
    scheme: str
    signature: str
    source: str  # "database" or "exported copy"

    @classmethod
    def from_export(cls, item: dict[str, Any]) -> Checkpoint:
        return cls(
            int(item["through_id"]),
            int(item["events"]),
            str(item["head_hash"]),
            datetime.fromisoformat(item["at"]),
            str(item["scheme"]),
            str(item["signature"]),
            "exported copy",
        )


def checkpoints_to_check(session: Session, exported: Iterable[dict[str, Any]]) -> list[Checkpoint]:
    """The stored checkpoints, plus the exported ones the database no longer has (the same
    checkpoint in both is checked once)."""
    stored = [
        Checkpoint(c.through_id, c.events, c.head_hash, c.at, c.scheme, c.signature, "database")
        for c in all_checkpoints(session)
    ]
    have = {(c.through_id, c.signature) for c in stored}
    kept = [Checkpoint.from_export(item) for item in exported]
    return stored + [c for c in kept if (c.through_id, c.signature) not in have]
