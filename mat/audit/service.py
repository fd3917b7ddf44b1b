"""Writing and checking the audit trail.

``record`` queues an event on the current database session; the queued events are chained and
inserted just before that session commits (``_write_pending``), so an event is stored exactly when
the work it describes is stored, and a rolled-back action leaves only its refusal behind.

Chain writes are serialized: on PostgreSQL by a transaction-scoped advisory lock taken right
before reading the last hash (held only for the commit's tail), on SQLite by a process lock
(SQLite is the single-process embedded engine). ``prev_hash`` is unique besides, so a fork is
refused by the database even if a writer got past both.

On SQLite the process lock is taken before a transaction's first write (``hold_writer_lock``)
and held to its end, so every writer takes the two locks in one order, process lock then
database lock. Taken only at commit, a writer holding the database's write lock could wait for
the process lock while the holder of that one waited for the database: a deadlock that only
SQLite's busy timeout would break, with a 500.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from mat.audit.chain import ChainReport, canonical, event_hash, verify
from mat.audit.models import GENESIS, AuditEvent
from mat.clock import clinic_now
from mat.database import utcnow
from mat.extensions import db

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x6D6174  # "mat"
_sqlite_chain_lock = threading.Lock()
WRITER_WAIT_SECONDS = 30  # a writer stuck longer than this is a bug: fail loudly, never hang
PENDING = "mat_audit_pending"
LOCKED = "mat_audit_sqlite_lock"


@dataclass
class PendingEvent:
    at: datetime
    action: str
    outcome: str
    user_id: int | None = None
    username: str | None = None
    roles: str = ""
    client_addr: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    patient_id: int | None = None
    rules: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def _actor() -> tuple[int | None, str | None, str]:
    if not has_app_context():
        return None, None, ""
    user = g.get("actor")
    if user is None:
        return None, g.get("actor_name"), ""
    return user.id, user.username, ",".join(sorted(user.role_names))


def record(
    action: str,
    *,
    entity_type: str | None = None,
    entity_id: object | None = None,
    patient_id: int | None = None,
    outcome: str = "done",
    rules: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    """Queue an audit event on the current session; it is written when the session commits."""
    user_id, username, roles = _actor()
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback of this unit of work also drops the event
    pending = db.session.info.setdefault(PENDING, [])
    pending.append(
        PendingEvent(
            # The app's clock (the wall clock in production; a test's or demo's fixed day when
            # MAT_CLOCK is set), so events fall on the clinic days the rest of the record uses.
            at=clinic_now() if has_app_context() else utcnow(),
            action=action,
            outcome=outcome,
            user_id=user_id,
            username=username,
            roles=roles,
            client_addr=request.remote_addr if has_request_context() else None,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            patient_id=patient_id,
            rules=",".join(rules),
            detail=detail or {},
        )
    )


def record_refusal(err: Any) -> None:
    """Roll back the refused request's work and store only the refusal (who, what, which rule)."""
    try:
        db.session.rollback()
        if has_request_context() and request.path.startswith("/static/"):
            return
        action = f"{request.method} {request.path}" if has_request_context() else "cli"
        detail = {
            "status": err.status,
            "code": err.code,
            "message": err.message,
            "fields": sorted(err.fields),
        }
        if err.violations and has_app_context():  # which rule book judged it (clinical-rules.md)
            detail["profile"] = current_app.extensions["mat_profile"].label
        record(
            action,
            outcome="refused",
            rules=dict.fromkeys(v.rule for v in err.violations),
            detail=detail,
            patient_id=g.get("audit_patient_id"),
        )
        db.session.commit()
    except Exception:  # the refusal answer must still reach the user
        log.exception("could not write the audit event of a refusal")
        db.session.rollback()


def _write_pending(session: Session) -> None:
    pending: list[PendingEvent] = session.info.pop(PENDING, [])
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    else:
        hold_writer_lock(session)
    prev = (
        session.execute(
            select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        ).scalar_one_or_none()
        or GENESIS
    )
    for item in pending:
        fields = {
            "at": item.at, "user_id": item.user_id, "username": item.username,
            "roles": item.roles, "client_addr": item.client_addr, "action": item.action,
            "entity_type": item.entity_type, "entity_id": item.entity_id,
            "patient_id": item.patient_id, "outcome": item.outcome, "rules": item.rules,
            "detail": canonical(item.detail),
        }  # fmt: skip
        digest = event_hash(prev, fields)
        session.add(AuditEvent(prev_hash=prev, hash=digest, **fields))
        prev = digest
    session.flush()


def hold_writer_lock(session: Session) -> None:
    """SQLite: take the process lock before this transaction writes (see the module notes);
    held until the transaction ends. Does nothing on PostgreSQL."""
    if session.info.get(LOCKED) or session.get_bind().dialect.name != "sqlite":
        return
    if not _sqlite_chain_lock.acquire(timeout=WRITER_WAIT_SECONDS):
        raise RuntimeError(f"no SQLite writer lock after {WRITER_WAIT_SECONDS} s")
    session.info[LOCKED] = True


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    hold_writer_lock(session)


def _forget(session: Session, previous_transaction: Any) -> None:
    # Every rollback of the outermost transaction drops the queued events (even one that sent
    # no SQL); a savepoint's rollback keeps what was recorded around it.
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)


def _release(session: Session, transaction: Any) -> None:
    # The outermost transaction ended (commit, rollback or close): let the next writer in.
    if transaction.parent is None and session.info.pop(LOCKED, False):
        _sqlite_chain_lock.release()


event.listen(Session, "before_flush", _before_flush)
event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_soft_rollback", _forget)
event.listen(Session, "after_transaction_end", _release)


def verify_chain() -> ChainReport:
    """Check the whole chain in id order, streaming it so a long trail is never all in memory."""
    rows = db.session.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    ).scalars()
    try:
        return verify(rows, GENESIS)
    finally:
        rows.close()  # verify stops at the first bad event; release the server-side cursor


def verify_chain_on_record() -> ChainReport:
    """Verify the chain, then record that it was verified and what was found.

    The event is only queued here and chained at commit, after the walk: it is never part of the
    trail it reports on, so ``events`` counts what existed when the auditor asked.
    """
    report = verify_chain()
    record(
        "audit.verify",
        entity_type="audit_trail",
        outcome="done",
        detail={"ok": report.ok, "events": report.events, "first_bad": report.first_bad},
    )
    return report
