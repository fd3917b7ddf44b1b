"""A deterministic clinic for the benchmarks: N patients with D days of history.

Three parts, each written the way that is both fast and faithful:

1. the audit trail's bulk: ``read_events`` events of the kind every GET of a patient writes
   (``patient.read``), inserted in batches with hashes computed by ``mat.audit.chain`` itself
   (same fields, same key, same chain order), so ``audit verify`` is green over them;
2. the history older than ``recent_days``: patients, methadone and buprenorphine orders (some with
   take-homes), daily doses and screens, through mat's own import service (one transaction;
   imported doses count for the dose plan exactly as recorded ones do);
3. the last ``recent_days`` days before today: every dose through the real services
   (``dose_plan``, ``record_dose``, ``dispense_take_homes``) with the clinic clock standing on
   that day, as the demo seed does, so the dispensing log has real rows. Every
   ``correct_every``-th observed dose is corrected through ``correct_dose`` (voids and spills
   in turn, the other nurse witnessing) and given again, as at a real window: the log then has
   correction rows and corrected dose rows, and the dose plan reads patients with corrections.

Today is left undosed: the runner's POST benchmark doses each patient once today.
Everything is drawn from one seeded ``random.Random``: the same seed, size and day give the same
clinic.
"""

from __future__ import annotations

import json
import random
import tempfile
import time as time_module
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import insert, select, text

from mat.audit.chain import canonical, event_hash
from mat.audit.keys import audit_keys
from mat.audit.models import GENESIS, AuditEvent
from mat.audit.service import ADVISORY_LOCK_KEY
from mat.auth.models import User
from mat.auth.service import create_user
from mat.clock import clinic_now, clinic_zone
from mat.dosing import service
from mat.dosing.corrections import correct_dose
from mat.dosing.models import Dose
from mat.errors import MatError
from mat.extensions import db
from mat.imports.reader import JsonSource
from mat.imports.service import import_history
from mat.patients.models import Patient
from mat.profiles import Profile

SEED = 20261205
PASSWORD = "bench-password-not-secret-1234"  # noqa: S105 (a scratch database's users)
USERS = (
    ("bench-admin", "Bench Admin", "BA", ("admin",)),
    ("bench-nurse", "Bench Nurse", "BN", ("nurse",)),
    ("bench-nurse2", "Bench Nurse Two", "BT", ("nurse",)),
    ("bench-prescriber", "Bench Prescriber", "BP", ("prescriber",)),
    ("bench-auditor", "Bench Auditor", "BU", ("auditor",)),
)
CRITERIA = dict.fromkeys(
    (
        "no_active_use_or_risk",
        "regular_attendance",
        "no_behavioral_problems",
        "no_diversion",
        "safe_transport_and_storage",
    ),
    True,
)
BATCH = 5000


@dataclass(frozen=True)
class Size:
    patients: int
    days: int  # history length, today excluded
    recent_days: int  # the last days recorded through the services
    read_events: int  # bulk audit events
    # Every this many observed doses of the recent days, one is voided or spilled and given
    # again (0: none). About 1 %: a window corrects a few doses a week.
    correct_every: int = 97


SIZES = {
    "tiny": Size(3, 10, 3, 50, correct_every=3),  # a void and a spill in the tests' clinic
    "small": Size(200, 90, 2, 50_000),
    "full": Size(1500, 730, 10, 900_000),
}


@dataclass
class Summary:
    patients: int = 0
    imported_doses: int = 0
    service_doses: int = 0  # dose rows, the corrected ones and their doses given again included
    corrections: int = 0  # voids and spills of recent doses (each a row of the log)
    read_events: int = 0
    import_seconds: float = 0.0  # the import service's call and commit
    service_seconds: float = 0.0  # the recent days through the dosing services


# ---------------------------------------------------------------------------------------------
# 1. the audit trail's bulk


def bulk_read_events(n: int, patients: int, first: date, last: date, rng: random.Random) -> int:
    """``n`` ``patient.read`` events by the bench nurse, chained after the trail's head."""
    if n <= 0:
        return 0
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    keys = audit_keys()
    nurse = session.scalars(select(User).where(User.username == "bench-nurse")).one()
    head = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).one_or_none()
    next_id, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    start = datetime.combine(first, time(8), tzinfo=clinic_zone())
    span = max((last - first).days, 1) * 86400
    step = span / n
    rows: list[dict[str, Any]] = []
    for i in range(n):
        patient_id = rng.randrange(patients) + 1
        fields = {
            "at": start + timedelta(seconds=int(i * step)),
            "user_id": nurse.id,
            "username": nurse.username,
            "roles": "nurse",
            "client_addr": "127.0.0.1",
            "action": "patient.read",
            "entity_type": "patient",
            "entity_id": str(patient_id),
            "patient_id": patient_id,
            "outcome": "done",
            "rules": "",
            "detail": canonical({}),
            "records": "",
        }
        digest = event_hash(keys.current, prev, fields)
        rows.append(
            {"id": next_id + i, "prev_hash": prev, "hash": digest, "scheme": keys.scheme, **fields}
        )
        prev = digest
        if len(rows) == BATCH:
            session.execute(insert(AuditEvent), rows)
            rows = []
    if rows:
        session.execute(insert(AuditEvent), rows)
    if session.get_bind().dialect.name == "postgresql":  # ids were given: move the sequence on
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), :last)"),
            {"last": next_id + n - 1},
        )
    session.commit()
    return n


