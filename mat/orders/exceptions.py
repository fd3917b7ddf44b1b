"""Take-home exceptions (SMA-168): recorded by a prescriber, they let take-homes on their dates
pass the ceiling (``take_home_exception`` in clinical-rules.md).

The approval itself comes from the state opioid treatment authority or SAMHSA; ``mat`` records
what the approval says (number, who approved it, when, the dates it covers, why) and applies it.
Readings where the rule book leaves room:
- an exception is recorded for dates that have not all passed (``to`` today or later): it is
  applied to take-homes still to come, never to explain ones already handed out;
- the approval is dated on or before the day it is recorded (a future approval date is a typing
  error), and covers at most a year (as every other range of the API);
- one number per patient: the same approval is not recorded twice.
Services flush and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from mat.audit.service import record
from mat.auth.models import User
from mat.errors import Conflict, InvalidInput, names_the_patient
from mat.extensions import db
from mat.orders.models import TakeHomeException
from mat.orders.take_home_plan import ExceptionSpan
from mat.patients.service import get_patient

LONGEST_EXCEPTION = timedelta(days=365)


def exception_spans(patient_id: int) -> tuple[ExceptionSpan, ...]:
    """The patient's exceptions, as the take-home rules read them."""
    return tuple(span_of(e) for e in patient_exceptions(patient_id))


def span_of(exception: TakeHomeException) -> ExceptionSpan:
    e = exception
    return ExceptionSpan(e.id, e.number, e.approved_by, e.approved_on, e.starts_on, e.ends_on)


def patient_exceptions(patient_id: int) -> list[TakeHomeException]:
    stmt = (
        select(TakeHomeException)
        .where(TakeHomeException.patient_id == patient_id)
        .order_by(TakeHomeException.starts_on, TakeHomeException.id)
    )
    return list(db.session.scalars(stmt))


@names_the_patient
def record_exception(
    patient_id: int, data: dict[str, Any], by: User, now: datetime
) -> TakeHomeException:
    patient = get_patient(patient_id, audit_read=False)
    today = now.date()
    first, last = data["from_"], data["to"]
    problems: dict[str, list[str]] = {}
    if last < first:
        problems["to"] = [f"The exception ends ({last}) before it starts ({first})."]
    elif last - first >= LONGEST_EXCEPTION:
        problems["to"] = ["An exception covers at most a year."]
    if last < today:
        problems.setdefault("to", []).append(
            f"Every date has passed; record an exception for take-homes from {today} on."
        )
    if data["approved_on"] > today:
        problems["approved_on"] = [f"An approval is dated {today} (today) or earlier."]
    if problems:
        raise InvalidInput("The exception is not valid.", fields=problems)
    duplicate = db.session.scalar(
        select(TakeHomeException.id).where(
            TakeHomeException.patient_id == patient.id,
            TakeHomeException.number == data["number"],
        )
    )
    if duplicate is not None:
        raise Conflict(
            f"Exception {data['number']} is already recorded for this patient.",
            code="duplicate_exception",
        )
    exception = TakeHomeException(
        patient_id=patient.id,
        number=data["number"],
        approved_by=data["approved_by"],
        approved_on=data["approved_on"],
        starts_on=first,
        ends_on=last,
        reason=data["reason"],
        recorded_by=by,
        recorded_at=now,
    )
    db.session.add(exception)
    db.session.flush()
    record(
        "take_home_exception.record",
        entity_type="take_home_exception",
        entity_id=exception.id,
        patient_id=patient.id,
        records=[exception],
        detail={
            "number": exception.number,
            "approved_by": exception.approved_by,
            "approved_on": exception.approved_on.isoformat(),
            "from": first.isoformat(),
            "to": last.isoformat(),
        },
    )
    return exception
