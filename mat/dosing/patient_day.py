"""One patient's dosing day read once: what the window's rules look at, in two statements.

The dose plan and a recorded dose both judge one service date for one patient. Before, the
path asked the database one question at a time (the patient, every order the patient ever had
with its take-home and discontinuation rows, the window's doses with their corrections and
losses, the holds, the screens, the last dose before the window, the dose's attempt number),
each ORM load pulling its eager relationships along. Here:

1. the patient row and the orders that can still govern a date of the window (outer-joined,
   so a patient with no order is still found), each with its product and the day a
   discontinuation ends it joined in: only the columns the rules read;
2. the rest in one ``UNION ALL``: the window's doses (corrected or not, whether each counts
   worked out in SQL), the last day dosed before the window, the open holds and, for the plan,
   the drug screens of the last year.

Both are bounded by the window, not by the patient's history. Rules stay pure: they read the
plain ``PatientDay``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased, contains_eager, defer, joinedload, lazyload

from mat.dosing.models import Dose, DrugScreen, Hold, HoldRelease
from mat.dosing.tolerance import HISTORY_DAYS, counting
from mat.extensions import db
from mat.orders.models import Order, OrderDiscontinuation
from mat.orders.service import governing_order
from mat.patients.models import Patient

# A screen counts for ``drug_screen_frequency`` in the last year of treatment only.
SCREEN_YEAR = timedelta(days=364)


@dataclass(frozen=True, slots=True)
class DayDose:
    """A dose row of the window as the rules read it (``situation_from`` reads these fields)."""

    service_date: date
    slot: str
    mode: str
    dispensed_at: datetime
    counts: bool  # not voided or spilled, not a lost take-home being replaced


@dataclass(frozen=True, slots=True)
class PatientDay:
    """What the rules of one service date need of one patient, read in two statements."""

    patient: Patient
    orders: list[Order]  # those that can govern a date of the window, newest signed first
    day: date
    doses: tuple[DayDose, ...]  # the HISTORY_DAYS before ``day`` and ``day`` itself
    last_dose_before: date | None  # the last day dosed before the window (an unordered gap)
    holds: tuple[str, ...]  # reasons of the open holds, oldest first
    screens: tuple[date, ...]  # collection dates of the last year (read for the plan only)
    order: Order | None  # the order governing ``day``, found once

    def attempt(self, slot: str) -> int:
        """1 for a slot's first dose; one more than the doses of the slot already corrected."""
        return 1 + sum(
            1 for d in self.doses if d.service_date == self.day and d.slot == slot and not d.counts
        )


def window_start(day: date) -> date:
    return day - timedelta(days=HISTORY_DAYS)


def patient_with_orders(
    patient_id: int, since: date, *, lock: bool = False
) -> tuple[Patient | None, list[Order]]:
    """The patient and, newest signed first, the orders that can govern a date from ``since``
    on. Left out: orders that ended before it, and orders a later open-ended order (never
    discontinued) took over on or before it: neither can govern a date the window looks at.

    ``lock``: take the patient lock first (``situation.lock_patient``); on PostgreSQL the same
    statement takes it (``FOR UPDATE OF patients``), so a second window waits right here and
    its later reads see what the first one stored."""
    locking = lock and db.session.get_bind().dialect.name == "postgresql"
    if lock and not locking:
        lock_patient(patient_id)
    params = {"patient_id": patient_id, "since": since}
    rows = db.session.execute(_patient_with_orders_statement(locking), params).all()
    if not rows:
        return None, []
    return rows[0][0], [order for _, order in rows if order is not None]


@cache
def _patient_with_orders_statement(for_update: bool) -> Select[Any]:
    """Built once per process with bound parameters (``patient_id``, ``since``): building the
    statement and its cache key took about 2 ms of every dose plan's CPU."""
    since = bindparam("since", type_=Order.start_date.type)
    newer, stopped = aliased(Order), aliased(OrderDiscontinuation)  # not the joined rows
    superseded = exists().where(
        newer.patient_id == Order.patient_id,
        newer.start_date <= since,
        newer.end_date.is_(None),
        ~exists().where(stopped.order_id == newer.id),
        or_(
            newer.signed_at > Order.signed_at,
            and_(newer.signed_at == Order.signed_at, newer.id > Order.id),
        ),
    )
    alive = and_(
        Order.patient_id == Patient.id,
        or_(Order.end_date.is_(None), Order.end_date >= since),
        ~superseded,
    )
    # Only the columns the window's rules read: the order's schedule, dates and product, and
    # when a discontinuation ends it. The order's request, warnings, justification and profile
    # and the take-home authorization's criteria are for the order's own page, and each column
    # read costs CPU on every plan (psycopg describes it, the ORM builds it): 56 columns a row
    # before, 32 now. What is left out loads on access (deferred / lazy), so a caller that
    # does read it still gets it, at the cost of a statement the query-count tests would see.
    stmt = (
        select(Patient, Order)
        .select_from(Patient)
        .outerjoin(Order, alive)
        .outerjoin(OrderDiscontinuation, OrderDiscontinuation.order_id == Order.id)
        .where(Patient.id == bindparam("patient_id"))
        .order_by(Order.signed_at.desc(), Order.id.desc())
        .options(
            defer(Order.request),
            defer(Order.justification),
            defer(Order.warnings),
            defer(Order.profile_id),
            defer(Order.profile_version),
            defer(Order.prescribed_by_text),
            lazyload(Order.take_home),  # the rules read take-home days from the schedule
            contains_eager(Order.discontinuation)
            .load_only(OrderDiscontinuation.effective_on)
            .lazyload(OrderDiscontinuation.by),
            joinedload(Order.medication),
            lazyload(Order.signed_by),  # who signed is not a rule's business
        )
    )
    return stmt.with_for_update(of=Patient) if for_update else stmt


