"""A dose row going in: the refusal when a rule blocks it, its attempt number, its draw from
stock, and the flush that turns a lost race into a 409. Shared by the observed dose and the
take-home hand-out (``service.py``)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

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
    profile that judged it, drawn from the station's stock (``mat.stock.draws``). Flushed at
    once, so a lost race is a 409 here rather than a failed commit later (after the error the
    transaction is only rolled back, by the error handler). ``attempt``: when the caller has
    read the day's doses already (``PatientDay.attempt``)."""
    dose = Dose(
        patient_id=patient_id,
        order_id=order.id,
        medication_id=order.medication_id,
        service_date=planned.date,
        slot=planned.slot,
        attempt=attempt or _attempt(patient_id, planned.date, planned.slot),
        mode=mode,
        amount_mg=planned.dose_mg,
        volume_ml=planned.volume_ml,
        dispensed_at=now,
        dispenser=by,
        warnings=json.dumps([v.as_dict() for v in warnings(found)]),
        profile_id=profile.id,
        profile_version=profile.version,
        **flags,
    )
    # A new row has no correction or loss report: said here, so no query asks after the insert.
    dose.correction = None
    dose.loss = None
    draw_for_dose(dose, order.medication, station, now.date(), profile)
    db.session.add(dose)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"A dose for {dose.service_date} ({dose.slot}) was recorded at the same moment by "
            "another window.",
            code="already_dosed",
        ) from exc
    return dose
