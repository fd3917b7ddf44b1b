"""Signing, previewing and discontinuing orders; the schedule a patient's orders plan.

Services flush and never commit (one commit per request, in ``mat/__init__.py``). ``now`` is the
clinic-local time the view read once; ``today`` is ``now.date()``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from mat.audit.service import record
from mat.auth.models import User
from mat.errors import Conflict, InvalidInput, NotFound, RuleViolation, names_the_patient
from mat.extensions import db
from mat.formulary.models import Medication
from mat.orders.coverage import governing, status
from mat.orders.models import Order, OrderDiscontinuation, TakeHomeAuthorization
from mat.orders.rules import PatientHistory, order_violations
from mat.orders.schedule import PlannedDose, ScheduleError
from mat.orders.spec import OrderSpec, draft_schedule, spec_from_body, steps_of
from mat.orders.stored import StoredSchedule
from mat.patients.models import Patient
from mat.patients.service import get_patient
from mat.profiles import Profile
from mat.violations import Violation, blocking, rule_ids, warnings

# An order is signed for today or a later date, at most this far ahead: a date a year out is
# far more often a typing error than a plan.
LONGEST_LEAD = timedelta(days=365)
# The longest schedule one call answers (GET .../schedule).
LONGEST_RANGE = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class OrderWithStatus:
    """An order and its status on the day asked about (``coverage.status``: "active", ...)."""

    order: Order
    status: str


@dataclass(frozen=True, slots=True)
class Preview:
    schedule: list[PlannedDose]
    violations: list[Violation]


def patient_orders(patient_id: int) -> list[Order]:
    """Every order of the patient, newest signed first."""
    stmt = (
        select(Order)
        .where(Order.patient_id == patient_id)
        .order_by(Order.signed_at.desc(), Order.id.desc())
    )
    return list(db.session.scalars(stmt))


def order_status(order: Order, orders: list[Order], today: date) -> str:
    return status(order.coverage, [o.coverage for o in orders], today)


def orders_with_status(patient_id: int, today: date) -> list[OrderWithStatus]:
    """The patient's orders, newest first, each with its status on ``today``."""
    get_patient(patient_id)  # 404, and the read is audited
    orders = patient_orders(patient_id)
    return [OrderWithStatus(o, order_status(o, orders, today)) for o in orders]


def governing_order(orders: list[Order], day: date) -> Order | None:
    """The order that plans ``day``, from a patient's orders."""
    found = governing([o.coverage for o in orders], day)
    return None if found is None else next(o for o in orders if o.id == found.order_id)


def active_among(orders: list[Order], today: date) -> Order | None:
    """From a patient's orders, the one that governs today, or failing that the next to start."""
    current = governing_order(orders, today)
    if current is not None:
        return current
    upcoming = [o for o in orders if order_status(o, orders, today) == "active"]
    return min(upcoming, key=lambda o: o.start_date, default=None)


def active_order_with_status(patient: Patient, today: date) -> OrderWithStatus | None:
    """The patient's active order (``active_among``) with its status on ``today``: the record
    shows both, so the orders are read once for both."""
    orders = patient_orders(patient.id)
    order = active_among(orders, today)
    return None if order is None else OrderWithStatus(order, order_status(order, orders, today))


def _history(patient: Patient, orders: list[Order], start: date, today: date) -> PatientHistory:
    """What the order rules know of the patient: the dose in effect the day before ``start``,
    the days missed before it (unordered gaps included) and the patient's SMA-168 exceptions."""
    # The window's records, read here for the rules that look back at them (dosing builds on
    # orders, so the import is local).
    from mat.dosing.tolerance import missed_before
    from mat.orders.exceptions import exception_spans

    day_before = start - timedelta(days=1)
    current = governing_order(orders, day_before)
    inductions = [
        o.start_date
        for o in orders
        if o.kind == "induction" and o.start_date <= start and o.discontinuation is None
    ]
    missed, last = missed_before(patient.id, orders, start, today)
    return PatientHistory(
        admitted_on=patient.admitted_on,
        current_dose_mg=current.stored.dose_on(day_before) if current else None,
        current_dose_since=current.stored.step_since(day_before) if current else None,
        current_substance=current.medication.substance if current else None,
        last_induction_start=max(inductions, default=None),
        missed_days=missed,
        last_dose_mg=last.total_mg if last else None,
        last_dose_substance=last.substance if last else None,
        last_dose_on=last.on if last else None,
        take_home_exceptions=exception_spans(patient.id),
    )


def _medication(code: str) -> Medication:
    medication = db.session.scalar(select(Medication).where(Medication.code == code))
    if medication is None:
        raise InvalidInput(
            f"{code} is not in the formulary.",
            fields={"medication": [f"Unknown product code {code!r}; see /api/v1/medications."]},
        )
    return medication


