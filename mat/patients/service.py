"""Patient registration and changes; every read and write is audited (42 CFR Part 2, HIPAA)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from mat.audit.service import record, record_read
from mat.auth.models import User
from mat.errors import Conflict, NotFound
from mat.extensions import db
from mat.patients.models import Patient, PatientEpisode

SEARCH_LIMIT = 50


def register_patient(data: dict[str, Any], by: User | None, now: datetime) -> Patient:
    """A new patient in episode 1 of care, from ``admitted_on``."""
    if db.session.scalar(select(Patient.id).where(Patient.mrn == data["mrn"])) is not None:
        raise Conflict(
            f"A patient with MRN {data['mrn']} is already registered.", code="duplicate_mrn"
        )
    patient = Patient(**data)
    db.session.add(patient)
    db.session.flush()
    episode = first_episode(patient, by, now)
    record(
        "patient.create",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        records=[episode],
    )
    return patient


def first_episode(patient: Patient, by: User | None, now: datetime) -> PatientEpisode:
    """Episode 1 of a newly registered patient (``mat/patients/episodes.py`` for the rest)."""
    episode = PatientEpisode(
        patient_id=patient.id,
        number=1,
        admitted_on=patient.admitted_on,
        level_of_care=patient.level_of_care,
        admitted_by=by,
        admitted_at=now,
    )
    db.session.add(episode)
    db.session.flush()
    return episode


def get_patient(patient_id: int, *, audit_read: bool = True) -> Patient:
    """The patient; a 404 that names the id it looked for (an auditor sees who tried which id).
    The work a caller then does for the patient names them in its refusals by running inside
    ``concerning_patient(patient_id)``."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(
            f"No patient with id {patient_id}.", code="patient_not_found", patient_id=patient_id
        )
    if audit_read:
        record_read(
            "patient.read", entity_type="patient", entity_id=patient.id, patient_id=patient.id
        )
    return patient


def search_patients(q: str) -> list[Patient]:
    stmt = select(Patient).order_by(Patient.family_name, Patient.given_name).limit(SEARCH_LIMIT)
    q = q.strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                Patient.mrn.ilike(like),
                Patient.family_name.ilike(like),
                Patient.given_name.ilike(like),
            )
        )
    patients = list(db.session.scalars(stmt))
    record_read("patient.search", detail={"q": q, "results": [p.id for p in patients]})
    return patients


def update_patient(patient_id: int, changes: dict[str, Any]) -> Patient:
    patient = get_patient(patient_id, audit_read=False)
    before = {k: getattr(patient, k) for k in changes}
    for key, value in changes.items():
        setattr(patient, key, value)
    db.session.flush()
    record(
        "patient.update",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"before": before, "after": changes},
    )
    return patient
