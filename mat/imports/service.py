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

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from mat.audit.service import record
from mat.auth.models import User
from mat.errors import Conflict, InvalidInput, flatten_field_errors
from mat.extensions import db
from mat.imports.models import Import
from mat.imports.reader import ImportSource
from mat.imports.records import import_doses, import_screens
from mat.imports.run import ImportRun, KnownPatient, refusal, unknown_patient
from mat.imports.schemas import ImportHeader, OrderRow, PatientRow
from mat.orders.service import sign_imported_order
from mat.patients.models import Patient
from mat.patients.service import first_episode
from mat.profiles import Profile


@dataclass(frozen=True)
class ImportResult:
    id: int | None
    dry_run: bool
    counts: dict[str, int]
    warnings: list[dict[str, str]]


def import_history(
    source: ImportSource, *, by: User, now: datetime, profile: Profile, dry_run: bool = False
) -> ImportResult:
    """Bring the body's rows in, all or nothing; ``dry_run`` (or the body's) writes nothing."""
    try:
        header = ImportHeader().load(source.header())
    except ValidationError as err:
        raise InvalidInput(
            "The import's top level is refused: it needs a source, and holds only source, "
            "dry_run, patients, orders, doses and drug_screens.",
            fields=flatten_field_errors(err.normalized_messages()),
        ) from err
    dry_run = dry_run or header["dry_run"]
    batch = Import(source=header["source"], by=by, at=now)
    db.session.add(batch)
    db.session.flush()
    run = ImportRun(by, now, profile, batch.id)
    _import_patients(run, source.rows("patients"))
    _import_orders(run, source.rows("orders"))
    run.orders_complete = not run.errors
    import_doses(run, source.rows("doses"))
    import_screens(run, source.rows("drug_screens"))
    if run.errors:
        raise refusal(run.errors)
    detail = {"source": header["source"], "counts": run.counts, "warnings": len(run.warnings)}
    if dry_run:
        db.session.rollback()  # everything the run wrote; the dry run's event is recorded after
        record("import.dry_run", entity_type="import", detail=detail)
        return ImportResult(None, True, run.counts, run.warnings)
    record("import", entity_type="import", entity_id=batch.id, records=[batch], detail=detail)
    return ImportResult(batch.id, False, run.counts, run.warnings)


def _import_patients(run: ImportRun, rows: Iterator[Any]) -> None:
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
        run.patients[mrn] = KnownPatient(0, loaded["admitted_on"], True)
        if run.errors:
            continue
        patient = Patient(**loaded)
        db.session.add(patient)
        db.session.flush()
        first_episode(patient, run.by, run.now)
        run.patients[mrn] = KnownPatient(patient.id, patient.admitted_on, True)
        run.counts["patients"] += 1


def _import_orders(run: ImportRun, rows: Iterator[Any]) -> None:
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
            run.refuse(row, "patient_mrn", unknown_patient(loaded["patient_mrn"]))
            continue
        loaded_rows.append((row, n, loaded))
    if run.errors:
        return
    loaded_rows.sort(key=lambda r: (r[2]["patient_mrn"], r[2]["start_date"], r[1]))
    for row, _n, loaded in loaded_rows:
        known = run.patient(loaded.pop("patient_mrn"))
        assert known is not None  # checked above
        patient = db.session.get(Patient, known.id)
        orders = run.orders_of(known.id)  # read before this one is added
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
        orders.append(order)
        run.warnings += [{"row": row, **v.as_dict()} for v in found]
        run.counts["orders"] += 1