def _spec(data: dict[str, Any], today: date) -> OrderSpec:
    start = data["start_date"]
    if start < today:
        raise InvalidInput(
            "An order cannot start in the past.",
            fields={"start_date": [f"Start on {today} (today) or later."]},
        )
    if start > today + LONGEST_LEAD:
        raise InvalidInput(
            "The start date is more than a year ahead.",
            fields={"start_date": ["Start within a year from today."]},
        )
    try:
        return spec_from_body(data)
    except ValueError as exc:  # structure the schema let through (it checks most of it)
        raise InvalidInput("The order is not valid.", fields={"_schema": [str(exc)]}) from exc


def _judge(
    patient: Patient, data: dict[str, Any], today: date, profile: Profile
) -> tuple[OrderSpec, Medication, list[Order], list[Violation]]:
    spec = _spec(data, today)
    medication = _medication(spec.medication)
    orders = patient_orders(patient.id)
    history = _history(patient, orders, spec.start_date, today)
    found = order_violations(spec, medication.as_product(), history, profile)
    if patient.status != "active":
        found.insert(
            0,
            Violation(
                "patient_not_active",
                profile.severity("patient_not_active"),
                f"{patient.display_name} is discharged; readmit before ordering.",
            ),
        )
    return spec, medication, orders, found


@names_the_patient
def preview_order(
    patient_id: int, data: dict[str, Any], now: datetime, profile: Profile
) -> Preview:
    """The schedule and every rule that fires, without writing an order."""
    patient = get_patient(patient_id, audit_read=False)
    spec, medication, _orders, found = _judge(patient, data, now.date(), profile)
    product = medication.as_product()
    planned: list[PlannedDose] = []
    if not any(v.rule == "dose_not_measurable" for v in found):
        schedule = StoredSchedule.of(spec, draft_schedule(spec, product))
        planned = schedule.planned(product, *schedule.whole_curve())
    refused = blocking(found, justified=bool(spec.justification))
    record(
        "order.preview",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        outcome="refused" if refused else "done",
        rules=rule_ids(found),
        detail={"medication": spec.medication, "kind": spec.kind},
    )
    return Preview(planned, found)


@names_the_patient
def sign_order(
    patient_id: int, data: dict[str, Any], by: User, now: datetime, profile: Profile
) -> Order:
    """Sign a new order; it supersedes the patient's active order from its start date on."""
    patient = get_patient(patient_id, audit_read=False)
    spec, medication, _orders, found = _judge(patient, data, now.date(), profile)
    justified = bool(spec.justification and spec.justification.strip())
    refused = blocking(found, justified=justified)
    if refused:
        raise RuleViolation(
            "The order was not signed: " + " ".join(v.message for v in refused),
            code="order_blocked",
            violations=found,
        )
    try:
        schedule = steps_of(spec, medication.as_product())
    except ScheduleError as exc:  # order_violations reports these first; kept as a last guard
        violation = Violation(exc.rule, profile.severity(exc.rule), exc.message)
        raise RuleViolation(exc.message, code="order_blocked", violations=[violation]) from exc
    stored = StoredSchedule.of(spec, schedule)
    order = Order(
        patient_id=patient.id,
        medication=medication,
        kind=spec.kind,
        start_date=spec.start_date,
        end_date=schedule.end,
        first_dose_mg=schedule.first_dose_mg,
        schedule=stored.to_json(),
        request=json.dumps(data, default=str, sort_keys=True),
        justification=spec.justification,
        warnings=json.dumps([v.as_dict() for v in warnings(found, justified=justified)]),
        profile_id=profile.id,
        profile_version=profile.version,
        signed_by=by,
        signed_at=now,
    )
    take_home = data.get("take_home")
    if take_home:
        order.take_home = TakeHomeAuthorization(
            **take_home["criteria"],
            rationale=take_home["rationale"].strip(),
            note="",
            affirmed_by=by,
            affirmed_at=now,
        )
    db.session.add(order)
    db.session.flush()
    record(
        "order.sign",
        entity_type="order",
        entity_id=order.id,
        patient_id=patient.id,
        records=[order, medication, *([order.take_home] if order.take_home else [])],
        rules=rule_ids(found),
        detail={
            "medication": spec.medication,
            "kind": spec.kind,
            "start_date": spec.start_date.isoformat(),
            "first_dose_mg": str(schedule.first_dose_mg),
            "justification": spec.justification,
            "profile": profile.label,
        },
    )
    return order


