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

from sqlalchemy import Engine, Insert, TextClause, delete, insert, select, text
from sqlalchemy.orm import Session

from mat.audit.models import AuditEvent, StagedRead
from mat.database import SEALING_SWITCH

TABLE = StagedRead.__table__


def stage(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the reads, unchained, in the session's transaction (no lock on PostgreSQL)."""
    # Most requests stage one read: one row is sent as such, not through the driver's batch
    # path (executemany), which costs more for a single row.
    session.execute(_stage_statement(), rows[0] if len(rows) == 1 else list(rows))


@cache
def _stage_statement() -> Insert:
    return insert(TABLE)


def vacuum_staged(engine: Engine) -> bool:
    """PostgreSQL: VACUUM the staged reads' table, from ``flask audit seal``'s timer; whether it
    ran. The table is a queue (every read inserts a row, every seal deletes them all), so its
    dead rows pile up between autovacuum's visits, or for good where autovacuum is off. Every
    write's seal and probe then scan their pages: on the bench's machine, whose PostgreSQL runs
    without autovacuum, 13,000 dead rows cost each recorded dose 0.22 ms, against 0.003 ms after
    a VACUUM. A VACUUM lets reads stage and writes seal while it runs; SKIP_LOCKED passes when
    another vacuum holds the table. Only the table's owner (or a superuser) may vacuum it: the
    app's role of ``db roles`` owns nothing, and PostgreSQL would log a warning every minute,
    so it is not asked and the table is left to autovacuum. SQLite: nothing to do (a DELETE
    leaves its pages free for the next inserts)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside one
        if not connection.execute(_owns_staged_statement()).scalar_one():
            return False
        connection.exec_driver_sql(f"VACUUM (SKIP_LOCKED) {TABLE.name}")
    return True


@cache
def _owns_staged_statement() -> TextClause:
    """Whether this session's role may vacuum the table: its owner's rights (a superuser has
    every role's)."""
    return text(
        "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = CAST(:table AS regclass)"
    ).bindparams(table=TABLE.name)


def anything_staged(session: Session) -> bool:
    return session.execute(select(TABLE.c.id).limit(1)).first() is not None


def take_staged_and_head(
    session: Session, lock_key: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Take the chain lock, delete every staged read this transaction sees and read the chain's
    head: the reads to chain (in id order) before the caller's own events, and the hash they
    chain to (None: the trail is empty). The caller chains them in the same transaction.

    On PostgreSQL one statement, the function ``mat_audit_chain_tail`` (migration 0010): it
    takes the lock, turns the sealing setting on for the rest of this transaction (which only
    chains and commits after this), then deletes and reads the head in a query whose snapshot
    is taken after the lock was granted, as the head must be (the migration says why). It was
    seven statements once (lock, probe, setting on, delete, setting off, head read), then two;
    issue 10's budget is 8 statements a recorded dose."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_chain_tail_statement(), {"key": lock_key}).mappings().all()
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
def _chain_tail_statement() -> TextClause:
    """The function's call, its columns typed as the staged reads' own (``at`` comes back
    through the same UTC type as a read of the table), built once per process."""
    return text("SELECT * FROM mat_audit_chain_tail(:key)").columns(
        AuditEvent.__table__.c.hash.label("head"), *TABLE.c
    )


@contextmanager
def _sealing(session: Session) -> Iterator[None]:
    """SQLite: let this connection's deletes of staged reads through for the block."""
    switch = session.connection().connection.info[SEALING_SWITCH]
    switch.on = True
    try:
        yield
    finally:
        switch.on = False
