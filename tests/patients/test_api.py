from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.extensions import db
from mat.patients.models import Patient
from tests.support.checks import assert_error, count
from tests.support.sealing import sealed

NEW = {
    "mrn": "A-1001",
    "given_name": "Jamie",
    "family_name": "Thornbury",
    "date_of_birth": "1990-04-02",
    "admitted_on": "2026-11-20",
    "level_of_care": "detox",
}


@pytest.mark.parametrize("role", ["nurse", "prescriber", "admin"])
def test_registering_a_patient(api, staff, role) -> None:
    response = api("post", "/api/v1/patients", as_=staff[role], json=NEW)
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"] > 0 and body["status"] == "active"
    assert {k: body[k] for k in NEW} == NEW
    stored = db.session.get(Patient, body["id"])
    assert stored.mrn == "A-1001" and stored.admitted_on.isoformat() == "2026-11-20"


def test_auditors_do_not_register_patients(api, staff) -> None:
    assert_error(api("post", "/api/v1/patients", as_=staff["auditor"], json=NEW), 403)
    assert count(Patient) == 0


def test_duplicate_mrn_is_409_and_changes_nothing(api, staff) -> None:
    assert api("post", "/api/v1/patients", as_=staff["nurse"], json=NEW).status_code == 201
    again = api("post", "/api/v1/patients", as_=staff["nurse"], json={**NEW, "given_name": "Other"})
    assert_error(again, 409, "duplicate_mrn")
    assert count(Patient) == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("mrn", ""),
        ("mrn", "has space"),
        ("mrn", "x" * 33),
        ("given_name", ""),
        ("family_name", None),
        ("date_of_birth", "1990-13-01"),
        ("date_of_birth", "2999-01-01"),
        ("admitted_on", "yesterday"),
        ("admitted_on", "1980-01-01"),
        ("level_of_care", "spa"),
    ],
)
def test_invalid_fields_are_422_and_change_nothing(api, staff, field, value) -> None:
    error = assert_error(
        api("post", "/api/v1/patients", as_=staff["nurse"], json={**NEW, field: value}), 422
    )
    assert field in error["fields"]
    assert count(Patient) == 0


def test_missing_fields_are_each_named(api, staff) -> None:
    error = assert_error(api("post", "/api/v1/patients", as_=staff["nurse"], json={}), 422)
    assert set(error["fields"]) == set(NEW)


def test_malformed_json_is_400(api, staff) -> None:
    response = api(
        "post", "/api/v1/patients", as_=staff["nurse"], data="{", content_type="application/json"
    )
    assert_error(response, 400)
    assert count(Patient) == 0


def test_a_json_array_body_is_refused_cleanly(api, staff) -> None:
    response = api(
        "post",
        "/api/v1/patients",
        as_=staff["nurse"],
        data=json.dumps([NEW]),
        content_type="application/json",
    )
    assert response.status_code in (400, 422)
    assert count(Patient) == 0


def test_search_by_name_or_mrn(api, staff, factory) -> None:
    factory.patient(mrn="Q-1", family_name="Marlow", given_name="Rowan")
    factory.patient(mrn="Q-2", family_name="Penrose", given_name="Avery")
    by_name = api("get", "/api/v1/patients?q=marl", as_=staff["nurse"]).get_json()
    assert [p["mrn"] for p in by_name] == ["Q-1"]
    by_mrn = api("get", "/api/v1/patients?q=Q-2", as_=staff["prescriber"]).get_json()
    assert [p["family_name"] for p in by_mrn] == ["Penrose"]
    everyone = api("get", "/api/v1/patients", as_=staff["admin"]).get_json()
    assert [p["mrn"] for p in everyone] == ["Q-1", "Q-2"]


def test_auditors_cannot_list_patients(api, staff, patient) -> None:
    assert_error(api("get", "/api/v1/patients?q=", as_=staff["auditor"]), 403)


@pytest.mark.parametrize("role", ["nurse", "prescriber", "auditor", "admin"])
def test_reading_a_patient_is_audited(api, staff, patient, role) -> None:
    response = api("get", f"/api/v1/patients/{patient.id}", as_=staff[role])
    assert response.status_code == 200
    body = response.get_json()
    assert body["mrn"] == patient.mrn
    assert body["active_order"] is None and body["open_holds"] == []
    assert sealed() == 1  # staged by the read, chained by the next seal
    read = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.read")).one()
    assert read.patient_id == patient.id and read.username == staff[role].username
    assert read.outcome == "done"


def test_unknown_patient_is_404(api, staff) -> None:
    assert_error(api("get", "/api/v1/patients/999", as_=staff["nurse"]), 404, "patient_not_found")


@pytest.mark.parametrize("role", ["prescriber", "admin"])
def test_changing_level_of_care_and_discharging(api, staff, patient, role) -> None:
    response = api(
        "patch",
        f"/api/v1/patients/{patient.id}",
        as_=staff[role],
        json={"level_of_care": "maintenance"},
    )
    assert response.status_code == 200 and response.get_json()["level_of_care"] == "maintenance"
    response = api(
        "patch", f"/api/v1/patients/{patient.id}", as_=staff[role], json={"status": "discharged"}
    )
    assert response.get_json()["status"] == "discharged"
    db.session.refresh(patient)
    assert (patient.level_of_care, patient.status) == ("maintenance", "discharged")


@pytest.mark.parametrize("role", ["nurse", "auditor"])
def test_nurses_and_auditors_do_not_change_patients(api, staff, patient, role) -> None:
    assert_error(
        api(
            "patch",
            f"/api/v1/patients/{patient.id}",
            as_=staff[role],
            json={"status": "discharged"},
        ),
        403,
    )
    db.session.refresh(patient)
    assert patient.status == "active"


@pytest.mark.parametrize(
    "body", [{}, {"status": "asleep"}, {"level_of_care": "x"}, {"mrn": "NEW-1"}]
)
def test_invalid_changes_are_422(api, staff, patient, body) -> None:
    assert_error(
        api("patch", f"/api/v1/patients/{patient.id}", as_=staff["prescriber"], json=body), 422
    )
    db.session.refresh(patient)
    assert (patient.status, patient.mrn) == ("active", patient.mrn)


def test_refusals_are_audited_with_who_and_what(api, staff) -> None:
    api("post", "/api/v1/patients", as_=staff["auditor"], json=NEW)
    refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).one()
    assert refusal.username == "audit" and refusal.action == "POST /api/v1/patients"
    assert json.loads(refusal.detail)["status"] == 403
