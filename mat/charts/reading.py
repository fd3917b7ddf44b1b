"""What the chart shows, read through the existing services (no rule is decided here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import select

from mat import clinic_limits
from mat.charts.svg import ChartDay
from mat.dosing import service
from mat.dosing.models import DrugScreen
from mat.dosing.situation import closures_between, doses_between, open_holds
from mat.dosing.take_home_facts import loss_report_dates
from mat.dosing.take_home_rules import loss_report_violations
from mat.dosing.tolerance import missed_before
from mat.extensions import db
from mat.orders.models import Order
from mat.orders.schedule import WEEKDAYS, mg_text
from mat.orders.service import OrderWithStatus, active_among, order_status, patient_orders
from mat.patients.episodes import episode_summaries
from mat.patients.service import get_patient
from mat.profiles import Profile
from mat.reports.history import History, read_history

CHART_DAYS = 90
SCREENS_SHOWN = 6


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What a missed-doses rule asks for, and the order that answers it (form fields)."""

    rule: str
    text: str
    fields: dict[str, str]


def order_words(order: Order) -> str:
    """The order in a sentence: medication, kind, dose in mg, schedule, take-home days."""
    stored = order.stored
    steps = stored.steps
    doses = [s.dose_mg for s in steps]
    if len(steps) <= 1:
        dose = f"{mg_text(order.first_dose_mg)} a day"
    else:
        dose = (
            f"{mg_text(doses[0])} a day, changing in {len(steps) - 1} steps to "
            f"{mg_text(doses[-1])} from {steps[-1].start}"
        )
    parts = [f"{order.medication.name}, {order.kind}: {dose}"]
    if stored.split:
        parts.append(
            "split " + " + ".join(f"{slot} {(f * 100).normalize():f} %" for slot, f in stored.split)
        )
    until = f" to {order.end_date}" if order.end_date else ", no end date"
    parts.append(f"from {order.start_date}{until}")
    return "; ".join(parts) + "."


def take_home_words(order: Order | None) -> str:
    if order is None or order.take_home is None or order.stored.take_home is None:
        return "No take-homes authorized."
    plan = order.stored.take_home
    weekdays = sorted(plan.weekdays, key=WEEKDAYS.index)
    days = [d.capitalize() for d in weekdays] + [str(d) for d in sorted(plan.dates)]
    slots = [f"split slot {s}" for s in plan.split_slots]
    return "Take-homes authorized: " + ", ".join(days + slots) + "."


def take_homes_out(patient_id: int, today: date) -> list[str]:
    """Take-home doses handed out for today or later (the patient holds them), as text."""
    last = today + timedelta(days=clinic_limits.TAKE_HOME_AHEAD_DAYS)
    return [
        f"{d.service_date.strftime('%a %d %b')}: {mg_text(d.amount_mg)}"
        for d in doses_between(patient_id, today, last)
        if d.mode == "take_home" and d.counts
    ]


def screens(patient_id: int, substance: str | None, also: list[str]) -> list[dict[str, Any]]:
    """The newest screens, each result marked positive/unexpected (the rules' reading)."""
    rows = db.session.scalars(
        select(DrugScreen)
        .where(DrugScreen.patient_id == patient_id)
        .order_by(DrugScreen.collected_on.desc(), DrugScreen.id.desc())
        .limit(SCREENS_SHOWN)
    )
    expected = {s.strip().lower() for s in [substance or "", *also]}
    shown = []
    for row in rows:
        results = []
        for name, result in row.result_map.items():
            positive = result.strip().lower() == "positive"
            results.append(
                {
                    "name": name,
                    "result": result,
                    "positive": positive,
                    "unexpected": positive and name.strip().lower() not in expected,
                }
            )
        shown.append({"collected_on": row.collected_on, "results": results})
    return shown


