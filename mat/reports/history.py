"""What a patient's dosing history shows, read from the database for clinic days first..last.

One patient's records over at most a year are small (hundreds of rows), so they are read whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import select

from mat.audit.queries import utc_bounds
from mat.clinic_limits import TAKE_HOME_AHEAD_DAYS
from mat.clock import clinic_zone
from mat.dosing.models import Dose, DrugScreen, Hold, TakeHomeLoss, WithheldDose
from mat.dosing.screens import screen_frequency_violations
from mat.dosing.situation import doses_between
from mat.extensions import db
from mat.orders.exceptions import patient_exceptions
from mat.orders.models import Order, TakeHomeException
from mat.orders.service import OrderWithStatus, order_status, patient_orders, schedule_between
from mat.patients.models import Patient
from mat.violations import Violation

if TYPE_CHECKING:  # the episodes read the orders feature, which reads this module's peers
    from mat.patients.episodes import EpisodeSummary


@dataclass(frozen=True, slots=True)
class DayDoses:
    day: date
    planned_mg: Decimal  # total the orders plan that day (0 when none)
    given_mg: Decimal  # total of the day's doses that count (not voided or spilled)


@dataclass(frozen=True)
class History:
    patient: Patient
    first: date
    last: date
    orders: list[OrderWithStatus]  # with their status on ``last``, newest first
    days: list[DayDoses]
    doses: list[Dose]
    holds: list[Hold]
    screens: list[DrugScreen]
    withheld: list[WithheldDose]
    episodes: list[EpisodeSummary] = field(default_factory=list)  # every episode of care
    exceptions: list[TakeHomeException] = field(default_factory=list)  # overlapping the doses
    losses: list[TakeHomeLoss] = field(default_factory=list)  # reported in the days
    reminders: list[Violation] = field(default_factory=list)  # drug_screen_frequency on ``last``

    @property
    def corrected(self) -> list[Dose]:
        return [d for d in self.doses if d.correction is not None]


def warnings_of(order: Order) -> list[dict[str, Any]]:
    return list(json.loads(order.warnings))


def _covers(order: Order, first: date, last: date) -> bool:
    stopped = order.discontinuation.effective_on if order.discontinuation else None
    ends = min(d for d in (order.end_date, stopped, date.max) if d is not None)
    return order.start_date <= last and ends >= first


def read_history(patient: Patient, first: date, last: date) -> History:
    orders = patient_orders(patient.id)
    shown = [
        OrderWithStatus(o, order_status(o, orders, last)) for o in orders if _covers(o, first, last)
    ]
    # Take-homes handed out in the range for later days are part of what the patient holds.
    zone = clinic_zone()
    doses = [
        d
        for d in doses_between(patient.id, first, last + timedelta(days=TAKE_HOME_AHEAD_DAYS))
        if d.service_date <= last or d.dispensed_at.astimezone(zone).date() <= last
    ]
    planned: dict[date, Decimal] = {}
    for dose, _order in schedule_between(orders, first, last):
        planned[dose.date] = planned.get(dose.date, Decimal(0)) + dose.dose_mg
    given: dict[date, Decimal] = {}
    for dose in doses:
        if dose.counts and dose.service_date <= last:
            given[dose.service_date] = given.get(dose.service_date, Decimal(0)) + dose.amount_mg
    days = [
        DayDoses(day, planned.get(day, Decimal(0)), given.get(day, Decimal(0)))
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]
    start, end = utc_bounds(first, last, zone)
    holds = [
        h
        for h in db.session.scalars(
            select(Hold).where(Hold.patient_id == patient.id, Hold.set_at < end).order_by(Hold.id)
        )
        if h.release is None or h.release.at >= start  # open at some time in the range
    ]
    screens = list(
        db.session.scalars(
            select(DrugScreen)
            .where(
                DrugScreen.patient_id == patient.id,
                DrugScreen.collected_on.between(first, last),
            )
            .order_by(DrugScreen.collected_on, DrugScreen.id)
        )
    )
    withheld = list(
        db.session.scalars(
            select(WithheldDose)
            .where(
                WithheldDose.patient_id == patient.id,
                WithheldDose.service_date.between(first, last),
            )
            .order_by(WithheldDose.service_date)
        )
    )
    return History(
        patient,
        first,
        last,
        shown,
        days,
        doses,
        holds,
        screens,
        withheld,
        *_since_2024(patient, first, last),
    )


def _since_2024(
    patient: Patient, first: date, last: date
) -> tuple[list[dict[str, Any]], list[TakeHomeException], list[TakeHomeLoss], list[Violation]]:
    """Episodes of care, SMA-168 exceptions, loss reports and the screen-frequency reminder."""
    from mat.clock import clinic_now
    from mat.patients.episodes import episode_summaries  # the episodes read the orders feature

    # As for the doses: take-homes handed out in the range may be for later days.
    until = last + timedelta(days=TAKE_HOME_AHEAD_DAYS)
    exceptions = [
        e for e in patient_exceptions(patient.id) if e.starts_on <= until and e.ends_on >= first
    ]
    losses = list(
        db.session.scalars(
            select(TakeHomeLoss)
            .where(
                TakeHomeLoss.patient_id == patient.id,
                TakeHomeLoss.reported_on.between(first, last),
            )
            .order_by(TakeHomeLoss.reported_on, TakeHomeLoss.id)
        )
    )
    reminders = []
    if patient.status == "active":
        collected = db.session.scalars(
            select(DrugScreen.collected_on).where(DrugScreen.patient_id == patient.id)
        )
        profile = current_app.extensions["mat_profile"]
        as_of = min(last, clinic_now().date())
        reminders = screen_frequency_violations(collected, patient.admitted_on, as_of, profile)
    return episode_summaries(patient), exceptions, losses, reminders
