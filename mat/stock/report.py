"""The stock report: for each clinic day, station and lot, where every unit came from and went.

A line per (day, station, lot) that held stock or moved that day::

    opening + received + transferred_in - transferred_out - dispensed - spilled - destroyed
            + count_adjustment = closing

the rule book's reconciliation (``stock_reconciliation``), where ``dispensed`` is net to the
patients: ``drawn`` (the dose rows of the dispensing log, by the day and lot they were drawn)
less ``returned`` (voids, put back) less ``spilled`` (spills, written off). ``counted``,
``variance`` and ``count_status`` are the day's last count of the lot at the station.

Days are clinic days. A ledger line falls on the day it was recorded: a take-home is drawn the
day it is handed out (as the log dates it); a late entry is drawn the day it is entered (the log
lists it on the day given, flagged with its entry time); a correction on the day it is recorded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from mat.audit.queries import utc_bounds
from mat.clock import clinic_zone
from mat.dosing.models import Dose, DoseCorrection
from mat.extensions import db
from mat.formulary.models import Medication
from mat.stock import ledger
from mat.stock.models import Lot, Station, StockMovement, StockReceipt, StockTransfer
from mat.stock.records import Destruction, StockCount, TheftLossReport

ZERO = Decimal(0)
MOVED = {
    "receipt": "received",
    "transfer_in": "transferred_in",
    "transfer_out": "transferred_out",
    "return": "returned",
    "count": "count_adjustment",
    "destruction": "destroyed",
}


@dataclass
class StockLine:
    date: date
    station: str
    product: str
    lot: str
    expires_on: date
    unit: str
    opening: Decimal = ZERO
    received: Decimal = ZERO
    transferred_in: Decimal = ZERO
    transferred_out: Decimal = ZERO
    drawn: Decimal = ZERO
    returned: Decimal = ZERO
    spilled: Decimal = ZERO
    dispensed: Decimal = ZERO
    destroyed: Decimal = ZERO
    count_adjustment: Decimal = ZERO
    closing: Decimal = ZERO
    counted: Decimal | None = None
    variance: Decimal | None = None
    count_status: str = ""


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(StockLine))


@dataclass(frozen=True)
class StockQuery:
    first: date
    last: date
    station: str | None = None
    product: str | None = None

    def as_detail(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "station": self.station,
            "product": self.product,
        }


@dataclass
class StockReport:
    query: StockQuery
    lines: list[StockLine] = field(default_factory=list)
    counts: list[StockCount] = field(default_factory=list)
    receipts: list[StockReceipt] = field(default_factory=list)
    transfers: list[StockTransfer] = field(default_factory=list)
    theft_loss_reports: list[TheftLossReport] = field(default_factory=list)
    destructions: list[Destruction] = field(default_factory=list)


Key = tuple[date, int, int]  # (day, station id, lot id)


def _day(at: datetime) -> date:
    return at.astimezone(clinic_zone()).date()


def _activity(start: datetime, end: datetime) -> dict[Key, dict[str, Decimal]]:
    """Every quantity moved in the range, by day, station, lot and column."""
    found: dict[Key, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    moved = select(
        StockMovement.at,
        StockMovement.station_id,
        StockMovement.lot_id,
        StockMovement.kind,
        StockMovement.quantity,
    ).where(StockMovement.at >= start, StockMovement.at < end)
    for at, station_id, lot_id, kind, quantity in db.session.execute(moved):
        amount = ledger.exact(quantity)
        found[(_day(at), station_id, lot_id)][MOVED[kind]] += (
            -amount if kind in ("transfer_out", "destruction") else amount
        )
    drawn = (
        select(Dose.dispensed_at, Dose.station_id, Dose.lot_id, ledger.draw_quantity())
        .join(Medication, Medication.id == Dose.medication_id)
        .where(Dose.lot_id.is_not(None), Dose.dispensed_at >= start, Dose.dispensed_at < end)
        .execution_options(yield_per=1000)
    )
    for at, station_id, lot_id, quantity in db.session.execute(drawn):
        found[(_day(at), station_id, lot_id)]["drawn"] += ledger.exact(quantity)
    spilled = (
        select(DoseCorrection.at, Dose.station_id, Dose.lot_id, ledger.draw_quantity())
        .join(Dose, Dose.id == DoseCorrection.dose_id)
        .join(Medication, Medication.id == Dose.medication_id)
        .where(
            DoseCorrection.kind == "spill",
            Dose.lot_id.is_not(None),
            DoseCorrection.at >= start,
            DoseCorrection.at < end,
        )
    )
    for at, station_id, lot_id, quantity in db.session.execute(spilled):
        found[(_day(at), station_id, lot_id)]["spilled"] += ledger.exact(quantity)
    return found


def read_stock_report(query: StockQuery) -> StockReport:
    start, end = utc_bounds(query.first, query.last, clinic_zone())
    stations = {s.id: s for s in db.session.scalars(select(Station))}
    lots = {lot.id: lot for lot in db.session.scalars(select(Lot))}

    def wanted(station_id: int, lot_id: int) -> bool:
        return (query.station in (None, stations[station_id].code)) and (
            query.product in (None, lots[lot_id].medication.code)
        )

    balance = {k: q for k, q in ledger.ledger_on_hand(before=start).items() if wanted(*k)}
    activity = _activity(start, end)
    counts = [c for c in _counts(query) if query.station in (None, c.station.code)]
    last_count = {}
    for count in sorted(counts, key=lambda c: (c.counted_at, c.id)):
        for line in count.lines:
            last_count[(count.counted_on, count.station_id, line.lot_id)] = (line, count.state)
    report = StockReport(query, counts=counts)
    day = query.first
    while day <= query.last:
        keys = set(balance) | {(s, lot) for d, s, lot in activity if d == day and wanted(s, lot)}
        for station_id, lot_id in sorted(
            keys,
            key=lambda k: (
                stations[k[0]].code,
                lots[k[1]].medication.code,
                lots[k[1]].expires_on,
                k[1],
            ),
        ):
            moved = activity.get((day, station_id, lot_id), {})
            opening = balance.get((station_id, lot_id), ZERO)
            if opening == 0 and not moved and (day, station_id, lot_id) not in last_count:
                continue
            line = _line(day, stations[station_id], lots[lot_id], opening, moved)
            counted = last_count.get((day, station_id, lot_id))
            if counted is not None:
                line.counted, line.variance = counted[0].counted, counted[0].variance
                line.count_status = counted[1]
            balance[(station_id, lot_id)] = line.closing
            report.lines.append(line)
        day += timedelta(days=1)
    _records(report, start, end, stations, lots)
    return report


def _line(
    day: date, station: Station, lot: Lot, opening: Decimal, moved: dict[str, Decimal]
) -> StockLine:
    product = lot.medication.as_product()
    line = StockLine(
        day,
        station.code,
        product.code,
        lot.lot_number,
        lot.expires_on,
        product.unit,
        opening=opening,
        **moved,
    )
    line.dispensed = line.drawn - line.returned - line.spilled
    line.closing = (
        line.opening
        + line.received
        + line.transferred_in
        - line.transferred_out
        - line.dispensed
        - line.spilled
        - line.destroyed
        + line.count_adjustment
    )
    return line


def _counts(query: StockQuery) -> list[StockCount]:
    stmt = (
        select(StockCount)
        .where(StockCount.counted_on.between(query.first, query.last))
        .order_by(StockCount.counted_at, StockCount.id)
    )
    return list(db.session.scalars(stmt))


def _records(
    report: StockReport,
    start: datetime,
    end: datetime,
    stations: dict[int, Station],
    lots: dict[int, Lot],
) -> None:
    query = report.query

    def wanted(station_id: int, lot_id: int) -> bool:
        return query.station in (None, stations[station_id].code) and query.product in (
            None,
            lots[lot_id].medication.code,
        )

    receipts = select(StockReceipt).where(
        StockReceipt.received_at >= start, StockReceipt.received_at < end
    )
    report.receipts = [
        r
        for r in db.session.scalars(receipts.order_by(StockReceipt.id))
        if wanted(r.station_id, r.lot_id)
    ]
    transfers = select(StockTransfer).where(StockTransfer.at >= start, StockTransfer.at < end)
    report.transfers = [
        t
        for t in db.session.scalars(transfers.order_by(StockTransfer.id))
        if wanted(t.from_station_id, t.lot_id) or wanted(t.to_station_id, t.lot_id)
    ]
    losses = select(TheftLossReport).where(TheftLossReport.at >= start, TheftLossReport.at < end)
    report.theft_loss_reports = [
        r
        for r in db.session.scalars(losses.order_by(TheftLossReport.id))
        if wanted(r.station_id, r.lot_id)
    ]
    destroyed = select(Destruction).where(Destruction.at >= start, Destruction.at < end)
    report.destructions = [
        d
        for d in db.session.scalars(destroyed.order_by(Destruction.id))
        if wanted(d.station_id, d.lot_id)
    ]
