"""Three weeks of invented history for the demo clinic, written through the real services.

Every order, dose, take-home, screen, hold and correction goes through the same service
functions (and rules) as the window, on the clinic day it happened (``now`` is passed in), so
the demo shows what the product would really have stored. Patients are picked by index, so the
demo always has the same cases to show:
- patient 1 misses the last three days: today's dose waits for a prescriber (missed_doses_review);
- patient 2 has an open hold today;
- patient 3's dose of the last weekday was voided (witnessed) and given again;
- patient 4's latest screen is positive for fentanyl: no take-homes for now;
- patient 6 was discharged and readmitted this morning: episode 2, day 1 again, a 30 mg
  induction (the earlier episode stays in the record).
Patients with take-homes bring the weekend's empty bottles back on Monday and they are scanned
back at the window, except patient 9, who forgot last weekend's: the window flags them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import g

from mat.auth.models import User
from mat.clock import clinic_zone
from mat.dosing import corrections, safety, service
from mat.errors import MatError
from mat.orders.models import CRITERIA_2024
from mat.orders.service import sign_order
from mat.patients import episodes
from mat.patients.models import Patient
from mat.profiles import Profile
from mat.stock.bottles import bottles_out, record_bottle_return

HISTORY_DAYS = 21
CRITERIA = dict.fromkeys(CRITERIA_2024, True)
MISSING_PATIENT, HELD_PATIENT, VOIDED_PATIENT, POSITIVE_PATIENT = 1, 2, 3, 4
READMITTED_PATIENT = 6  # not dosed today before the readmission (even indexes wait)
FORGETFUL_PATIENT = 9  # has take-homes, came today, forgot last weekend's bottles


@dataclass
class Staff:
    nurses: list[User]
    prescriber: User
    witness_password: str


# The last moment of the demo's working day (doses from 08:00 to 15:59, and a few minutes more).
DAY_ENDS = time(16, 30)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clinic_zone())


@dataclass(frozen=True)
class SeedClock:
    """When the seed runs. Earlier days keep the demo's working hours; today's must not be
    later than now (a log printed at 13:41 must not list doses at 15:30): when the seed runs
    before the working day ends, every moment of today is moved closer to midnight by the same
    factor, so today's events keep their order and all fall at or before now."""

    now: datetime

    def fit(self, moment: datetime) -> datetime:
        if moment.date() != self.now.date():
            return moment
        midnight = datetime.combine(self.now.date(), time(0), tzinfo=moment.tzinfo)
        day_ends = datetime.combine(self.now.date(), DAY_ENDS, tzinfo=moment.tzinfo)
        if self.now >= day_ends:
            return moment
        factor = (self.now - midnight) / (day_ends - midnight)
        return midnight + (min(moment, day_ends) - midnight) * factor

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return self.fit(_at(day, hour, minute))


def _as(user: User) -> None:
    g.actor = user  # the audit trail names who did each thing, as in a request


def _order_body(patient: Patient, n: int, first: date, rng: random.Random) -> dict[str, Any]:
    new = patient.admitted_on >= first
    buprenorphine = n % 3 == 2
    body: dict[str, Any] = {"start_date": first, "split": None, "justification": None}
    if buprenorphine:
        body["medication"] = "BUPNX-FILM-8" if not new else "BUPNX-FILM-2"
        if new:
            body.update(
                kind="induction",
                steps=[
                    {"date": first, "dose_mg": Decimal(8)},
                    {"date": first + timedelta(days=1), "dose_mg": Decimal(16)},
                ],
            )
        else:
            body.update(kind="maintenance", dose_mg=Decimal(rng.choice((8, 16, 24))))
    else:
        body["medication"] = "METH-10MGML"
        if new:
            target = Decimal(rng.choice((60, 70, 80)))
            body.update(
                kind="titration",
                titration={
                    "start_mg": Decimal(30),
                    "step_mg": Decimal(5),
                    "every_days": 3,
                    "target_mg": target,
                },
            )
        else:
            body.update(kind="maintenance", dose_mg=Decimal(rng.choice(range(50, 105, 5))))
    treatment_day = (first - patient.admitted_on).days + 1
    if not new and treatment_day > 30 and patient.level_of_care in ("outpatient", "maintenance"):
        body["take_home"] = {
            "weekdays": ["sat", "sun"],
            "dates": [],
            "criteria": CRITERIA,
            "rationale": "Stable on this dose, attends regularly; lock box confirmed.",
        }
    return body


def seed_history(
    patients: list[Patient], staff: Staff, now: datetime, profile: Profile, rng: random.Random
) -> None:
    """The history up to ``now``, the seed's clinic-local time: nothing is dated after it."""
    clock = SeedClock(now)
    today = now.date()
    first = today - timedelta(days=HISTORY_DAYS)
    for n, patient in enumerate(patients):
        start = max(first, patient.admitted_on)
        _as(staff.prescriber)
        body = _order_body(patient, n, start, rng)
        order = sign_order(patient.id, body, staff.prescriber, clock.at(start, 7, 30), profile)
        take_homes = order.take_home is not None
        _screens(patient, n, start, clock, staff, rng)
        day = start
        while day <= today:
            nurse = staff.nurses[(n + day.toordinal()) % len(staff.nurses)]
            _as(nurse)
            _one_day(patient, n, day, clock, take_homes, nurse, staff, profile, rng)
            day += timedelta(days=1)
    _as(staff.nurses[0])
    safety.place_hold(
        patients[HELD_PATIENT].id,
        "Appeared sedated at intake; prescriber to see.",
        staff.nurses[0],
        clock.at(today, 7, 45),
    )
    _readmission(patients[READMITTED_PATIENT], staff, clock, profile)