def lock_patient(patient_id: int) -> None:
    """``situation.lock_patient`` (imported here: ``situation`` reads this module)."""
    from mat.dosing.situation import lock_patient as take

    take(patient_id)


def read_day(
    patient: Patient, orders: list[Order], day: date, *, screens_from: date | None = None
) -> PatientDay:
    """The window of ``day`` for ``patient`` (``orders`` from ``patient_with_orders``), and the
    drug screens collected from ``screens_from`` on when it is given (the plan's reminder)."""
    params: dict[str, Any] = {"patient_id": patient.id, "first": window_start(day), "day": day}
    if screens_from is not None:
        params["screens_from"] = screens_from
    rows = db.session.execute(_day_statement(screens_from is not None), params)
    doses: list[DayDose] = []
    holds: list[str] = []
    collected: list[date] = []
    last: date | None = None
    for kind, on, slot, mode, at, counts, text, _id in rows:
        if kind == "dose":
            doses.append(DayDose(on, slot, mode, at, bool(counts)))
        elif kind == "hold":
            holds.append(text)
        elif kind == "screen":
            collected.append(on)
        else:
            last = on
    return PatientDay(
        patient=patient,
        orders=orders,
        day=day,
        doses=tuple(doses),
        last_dose_before=last,
        holds=tuple(holds),
        screens=tuple(collected),
        order=governing_order(orders, day),
    )


@cache
def _day_statement(with_screens: bool) -> Select[Any]:
    """The window's ``UNION ALL``, built once per process with bound parameters
    (``patient_id``, ``first``, ``day``, ``screens_from``)."""
    day_type, at_type = Dose.service_date.type, Dose.dispensed_at.type
    patient_id, first = bindparam("patient_id"), bindparam("first", type_=day_type)
    day = bindparam("day", type_=day_type)
    is_counting = and_(*counting())
    last_before = (
        select(Dose.service_date)
        .where(Dose.patient_id == patient_id, Dose.service_date < first, *counting())
        .order_by(Dose.service_date.desc())
        .limit(1)
        .scalar_subquery()
    )
    parts: list[Any] = [
        select(
            literal_column("'dose'", String).label("kind"),
            Dose.service_date.label("day"),
            Dose.slot.label("slot"),
            Dose.mode.label("mode"),
            Dose.dispensed_at.label("at"),
            cast(is_counting, Boolean).label("counts"),
            cast(null(), Text).label("text"),
            Dose.id.label("id"),
        ).where(Dose.patient_id == patient_id, Dose.service_date.between(first, day)),
        select(
            literal_column("'last'", String),
            last_before,
            cast(null(), String),
            cast(null(), String),
            cast(null(), at_type),
            cast(null(), Boolean),
            cast(null(), Text),
            cast(null(), Integer),
        ),
        select(
            literal_column("'hold'", String),
            cast(null(), day_type),
            cast(null(), String),
            cast(null(), String),
            cast(null(), at_type),
            cast(null(), Boolean),
            Hold.reason,
            Hold.id,
        ).where(Hold.patient_id == patient_id, ~exists().where(HoldRelease.hold_id == Hold.id)),
    ]
    if with_screens:
        parts.append(
            select(
                literal_column("'screen'", String),
                DrugScreen.collected_on,
                cast(null(), String),
                cast(null(), String),
                cast(null(), at_type),
                cast(null(), Boolean),
                cast(null(), Text),
                DrugScreen.id,
            ).where(
                DrugScreen.patient_id == patient_id,
                DrugScreen.collected_on >= bindparam("screens_from", type_=day_type),
            )
        )
    union = union_all(*parts).subquery()
    return select(union).order_by(union.c.kind, union.c.day, union.c.at, union.c.id)
