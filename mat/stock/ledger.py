"""The stock ledger: moving a quantity into or out of a station's lot, and reading what is there.

Every change of a balance is written with its ledger line in the same transaction:
``add``/``take`` change the cached ``stock_balances`` row and ``move`` stores the movement.
A take is one guarded UPDATE (``... WHERE on_hand >= quantity``): on PostgreSQL a second
transaction taking from the same row waits for the first and then re-checks the guard against
what the first left (so two windows cannot both take the last 10 mL); SQLite has one writer at
a time. The CHECK ``on_hand >= 0`` backs the guard in the database.

A dose is its own ledger line (``doses.lot_id``); its quantity is ``draw_quantity`` below.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement

from mat.auth.models import User
from mat.dosing.models import Dose
from mat.extensions import db
from mat.formulary.models import Medication
from mat.stock.models import Lot, Station, StockBalance, StockMovement

QUANTUM = Decimal("0.001")  # the ledger's columns hold three decimals


def draw_quantity() -> ColumnElement[Any]:
    """SQL: what a dose row took from stock (mL of a liquid, units of a solid); needs
    ``medications`` joined."""
    return case(
        (Dose.volume_ml.is_not(None), Dose.volume_ml),
        else_=Dose.amount_mg / Medication.strength_mg,
    )


def exact(value: Any) -> Decimal:
    """A database sum as the exact Decimal it stands for (SQLite sums numerics as floats)."""
    return Decimal(str(value or 0)).quantize(QUANTUM)


def add(station_id: int, lot_id: int, quantity: Decimal) -> None:
    """Put ``quantity`` (> 0) into the station's lot: one upsert, safe against a twin."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = StockBalance.__table__
    stmt = insert(table).values(station_id=station_id, lot_id=lot_id, on_hand=quantity)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.station_id, table.c.lot_id],
        set_={"on_hand": table.c.on_hand + stmt.excluded.on_hand},
    )
    db.session.execute(stmt)


def take(station_id: int, lot_id: int, quantity: Decimal) -> bool:
    """Take ``quantity`` (> 0) out of the station's lot if it is there; False if it is not."""
    table = StockBalance.__table__
    stmt = (
        update(table)
        .where(
            table.c.station_id == station_id,
            table.c.lot_id == lot_id,
            table.c.on_hand >= quantity,
        )
        .values(on_hand=table.c.on_hand - quantity)
    )
    return bool(db.session.execute(stmt).rowcount == 1)


def move(
    kind: str,
    station_id: int,
    lot_id: int,
    quantity: Decimal,
    by: User,
    at: datetime,
    **document: int,
) -> StockMovement:
    """Store one ledger line (the balance was changed by ``add`` or ``take`` already)."""
    movement = StockMovement(
        kind=kind,
        station_id=station_id,
        lot_id=lot_id,
        quantity=quantity,
        by_id=by.id,
        at=at,
        **document,
    )
    db.session.add(movement)
    return movement


# ---- reading -------------------------------------------------------------------------------


def on_hand(station_id: int, lot_id: int) -> Decimal:
    value = db.session.scalar(
        select(StockBalance.on_hand).where(
            StockBalance.station_id == station_id, StockBalance.lot_id == lot_id
        )
    )
    return exact(value)


def balances(station_ids: Iterable[int] | None = None) -> list[tuple[Station, Lot, Decimal]]:
    """Every lot holding stock, per station, soonest expiry first."""
    stmt = (
        select(Station, Lot, StockBalance.on_hand)
        .join(StockBalance, StockBalance.station_id == Station.id)
        .join(Lot, Lot.id == StockBalance.lot_id)
        .join(Medication, Medication.id == Lot.medication_id)
        .where(StockBalance.on_hand > 0)
        .order_by(Station.code, Medication.code, Lot.expires_on, Lot.id)
    )
    if station_ids is not None:
        stmt = stmt.where(Station.id.in_(list(station_ids)))
    return [(station, lot, exact(q)) for station, lot, q in db.session.execute(stmt)]


def cached_on_hand() -> dict[tuple[int, int], Decimal]:
    """The balances table: (station id, lot id) -> on hand."""
    rows = db.session.execute(
        select(StockBalance.station_id, StockBalance.lot_id, StockBalance.on_hand)
    )
    return {(s, lot): exact(q) for s, lot, q in rows}


def ledger_on_hand(before: datetime | None = None) -> dict[tuple[int, int], Decimal]:
    """On hand from the ledger alone: every movement minus every dose drawn (before ``before``
    when given). The balances table must always equal this."""
    moved = select(
        StockMovement.station_id, StockMovement.lot_id, func.sum(StockMovement.quantity)
    ).group_by(StockMovement.station_id, StockMovement.lot_id)
    drawn = (
        select(Dose.station_id, Dose.lot_id, func.sum(draw_quantity()))
        .join(Medication, Medication.id == Dose.medication_id)
        .where(Dose.lot_id.is_not(None))
        .group_by(Dose.station_id, Dose.lot_id)
    )
    if before is not None:
        moved = moved.where(StockMovement.at < before)
        drawn = drawn.where(Dose.dispensed_at < before)
    totals: dict[tuple[int, int], Decimal] = {}
    for station_id, lot_id, quantity in db.session.execute(moved):
        totals[(station_id, lot_id)] = exact(quantity)
    for station_id, lot_id, quantity in db.session.execute(drawn):
        key = (station_id, lot_id)
        totals[key] = totals.get(key, Decimal(0)) - exact(quantity)
    return totals
