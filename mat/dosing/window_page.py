"""What the nurse's patient page shows: today's plan and what happened to it, the coming week's
take-homes (with the dates a rule refuses), the last screens and the last two weeks' doses.

Reads only. ``service.dose_plan`` audits the read of the patient's record once per page; every
other query here reads the same patient's records for the same page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select

from mat import clinic_limits
from mat.clock import clinic_now, clinic_zone
from mat.dosing import service
from mat.dosing.measures import dose_text, measure_text
from mat.dosing.models import Dose, DrugScreen, WithheldDose
from mat.dosing.schemas import SCREEN_SUBSTANCES
from mat.dosing.situation import closures_between, doses_between, open_holds
from mat.dosing.take_home_facts import loss_report_dates
from mat.dosing.take_home_preview import refused_take_home_dates
from mat.dosing.take_home_rules import loss_report_violations
from mat.errors import MatError
from mat.extensions import db
from mat.formulary.models import Medication
from mat.orders.exceptions import exception_spans
from mat.orders.schedule import mg_text
from mat.orders.service import governing_order, patient_orders, schedule_between
from mat.patients.episodes import episodes_of
from mat.patients.service import get_patient
from mat.plain_words import plain_fields
from mat.profiles import Profile
from mat.stock.window import WindowStock, current_station, window_stock

# The take-home form offers the coming week: today and the six days after it.
TAKE_HOME_FORM_DAYS = 7
# The nurse's dose history: today and the 13 days before it.
HISTORY_DAYS = 14
# The last screens listed on the page.
SCREENS_SHOWN = 5
CORRECTION_STATUS = {"void": "voided", "spill": "spilled"}


def profile() -> Profile:
    return current_app.extensions["mat_profile"]


def local_time(at: datetime) -> str:
    return at.astimezone(clinic_zone()).strftime("%H:%M")


def ml_text(volume_ml: Any) -> str:
    return f"{volume_ml.normalize():f} mL"


@dataclass(frozen=True)
class Withheld:
    time: str
    initials: str
    reason: str


def patient_page(
    patient_id: int,
    *,
    error: MatError | None = None,
    failed: str | None = None,
    status: int = 200,
    checked: Any = (),
) -> tuple[str, int]:
    now = clinic_now()
    today = now.date()
    plan = service.dose_plan(patient_id, today, now, profile())  # 404; the read is audited
    patient = get_patient(patient_id, audit_read=False)
    orders = patient_orders(patient_id)
    episodes = episodes_of(patient_id)
    order = governing_order(orders, today)
    history = doses_between(patient_id, today - timedelta(days=HISTORY_DAYS - 1), today)
    withheld = _withheld_on(patient_id, today)
    page = render_template(
        "dosing/patient.html",
        patient=patient,
        plan=plan,
        # Day 1 is the admission of the current episode of care (a readmission starts again).
        treatment_day=(today - patient.admitted_on).days + 1,
        episode=episodes[-1].number if episodes else 1,
        losses=loss_report_violations(loss_report_dates(patient_id), today, profile()),
        # Once every dose is given, "already given" is the good news, not a reason to show red.
        reasons=[v for v in plan.violations if plan.status != "given" or v.rule != "already_dosed"],
        order=order,
        planned_text=_planned_text(order, plan),
        planned_measure=_planned_measure(order, plan),
        today=today,
        doses=[_dose_row(d) for d in history if d.service_date == today],
        history=[_dose_row(d) for d in reversed(history)],
        history_start=today - timedelta(days=HISTORY_DAYS - 1),
        late_entry_first=today - timedelta(days=clinic_limits.LATE_ENTRY_DAYS),
        late_entry_last=today - timedelta(days=1),
        withheld=withheld,
        holds=open_holds(patient_id),
        take_home_days=_take_home_days(patient_id, orders, now),
        screens=_screens(patient_id),
        panel=SCREEN_SUBSTANCES,
        checked=set(checked),
        give_token=secrets.token_urlsafe(16),
        stock=_stock(patient_id, plan, today),
        error=error,
        error_fields=plain_fields(error.fields) if error else {},
        failed=failed,
        zone=clinic_zone(),
        mg_text=mg_text,
    )
    return page, status


def _planned_text(order: Any, plan: service.DosePlan) -> str:
    """``"40 mg (4 mL)"``, ``"16 mg (2 films of 8 mg)"``: the Give button's words."""
    if plan.planned is None:
        return ""
    if order is None:
        return mg_text(plan.planned.dose_mg)
    return dose_text(order.medication, plan.planned.dose_mg, plan.planned.volume_ml)


