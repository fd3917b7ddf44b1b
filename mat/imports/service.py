"""One import: another program's patients, orders, doses and drug screens, all or nothing.

The rows are read one at a time (``mat.imports.reader``), each through the live API's schema
(``mat.imports.schemas``), and written in batches inside the caller's one transaction: a bad row
anywhere refuses the whole import (422, ``fields`` keyed by row, ``doses[3].amount_mg``) and the
caller's rollback leaves nothing. Once a row is bad, later rows are still checked (so one answer
names up to ``MOST_FIELD_ERRORS`` of them) but no longer written.

Decisions (api-contract.md leaves them to us):
- sections are read in the order patients, orders, doses, drug screens, so a row may name a
  patient listed anywhere in the body, or one already in mat;
- every imported dose must be covered by an order, imported or already in mat: the order that
  governs its date, for the same product, with the dose's slot (default: the order's first);
  that order is the dose's ``order_id``;
- a dose's date is before today, and on or after the admission of a patient this import brings;
  two rows of one patient, date and slot are one too many (422); a dose mat already holds for
  a patient, date and slot is a 409 (``dose_exists``), as is a listed MRN mat holds
  (``duplicate_mrn``);
- imported doses name the importing admin as the one who recorded them, at noon of their date
  (the other program's times are not part of the body), with no station or lot: they were not
  drawn from mat's stock; imported orders are signed by the admin for ``prescribed_by``
  (``mat.orders.service.sign_imported_order``); imported screens are recorded by the admin now.

Services flush, never commit. A dry run does all of it, then rolls back and records only an
``import.dry_run`` audit event; a real import records one ``import`` event naming its source and
counts (the ``imports`` row is append-only and written before its rows, so it holds no counts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import insert, select

from mat.audit.service import record
from mat.auth.models import User
from mat.clock import clinic_zone
from mat.dosing.models import Dose, DrugScreen
from mat.errors import Conflict, InvalidInput, flatten_field_errors
from mat.extensions import db
from mat.imports.models import Import
from mat.imports.reader import ImportSource
from mat.imports.schemas import DoseRow, ImportHeader, OrderRow, PatientRow, ScreenRow
from mat.orders.models import Order
from mat.orders.service import governing_order, patient_orders, sign_imported_order
from mat.patients.models import Patient
from mat.patients.service import first_episode
from mat.profiles import Profile

BATCH = 5000  # rows per INSERT: bounded memory, few round trips
MOST_FIELD_ERRORS = 100  # a refusal names at most this many bad values
# A screen may be collected a little before admission (intake), as at the window.
SCREEN_DAYS_BEFORE_ADMISSION = 30
IMPORTED_AT = time(12, 0)  # the time of day imported doses are recorded at (unknown)


@dataclass(frozen=True)
class ImportResult:
    id: int | None
    dry_run: bool
    counts: dict[str, int]
    warnings: list[dict[str, str]]


@dataclass
class _Patient:
    id: int
    admitted_on: date
    imported: bool  # brought by this import (no dose of it can exist in mat yet)


@dataclass
class _Run:
    by: User
    now: datetime
    profile: Profile
    import_id: int
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"patients": 0, "orders": 0, "doses": 0, "drug_screens": 0}
    )
    patients: dict[str, _Patient | None] = field(default_factory=dict)  # MRN -> patient
    orders: dict[int, list[Order]] = field(default_factory=dict)  # patient id -> orders
    # Every patient and order row was written: doses can be checked against the orders.
    orders_complete: bool = False

    @property
    def today(self) -> date:
        return self.now.date()

    def refuse(self, row: str, name: str, message: str) -> None:
        self.errors.setdefault(f"{row}.{name}", []).append(message)
        self._stop_if_enough()

    def refuse_all(self, row: str, messages: dict[str, Any]) -> None:
        for name, found in flatten_field_errors(messages).items():
            self.errors.setdefault(f"{row}.{name}", []).extend(found)
        self._stop_if_enough()

    def _stop_if_enough(self) -> None:
        if len(self.errors) >= MOST_FIELD_ERRORS:
            raise _refusal(self.errors)

    def load(self, schema: Schema, row: str, data: Any) -> dict[str, Any] | None:
        if not isinstance(data, dict):
            self.refuse(row, "_schema", "Each row is an object of the section's fields.")
            return None
        try:
            return schema.load(data)
        except ValidationError as err:
            self.refuse_all(row, err.normalized_messages())
            return None

    def patient(self, mrn: str) -> _Patient | None:
        """The patient a row names: one of this import, or one already in mat."""
        if mrn not in self.patients:
            found = db.session.execute(
                select(Patient.id, Patient.admitted_on).where(Patient.mrn == mrn)
            ).first()
            self.patients[mrn] = None if found is None else _Patient(found[0], found[1], False)
        return self.patients[mrn]

    def orders_of(self, patient_id: int) -> list[Order]:
        if patient_id not in self.orders:
            self.orders[patient_id] = patient_orders(patient_id)
        return self.orders[patient_id]


def _refusal(errors: dict[str, list[str]]) -> InvalidInput:
    shown = f"the first {MOST_FIELD_ERRORS} " if len(errors) >= MOST_FIELD_ERRORS else ""
    return InvalidInput(
        f"The import was refused ({shown}invalid values by row below); nothing was written.",
        code="import_refused",
        fields=errors,
    )


def import_history(
    source: ImportSource, *, by: User, now: datetime, profile: Profile, dry_run: bool = False
) -> ImportResult:
    """Bring the body's rows in, all or nothing; ``dry_run`` (or the body's) writes nothing."""
    try:
        header = ImportHeader().load(source.header())
    except ValidationError as err:
        raise InvalidInput(
            "The import names no usable source.",
            fields=flatten_field_errors(err.normalized_messages()),
        ) from err
    dry_run = dry_run or header["dry_run"]
    batch = Import(source=header["source"], by=by, at=now)
    db.session.add(batch)
    db.session.flush()
    run = _Run(by, now, profile, batch.id)
    _import_patients(run, source.rows("patients"))
    _import_orders(run, source.rows("orders"))
    run.orders_complete = not run.errors
    _import_doses(run, source.rows("doses"))
    _import_screens(run, source.rows("drug_screens"))
    if run.errors:
        raise _refusal(run.errors)
    detail = {"source": header["source"], "counts": run.counts, "warnings": len(run.warnings)}
    if dry_run:
        db.session.rollback()  # everything the run wrote; the dry run's event is recorded after
        record("import.dry_run", entity_type="import", detail=detail)
        return ImportResult(None, True, run.counts, run.warnings)
    record("import", entity_type="import", entity_id=batch.id, detail=detail)
    return ImportResult(batch.id, False, run.counts, run.warnings)


def _import_patients(run: _Run, rows: Iterator[Any]) -> None:
    schema = PatientRow()
    for n, data in enumerate(rows):
        row = f"patients[{n}]"
        loaded = run.load(schema, row, data)
        if loaded is None:
            continue
        mrn = loaded["mrn"]
        if mrn in run.patients:
            run.refuse(row, "mrn", f"MRN {mrn} is listed twice.")
            continue
        if run.patient(mrn) is not None:
            raise Conflict(
                f"{row}: a patient with MRN {mrn} is already registered; nothing was imported.",
                code="duplicate_mrn",
                fields={f"{row}.mrn": ["Already registered in mat."]},
            )
        run.patients[mrn] = _Patient(0, loaded["admitted_on"], True)
        if run.errors:
            continue
        patient = Patient(**loaded)
        db.session.add(patient)
        db.session.flush()
        first_episode(patient, run.by, run.now)
        run.patients[mrn] = _Patient(patient.id, patient.admitted_on, True)
        run.counts["patients"] += 1


def _import_orders(run: _Run, rows: Iterator[Any]) -> None:
    """Orders are few (a handful per patient): read whole, then signed in date order per
    patient, so each is judged after the orders it follows."""
    schema = OrderRow()
    loaded_rows: list[tuple[str, int, dict[str, Any]]] = []
    for n, data in enumerate(rows):
        row = f"orders[{n}]"
        loaded = run.load(schema, row, data)
        if loaded is None:
            continue
        if run.patient(loaded["patient_mrn"]) is None:
            run.refuse(row, "patient_mrn", _unknown(loaded["patient_mrn"]))
            continue
        loaded_rows.append((row, n, loaded))
    if run.errors:
        return
    loaded_rows.sort(key=lambda r: (r[2]["patient_mrn"], r[2]["start_date"], r[1]))
    for row, _n, loaded in loaded_rows:
        known = run.patient(loaded.pop("patient_mrn"))
        assert known is not None  # checked above
        patient = db.session.get(Patient, known.id)
        prescribed_by = loaded.pop("prescribed_by")
        try:
            order, found = sign_imported_order(
                patient,
                loaded,
                prescribed_by=prescribed_by,
                by=run.by,
                import_id=run.import_id,
                profile=run.profile,
            )
        except InvalidInput as err:
            run.refuse_all(row, err.fields or {"_schema": [err.message]})
            continue
        run.orders_of(known.id).append(order)
        run.warnings += [{"row": row, **v.as_dict()} for v in found]
        run.counts["orders"] += 1


def _import_doses(run: _Run, rows: Iterator[Any]) -> None:
    schema = DoseRow()
    zone = clinic_zone()
    seen: set[tuple[int, int, str]] = set()  # (patient, date, slot): one dose each
    pending: list[tuple[str, dict[str, Any]]] = []
    for n, data in enumerate(rows):
        row = f"doses[{n}]"
        loaded = run.load(schema, row, data)
        if loaded is None:
            continue
        dose = _dose(run, row, loaded, zone)
        if dose is None:
            continue
        key = (dose["patient_id"], dose["service_date"].toordinal(), dose["slot"])
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


def _dose(run: _Run, row: str, loaded: dict[str, Any], zone: Any) -> dict[str, Any] | None:
    """The dose row to insert, or None after refusing the row."""
    patient = run.patient(loaded["patient_mrn"])
    day = loaded["date"]
    if patient is None:
        run.refuse(row, "patient_mrn", _unknown(loaded["patient_mrn"]))
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


def _insert_doses(run: _Run, pending: list[tuple[str, dict[str, Any]]]) -> None:
    _refuse_doses_mat_holds(run, pending)
    db.session.execute(insert(Dose), [dose for _row, dose in pending])
    run.counts["doses"] += len(pending)


def _refuse_doses_mat_holds(run: _Run, pending: list[tuple[str, dict[str, Any]]]) -> None:
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


def _import_screens(run: _Run, rows: Iterator[Any]) -> None:
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
            run.refuse(row, "patient_mrn", _unknown(loaded["patient_mrn"]))
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


def _unknown(mrn: str) -> str:
    return f"No patient with MRN {mrn} in this import or in mat."
