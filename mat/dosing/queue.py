"""The nurse's day: every active patient with an active order, and where each stands today.

The statuses are the dosing window's own (``service.dose_plan``): the same situation
(``situation.situation_from``) judged by the same rules (``rules.dose_violations``), so the queue
never says "due" where the patient's page says "blocked". Only the reading differs: the rows of
every patient are read in a few queries for all of them at once (a busy clinic lists a few
hundred patients, refreshed every 30 seconds by every window), not a query per patient.

Readings (also in the README):
- a patient is listed while active with at least one order that is active today (governing
  today or still to start); "not due today" are those whose order plans nothing today;
- a withheld day is "withheld" even before anything else is judged: the nurse decided it;
- "given" once every planned slot of today is recorded (a take-home handed out earlier for
  today counts); an open hold comes before the other blocking rules, it is the nurse's cue;
- the bottles due back are the take-home bottles ``mat.stock.bottles.bottles_out`` flags.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_, select

from mat.audit.service import record_read
from mat.dosing.models import Dose, Hold, WithheldDose
from mat.dosing.rules import (
    DoseSituation,
    dose_violations,
    is_split_take_home,
    missed_run,
    next_due,
)
from mat.dosing.situation import situation_from
from mat.dosing.take_home_facts import split_take_home_violations
from mat.dosing.tolerance import HISTORY_DAYS, last_dose_days
from mat.extensions import db
from mat.orders.coverage import status as order_status
from mat.orders.models import Order
from mat.orders.schedule import PlannedDose
from mat.orders.service import governing_order
from mat.patients.models import Patient
from mat.patients.service import search_patients
from mat.profiles import Profile
from mat.stock.bottles import LOOK_BACK_DAYS
from mat.stock.records import BottleReturn
from mat.stock.window import units_text
from mat.violations import Violation, blocking

R = TypeVar("R", bound=Any)

# The groups of the queue, in the order the nurse works them.
STATUSES = ("due", "blocked", "hold", "withheld", "given", "none")
STATUS_TITLES = {
    "due": "Due",
    "blocked": "Blocked",
    "hold": "On hold",
    "withheld": "Withheld",
    "given": "Given",
    "none": "Not due today",
}


@dataclass
class QueueRow:
    patient: Patient
    status: str  # one of STATUSES
    planned: PlannedDose | None = None  # the next slot due, else the day's last
    medication: str = ""  # its name
    measure: str = ""  # "4 mL" (a liquid) or "8 films" (a solid form): what the nurse pours
    given: list[Dose] = field(default_factory=list)  # today's doses that count, in order
    reasons: list[Violation] = field(default_factory=list)  # blocking rules (blocked, hold)
    holds: list[str] = field(default_factory=list)
    withheld: WithheldDose | None = None
    missed_days: int = 0
    bottles_due: int = 0


@dataclass
class Queue:
    day: date
    rows: list[QueueRow]

    def group(self, status: str) -> list[QueueRow]:
        return [r for r in self.rows if r.status == status]

    @property
    def counts(self) -> dict[str, int]:
        return {s: len(self.group(s)) for s in STATUSES}

    @property
    def returns(self) -> list[QueueRow]:
        return [r for r in self.rows if r.bottles_due]

    @property
    def patient_ids(self) -> list[int]:
        return sorted(r.patient.id for r in self.rows)


def _by_patient(rows: Iterable[R]) -> dict[int, list[R]]:
    grouped: dict[int, list[R]] = defaultdict(list)
    for row in rows:
        grouped[row.patient_id].append(row)
    return grouped


def build_queue(today: date, now: datetime, profile: Profile) -> Queue:
    """Today's queue, read in a constant number of queries (not audited: ``audit_listing``)."""
    orders = list(
        db.session.scalars(
            select(Order)
            .join(Patient, Patient.id == Order.patient_id)
            .where(Patient.status == "active")
            .order_by(Order.signed_at.desc(), Order.id.desc())  # patient_orders' order
        )
    )
    orders_of = _by_patient(orders)
    active = {
        pid
        for pid, own in orders_of.items()
        if any(order_status(o.coverage, [x.coverage for x in own], today) == "active" for o in own)
        or governing_order(own, today) is not None
    }
    ids = sorted(active)
    if not ids:
        return Queue(today, [])
    patients = db.session.scalars(
        select(Patient).where(Patient.id.in_(ids)).order_by(Patient.family_name, Patient.given_name)
    ).all()
    first = today - timedelta(days=HISTORY_DAYS)
    doses = _by_patient(
        list(
            db.session.scalars(
                select(Dose)
                .where(Dose.patient_id.in_(ids), Dose.service_date.between(first, today))
                .order_by(Dose.service_date, Dose.dispensed_at, Dose.id)
            )
        )
    )
    dosed_in_window = {
        pid for pid, rows in doses.items() if any(d.counts and d.service_date < today for d in rows)
    }
    earlier = last_dose_days([i for i in ids if i not in dosed_in_window], first)
    holds = _by_patient(
        [h for h in db.session.scalars(select(Hold).where(Hold.patient_id.in_(ids))) if h.is_open]
    )
    withheld = {
        w.patient_id: w
        for w in db.session.scalars(
            select(WithheldDose).where(
                WithheldDose.patient_id.in_(ids), WithheldDose.service_date == today
            )
        )
    }
    bottles = _bottles_due(ids, today)
    rows = []
    for patient in patients:
        own = orders_of[patient.id]
        situation = situation_from(
            patient,
            own,
            today,
            now,
            doses.get(patient.id, []),
            tuple(h.reason for h in sorted(holds.get(patient.id, []), key=lambda h: h.id)),
            earlier.get(patient.id),
        )
        row = _row(patient, own, situation, withheld.get(patient.id), today, now, profile)
        row.given = [d for d in doses.get(patient.id, []) if d.service_date == today and d.counts]
        row.bottles_due = bottles.get(patient.id, 0)
        rows.append(row)
    return Queue(today, rows)