def sign_imported_order(
    patient: Patient,
    data: dict[str, Any],
    *,
    prescribed_by: str,
    by: User,
    import_id: int,
    profile: Profile,
) -> tuple[Order, list[Violation]]:
    """An order another program signed, brought in by an import (``mat.imports``).

    It may start in the past. The order rules judge it as they judge a new order, but what they
    would refuse comes back as warnings: the other program's prescriber signed it. The rules
    read the patient's history as if every day the orders planned before it was dosed (the
    import's doses are written after its orders); missed days are the dose plan's business. It
    is signed at its start date by ``by`` (the importing admin), for ``prescribed_by``. No audit
    event: the import records one for everything it brings."""
    from mat.clock import clinic_zone
    from mat.dosing.tolerance import HISTORY_DAYS

    try:
        spec = spec_from_body(data)
    except ValueError as exc:
        raise InvalidInput("The order is not valid.", fields={"_schema": [str(exc)]}) from exc
    medication = _medication(spec.medication)
    product = medication.as_product()
    orders = patient_orders(patient.id)
    assumed_dosed_from = spec.start_date - timedelta(days=HISTORY_DAYS)
    history = _history(patient, orders, spec.start_date, assumed_dosed_from)
    found = order_violations(spec, product, history, profile)
    try:
        schedule = steps_of(spec, product)
    except ScheduleError as exc:  # no schedule can be stored: the order cannot come in
        raise InvalidInput(exc.message, fields={"_schema": [exc.message]}) from exc
    signed_at = datetime.combine(spec.start_date, datetime.min.time(), clinic_zone())
    order = Order(
        patient_id=patient.id,
        medication=medication,
        kind=spec.kind,
        start_date=spec.start_date,
        end_date=schedule.end,
        first_dose_mg=schedule.first_dose_mg,
        schedule=StoredSchedule.of(spec, schedule).to_json(),
        request=json.dumps(data, default=str, sort_keys=True),
        justification=spec.justification,
        warnings=json.dumps([v.as_dict() for v in found]),
        profile_id=profile.id,
        profile_version=profile.version,
        signed_by=by,
        signed_at=signed_at,
        import_id=import_id,
        prescribed_by_text=prescribed_by,
    )
    take_home = data.get("take_home")
    if take_home:
        order.take_home = TakeHomeAuthorization(
            **take_home["criteria"],
            rationale=take_home["rationale"].strip(),
            note="",
            affirmed_by=by,
            affirmed_at=signed_at,
        )
    db.session.add(order)
    db.session.flush()
    return order, found


def get_order(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(f"No order with id {order_id}.", code="order_not_found")
    return order


def discontinue_order(order_id: int, reason: str, by: User, now: datetime) -> Order:
    """End an order from today on: no dose is planned by it from this clinic date."""
    order = get_order(order_id)
    orders = patient_orders(order.patient_id)
    today = now.date()
    current = order_status(order, orders, today)
    if current != "active":
        raise Conflict(
            f"Order {order.id} is {current}; only an active order can be discontinued.",
            code=f"order_{current}",
        )
    order.discontinuation = OrderDiscontinuation(
        effective_on=max(today, order.start_date), reason=reason, by=by, at=now
    )
    db.session.flush()
    record(
        "order.discontinue",
        entity_type="order",
        entity_id=order.id,
        patient_id=order.patient_id,
        records=[order.discontinuation],
        detail={"reason": reason},
    )
    return order


@names_the_patient
def planned_schedule(patient_id: int, start: date, stop: date) -> list[tuple[PlannedDose, Order]]:
    """What the patient's signed orders plan for each date in ``[start, stop]``."""
    get_patient(patient_id)  # 404, and the read of a patient's schedule is audited
    if stop < start:
        raise InvalidInput("The range ends before it starts.", fields={"to": ["Before from."]})
    if stop - start > LONGEST_RANGE:
        raise InvalidInput(
            "Ask for at most a year at a time.", fields={"to": ["At most 366 days after from."]}
        )
    return schedule_between(patient_orders(patient_id), start, stop)


def schedule_between(
    orders: list[Order], start: date, stop: date
) -> list[tuple[PlannedDose, Order]]:
    """Planned doses for ``[start, stop]``, each date from the order that governs it, each dose
    with that order. Each order's schedule is worked out once, over the dates it governs."""
    governs: dict[int, list[date]] = {}
    coverage = [o.coverage for o in orders]  # once, not once a day (``governing_order``)
    day = start
    while day <= stop:
        found = governing(coverage, day)
        if found is not None:
            governs.setdefault(found.order_id, []).append(day)
        day += timedelta(days=1)
    by_id = {o.id: o for o in orders}
    planned: list[tuple[PlannedDose, Order]] = []
    for order_id, days in governs.items():
        order, wanted = by_id[order_id], set(days)
        product = order.medication.as_product()
        planned += [
            (p, order) for p in order.stored.planned(product, days[0], days[-1]) if p.date in wanted
        ]
    planned.sort(key=lambda pair: pair[0].date)  # stable: slots keep the order's slot order
    return planned
