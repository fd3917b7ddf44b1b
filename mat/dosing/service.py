"""The dosing window: what is due, recording an observed dose, handing out take-homes.

Every write here first takes the patient lock (``lock_patient``), then reads what the rules
need, judges, and inserts, all in the request's one transaction: no rule can be raced by a
second window. The database's unique constraint on (patient, date, slot, attempt) stays the
last word on double doses. The dose plan and the observed dose read the patient's day once
(``patient_day``: two statements, whatever the history); the dose row goes in through
``dose_rows``.

Services flush and never commit. ``now`` is the clinic-local time the view read once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from mat.audit.service import record
from mat.auth.models import User
from mat.clinic_limits import LATE_ENTRY_DAYS, TAKE_HOME_AHEAD_DAYS
from mat.dosing.dose_rows import insert_dose, refuse
from mat.dosing.models import Dose
from mat.dosing.patient_day import SCREEN_YEAR, patient_with_orders, read_day, window_start
from mat.dosing.rules import (
    amount_violations,
    dose_violations,
    is_split_take_home,
    late_entry_violations,
    missed_run,
    next_due,
    take_home_ceiling_days,
    take_home_violations,
)
from mat.dosing.screens import screen_frequency_violations
from mat.dosing.situation import (
    closures_between,
    lock_patient,
    signed_on,
    situation_for,
    situation_of,
)
from mat.dosing.take_home_facts import (
    excepted_dates,
    split_take_home_violations,
    take_home_days,
    take_home_facts,
)
from mat.errors import InvalidInput, names_the_patient
from mat.orders.models import Order
from mat.orders.schedule import PlannedDose
from mat.orders.service import governing_order, patient_orders, schedule_between
from mat.patients.models import Patient
from mat.patients.service import get_patient
from mat.profiles import Profile
from mat.stock.rules import DEFAULT_STATION
from mat.violations import Violation, blocking, rule_ids, warnings


@dataclass(frozen=True, slots=True)
class DosePlan:
    date: date
    status: str  # due, given, blocked, none
    planned: PlannedDose | None
    medication: str | None
    violations: list[Violation]
    warnings: list[Violation] = field(default_factory=list)
    missed_days: int = 0
    take_home_ceiling_days: int | None = None


@names_the_patient
def dose_plan(patient_id: int, day: date, now: datetime, profile: Profile) -> DosePlan:
    """What is due for ``day`` (the next slot not yet given), or every reason nothing may be."""
    _, orders = patient_with_orders(patient_id, window_start(day))
    patient = get_patient(patient_id)  # 404; a read of the patient's record: audited
    read = read_day(patient, orders, day, screens_from=now.date() - SCREEN_YEAR)
    situation = situation_of(read, now)
    found = dose_violations(situation, profile)
    if day < now.date():  # a back-entry's real times are unknown: the interval cannot be judged
        found = [v for v in found if v.rule != "split_interval"]
    order = read.order
    due = next_due(situation)
    if due is not None and order is not None and is_split_take_home(due, situation.planned):
        found += split_take_home_violations(patient, order, now.date(), profile)
    if not situation.planned:
        status = "none"
    elif due is None:
        status = "given"
    else:
        status = "blocked" if blocking(found) else "due"
    shown = due or (situation.planned[-1] if situation.planned else None)
    substance = order.medication.substance if order else None
    # A reminder about the patient, not about this dose: shown with the plan, stored with none.
    reminders = (
        screen_frequency_violations(read.screens, patient.admitted_on, now.date(), profile)
        if situation.patient_active
        else []
    )
    return DosePlan(
        date=day,
        status=status,
        planned=shown,
        medication=order.medication.code if order else None,
        violations=blocking(found),
        warnings=warnings(found) + reminders,
        missed_days=missed_run(situation.recent_days)[0],
        take_home_ceiling_days=take_home_ceiling_days(day, patient.admitted_on, substance, profile)
        if substance
        else None,
    )


def _service_date(data: dict[str, Any], today: date) -> date:
    day: date = data.get("date") or today
    reason = (data.get("late_entry_reason") or "").strip()
    if day > today:
        raise InvalidInput(
            "A dose cannot be recorded for a future date.",
            fields={"date": [f"Use {today} (today) or an earlier date with a late-entry reason."]},
        )
    if day < today - timedelta(days=LATE_ENTRY_DAYS):
        raise InvalidInput(
            f"Back-entry is limited to {LATE_ENTRY_DAYS} days.",
            fields={"date": [f"Use a date from {today - timedelta(days=LATE_ENTRY_DAYS)} on."]},
        )
    if day < today and not reason:
        raise InvalidInput(
            "A dose for an earlier date is a late entry and needs a reason.",
            fields={"late_entry_reason": ["Say why this dose is entered late."]},
        )
    if day == today and reason:
        raise InvalidInput(
            "A dose for today is not a late entry.",
            fields={"late_entry_reason": ["Leave it out for today's doses."]},
        )
    return day


@names_the_patient
def record_dose(
    patient_id: int, data: dict[str, Any], by: User, now: datetime, profile: Profile
) -> Dose:
    """Record an observed dose given by ``by`` (the dispenser) now."""
    today = now.date()
    # The patient lock, and the orders that can govern any date a dose may be back-entered for.
    since = window_start(today - timedelta(days=LATE_ENTRY_DAYS))
    _, orders = patient_with_orders(patient_id, since, lock=True)
    patient = get_patient(patient_id, audit_read=False)
    day = _service_date(data, today)
    read = read_day(patient, orders, day)
    situation = situation_of(read, now)
    try:
        found = dose_violations(situation, profile, data.get("slot"))
    except ValueError as exc:
        slots = ", ".join(p.slot for p in situation.planned)
        raise InvalidInput(
            "The order has no such slot that day.", fields={"slot": [f"Use one of: {slots}."]}
        ) from exc
    if day < today:
        found = [v for v in found if v.rule != "split_interval"]  # real times are unknown
    asked = _asked(situation.planned, data.get("slot"), next_due(situation))
    order = read.order
    # The later part of a split dose the order plans as a take-home (split_slots) is handed
    # out in the same visit, as a take-home: the take-home screens judge it too.
    split_part = asked is not None and is_split_take_home(asked, situation.planned)
    if asked is not None:
        found += amount_violations(asked, data["amount_mg"])
    if split_part and order is not None:
        found += split_take_home_violations(patient, order, today, profile)
    found += late_entry_violations(day, today, data.get("late_entry_reason"), profile)
    refuse(found, "The dose was not recorded")
    # no_active_order or already_dosed refused every case without a slot to give
    assert asked is not None
    assert order is not None
    dose = insert_dose(
        patient.id,
        order,
        asked,
        "take_home" if split_part else "observed",
        by,
        now,
        found,
        profile,
        station=data.get("station") or DEFAULT_STATION,
        attempt=read.attempt(asked.slot),
        late_entry_reason=(data.get("late_entry_reason") or "").strip() or None,
    )
    record(
        "dose.split_take_home" if split_part else "dose.observed",
        entity_type="dose",
        entity_id=dose.id,
        patient_id=patient.id,
        records=[dose, dose.medication],
        rules=rule_ids(found),
        detail={
            "date": day.isoformat(),
            "slot": asked.slot,
            "amount_mg": str(dose.amount_mg),
            "late_entry": dose.late_entry,
            "profile": profile.label,
        },
    )
    return dose


def _asked(
    planned: tuple[PlannedDose, ...], slot: str | None, due: PlannedDose | None
) -> PlannedDose | None:
    """The planned dose the nurse is giving: the slot named, else the next one due."""
    if slot is None:
        return due
    return next((p for p in planned if p.slot == slot), None)


@names_the_patient
def dispense_take_homes(
    patient_id: int,
    dates: list[date],
    by: User,
    now: datetime,
    profile: Profile,
    station: str = DEFAULT_STATION,
) -> list[Dose]:
    """Hand out take-home doses for ``dates``: every planned slot of each date, all or nothing."""
    lock_patient(patient_id)
    patient = get_patient(patient_id, audit_read=False)
    today = now.date()
    _check_take_home_dates(dates, today)
    orders = patient_orders(patient.id)
    found = patient_blocks(patient, orders, today, now, profile)
    planned = {d: [(p, o) for p, o in schedule_between(orders, d, d)] for d in dict.fromkeys(dates)}
    unplanned = [d for d, doses in planned.items() if not doses]
    if unplanned:
        found.append(
            Violation(
                "no_active_order",
                profile.severity("no_active_order"),
                f"No signed order plans a dose on {_dates(unplanned)}.",
            )
        )
    first = min(dates)
    order = governing_order(orders, first) or governing_order(orders, today)
    if order is not None:
        found += take_home_rules(patient, orders, order, dates, today, profile)
    refuse(found, "The take-home doses were not handed out")
    closures = closures_between(min(dates), max(dates))
    excepted = excepted_dates(patient, orders, dates, profile)
    doses: list[Dose] = []
    for day, day_doses in planned.items():
        for plan, governing in day_doses:
            doses.append(
                insert_dose(
                    patient.id,
                    governing,
                    plan,
                    "take_home",
                    by,
                    now,
                    found,
                    profile,
                    station=station,
                    closure_dose=day in closures,
                    take_home_exception_id=excepted[day].id if day in excepted else None,
                )
            )
    record(
        "dose.take_home",
        # One event for the whole hand-out: the doses are listed in the detail and recorded
        # (digests) beside it; entity_id is one id, so it fits its column whatever the count.
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        rules=rule_ids(found),
        detail={
            "dates": [d.isoformat() for d in planned],
            "dose_ids": [d.id for d in doses],
            "profile": profile.label,
        },
        records=[*doses, *{d.medication_id: d.medication for d in doses}.values()],
    )
    return doses


def _check_take_home_dates(dates: list[date], today: date) -> None:
    bad = [d for d in dates if d < today or d > today + timedelta(days=TAKE_HOME_AHEAD_DAYS)]
    if bad:
        raise InvalidInput(
            "Take-home doses are handed out for today and the coming days only.",
            fields={
                "dates": [
                    f"{_dates(bad)}: use dates from {today} to "
                    f"{today + timedelta(days=TAKE_HOME_AHEAD_DAYS)}."
                ]
            },
        )


def patient_blocks(
    patient: Patient, orders: list[Order], today: date, now: datetime, profile: Profile
) -> list[Violation]:
    """The rules about the patient today that stop take-homes as they stop an observed dose:
    not active, on hold, missed doses needing a prescriber."""
    situation = situation_for(patient, orders, today, now)
    patient_rules = {
        "patient_not_active",
        "patient_on_hold",
        "missed_doses_review",
        "missed_doses_reinduction",
    }
    return [v for v in dose_violations(situation, profile) if v.rule in patient_rules]


def take_home_rules(
    patient: Patient,
    orders: list[Order],
    order: Order,
    dates: list[date],
    today: date,
    profile: Profile,
) -> list[Violation]:
    """The take-home table of the rule book for ``dates``, judged under ``order`` (the one that
    governs the first date): its substance, and its signing date for the step-back rule."""
    window = timedelta(days=60)
    facts = take_home_facts(patient)

    def authorized(day: date) -> bool:
        governing = governing_order(orders, day)
        take_home = governing.stored.take_home if governing else None
        return take_home is not None and take_home.authorizes(day)

    return take_home_violations(
        dates,
        today=today,
        admitted_on=patient.admitted_on,
        substance=order.medication.substance,
        authorized=authorized,
        existing_take_homes=take_home_days(patient.id, dates, window),
        closures=closures_between(min(dates) - window, max(dates) + window),
        screens=facts.screens,
        order_signed_on=signed_on(order),
        profile=profile,
        in_maintenance=facts.in_maintenance,
        other_prescribed=facts.other_prescribed,
        exceptions=facts.exceptions,
        loss_reports=facts.loss_reports,
    )


def _dates(days: list[date]) -> str:
    return ", ".join(d.isoformat() for d in days)