def _row(
    patient: Patient,
    orders: list[Order],
    situation: DoseSituation,
    withheld: WithheldDose | None,
    today: date,
    now: datetime,
    profile: Profile,
) -> QueueRow:
    """The patient's status today, judged as ``service.dose_plan`` judges it."""
    found = dose_violations(situation, profile)
    due = next_due(situation)
    order = governing_order(orders, today)
    if due is not None and order is not None and is_split_take_home(due, situation.planned):
        # Rare (a split dose whose later part goes home): a few queries for this patient only.
        found += split_take_home_violations(patient, order, now.date(), profile)
    refused = blocking(found)
    if not situation.planned:
        status = "none"
    elif withheld is not None:
        status = "withheld"
    elif due is None:
        status = "given"
    elif situation.open_holds:
        status = "hold"
    elif refused:
        status = "blocked"
    else:
        status = "due"
    shown = due or (situation.planned[-1] if situation.planned else None)
    measure = ""
    if shown is not None and shown.volume_ml is not None:
        measure = f"{shown.volume_ml.normalize():f} mL"
    elif shown is not None and order is not None:
        measure = units_text(order.medication, shown.dose_mg)
    return QueueRow(
        patient=patient,
        status=status,
        planned=shown,
        medication=order.medication.name if order else "",
        measure=measure,
        reasons=[v for v in refused if v.rule != "already_dosed"],
        holds=list(situation.open_holds),
        withheld=withheld,
        missed_days=missed_run(situation.recent_days)[0],
    )


def _bottles_due(patient_ids: list[int], today: date) -> dict[int, int]:
    """``len(bottles_out(patient, today))`` for every patient at once."""
    doses = db.session.scalars(
        select(Dose).where(
            Dose.patient_id.in_(patient_ids),
            Dose.mode == "take_home",
            Dose.station_id.is_not(None),
            Dose.service_date < today,
            Dose.service_date >= today - timedelta(days=LOOK_BACK_DAYS),
            Dose.id.not_in(select(BottleReturn.dose_id)),
        )
    )
    counts: dict[int, int] = defaultdict(int)
    for dose in doses:
        if dose.correction is None or dose.correction.kind != "void":
            counts[dose.patient_id] += 1
    return counts


def rule_label(violation: Violation, missed_days: int) -> str:
    """A blocking rule in a few plain words, for the queue's row (its sentence follows)."""
    labels = {
        "missed_doses_review": f"missed {missed_days} days: prescriber review",
        "missed_doses_reinduction": f"missed {missed_days} days: new induction order",
        "patient_on_hold": "on hold: prescriber release",
        "no_active_order": "no order for today",
        "patient_not_active": "not active",
        "split_interval": "split dose: not yet",
    }
    return labels.get(violation.rule, "not allowed now")


# ---- reading it is a read of every patient listed: audited once per listing ----------------


def audit_listing(queue: Queue, seen: str | None) -> str:
    """Record the listing (one event naming every patient) unless ``seen``, the key of the last
    listing this session recorded, is the same set of patients on the same day: an automatic
    refresh showing the same patients reads nothing new. Returns the key to keep."""
    listed = f"{queue.day.isoformat()}:{','.join(map(str, queue.patient_ids))}"
    key = hashlib.sha256(listed.encode()).hexdigest()[:32]
    if key != seen:
        record_read(
            "dosing.queue", detail={"date": queue.day.isoformat(), "results": queue.patient_ids}
        )
    return key


def find_for_window(q: str) -> list[Patient]:
    """The scanner's and the search box's lookup: the patient whose MRN is exactly ``q`` (a
    barcode), else every name or MRN match (``search_patients``). Audited as a search."""
    exact = db.session.scalars(
        select(Patient).where(or_(Patient.mrn == q, Patient.mrn == q.upper()))
    ).all()
    if len(exact) == 1:
        record_read("patient.search", detail={"q": q, "results": [exact[0].id]})
        return list(exact)
    return search_patients(q)
