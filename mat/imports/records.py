"""An import's doses and drug screens: rows streamed, checked, inserted ``BATCH`` at a time.

Decisions are in ``mat.imports.service``'s docstring.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select

from mat.clock import clinic_zone
from mat.dosing.models import Dose, DrugScreen
from mat.errors import Conflict
from mat.extensions import db
from mat.imports.run import ImportRun, unknown_patient
from mat.imports.schemas import DoseRow, ScreenRow
from mat.orders.service import governing_order

BATCH = 5000  # rows per INSERT: bounded memory, few round trips
# A screen may be collected a little before admission (intake), as at the window.
SCREEN_DAYS_BEFORE_ADMISSION = 30
IMPORTED_AT = time(12, 0)  # the time of day imported doses are recorded at (unknown)


def import_doses(run: ImportRun, rows: Iterator[Any]) -> None:
    schema = DoseRow()
    zone = clinic_zone()
    # (patient, date, slot) of every dose so far, packed in one int each: a dose listed twice
    # is found however far apart the two rows are, in a few dozen bytes per dose.
    seen: set[int] = set()
    slot_ids: dict[str, int] = {}
    pending: list[tuple[str, dict[str, Any]]] = []
    for n, data in enumerate(rows):
        row = f"doses[{n}]"
        loaded = run.load(schema, row, data)
        if loaded is None:
            continue
        dose = _dose(run, row, loaded, zone)
        if dose is None:
            continue
        slot_id = slot_ids.setdefault(dose["slot"], len(slot_ids))
        key = (dose["patient_id"] << 20 | dose["service_date"].toordinal()) << 16 | slot_id
        if key in seen:
            run.refuse(row, "date", "A dose of this patient, date and slot is listed twice.")
            continue
        seen.add(key)
        if not run.errors:
            pending.append((row, dose))
            if len(pending) >= BATCH:
                _insert_doses(run, pending)
                pending = []
    if pending and not run.errors:
        _insert_doses(run, pending)


def _dose(run: ImportRun, row: str, loaded: dict[str, Any], zone: Any) -> dict[str, Any] | None:
    """The dose row to insert, or None after refusing the row."""
    patient = run.patient(loaded["patient_mrn"])
    day = loaded["date"]
    if patient is None:
        run.refuse(row, "patient_mrn", unknown_patient(loaded["patient_mrn"]))
        return None
    if day >= run.today:
        run.refuse(row, "date", f"Imported doses are dated before today ({run.today}).")
        return None
    if patient.imported and day < patient.admitted_on:
        run.refuse(row, "date", f"Before the patient's admission on {patient.admitted_on}.")
        return None
    if not run.orders_complete:
        return None  # patients or orders were refused: no order to check the dose against
    order = governing_order(run.orders_of(patient.id), day)
    if order is None:
        run.refuse(row, "date", "No order covers this date: import the order that prescribed it.")
        return None
    if order.medication.code != loaded["medication"]:
        run.refuse(
            row,
            "medication",
            f"The order covering {day} (order {order.id}) is for {order.medication.code}.",
        )
        return None
    slots = order.stored.slots
    slot = loaded["slot"] or slots[0]
    if slot not in slots:
        run.refuse(row, "slot", f"The order covering {day} has the slots {', '.join(slots)}.")
        return None
    product = order.medication.as_product()
    amount = loaded["amount_mg"]
    if not product.is_measurable(amount):
        run.refuse(row, "amount_mg", f"{product.name} cannot measure {amount} mg.")
        return None
    return {
        "patient_id": patient.id,
        "order_id": order.id,
        "medication_id": order.medication_id,
        "service_date": day,
        "slot": slot,
        "attempt": 1,
        "mode": loaded["mode"],
        "amount_mg": amount,
        "volume_ml": product.volume_ml(amount),
        "dispensed_at": datetime.combine(day, IMPORTED_AT, zone),
        "dispenser_id": run.by.id,
        "closure_dose": False,
        "warnings": "[]",
        "profile_id": run.profile.id,
        "profile_version": run.profile.version,
        "import_id": run.import_id,
    }


def _insert_doses(run: ImportRun, pending: list[tuple[str, dict[str, Any]]]) -> None:
    _refuse_doses_mat_holds(run, pending)
    db.session.execute(insert(Dose), [dose for _row, dose in pending])
    run.counts["doses"] += len(pending)


def _refuse_doses_mat_holds(run: ImportRun, pending: list[tuple[str, dict[str, Any]]]) -> None:
    """409 for a dose mat already holds (a patient already in mat, same date and slot)."""
    ids = {known.id for known in run.patients.values() if known and not known.imported}
    wanted = [(row, d) for row, d in pending if d["patient_id"] in ids]
    if not wanted:
        return
    first = min(d["service_date"] for _row, d in wanted)
    last = max(d["service_date"] for _row, d in wanted)
    held = set(
        db.session.execute(
            select(Dose.patient_id, Dose.service_date, Dose.slot).where(
                Dose.patient_id.in_({d["patient_id"] for _row, d in wanted}),
                Dose.service_date.between(first, last),
            )
        ).tuples()
    )
    for row, dose in wanted:
        if (dose["patient_id"], dose["service_date"], dose["slot"]) in held:
            raise Conflict(
                f"{row}: mat already holds a dose of this patient for {dose['service_date']} "
                f"({dose['slot']}); nothing was imported.",
                code="dose_exists",
                fields={f"{row}.date": ["mat already holds this dose."]},
            )


def import_screens(run: ImportRun, rows: Iterator[Any]) -> None:
    schema = ScreenRow()
    pending: list[dict[str, Any]] = []
    for n, data in enumerate(rows):
        row = f"drug_screens[{n}]"
        loaded = run.load(schema, row, data)
        if loaded is None:
            continue
        patient = run.patient(loaded["patient_mrn"])
        day = loaded["collected_on"]
        if patient is None:
            run.refuse(row, "patient_mrn", unknown_patient(loaded["patient_mrn"]))
            continue
        if day > run.today:
            run.refuse(row, "collected_on", "A screen cannot be collected in the future.")
            continue
        earliest = patient.admitted_on - timedelta(days=SCREEN_DAYS_BEFORE_ADMISSION)
        if patient.imported and day < earliest:
            run.refuse(row, "collected_on", "The screen is from long before admission.")
            continue
        if run.errors:
            continue
        pending.append(
            {
                "patient_id": patient.id,
                "collected_on": day,
                "results": json.dumps(loaded["results"], sort_keys=True),
                "recorded_by_id": run.by.id,
                "recorded_at": run.now,
                "import_id": run.import_id,
            }
        )
        if len(pending) >= BATCH:
            db.session.execute(insert(DrugScreen), pending)
            run.counts["drug_screens"] += len(pending)
            pending = []
    if pending and not run.errors:
        db.session.execute(insert(DrugScreen), pending)
        run.counts["drug_screens"] += len(pending)