def _planned_measure(order: Any, plan: service.DosePlan) -> str:
    """``"4 mL"``, ``"2 films of 8 mg"``: what the nurse measures out."""
    if plan.planned is None or order is None:
        return ""
    return measure_text(order.medication, plan.planned.dose_mg, plan.planned.volume_ml)


def _withheld_on(patient_id: int, day: date) -> Withheld | None:
    row = db.session.scalar(
        select(WithheldDose).where(
            WithheldDose.patient_id == patient_id, WithheldDose.service_date == day
        )
    )
    if row is None:
        return None
    return Withheld(local_time(row.at), row.by.initials, row.reason)


def _stock(patient_id: int, plan: service.DosePlan, today: date) -> WindowStock:
    """The station, the lot the due dose would come from, labels and bottles (mat.stock)."""
    medication = None
    if plan.status == "due" and plan.medication and plan.planned:
        medication = db.session.scalar(select(Medication).where(Medication.code == plan.medication))
    amount = plan.planned.dose_mg if plan.planned else None
    return window_stock(patient_id, medication, amount, today, profile(), current_station())


def _dose_row(dose: Dose) -> dict[str, Any]:
    correction = dose.correction
    return {
        "id": dose.id,
        "date": dose.service_date,
        "time": local_time(dose.dispensed_at),
        "amount": mg_text(dose.amount_mg),
        "volume": measure_text(dose.medication, dose.amount_mg, dose.volume_ml),
        "medication": dose.medication.name,
        "lot": dose.lot.lot_number if dose.lot else "",
        "slot": dose.slot,
        "mode": dose.mode.replace("_", "-"),
        "initials": dose.dispenser.initials,
        "status": CORRECTION_STATUS[correction.kind] if correction else "given",
        "correction": (
            f"{CORRECTION_STATUS[correction.kind]} at {local_time(correction.at)} by "
            f"{correction.by.initials}, witness {correction.witness.initials}: {correction.reason}"
            if correction
            else ""
        ),
        # A dose of today not yet corrected may be voided or spilled (a take-home only today:
        # the service says so if it refuses).
        "correctable": correction is None and not dose.imported,
        "late_entry": dose.late_entry,
        "late_entry_reason": dose.late_entry_reason or "",
        "imported": dose.imported,
    }


def _screens(patient_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(DrugScreen)
        .where(DrugScreen.patient_id == patient_id)
        .order_by(DrugScreen.collected_on.desc(), DrugScreen.id.desc())
        .limit(SCREENS_SHOWN)
    )
    return [
        {
            "collected_on": row.collected_on,
            "positive": sorted(k for k, v in row.result_map.items() if v == "positive"),
            "negative": sorted(k for k, v in row.result_map.items() if v != "positive"),
            "by": row.recorded_by.initials,
        }
        for row in rows
    ]


def _take_home_days(patient_id: int, orders: list[Any], now: datetime) -> list[dict[str, Any]]:
    """The coming week's dates a take-home may be asked for: those the governing order
    authorizes, and clinic closures (one take-home allowed); each with the rules that would
    refuse it on its own, so the nurse sees the refusal before ticking."""
    today = now.date()
    last = today + timedelta(days=TAKE_HOME_FORM_DAYS - 1)
    closures = closures_between(today, last)
    planned: dict[date, list[Any]] = {}
    for dose, governing in schedule_between(orders, today, last):
        planned.setdefault(dose.date, []).append((dose, governing))
    handed_out = {
        d.service_date
        for d in doses_between(patient_id, today, last)
        if d.mode == "take_home" and d.counts
    }
    exceptions = exception_spans(patient_id)
    offered = []
    for day in sorted(planned):
        order = governing_order(orders, day)
        take_home = order.stored.take_home if order else None
        authorized = take_home is not None and take_home.authorizes(day)
        if authorized or day in closures:
            offered.append(day)
    refusals = refused_take_home_dates(
        patient_id, [d for d in offered if d not in handed_out], now, profile()
    )
    days = []
    for day in offered:
        exception = next((e for e in exceptions if e.covers(day)), None)
        amount = sum((p.dose_mg for p, _ in planned[day]), Decimal(0))
        medication = planned[day][0][1].medication
        days.append(
            {
                "date": day,
                "amount": dose_text(medication, amount),
                "closed": day in closures,
                "handed_out": day in handed_out,
                "refused": refusals.get(day, []),
                "exception": exception.number if exception else None,  # SMA-168
            }
        )
    return days
