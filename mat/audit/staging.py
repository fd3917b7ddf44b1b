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
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from mat.audit.models import StagedRead
from mat.database import SEALING_SWITCH

TABLE = StagedRead.__table__
SETTING = "mat.sealing"


def stage(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the reads, unchained, in the session's transaction (no lock on PostgreSQL)."""
    session.execute(insert(TABLE), list(rows))


def anything_staged(session: Session) -> bool:
    return session.execute(select(TABLE.c.id).limit(1)).first() is not None


def take_staged(session: Session) -> list[dict[str, Any]]:
    """Delete every staged read this transaction sees and return them in id order, to be
    chained by the caller in the same transaction (which holds the chain lock)."""
    if not anything_staged(session):
        return []
    with _sealing(session):
        if session.get_bind().dialect.name == "postgresql":
            rows = session.execute(delete(TABLE).returning(*TABLE.c)).mappings().all()
        else:
            # SQLite: one writer at a time (this one holds the process lock and, once it
            # deletes, the database's): what is selected is what is deleted.
            rows = session.execute(select(TABLE).order_by(TABLE.c.id)).mappings().all()
            session.execute(delete(TABLE).where(TABLE.c.id <= rows[-1]["id"]))
    return sorted((dict(row) for row in rows), key=lambda row: row["id"])


@contextmanager
def _sealing(session: Session) -> Iterator[None]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config(:name, 'on', true)"), {"name": SETTING})
        yield  # a failed DELETE aborts the transaction, and the setting with it
        session.execute(text("SELECT set_config(:name, 'off', true)"), {"name": SETTING})
        return
    switch = session.connection().connection.info[SEALING_SWITCH]
    switch.on = True
    try:
        yield
    finally:
        switch.on = False
