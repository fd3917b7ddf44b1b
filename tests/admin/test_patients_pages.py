"""Registering patients on the admin's page: the API's schema and service, the same refusals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.extensions import db
from mat.patients.models import Patient, PatientEpisode
from tests.admin.conftest import form_post, hidden, text_of
from tests.conftest import TODAY
from tests.support.checks import count
from tests.support.sealing import sealed

NEW = {
    "mrn": "A-1001",
    "given_name": "Dana",
    "family_name": "Okafor",
    "date_of_birth": "1988-03-14",
    "admitted_on": TODAY.isoformat(),
    "level_of_care": "outpatient",
}


def register(admin: Any, **overrides: Any) -> Any:
    return form_post(admin, "/admin/patients", "/admin/patients", {**NEW, **overrides})


def test_a_patient_is_registered_in_episode_one(admin, staff) -> None:
    response = register(admin)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/patients"
    patient = db.session.scalar(select(Patient).where(Patient.mrn == "A-1001"))
    assert (patient.given_name, patient.family_name) == ("Dana", "Okafor")
    assert patient.date_of_birth == date(1988, 3, 14) and patient.admitted_on == TODAY
    stmt = select(PatientEpisode).where(PatientEpisode.patient_id == patient.id)
    episode = db.session.scalar(stmt)
    assert episode.number == 1 and episode.admitted_by_id == staff["admin"].id
    page = text_of(admin.get("/admin/patients"))
    assert "Okafor, Dana" in page and "A-1001" in page


def test_the_form_offers_today_as_the_admission(admin) -> None:
    page = admin.get("/admin/patients").get_data(as_text=True)
    assert f'name="admitted_on" value="{TODAY.isoformat()}"' in page


def test_a_double_click_registers_one_patient(admin) -> None:
    page = admin.get("/admin/patients").get_data(as_text=True)
    data = {"csrf_token": hidden(page, "csrf_token"), "token": hidden(page, "token"), **NEW}
    assert admin.post("/admin/patients", data=data).status_code == 303
    second = admin.post("/admin/patients", data=data)
    assert second.status_code == 409 and "already sent" in text_of(second)
    assert count(Patient) == 1


def test_a_registered_mrn_is_refused_in_plain_words(admin, factory) -> None:
    factory.patient(mrn="A-1001")
    response = register(admin)
    assert response.status_code == 409
    text = text_of(response)
    assert "A patient with MRN A-1001 is already registered." in text
    assert "duplicate_mrn" not in text and "409" not in text
    assert 'value="Okafor"' in text  # what was typed stays in the form
    assert count(Patient) == 1


def test_a_name_the_log_cannot_print_is_refused(admin) -> None:
    response = register(admin, family_name="\u0623\u062d\u0645\u062f")  # Arabic script
    assert response.status_code == 422
    text = text_of(response)
    assert "The reports cannot print" in text and "Family name" in text
    assert count(Patient) == 0


def test_bad_values_are_refused_each_in_plain_words(admin, clock) -> None:
    response = register(
        admin,
        mrn="A 1001",
        given_name="",
        date_of_birth=(TODAY + timedelta(days=1)).isoformat(),
        admitted_on=(TODAY + timedelta(days=31)).isoformat(),
        level_of_care="somewhere",
    )
    assert response.status_code == 422
    text = text_of(response)
    assert "Use 1-32 letters, digits or '-'." in text
    assert "Fill this in." in text
    assert "Choose one of the listed options." in text
    for talk in ("Missing data", "Must be one of", "invalid_input", "status 422"):
        assert talk not in text
    assert count(Patient) == 0


def test_dates_follow_the_api_rules(admin) -> None:
    response = register(admin, date_of_birth=(TODAY + timedelta(days=1)).isoformat())
    assert response.status_code == 422
    assert "The date of birth is in the future." in text_of(response)
    late = TODAY + timedelta(days=31)
    response = register(admin, admitted_on=late.isoformat())
    assert response.status_code == 422 and "Admission is at most 30 days ahead" in text_of(response)
    response = register(admin, admitted_on=(TODAY + timedelta(days=30)).isoformat())
    assert response.status_code == 303 and count(Patient) == 1


def test_the_search_finds_by_mrn_or_name_and_is_audited(admin, factory) -> None:
    factory.patient(mrn="B-7", family_name="Lindqvist")
    factory.patient(mrn="C-8", family_name="Moreau")
    response = form_post(admin, "/admin/patients", "/admin/patients/search", {"q": "lindq"})
    text = text_of(response)
    assert response.status_code == 200 and "Lindqvist" in text and "Moreau" not in text
    assert "1 patient matches" in text
    sealed()
    searches = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.search"))
    assert any('"q":"lindq"' in e.detail.replace(" ", "") for e in searches)
    text = text_of(form_post(admin, "/admin/patients", "/admin/patients/search", {"q": "zzz"}))
    assert "No patient matches" in text


def test_a_search_the_api_refuses_is_refused_here(admin) -> None:
    response = form_post(admin, "/admin/patients", "/admin/patients/search", {"q": "x" * 81})
    assert response.status_code == 422
    assert "Use at most 80 characters." in text_of(response)