def _readmission(patient: Patient, staff: Staff, clock: SeedClock, profile: Profile) -> None:
    """Discharged, then back the same morning: a new episode with an induction order."""
    today = clock.now.date()
    _as(staff.prescriber)
    episodes.change_patient(
        patient.id, {"status": "discharged"}, staff.prescriber, clock.at(today, 7)
    )
    episodes.readmit(
        patient.id,
        {"admitted_on": today, "level_of_care": "maintenance"},
        staff.prescriber,
        clock.at(today, 7, 5),
    )
    body = {"medication": "METH-10MGML", "kind": "induction", "start_date": today,
            "dose_mg": Decimal(30), "split": None, "justification": None}  # fmt: skip
    sign_order(patient.id, body, staff.prescriber, clock.at(today, 7, 10), profile)


def _screens(
    patient: Patient, n: int, start: date, clock: SeedClock, staff: Staff, rng: random.Random
) -> None:
    today = clock.now.date()
    # Outpatient programs collect urine before sessions: weekly here, on the first day too.
    if patient.level_of_care in ("detox", "inpatient"):
        return
    substance = "buprenorphine" if n % 3 == 2 else "methadone"
    day = start
    while day <= today:
        if day == start or day.weekday() == 0:
            positive = n == POSITIVE_PATIENT and day > today - timedelta(days=7)
            results = {
                substance: "positive",
                "fentanyl": "positive" if positive else "negative",
                "cocaine": "negative",
                "benzodiazepines": "negative",
            }
            _as(staff.nurses[0])
            safety.record_screen(
                patient.id,
                {"collected_on": day, "results": results},
                staff.nurses[0],
                clock.at(day, 7, 50),
            )
        day += timedelta(days=1)


def _one_day(
    patient: Patient,
    n: int,
    day: date,
    clock: SeedClock,
    take_homes: bool,
    nurse: User,
    staff: Staff,
    profile: Profile,
    rng: random.Random,
) -> None:
    today = clock.now.date()
    if n == MISSING_PATIENT and day >= today - timedelta(days=3):
        return  # the last three days missed; today blocked
    if day == today and n % 2 == 0:
        return  # half of today's patients have not come to the window yet
    at = _at(day, 8 + n % 8, rng.randint(0, 59))
    now = clock.fit(at)
    if take_homes and day.weekday() in (5, 6):
        return  # taken home on Friday
    void_day = _last_weekday_before(today)
    if rng.random() < 0.05 and day < today - timedelta(days=1) and day != void_day:
        return  # an ordinary missed day
    plan = service.dose_plan(patient.id, day, now, profile)
    if plan.status != "due" or plan.planned is None:
        return
    try:
        dose = service.record_dose(
            patient.id,
            {"amount_mg": plan.planned.dose_mg, "slot": None, "date": None},
            nurse,
            now,
            profile,
        )
        if n == VOIDED_PATIENT and day == void_day:
            witness = next(u for u in staff.nurses if u.id != nurse.id)
            credentials = {"username": witness.username, "password": staff.witness_password}
            corrections.correct_dose(
                dose.id,
                {
                    "kind": "void",
                    "reason": "Recorded against the wrong patient at a busy window.",
                    "witness": credentials,
                },
                nurse,
                clock.fit(at + timedelta(minutes=3)),
                profile,
            )
            service.record_dose(
                patient.id,
                {"amount_mg": plan.planned.dose_mg, "slot": None, "date": None},
                nurse,
                clock.fit(at + timedelta(minutes=5)),
                profile,
            )
        if take_homes and day.weekday() == 0:
            _bring_bottles_back(patient, n, day, today, nurse, clock.fit(at + timedelta(minutes=1)))
        if take_homes and day.weekday() == 4:
            weekend = [day + timedelta(days=1), day + timedelta(days=2)]
            service.dispense_take_homes(
                patient.id, weekend, nurse, clock.fit(at + timedelta(minutes=2)), profile
            )
    except MatError:
        pass  # a rule refused (a positive screen stops take-homes): as at a real window


def _bring_bottles_back(
    patient: Patient, n: int, day: date, today: date, nurse: User, now: datetime
) -> None:
    """Monday at the window: the weekend's empty bottles scanned back (one patient forgot the
    last weekend's, so the window has bottles to flag)."""
    if n == FORGETFUL_PATIENT and day > today - timedelta(days=7):
        return
    for dose in bottles_out(patient.id, day):
        record_bottle_return(dose.id, nurse, now, patient_id=patient.id)


def _last_weekday_before(today: date) -> date:
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day
