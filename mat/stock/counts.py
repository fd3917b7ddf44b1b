"""The daily count of a station and its variances (clinical-rules.md, ``stock_reconciliation``).

At the end of each clinic day a nurse counts every lot at the station, a witness signs on the
same screen, and mat compares each lot with what the ledger expects (opening + received -
dispensed - spilled - wasted, i.e. the station's balance). Readings where the rule book leaves
room (also in the README):
- the count is **blind**: the screen lists the lots to count but not the expected quantities,
  so what is written is what was seen;
- every lot holding stock at the station must be counted (0 when it is found empty); a lot the
  clinic holds elsewhere may be counted here too (found at the wrong station);
- a count **adjusts the ledger to what was counted** (a ``count`` movement per line that differs,
  tolerance or not): the next day opens from the counted stock, as on the paper perpetual
  inventory. A variance past tolerance needs an explanation, and the count stays ``open`` until
  a prescriber or an admin who neither counted nor witnessed it resolves it;
- stock missing past tolerance also warns ``stock_loss_report``: a theft or significant loss is
  recorded on DEA Form 106 (``mat.stock.dea``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mat.audit.queries import utc_bounds
from mat.audit.service import hold_writer_lock, record
from mat.auth.models import User
from mat.clock import clinic_zone
from mat.dosing.models import Dose
from mat.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from mat.extensions import db
from mat.formulary.models import Medication
from mat.profiles import Profile
from mat.stock import ledger, witness
from mat.stock.models import Lot, StockBalance
from mat.stock.records import StockCount, StockCountLine, VarianceResolution
from mat.stock.rules import CountedLot, CountResult, judge_count, loss_warnings
from mat.stock.service import checked_quantity, find_lot, medication_by_code, station_by_code
from mat.violations import Violation, blocking, rule_ids


def _lock_station(station_id: int) -> dict[int, Decimal]:
    """Hold the station's balances still while it is counted; (lot id -> on hand)."""
    session = db.session
    hold_writer_lock(session)  # SQLite: the one writer from here on; PostgreSQL: the rows below
    # Rows locked in one order (lot id), so two counts of a station wait rather than deadlock.
    stmt = (
        select(StockBalance.lot_id, StockBalance.on_hand)
        .where(StockBalance.station_id == station_id)
        .order_by(StockBalance.lot_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return {lot_id: ledger.exact(q) for lot_id, q in session.execute(stmt)}


def _drawn_on(station_id: int, day: date) -> dict[int, Decimal]:
    """What doses drew from each lot at the station on the clinic day (the tolerance's base)."""
    start, end = utc_bounds(day, day, clinic_zone())
    rows = db.session.execute(
        select(Dose.lot_id, func.sum(ledger.draw_quantity()))
        .join(Medication, Medication.id == Dose.medication_id)
        .where(
            Dose.station_id == station_id,
            Dose.lot_id.is_not(None),
            Dose.dispensed_at >= start,
            Dose.dispensed_at < end,
        )
        .group_by(Dose.lot_id)
    )
    return {lot_id: ledger.exact(q) for lot_id, q in rows}


def _counted_lots(
    counted: list[dict[str, Any]], expected: dict[int, Decimal]
) -> list[tuple[Lot, Decimal]]:
    """The count's lines as lots, every lot holding stock included; 422 names the bad line."""
    lines: list[tuple[Lot, Decimal]] = []
    for n, item in enumerate(counted):
        medication = medication_by_code(item["product"], f"counted[{n}].product")
        if item["quantity"] != 0:
            checked_quantity(medication, item["quantity"], f"counted[{n}].quantity")
        lot = find_lot(medication.id, item["lot"])
        if lot is None:
            raise InvalidInput(
                f"No lot {item['lot']} of {medication.code} was ever received.",
                fields={f"counted[{n}].lot": ["Stock enters only by a receipt: record it first."]},
            )
        lines.append((lot, item["quantity"]))
    listed = {lot.id for lot, _ in lines}
    missing = [lot_id for lot_id, q in expected.items() if q != 0 and lot_id not in listed]
    if missing:
        lots = db.session.scalars(select(Lot).where(Lot.id.in_(missing)).order_by(Lot.id))
        names = ", ".join(f"{lot.medication.code} lot {lot.lot_number}" for lot in lots)
        raise InvalidInput(
            "Every lot at the station is counted.",
            fields={"counted": [f"Count {names} too (0 if it is empty)."]},
        )
    return lines


def record_count(data: dict[str, Any], by: User, now: datetime, profile: Profile) -> StockCount:
    """Count a station: store each lot's expected and counted quantity and adjust the ledger to
    the count (its warnings: ``count_warnings``)."""
    station = station_by_code(data.get("station"))
    expected = _lock_station(station.id)
    lines = _counted_lots(data["counted"], expected)
    day = now.date()
    drawn = _drawn_on(station.id, day)
    counted = [
        CountedLot(
            lot.id,
            lot.lot_number,
            lot.medication.as_product(),
            expected.get(lot.id, Decimal(0)),
            quantity,
            drawn.get(lot.id, Decimal(0)),
        )
        for lot, quantity in lines
    ]
    explanation = (data.get("explanation") or "").strip() or None
    results, found = judge_count(counted, explanation, station.code, profile)
    signer, problem = witness.confirm(data.get("witness"), not_=[by], now=now)
    if problem:
        found.append(
            Violation("stock_reconciliation", profile.severity("stock_reconciliation"), problem)
        )
    if blocking(found):
        raise RuleViolation(
            "The count was not recorded: " + " ".join(v.message for v in found),
            code="stock_reconciliation",
            violations=found,
            fields={"witness": [problem]} if problem else None,
            **witness.refusal_work([problem]),
        )
    assert signer is not None
    count = StockCount(
        station_id=station.id,
        counted_on=day,
        counted_at=now,
        counted_by_id=by.id,
        witness_id=signer.id,
        status="open" if any(r.beyond_tolerance for r in results) else "balanced",
        explanation=explanation,
    )
    db.session.add(count)
    db.session.flush()
    for result in results:
        _store_line(count, result, station.id, by, now)
    db.session.flush()
    warnings = loss_warnings(results, station.code, profile)
    record(
        "stock.count",
        entity_type="stock_count",
        entity_id=count.id,
        records=[count, *count.lines],
        rules=rule_ids(warnings) + (["stock_reconciliation"] if count.status == "open" else []),
        detail={
            "station": station.code,
            "status": count.status,
            "lines": [
                {
                    "lot_id": r.line.lot_id,
                    "expected": str(r.line.expected),
                    "counted": str(r.line.counted),
                    "variance": str(r.variance),
                }
                for r in results
            ],
            "witness": signer.username,
        },
    )
    return count


def _store_line(count: StockCount, result: CountResult, station_id: int, by: User, at: Any) -> None:
    line = result.line
    db.session.add(
        StockCountLine(
            count_id=count.id,
            lot_id=line.lot_id,
            expected=line.expected,
            counted=line.counted,
            variance=result.variance,
            tolerance=result.tolerance,
            beyond_tolerance=result.beyond_tolerance,
        )
    )
    if result.variance == 0:
        return
    if result.variance > 0:
        ledger.add(station_id, line.lot_id, result.variance)
    elif not ledger.take(station_id, line.lot_id, -result.variance):  # the rows are locked
        raise Conflict("The stock changed during the count; count again.", code="conflict")
    ledger.move("count", station_id, line.lot_id, result.variance, by, at, count_id=count.id)


def count_warnings(count: StockCount) -> list[Violation]:
    """The warnings a stored count carries (``stock_loss_report`` while stock is missing)."""
    profile = current_app.extensions["mat_profile"]
    results = [
        CountResult(
            CountedLot(
                line.lot_id,
                line.lot.lot_number,
                line.lot.medication.as_product(),
                line.expected,
                line.counted,
                Decimal(0),
            ),
            line.variance,
            line.tolerance,
            line.beyond_tolerance,
        )
        for line in count.lines
    ]
    return loss_warnings(results, count.station.code, profile)


def get_count(count_id: int) -> StockCount:
    count = db.session.get(StockCount, count_id)
    if count is None:
        raise NotFound(f"No count with id {count_id}.", code="count_not_found")
    return count


def resolve_variance(count_id: int, resolution: str, by: User, now: datetime) -> StockCount:
    """Close an open count: a prescriber or admin who neither counted nor witnessed it."""
    count = get_count(count_id)
    if count.status != "open":
        raise Conflict(f"Count {count.id} balanced: there is nothing to resolve.", code="balanced")
    if count.resolution is not None:
        raise Conflict(f"Count {count.id} was already resolved.", code="already_resolved")
    if by.id in (count.counted_by_id, count.witness_id):
        raise Forbidden(
            "Whoever counted or witnessed a count does not resolve its variance.",
            code="own_variance",
        )
    resolved = VarianceResolution(count_id=count.id, resolution=resolution, by_id=by.id, at=now)
    db.session.add(resolved)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the unique count_id: resolved at the same moment elsewhere
        raise Conflict(f"Count {count.id} was already resolved.", code="already_resolved") from exc
    db.session.refresh(count)
    record(
        "stock.variance_resolved",
        entity_type="stock_count",
        entity_id=count.id,
        records=[resolved],
        rules=["stock_reconciliation"],
        detail={"station": count.station.code, "resolution": resolution},
    )
    return count


def variances(*, open_only: bool = True, limit: int = 200) -> list[StockCount]:
    """Counts with a variance past tolerance, newest first: only the open ones by default."""
    stmt = (
        select(StockCount)
        .where(StockCount.status == "open")
        .order_by(StockCount.counted_at.desc(), StockCount.id.desc())
    )
    if open_only:
        stmt = stmt.where(~StockCount.resolution.has())
    return list(db.session.scalars(stmt.limit(limit)))


def counts_of(station_id: int | None, first: date, last: date) -> list[StockCount]:
    stmt = (
        select(StockCount)
        .where(StockCount.counted_on.between(first, last))
        .order_by(StockCount.counted_at.desc(), StockCount.id.desc())
    )
    if station_id is not None:
        stmt = stmt.where(StockCount.station_id == station_id)
    return list(db.session.scalars(stmt))
