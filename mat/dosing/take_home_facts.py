"""What the take-home rules know of a patient besides the orders and doses, read once per
request: screens, other prescribed substances, SMA-168 exceptions, loss reports, and whether the
patient is in maintenance treatment (for closure days). Also the screen rules of a split
take-home part, which is a take-home like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from mat.dosing.models import TakeHomeLoss
from mat.dosing.screens import Screen
from mat.dosing.situation import closures_between, doses_between, screens_of, signed_on
from mat.dosing.take_home_rules import (
    CLOSURE_LEVELS_EXCLUDED,
    exception_dates,
    loss_report_violations,
    screen_violations,
)
from mat.extensions import db
from mat.orders.exceptions import exception_spans
from mat.orders.models import Order
from mat.orders.service import governing_order
from mat.orders.take_home_plan import ExceptionSpan
from mat.patients.models import Patient
from mat.profiles import Profile
from mat.violations import Violation


@dataclass(frozen=True, slots=True)
class TakeHomeFacts:
    screens: tuple[Screen, ...]
    other_prescribed: tuple[str, ...]
    exceptions: tuple[ExceptionSpan, ...]
    loss_reports: tuple[date, ...]  # the dates the patient's take-home losses were reported
    in_maintenance: bool


def loss_report_dates(patient_id: int) -> tuple[date, ...]:
    stmt = select(TakeHomeLoss.reported_on).where(TakeHomeLoss.patient_id == patient_id)
    return tuple(sorted(db.session.scalars(stmt)))


def take_home_facts(patient: Patient) -> TakeHomeFacts:
    return TakeHomeFacts(
        screens=tuple(screens_of(patient.id)),
        other_prescribed=tuple(patient.other_prescribed_list),
        exceptions=exception_spans(patient.id),
        loss_reports=loss_report_dates(patient.id),
        in_maintenance=patient.level_of_care not in CLOSURE_LEVELS_EXCLUDED,
    )


def split_take_home_violations(
    patient: Patient, order: Order, today: date, profile: Profile
) -> list[Violation]:
    """The rules a split take-home part answers to as a take-home: the screens, step-back and
    the loss reports. Not the ceiling: the patient attended that day (the earlier part was
    observed), so it is not a take-home day; not the order's take-home days: ``split_slots``
    authorizes it."""
    facts = take_home_facts(patient)
    found = screen_violations(
        facts.screens,
        substance=order.medication.substance,
        today=today,
        order_signed_on=signed_on(order),
        other_prescribed=facts.other_prescribed,
        profile=profile,
    )
    return found + loss_report_violations(facts.loss_reports, today, profile)


def take_home_days(patient_id: int, dates: list[date], window: timedelta) -> frozenset[date]:
    """Days taken home around ``dates``: a counting take-home and no observed dose (a day whose
    later split part went home after an observed part is a day the patient attended)."""
    doses = doses_between(patient_id, min(dates) - window, max(dates) + window)
    attended = {d.service_date for d in doses if d.mode == "observed" and d.counts}
    return frozenset(
        d.service_date
        for d in doses
        if d.mode == "take_home" and d.counts and d.service_date not in attended
    )


def excepted_dates(
    patient: Patient, orders: list[Order], dates: list[date], profile: Profile
) -> dict[date, ExceptionSpan]:
    """Which requested dates an SMA-168 exception let pass the ceiling (stored on the rows)."""
    order = governing_order(orders, min(dates))
    if order is None or order.medication.substance != "methadone":
        return {}
    exceptions = exception_spans(patient.id)
    if not exceptions:
        return {}
    window = timedelta(days=60)
    return exception_dates(
        dates,
        admitted_on=patient.admitted_on,
        existing_take_homes=take_home_days(patient.id, dates, window),
        closures=closures_between(min(dates) - window, max(dates) + window),
        exceptions=exceptions,
        profile=profile,
        in_maintenance=patient.level_of_care not in CLOSURE_LEVELS_EXCLUDED,
    )
