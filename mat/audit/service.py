"""Writing the audit trail.

``record`` queues an event on the current database session; the queued events are chained and
inserted just before that session commits (``_write_pending``), so an event is stored exactly when
the work it describes is stored, and a rolled-back action leaves only its refusal behind. An event
may name the clinical rows it records (``records=``): their digests go into the event and so into
the keyed chain (``mat.audit.records``). Checking the chain is ``mat.audit.verify``.

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
from functools import cache
from typing import Any

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import Insert, event, insert
from sqlalchemy.orm import Session

from mat.audit.chain import canonical, event_hash
from mat.audit.checkpoints import checkpoint_if_due
from mat.audit.keys import audit_keys
from mat.audit.models import ACTION_LENGTH, CLIENT_ADDR_LENGTH, GENESIS, AuditEvent
from mat.audit.records import object_digests
from mat.audit.staging import anything_staged, stage, take_staged_and_head
from mat.clock import clinic_now
from mat.database import utcnow
from mat.extensions import db

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x6D6174  # "mat"
_sqlite_chain_lock = threading.Lock()
WRITER_WAIT_SECONDS = 30  # a writer stuck longer than this is a bug: fail loudly, never hang
EVENTS = AuditEvent.__table__
PENDING = "mat_audit_pending"
LOCKED = "mat_audit_sqlite_lock"
# The columns a staged read shares with the event it becomes (all its columns but its id).
STAGED_FIELDS = (
    "at", "user_id", "username", "roles", "client_addr", "action", "entity_type", "entity_id",
    "patient_id", "outcome", "rules", "detail",
)  # fmt: skip


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
    records: list[Any] = field(default_factory=list)  # flushed ORM rows the event records
    staged: bool = False  # a read: staged unchained at commit (``mat.audit.staging``)


def _actor() -> tuple[int | None, str | None, str]:
    if not has_app_context():
        return None, None, ""
    user = g.get("actor")
    if user is None:
        return None, g.get("actor_name"), ""
    return user.id, user.username, ",".join(sorted(user.role_names))


def _cut(text: str | None, length: int) -> str | None:
    """Outside text (a path, a proxy's address header) cut to its column, marked as cut."""
    if text is None or len(text) <= length:
        return text
    return text[: length - 1] + "\u2026"


def record(
    action: str,
    *,
    entity_type: str | None = None,
    entity_id: object | None = None,
    patient_id: int | None = None,
    outcome: str = "done",
    rules: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
    records: Iterable[Any] = (),
    staged: bool = False,
) -> None:
    """Queue an audit event on the current session; it is written when the session commits.

    ``records``: the clinical rows (flushed ORM objects) the event is about; their digests are
    chained with it, so a later edit of one of them is caught by ``verify``. ``staged``: see
    ``record_read``.
    """
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
            action=_cut(action, ACTION_LENGTH) or "",
            outcome=outcome,
            user_id=user_id,
            username=username,
            roles=roles,
            client_addr=_cut(request.remote_addr, CLIENT_ADDR_LENGTH)
            if has_request_context()
            else None,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            patient_id=patient_id,
            rules=",".join(dict.fromkeys(rules)),
            detail=detail or {},
            records=list(records),
            staged=staged,
        )
    )


