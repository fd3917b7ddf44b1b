"""What the dosing rules look at, read from the database: the pure inputs of ``rules.py``.

One function per question, each a query or two; ``situation_for`` puts them together for one
patient and one service date. The dose plan and the observed dose read it all at once instead
(``patient_day.read_day``, then ``situation_of``). Also the per-patient lock that makes
"check the rules, then insert" one step no other request can slip into.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from types import EllipsisType

from sqlalchemy import select, text

from mat.audit.service import hold_writer_lock
from mat.clock import clinic_zone
from mat.dosing.models import ClinicClosure, Dose, DrugScreen, Hold
from mat.dosing.patient_day import DayDose, PatientDay
from mat.dosing.rules import DoseSituation, GivenDose, GoverningOrder, Screen
from mat.dosing.tolerance import HISTORY_DAYS, last_dose, recent_days
from mat.extensions import db
from mat.orders.models import Order
from mat.orders.service import governing_order, schedule_between
from mat.patients.models import Patient


def lock_patient(patient_id: int) -> None:
    """Serialize the dosing writes of one patient until this transaction ends.

    PostgreSQL: a row lock on the patient (``FOR UPDATE``); a second request for the same
    patient waits here, then sees what the first stored. SQLite: a no-op UPDATE takes the
    database's write lock the same way (SQLite has one writer at a time).
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Patient.id).where(Patient.id == patient_id).with_for_update()
        ).first()
    else:
        hold_writer_lock(session)  # the audit chain's process lock first, as every writer does
        session.execute(text("UPDATE patients SET id = id WHERE id = :id"), {"id": patient_id})


def signed_on(order: Order) -> date:
    """The clinic date an order was signed."""
    return order.signed_at.astimezone(clinic_zone()).date()


def governing_facts(order: Order | None) -> GoverningOrder | None:
    if order is None:
        return None
    return GoverningOrder(
        order.id, order.kind, order.medication.substance, signed_on(order), order.start_date
    )


def doses_between(patient_id: int, start: date, stop: date) -> list[Dose]:
    """Every dose row of the patient for service dates in ``[start, stop]``, corrected or not."""
    stmt = (
        select(Dose)
        .where(Dose.patient_id == patient_id, Dose.service_date.between(start, stop))
        .order_by(Dose.service_date, Dose.dispensed_at, Dose.id)
    )
    return list(db.session.scalars(stmt))


def open_holds(patient_id: int) -> list[Hold]:
    holds = db.session.scalars(select(Hold).where(Hold.patient_id == patient_id).order_by(Hold.id))
    return [h for h in holds if h.is_open]


def screens_of(patient_id: int) -> list[Screen]:
    rows = db.session.scalars(select(DrugScreen).where(DrugScreen.patient_id == patient_id))
    return [Screen(row.collected_on, row.result_map) for row in rows]


def closures_between(start: date, stop: date) -> frozenset[date]:
    stmt = select(ClinicClosure.date).where(ClinicClosure.date.between(start, stop))
    return frozenset(db.session.scalars(stmt))


def situation_for(patient: Patient, orders: list[Order], day: date, now: datetime) -> DoseSituation:
    """The rules' view of ``day`` for ``patient``; ``orders`` are the patient's signed orders."""
    first = day - timedelta(days=HISTORY_DAYS)
    doses = doses_between(patient.id, first, day)
    earlier = None
    if not any(d.counts and d.service_date < day for d in doses):
        # nothing in the window: how long ago was the last dose (an unordered gap)?
        last = last_dose(patient.id, first)
        earlier = last.on if last else None
    holds = tuple(h.reason for h in open_holds(patient.id))
    return situation_from(patient, orders, day, now, doses, holds, earlier)


def situation_of(read: PatientDay, now: datetime) -> DoseSituation:
    """The rules' view of ``read.day`` from a patient's day read once (``patient_day``)."""
    return situation_from(
        read.patient,
        read.orders,
        read.day,
        now,
        read.doses,
        read.holds,
        read.last_dose_before,
        governing=read.order,
    )


def situation_from(
    patient: Patient,
    orders: list[Order],
    day: date,
    now: datetime,
    doses: Sequence[Dose | DayDose],
    holds: tuple[str, ...],
    last_dose_before: date | None,
    *,
    governing: Order | EllipsisType | None = ...,
) -> DoseSituation:
    """``situation_for`` from rows already read (the queue reads them for every patient at
    once): ``doses`` are the patient's dose rows of the ``HISTORY_DAYS`` before ``day`` and of
    ``day``, corrected or not; ``holds`` the reasons of the open holds; ``last_dose_before`` the
    last day dosed before that window (read only when the window has no dose); ``governing``
    the order governing ``day`` when the caller has already found it."""
    first = day - timedelta(days=HISTORY_DAYS)
    order = governing_order(orders, day) if isinstance(governing, EllipsisType) else governing
    doses = [d for d in doses if d.counts and first <= d.service_date <= day]
    taken = {d.service_date for d in doses if d.service_date < day}
    last_dose_on = max(taken) if taken else last_dose_before
    recent = recent_days(
        orders,
        first,
        day - timedelta(days=1),
        taken=taken,
        last_dose_on=last_dose_on,
        assume_taken_from=now.date(),  # a plan asked for a later date: today's dose is to come
    )
    return DoseSituation(
        day=day,
        now=now,
        patient_active=patient.status == "active",
        admitted_on=patient.admitted_on,
        order=governing_facts(order),
        planned=tuple(p for p, _ in schedule_between(orders, day, day)),
        given=tuple(
            GivenDose(d.slot, d.mode, d.dispensed_at) for d in doses if d.service_date == day
        ),
        open_holds=holds,
        recent_days=recent,
    )
