"""A dose row going in: the refusal when a rule blocks it, its attempt number, its draw from
stock, and the insert that turns a lost race into a 409. Shared by the observed dose and the
take-home hand-out (``service.py``).

The row goes in by one Core ``INSERT ... RETURNING id``, not by the session's flush: the unit
of work sorted the dose's eight relationships and visited the dispenser and their roles on
every dose, about 0.4 ms of CPU a recorded dose more than this (issue 10, measured in-process
on the benchmark's clinic; the idempotency key goes in the same way). The ``Dose`` the caller
gets is then made persistent as if read back: every column is set on it, so nothing is loaded
again, and its audit digest is taken from exactly the values inserted."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Insert, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from mat.audit.service import hold_writer_lock
from mat.auth.models import User
from mat.dosing.models import Dose
from mat.dosing.situation import doses_between
from mat.errors import Conflict, RuleViolation
from mat.extensions import db
from mat.orders.models import Order
from mat.orders.schedule import PlannedDose
from mat.profiles import Profile
from mat.stock.draws import draw_for_dose
from mat.stock.rules import DEFAULT_STATION
from mat.violations import Violation, blocking, warnings


def refuse(found: list[Violation], what: str) -> None:
    """Raise when a blocking rule fired: 409 for a double dose, 422 for the rest."""
    refused = blocking(found)
    if not refused:
        return
    message = f"{what}: " + " ".join(v.message for v in refused)
    if any(v.rule == "already_dosed" for v in refused):
        raise Conflict(message, code="already_dosed", violations=found)
    raise RuleViolation(message, code="dose_blocked", violations=found)


def _attempt(patient_id: int, day: date, slot: str) -> int:
    """1 for a slot's first dose; one more than the doses of the slot already corrected."""
    corrected = [d for d in doses_between(patient_id, day, day) if d.slot == slot and not d.counts]
    return len(corrected) + 1


def insert_dose(
    patient_id: int,
    order: Order,
    planned: PlannedDose,
    mode: str,
    by: User,
    now: datetime,
    found: list[Violation],
    profile: Profile,
    station: str = DEFAULT_STATION,
    attempt: int | None = None,
    **flags: Any,
) -> Dose:
    """Insert the planned dose as given now by ``by`` at ``station``, with the warnings and the
    profile that judged it, drawn from the station's stock (``mat.stock.draws``). Inserted at
    once, so a lost race is a 409 here rather than a failed commit later (after the error the
    transaction is only rolled back, by the error handler). ``attempt``: when the caller has
    read the day's doses already (``PatientDay.attempt``)."""
    dose = Dose(
        patient_id=patient_id,
        order_id=order.id,
        medication_id=order.medication_id,
        medication=order.medication,
        service_date=planned.date,
        slot=planned.slot,
        attempt=attempt or _attempt(patient_id, planned.date, planned.slot),
        mode=mode,
        amount_mg=planned.dose_mg,
        volume_ml=planned.volume_ml,
        dispensed_at=now,
        dispenser_id=by.id,
        dispenser=by,
        warnings=json.dumps([v.as_dict() for v in warnings(found)]),
        profile_id=profile.id,
        profile_version=profile.version,
        **(_UNSET | flags),
    )
    # A new row has no correction or loss report: said here, so no query asks after the insert.
    dose.correction = None
    dose.loss = None
    draw_for_dose(dose, order.medication, station, now.date(), profile)
    dose.station_id = dose.station.id if dose.station is not None else None
    hold_writer_lock(db.session)  # SQLite: the chain's writer lock, as a flush takes it
    try:
        dose.id = db.session.execute(
            _insert_statement(), {name: getattr(dose, name) for name in _COLUMNS}
        ).scalar_one()
    except IntegrityError as exc:
        raise Conflict(
            f"A dose for {dose.service_date} ({dose.slot}) was recorded at the same moment by "
            "another window.",
            code="already_dosed",
        ) from exc
    make_transient_to_detached(dose)  # as if read back: every attribute set, none to load
    db.session.add(dose)
    return dose


# The columns a caller's ``flags`` may set, as a new dose has them otherwise: every column is
# given a value before the insert (one left unset would be loaded again when read).
_UNSET: dict[str, Any] = {
    "late_entry_reason": None,
    "closure_dose": False,
    "take_home_exception_id": None,
    "station_id": None,
    "lot_id": None,
    "import_id": None,
}
# Every column but the id, by name (the model's attribute names are its column names).
_COLUMNS = tuple(column.name for column in Dose.__table__.columns if column.name != "id")


@cache
def _insert_statement() -> Insert:
    table = Dose.__table__
    return insert(table).returning(table.c.id)
