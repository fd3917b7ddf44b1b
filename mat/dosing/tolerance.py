"""What the missed-dose rules count, read from the database: the days since the last dose.

``recent_days`` is the ``recent_days`` of a ``DoseSituation`` (the window) and ``missed_before``
what the order rules count before a new order starts (``missed_doses_dose_not_reduced``). Both
read the patient's doses in one or two queries and the orders the caller already holds; the
counting itself is pure (``mat/dosing/gaps.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select

from mat.dosing.gaps import scheduled_days
from mat.dosing.models import Dose, DoseCorrection, TakeHomeLoss, TakeHomeLossReview
from mat.dosing.rules import ScheduledDay, missed_run
from mat.extensions import db
from mat.orders.coverage import governing
from mat.orders.models import Order
from mat.orders.service import schedule_between

# Days looked back for a missed-dose run: twice the longest rule (7 buprenorphine days), so a
# run is never cut short by the window in a way a rule could notice.
HISTORY_DAYS = 14


@dataclass(frozen=True, slots=True)
class LastDose:
    """The last day the patient was dosed: its date, total and substance."""

    on: date
    total_mg: Decimal
    substance: str


def counting() -> list[object]:
    """SQL conditions of a dose that counts: not corrected, not a lost dose being replaced."""
    replaced = (
        select(TakeHomeLoss.id)
        .join(TakeHomeLossReview, TakeHomeLossReview.loss_id == TakeHomeLoss.id)
        .where(TakeHomeLoss.dose_id == Dose.id, TakeHomeLossReview.decision == "replace")
    )
    return [~exists().where(DoseCorrection.dose_id == Dose.id), ~exists(replaced)]


def last_dose(patient_id: int, before: date) -> LastDose | None:
    """The last day before ``before`` with a dose that counts, and that day's doses."""
    day = db.session.scalar(
        select(Dose.service_date)
        .where(Dose.patient_id == patient_id, Dose.service_date < before, *counting())
        .order_by(Dose.service_date.desc())
        .limit(1)
    )
    if day is None:
        return None
    doses = db.session.scalars(
        select(Dose).where(Dose.patient_id == patient_id, Dose.service_date == day, *counting())
    ).all()
    total = sum((d.amount_mg for d in doses), Decimal(0))
    return LastDose(day, total, doses[-1].medication.substance)


def last_dose_days(patient_ids: list[int], before: date) -> dict[int, date]:
    """``last_dose(...).on`` of many patients in one query (the queue): patient id -> the last
    day before ``before`` with a dose that counts; patients never dosed are left out."""
    if not patient_ids:
        return {}
    rows = db.session.execute(
        select(Dose.patient_id, func.max(Dose.service_date))
        .where(Dose.patient_id.in_(patient_ids), Dose.service_date < before, *counting())
        .group_by(Dose.patient_id)
    )
    return {patient_id: day for patient_id, day in rows}


def recent_days(
    orders: list[Order],
    first: date,
    stop: date,
    *,
    taken: set[date],
    last_dose_on: date | None,
    assume_taken_from: date | None = None,
) -> tuple[ScheduledDay, ...]:
    """The days of ``[first, stop]`` that count for a missed-dose run (see ``gaps.py``)."""
    if stop < first:
        return ()
    planned = {p.date for p, _ in schedule_between(orders, first, stop)}
    coverage = [o.coverage for o in orders]
    covered = {
        day
        for n in range((stop - first).days + 1)
        if governing(coverage, day := first + timedelta(days=n)) is not None
    }
    return scheduled_days(
        first,
        stop,
        planned=planned,
        covered=covered,
        taken=taken,
        last_dose_on=last_dose_on,
        assume_taken_from=assume_taken_from,
    )


def missed_before(
    patient_id: int, orders: list[Order], start: date, today: date
) -> tuple[int, LastDose | None]:
    """Consecutive missed days before an order starting on ``start`` (planned days from today
    on taken to be dosed), and the last dose before it."""
    last = last_dose(patient_id, start)
    first = start - timedelta(days=HISTORY_DAYS)
    taken = {last.on} if last is not None and last.on >= first else set()
    days = recent_days(
        orders,
        first,
        start - timedelta(days=1),
        taken=taken,
        last_dose_on=last.on if last else None,
        assume_taken_from=today,
    )
    return missed_run(days)[0], last
