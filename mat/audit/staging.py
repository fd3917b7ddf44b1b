"""Reads of the record, audited without the chain's lock (issue 10).

A read (a patient opened, a search, the dosing queue listed, a dose plan shown) is as much on
record as a write (HIPAA audit controls), but chaining it on every GET made every reader wait
for the clinic-wide chain lock and commit a chained event. So a read is recorded in two steps:

1. **staged**: at the reading request's own commit, one plain INSERT into
   ``audit_staged_reads``, no lock, no chain tail read (``stage``). A rolled-back request
   stages nothing, as before: its refusal is recorded, chained, by ``record_refusal``.
2. **sealed**: the staged rows are moved into the chain, in id order and with their original
   ``at``, under the chain lock (``take_staged``): by every chained write just before it chains
   its own events (one cheap ``SELECT id ... LIMIT 1`` when nothing is staged), before every
   reader of the trail (list, export, verify: ``mat.audit.service.seal_staged_reads``), and by
   ``flask --app mat audit seal`` (a timer, so a quiet clinic's reads do not wait for a write).

A staged row is deleted only by sealing, enforced by the database: on PostgreSQL a trigger
refuses UPDATE always and DELETE unless the transaction-local setting ``mat.sealing`` is on;
on SQLite a trigger refuses DELETE unless the connection's ``mat_sealing()`` answers 1
(``mat.database.SealingSwitch``; a connection without it, the sqlite3 shell, cannot delete).
What the database cannot stop (a holder of the app's credentials turning the setting on) it
cannot stop for any table either; the window is short, as sealing runs on every write.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Insert, Select, delete, insert, select, text, true
from sqlalchemy.orm import Session

from mat.audit.models import AuditEvent, StagedRead
from mat.database import SEALING_SWITCH

TABLE = StagedRead.__table__
SETTING = "mat.sealing"


def stage(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the reads, unchained, in the session's transaction (no lock on PostgreSQL)."""
    # Most requests stage one read: one row is sent as such, not through the driver's batch
    # path (executemany), which costs more for a single row.
    session.execute(_stage_statement(), rows[0] if len(rows) == 1 else list(rows))


@cache
def _stage_statement() -> Insert:
    return insert(TABLE)


def anything_staged(session: Session) -> bool:
    return session.execute(select(TABLE.c.id).limit(1)).first() is not None


def take_staged_and_head(
    session: Session, lock_key: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Take the chain lock, delete every staged read this transaction sees and read the chain's
    head: the reads to chain (in id order) before the caller's own events, and the hash they
    chain to (None: the trail is empty). The caller chains them in the same transaction.

    Three statements were seven (a dose after a plan read: lock, probe, setting on, delete,
    setting off, head read; issue 10's budget is 8 statements a dose): on PostgreSQL the
    sealing setting is turned on by the lock's own statement and stays on to the end of this
    transaction, which only chains and commits after this; the delete and the head are one
    statement (a DELETE ... RETURNING in a WITH, its head read after the lock was granted, as
    every statement of a READ COMMITTED transaction takes a new snapshot)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key), set_config(:name, 'on', true)"),
            {"key": lock_key, "name": SETTING},
        )
        rows = session.execute(_seal_and_head_statement()).mappings().all()
        taken = [{c.name: row[c.name] for c in TABLE.c} for row in rows if row["id"] is not None]
        return sorted(taken, key=lambda row: row["id"]), rows[0]["head"]
    # SQLite: the caller holds the process lock (one writer at a time).
    with _sealing(session):
        taken = [dict(row) for row in session.execute(delete(TABLE).returning(*TABLE.c)).mappings()]
    head = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return sorted(taken, key=lambda row: row["id"]), head


@cache
def _seal_and_head_statement() -> Select[Any]:
    """PostgreSQL's delete-and-head statement, built once per process: building it and its
    cache key was about 0.15 ms of every chained write's CPU."""
    sealed = delete(TABLE).returning(*TABLE.c).cte("sealed")
    head = select(
        select(AuditEvent.hash)
        .order_by(AuditEvent.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("head")
    ).subquery("chain_head")
    return select(head.c.head, sealed).select_from(head.outerjoin(sealed, true()))


@contextmanager
def _sealing(session: Session) -> Iterator[None]:
    """SQLite: let this connection's deletes of staged reads through for the block."""
    switch = session.connection().connection.info[SEALING_SWITCH]
    switch.on = True
    try:
        yield
    finally:
        switch.on = False