def record_read(
    action: str,
    *,
    entity_type: str | None = None,
    entity_id: object | None = None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Queue the audit event of a read of the record. At commit it is staged, unchained and
    without the chain lock, when the request writes nothing else; it joins the chain, in order
    and with its ``at``, at the next seal (``mat.audit.staging``). A request that also writes
    chains it directly with its other events."""
    record(
        action, entity_type=entity_type, entity_id=entity_id, patient_id=patient_id,
        detail=detail, staged=True,
    )  # fmt: skip


def record_refusal(err: Any) -> None:
    """Roll back the refused request's work and store only the refusal (who, what, which rule,
    and the patient it concerned: ``err.patient_id``, see ``mat.errors.concerning_patient``)."""
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
            **getattr(err, "audit_detail", {}),
        }
        on_refusal = getattr(err, "on_refusal", None)
        if on_refusal is not None:
            on_refusal()
        if err.violations and has_app_context():  # which rule book judged it (clinical-rules.md)
            detail["profile"] = current_app.extensions["mat_profile"].label
        record(
            action,
            outcome="refused",
            rules=dict.fromkeys(v.rule for v in err.violations),
            detail=detail,
            patient_id=getattr(err, "patient_id", None),
        )
        db.session.commit()
    except Exception as exc:  # the refusal answer must still reach the user
        # Logged without its message: a database error may quote the row it refused.
        from mat.errors import log_server_error  # mat.errors imports this module

        log.error("could not write the audit event of a refusal")
        log_server_error(exc, exc.__traceback__)
        db.session.rollback()


def _write_pending(session: Session) -> None:
    pending: list[PendingEvent] = session.info.pop(PENDING, [])
    if not pending:
        return
    if all(item.staged for item in pending):  # only reads: staged, no chain lock
        hold_writer_lock(session)  # SQLite only: its one writer at a time (module notes)
        stage(session, [_fields(item) for item in pending])
        return
    _chain(session, pending)


def seal_staged_reads() -> int:
    """Move the staged reads into the chain now: before a reader of the trail reads it, and
    from ``flask audit seal``. Its own short transaction, so the chain lock is never held while
    the trail is read; on SQLite, a request that already holds the writer lock seals in its
    own transaction instead (the lock is not re-entrant). Returns how many were sealed."""
    session = db.session()
    if session.info.get(LOCKED):
        return _chain(session, [])
    if not anything_staged(session):
        return 0
    with Session(db.engine) as own:
        sealed = _chain(own, [])
        own.commit()
    return sealed


def _fields(item: PendingEvent) -> dict[str, Any]:
    return {
        "at": item.at, "user_id": item.user_id, "username": item.username,
        "roles": item.roles, "client_addr": item.client_addr, "action": item.action,
        "entity_type": item.entity_type, "entity_id": item.entity_id,
        "patient_id": item.patient_id, "outcome": item.outcome, "rules": item.rules,
        "detail": canonical(item.detail),
    }  # fmt: skip


def _chain(session: Session, pending: list[PendingEvent]) -> int:
    """Under the chain lock: the staged reads first (sealed, in id order), then ``pending``,
    each chained to the one before. Returns how many staged reads were sealed."""
    hold_writer_lock(session)  # SQLite; PostgreSQL's advisory lock is taken by the next line
    sealed, head = take_staged_and_head(session, ADVISORY_LOCK_KEY)
    if not sealed and not pending:
        return 0
    keys = audit_keys()
    prev = head or GENESIS
    contents = [{name: row[name] for name in STAGED_FIELDS} | {"records": ""} for row in sealed]
    for item in pending:
        digests = object_digests(item.records)
        contents.append(_fields(item) | {"records": canonical(digests) if digests else ""})
    rows = []
    for fields in contents:
        digest = event_hash(keys.current, prev, fields)
        rows.append({**fields, "prev_hash": prev, "hash": digest, "scheme": keys.scheme})
        prev = digest
    head_id = _insert_events(session, rows)
    checkpoint_if_due(session, keys, head_id, prev, rows[-1]["at"])
    return len(sealed)


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the chained events in chain order (ids ascend with it: ``verify`` walks by id)
    and return the last one's id. A Core insert: the session's unit of work (which the events
    never need: nothing reads them back as objects) was a tenth of a recorded dose's CPU."""
    if len(rows) == 1:
        return int(session.execute(_insert_one(), rows[0]).scalar_one())
    ids = session.execute(_insert_many(), rows).scalars().all()
    return int(ids[-1])


@cache
def _insert_one() -> Insert:
    return insert(EVENTS).returning(EVENTS.c.id)


@cache
def _insert_many() -> Insert:
    # sort_by_parameter_order: the ids come back in the rows' order (SQLAlchemy batches the
    # rows on PostgreSQL and inserts them one a statement where it cannot keep the order).
    return insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)


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
