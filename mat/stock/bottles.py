"""Empty take-home bottles: scanned back at the window, and flagged at the next visit when not.

The label's QR code is the dose id, so a barcode scanner at the window types it and Enter.
Readings (also in the README): a bottle is expected back for every take-home dose handed out
with stock tracking (it has a station: its label was printable) whose day has passed, unless it
was voided; only the last ``LOOK_BACK_DAYS`` are flagged, so that a bottle lost long ago does
not stay on every page for ever (the flag is a prompt for the nurse, the record stays). A
returned bottle is a return of the container, not of stock: what was in it was taken.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mat.audit.service import record
from mat.auth.models import User
from mat.dosing.corrections import get_dose
from mat.dosing.models import Dose
from mat.errors import Conflict, InvalidInput
from mat.extensions import db
from mat.stock.records import BottleReturn

LOOK_BACK_DAYS = 60


def record_bottle_return(
    dose_id: int,
    by: User,
    now: datetime,
    *,
    patient_id: int | None = None,
    station_id: int | None = None,
) -> BottleReturn:
    """Record that the empty bottle of take-home ``dose_id`` came back; ``patient_id`` is the
    patient at the window (a bottle of someone else is refused, naming nobody)."""
    dose = get_dose(dose_id)
    if patient_id is not None and dose.patient_id != patient_id:
        raise InvalidInput(
            f"Bottle {dose_id} is not this patient's.",
            code="not_this_patient",
            fields={"dose_id": ["This label belongs to another patient's dose: check the bottle."]},
        )
    if dose.mode != "take_home":
        raise InvalidInput(
            f"Dose {dose_id} was observed at the window: it had no bottle.",
            code="not_a_take_home",
            fields={"dose_id": ["Scan the label of a take-home bottle."]},
        )
    existing = db.session.scalar(select(BottleReturn).where(BottleReturn.dose_id == dose.id))
    if existing is not None:
        raise Conflict(
            f"The bottle of dose {dose.id} was already returned.", code="already_returned"
        )
    returned = BottleReturn(dose_id=dose.id, by_id=by.id, at=now, station_id=station_id)
    db.session.add(returned)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"The bottle of dose {dose.id} was already returned.", code="already_returned"
        ) from exc
    record(
        "stock.bottle_return",
        entity_type="dose",
        entity_id=dose.id,
        patient_id=dose.patient_id,
        records=[returned],
        detail={"date": dose.service_date.isoformat()},
    )
    return returned


def bottles_out(patient_id: int, today: date) -> list[Dose]:
    """The patient's take-home bottles not yet back whose day has passed (oldest first)."""
    returned = select(BottleReturn.dose_id)
    doses = db.session.scalars(
        select(Dose)
        .where(
            Dose.patient_id == patient_id,
            Dose.mode == "take_home",
            Dose.station_id.is_not(None),
            Dose.service_date < today,
            Dose.service_date >= today - timedelta(days=LOOK_BACK_DAYS),
            Dose.id.not_in(returned),
        )
        .order_by(Dose.service_date, Dose.id)
    )
    return [dose for dose in doses if dose.correction is None or dose.correction.kind != "void"]