# ---------------------------------------------------------------------------------------------
# 2. the older history, through the import service


def _patient(i: int, rng: random.Random, first: date) -> dict[str, Any]:
    return {
        "mrn": f"BENCH-{i:05d}",
        "given_name": "Bench",
        "family_name": f"Patient {i}",
        "date_of_birth": (date(1960, 1, 1) + timedelta(days=rng.randrange(12000))).isoformat(),
        "admitted_on": (first - timedelta(days=rng.randrange(30))).isoformat(),
        "level_of_care": "maintenance",
    }


def _orders(i: int, patient: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """An induction-like first month, then maintenance; a third on buprenorphine films."""
    admitted = date.fromisoformat(patient["admitted_on"])
    bup = i % 3 == 2
    medication = "BUPNX-FILM-8" if bup else "METH-10MGML"
    first = {
        "patient_mrn": patient["mrn"],
        "prescribed_by": "Dr. Bench (previous program)",
        "medication": medication,
        "kind": "maintenance",
        "start_date": admitted.isoformat(),
        "end_date": (admitted + timedelta(days=29)).isoformat(),
        "dose_mg": 8 if bup else 30,
    }
    then = {**first, "start_date": (admitted + timedelta(days=30)).isoformat()}
    del then["end_date"]
    then["dose_mg"] = rng.choice((16, 24)) if bup else 60 + 5 * rng.randrange(13)
    if rng.random() < 0.4:
        then["take_home"] = {
            "weekdays": ["sun"],
            "criteria": CRITERIA,
            "rationale": "Stable; lock box seen.",
        }
    return [first, then]


def _dose_for(orders: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    for order in reversed(orders):
        if date.fromisoformat(order["start_date"]) <= day:
            return order
    return None


def write_import(path: Path, size: Size, today: date, rng: random.Random) -> int:
    """The import file of the history before the recent days; returns its dose count.

    Doses are written as they are drawn (a million of them at the full scale): the writer's
    memory stays small whatever the size."""
    first = today - timedelta(days=size.days)
    until = today - timedelta(days=size.recent_days)
    patients = [_patient(i, rng, first) for i in range(size.patients)]
    orders = [_orders(i, p, rng) for i, p in enumerate(patients)]
    screens: list[dict[str, Any]] = []  # a few per patient: kept until the doses are written
    doses = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"source": "bench: a generated clinic", "dry_run": false,\n')
        out.write(f'"patients": {json.dumps(patients)},\n')
        out.write(f'"orders": {json.dumps([o for own in orders for o in own])},\n')
        out.write('"doses": [')
        for p, own in zip(patients, orders, strict=True):
            day = date.fromisoformat(p["admitted_on"])
            while day < until:
                order = _dose_for(own, day)
                if order is not None and rng.random() >= 0.06:  # about one day in sixteen missed
                    home = "take_home" in order and day.weekday() == 6
                    row = {
                        "patient_mrn": p["mrn"],
                        "date": day.isoformat(),
                        "medication": order["medication"],
                        "amount_mg": order["dose_mg"],
                        "mode": "take_home" if home else "observed",
                    }
                    out.write(("" if doses == 0 else ",\n") + json.dumps(row))
                    doses += 1
                day += timedelta(days=1)
            day = date.fromisoformat(p["admitted_on"]) + timedelta(days=rng.randrange(30))
            while day < until:
                screens.append(
                    {
                        "patient_mrn": p["mrn"],
                        "collected_on": day.isoformat(),
                        "results": {"methadone": "positive", "opiates": "negative"},
                    }
                )
                day += timedelta(days=30)
        out.write("],\n")
        out.write(f'"drug_screens": {json.dumps(screens)}}}\n')
    return doses


# ---------------------------------------------------------------------------------------------
# 3. the recent days, through the dosing services


@dataclass
class _Window:
    """The dosing window of the recent days: its two nurses (each witnesses the other's
    corrections), and how many observed doses and corrections it has stored."""

    nurses: list[User]
    correct_every: int
    observed: int = 0
    corrections: int = 0

    def witness_for(self, nurse: User) -> User:
        return next(other for other in self.nurses if other.id != nurse.id)


CORRECTION_REASONS = {
    "void": "Entered in error at the window; recorded again.",
    "spill": "Cup knocked over at the window before the patient drank; given again.",
}


def _correct_and_give_again(
    window: _Window, dose: Dose, nurse: User, at: datetime, profile: Profile
) -> None:
    """Void or spill ``dose`` (in turn), the other nurse witnessing, and give it again."""
    kind = ("void", "spill")[window.corrections % 2]
    witness = window.witness_for(nurse)
    corrected_at = at + timedelta(minutes=1)
    current_app.config["MAT_CLOCK"] = lambda: corrected_at
    correct_dose(
        dose.id,
        {
            "kind": kind,
            "reason": CORRECTION_REASONS[kind],
            "witness": {"username": witness.username, "password": PASSWORD},
        },
        nurse,
        corrected_at,
        profile,
    )
    again = at + timedelta(minutes=3)
    current_app.config["MAT_CLOCK"] = lambda: again
    service.record_dose(
        dose.patient_id,
        {"amount_mg": dose.amount_mg, "slot": None, "date": None},
        nurse,
        again,
        profile,
    )


def _one_day(
    window: _Window, patient: Patient, n: int, day: date, nurse: User, rng: random.Random
) -> int:
    """The patient's visit on ``day``: the dose due (corrected and given again when its turn
    comes), and on Saturday Sunday's take-home. Returns the dose rows stored."""
    profile = current_app.extensions["mat_profile"]
    at = datetime.combine(day, time(8 + n % 8, rng.randrange(60)), tzinfo=clinic_zone())
    if rng.random() < 0.06:
        return 0  # an ordinary missed day
    current_app.config["MAT_CLOCK"] = lambda: at
    plan = service.dose_plan(patient.id, day, at, profile)
    given = corrected = 0
    if plan.status == "due" and plan.planned is not None:
        try:
            dose = service.record_dose(
                patient.id,
                {"amount_mg": plan.planned.dose_mg, "slot": None, "date": None},
                nurse,
                at,
                profile,
            )
            given += 1
            if window.correct_every and (window.observed + 1) % window.correct_every == 0:
                _correct_and_give_again(window, dose, nurse, at, profile)
                given += 1
                corrected += 1
            if day.weekday() == 5 and rng.random() < 0.5:
                service.dispense_take_homes(
                    patient.id,
                    [day + timedelta(days=1)],
                    nurse,
                    at + timedelta(minutes=5),
                    profile,
                )
                given += 1
        except MatError:
            db.session.rollback()  # a rule refused (as at a real window): nothing stored
            return 0
        window.observed += 1
        window.corrections += corrected
    db.session.commit()
    return given


def recent_days(size: Size, today: date, rng: random.Random) -> tuple[int, int]:
    """The recent days' visits: the dose rows stored, and the corrections among them."""
    nurses = list(
        db.session.scalars(select(User).where(User.username.in_(["bench-nurse", "bench-nurse2"])))
    )
    window = _Window(nurses, size.correct_every)
    patients = list(db.session.scalars(select(Patient).order_by(Patient.id)))
    given = 0
    for back in range(size.recent_days, 0, -1):
        day = today - timedelta(days=back)
        for n, patient in enumerate(patients):
            nurse = nurses[n % len(nurses)]
            g.actor = nurse
            given += _one_day(window, patient, n, day, nurse, rng)
    return given, window.corrections


# ---------------------------------------------------------------------------------------------


def generate(app: Flask, size: Size, seed: int = SEED) -> Summary:
    """Write the clinic into the app's (migrated, empty) database."""
    rng = random.Random(seed)
    summary = Summary(patients=size.patients)
    clock = app.config.get("MAT_CLOCK")
    with app.app_context():
        today = clinic_now().date()
        for username, full_name, initials, roles in USERS:
            create_user(username, PASSWORD, full_name, initials, roles)
        db.session.commit()
        first = today - timedelta(days=size.days)
        summary.read_events = bulk_read_events(
            size.read_events, size.patients, first, today - timedelta(days=1), rng
        )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "history.json"
            summary.imported_doses = write_import(path, size, today, rng)
            admin = db.session.scalars(select(User).where(User.username == "bench-admin")).one()
            g.actor = admin
            started = time_module.perf_counter()
            import_history(
                JsonSource.of_file(path),
                by=admin,
                now=clinic_now(),
                profile=app.extensions["mat_profile"],
            )
            db.session.commit()
            summary.import_seconds = round(time_module.perf_counter() - started, 1)
        try:
            started = time_module.perf_counter()
            summary.service_doses, summary.corrections = recent_days(size, today, rng)
            summary.service_seconds = round(time_module.perf_counter() - started, 1)
        finally:
            app.config["MAT_CLOCK"] = clock
    return summary