def chart_days(history: History, closed: frozenset[date]) -> list[ChartDay]:
    withheld = {w.service_date for w in history.withheld}
    corrected = {d.service_date for d in history.corrected}
    zone_days: set[date] = set()
    for hold in history.holds:
        start = hold.set_at
        stop = hold.release.at if hold.release else None
        for d in history.days:
            day_start = datetime.combine(d.day, datetime.min.time(), tzinfo=start.tzinfo)
            if day_start + timedelta(days=1) > start and (stop is None or day_start <= stop):
                zone_days.add(d.day)
    return [
        ChartDay(
            d.day,
            d.planned_mg,
            d.given_mg,
            withheld=d.day in withheld,
            hold=d.day in zone_days,
            corrected=d.day in corrected,
            closed=d.day in closed,
        )
        for d in history.days
    ]


def missed_suggestion(
    plan: service.DosePlan, orders: list[Order], today: date, profile: Profile
) -> Suggestion | None:
    """When a missed-doses rule blocks today: what it asks for, as a pre-filled order."""
    rules = {v.rule for v in plan.violations}
    if not rules & {"missed_doses_review", "missed_doses_reinduction"} or plan.medication is None:
        return None
    patient_id = orders[0].patient_id
    missed, last = missed_before(patient_id, orders, today, today)
    fields = {"medication": plan.medication, "start_date": today.isoformat()}
    if "missed_doses_reinduction" in rules:
        text = (
            f"After {missed} missed days treatment restarts with an induction order: "
            "start low, as on a first day."
        )
        return Suggestion("missed_doses_reinduction", text, {**fields, "kind": "induction"})
    if last is None:
        return None
    fraction = profile.missed_doses_reduced_fraction
    limit = last.total_mg * fraction
    share = "half" if fraction == Decimal("0.5") else f"{(fraction * 100).normalize():f} %"
    why = f"{share} of the last dose given ({mg_text(last.total_mg)} on {last.on})"
    cap, cap_days = profile.missed_doses_reduced_cap_mg, profile.missed_doses_reduced_cap_days
    if missed >= cap_days and cap < limit:
        limit = cap
        why = f"the cap of {mg_text(cap)} after {cap_days} missed days"
    dose = limit.quantize(Decimal(1), rounding=ROUND_FLOOR)
    text = (
        f"After {missed} missed days a new order is needed before the next dose. The rule asks "
        f"for a reduced restart: at most {mg_text(dose)} ({why}); more needs a justification."
    )
    return Suggestion(
        "missed_doses_review",
        text,
        {**fields, "kind": "maintenance", "dose_mg": f"{dose.normalize():f}"},
    )


def read_chart(patient_id: int, now: datetime, profile: Profile) -> dict[str, Any]:
    today = now.date()
    plan = service.dose_plan(patient_id, today, now, profile)  # 404; the read is audited
    patient = get_patient(patient_id, audit_read=False)
    orders = patient_orders(patient_id)
    current = active_among(orders, today)  # the orders just read, not a second query
    first = today - timedelta(days=CHART_DAYS - 1)
    history = read_history(patient, first, today)
    substance = current.medication.substance if current else None
    episodes = episode_summaries(patient)
    return {
        "patient": patient,
        "plan": plan,
        "today": today,
        "episode": episodes[-1],
        "treatment_day": (today - patient.admitted_on).days + 1,
        "order": current,
        "order_words": order_words(current) if current else None,
        "take_home_words": take_home_words(current),
        "take_homes_out": take_homes_out(patient_id, today),
        "holds": open_holds(patient_id),
        "screens": screens(patient_id, substance, patient.other_prescribed_list),
        "losses": loss_report_violations(loss_report_dates(patient_id), today, profile),
        "orders": [OrderWithStatus(o, order_status(o, orders, today)) for o in orders],
        "days": chart_days(history, closures_between(first, today)),
        "suggestion": missed_suggestion(plan, orders, today, profile) if orders else None,
        "mg_text": mg_text,
    }
