"""Patients JSON API."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g

from mat.auth.access import ANY_ROLE, api_roles
from mat.clock import clinic_now
from mat.jsonio import ApiBlueprint
from mat.patients import episodes, service
from mat.patients.models import Patient
from mat.patients.schemas import (
    AdmissionIn,
    PatientCreate,
    PatientDetailOut,
    PatientOut,
    PatientSearch,
    PatientUpdate,
)
from mat.patients.views_data import PatientDetail, patient_detail

blp = ApiBlueprint("patients_api", __name__, url_prefix="/api/v1", description="Patients")


@blp.route("/patients", methods=["POST"])
@api_roles("nurse", "prescriber", "admin")
@blp.arguments(PatientCreate())
@blp.response(201, PatientOut)
def create(data: dict[str, Any]) -> Any:
    return service.register_patient(data, g.actor, clinic_now())


@blp.route("/patients", methods=["GET"])
@api_roles("nurse", "prescriber", "admin")  # auditors read single records, not lists (Part 2)
@blp.arguments(PatientSearch(), location="query")
@blp.response(200, PatientOut(many=True))
def search(args: dict[str, str]) -> Any:
    return service.search_patients(args["q"])


@blp.route("/patients/<int:patient_id>", methods=["GET"])
@api_roles(*ANY_ROLE)
@blp.response(200, PatientDetailOut)
def read(patient_id: int) -> Any:
    return _detail(service.get_patient(patient_id), clinic_now().date())


@blp.route("/patients/<int:patient_id>", methods=["PATCH"])
@api_roles("prescriber", "admin")
@blp.arguments(PatientUpdate())
@blp.response(200, PatientOut)
def update(changes: dict[str, Any], patient_id: int) -> Any:
    return episodes.change_patient(patient_id, changes, g.actor, clinic_now())


@blp.route("/patients/<int:patient_id>/admissions", methods=["POST"])
@api_roles("prescriber", "admin")
@blp.arguments(AdmissionIn())
@blp.response(201, PatientDetailOut)
def readmit(data: dict[str, Any], patient_id: int) -> Any:
    now = clinic_now()
    return _detail(episodes.readmit(patient_id, data, g.actor, now), now.date())


def _detail(patient: Patient, today: date) -> PatientDetail:
    """The record ``PatientDetailOut`` answers: the patient, its episodes, the features' parts."""
    return patient_detail(patient, episodes.episode_summaries(patient), today)
