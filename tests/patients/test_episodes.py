"""Episodes of care through the HTTP stack: discharge ends one, a readmission starts the next
(day 1 again, and with it the first-day rules and the take-home ceilings); earlier episodes stay."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.extensions import db
from mat.patients.models import EpisodeDischarge, Patient, PatientEpisode
from tests.conftest import TODAY
from tests.support.checks import assert_error, count
from tests.support.factories import CRITERIA, RATIONALE

LONG_AGO = date(2023, 3, 6)


def discharge(api: Any, staff: Any, patient: Any, who: str = "prescriber") -> Any:
    return api(
        "patch", f"/api/v1/patients/{patient.id}", as_=staff[who], json={"status": "discharged"}
    )


def readmit(api: Any, staff: Any, patient: Any, who: str = "prescriber", **body: Any) -> Any:
    data = {"admitted_on": TODAY.isoformat(), "level_of_care": "outpatient", **body}
    return api("post", f"/api/v1/patients/{patient.id}/admissions", as_=staff[who], json=data)


def episodes(api: Any, staff: Any, patient: Any) -> list[dict[str, Any]]:
    record = api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"]).get_json()
    return record["episodes"]


def test_registration_opens_episode_1(api, staff) -> None:
    new = {
        "mrn": "E-1",
        "given_name": "Ezra",
        "family_name": "Episode",
        "date_of_birth": "1988-02-02",
        "admitted_on": TODAY.isoformat(),
        "level_of_care": "outpatient",
    }
    patient = api("post", "/api/v1/patients", as_=staff["nurse"], json=new).get_json()
    stored = db.session.scalars(select(PatientEpisode)).one()
    assert (stored.patient_id, stored.number, stored.admitted_on) == (patient["id"], 1, TODAY)
    assert stored.admitted_by.username == "nurse1"
    [shown] = episodes(api, staff, db.session.get(Patient, patient["id"]))
    assert shown["number"] == 1 and shown["discharged"] is False
    assert shown["admitted_by"]["username"] == "nurse1"


def test_a_discharge_ends_the_episode_and_the_orders(api, staff, patient, sign_order) -> None:
    order = sign_order(patient)
    upcoming = sign_order(patient, start_date=(TODAY + timedelta(days=3)).isoformat(), dose_mg=45)
    response = discharge(api, staff, patient)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "discharged"
    [shown] = episodes(api, staff, patient)
    assert (shown["discharged"], shown["discharged_on"]) == (True, TODAY.isoformat())
    assert shown["discharged_by"]["username"] == "doc"
    listed = api("get", f"/api/v1/patients/{patient.id}/orders", as_=staff["nurse"]).get_json()
    ended = {o["id"]: o["discontinued"] for o in listed}
    assert ended[order["id"]]["effective_on"] == (TODAY + timedelta(days=1)).isoformat()
    assert ended[upcoming["id"]]["effective_on"] == (TODAY + timedelta(days=3)).isoformat()
    assert "discharged" in ended[order["id"]]["reason"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.discharge"))
    assert json.loads(event.one().detail)["orders_ended"] == [upcoming["id"], order["id"]]
    # Discharging again changes nothing.
    assert discharge(api, staff, patient).status_code == 200
    assert count(EpisodeDischarge) == 1


def test_a_discharged_patient_comes_back_only_by_readmission(api, staff, patient) -> None:
    discharge(api, staff, patient)
    again = api(
        "patch", f"/api/v1/patients/{patient.id}", as_=staff["admin"], json={"status": "active"}
    )
    error = assert_error(again, 409, "readmission_required")
    assert f"/api/v1/patients/{patient.id}/admissions" in error["message"]
    assert db.session.get(Patient, patient.id).status == "discharged"


def test_an_active_patient_is_not_readmitted(api, staff, patient) -> None:
    assert_error(readmit(api, staff, patient), 409, "patient_active")
    assert count(PatientEpisode) == 0  # the factory's patient keeps its implied episode 1


@pytest.mark.parametrize("who, status", [("nurse", 403), ("auditor", 403), ("admin", 201)])
def test_who_readmits(api, staff, patient, who, status) -> None:
    discharge(api, staff, patient)
    assert readmit(api, staff, patient, who).status_code == status


@pytest.mark.parametrize(
    "body, field",
    [
        ({"admitted_on": (TODAY + timedelta(days=1)).isoformat()}, "admitted_on"),  # future
        ({"admitted_on": (TODAY - timedelta(days=1)).isoformat()}, "admitted_on"),  # < discharge
        ({"admitted_on": "soon"}, "admitted_on"),
        ({"level_of_care": "spa"}, "level_of_care"),
        ({"level_of_care": None}, "level_of_care"),
    ],
)
def test_a_readmission_out_of_range_is_refused(api, staff, patient, body, field) -> None:
    discharge(api, staff, patient)  # today
    error = assert_error(readmit(api, staff, patient, **body), 422)
    assert field in error["fields"]
    assert db.session.get(Patient, patient.id).status == "discharged"


def test_a_readmission_starts_day_1_again_and_keeps_the_earlier_episode(
    api, staff, factory, clock, sign_order, plan
) -> None:
    # The case: admitted in 2023, discharged, back today.
    patient = factory.patient(admitted_on=LONG_AGO)
    clock.set(TODAY - timedelta(days=10))
    old_order = sign_order(patient, dose_mg=80)
    discharge(api, staff, patient)
    clock.set(TODAY)
    response = readmit(api, staff, patient)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert (answer["status"], answer["admitted_on"]) == ("active", TODAY.isoformat())
    assert answer["active_order"] is None  # the earlier episode's order does not come back
    first, second = answer["episodes"]
    assert (first["number"], first["admitted_on"], first["discharged"]) == (
        1,
        LONG_AGO.isoformat(),
        True,
    )
    assert (first["discharged_on"], first["admitted_by"]) == (
        (TODAY - timedelta(days=10)).isoformat(),
        None,  # the implied episode of a patient registered outside the service
    )
    assert (second["number"], second["admitted_on"], second["discharged"]) == (
        2,
        TODAY.isoformat(),
        False,
    )
    assert plan(patient)["take_home_ceiling_days"] is None  # no order yet
    # An 80 mg first dose is day 1 of treatment again: flagged.
    body = {"medication": "METH-10MGML", "kind": "induction", "start_date": TODAY.isoformat()}
    refused = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders",
        as_=staff["prescriber"],
        json={**body, "dose_mg": 80},
    )
    error = assert_error(refused, 422, "order_blocked")
    assert [v["rule"] for v in error["violations"]] == [
        "methadone_first_day_max",
        "methadone_first_dose_label",
    ]
    # Twenty consecutive take-homes: the day-1 ceiling is 7.
    twenty = [(TODAY + timedelta(days=n)).isoformat() for n in range(1, 21)]
    take_home = {"dates": twenty, "criteria": CRITERIA, "rationale": RATIONALE}
    refused = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders",
        as_=staff["prescriber"],
        json={**body, "dose_mg": 30, "take_home": take_home},
    )
    [ceiling] = assert_error(refused, 422, "order_blocked")["violations"]
    assert ceiling["rule"] == "take_home_plan_ceiling"
    assert "treatment day 2); during treatment days 1-14 at most 7" in ceiling["message"]
    sign_order(patient, kind="induction", dose_mg=30)
    assert plan(patient)["take_home_ceiling_days"] == 7
    orders = api("get", f"/api/v1/patients/{patient.id}/orders", as_=staff["nurse"]).get_json()
    assert old_order["id"] in {o["id"] for o in orders}  # the earlier episode stays


def test_other_prescribed_makes_substances_expected(api, staff, patient) -> None:
    path = f"/api/v1/patients/{patient.id}"
    both = ["benzodiazepines", "amphetamines"]
    response = api("patch", path, as_=staff["prescriber"], json={"other_prescribed": both})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["other_prescribed"] == both
    assert api("get", path, as_=staff["nurse"]).get_json()["other_prescribed"] == both
    cleared = api("patch", path, as_=staff["admin"], json={"other_prescribed": []})
    assert cleared.get_json()["other_prescribed"] == []


@pytest.mark.parametrize(
    "value", [["benzos"], ["alcohol"], ["cocaine", "cocaine"], "benzodiazepines", [None]]
)
def test_other_prescribed_names_screen_panel_substances(api, staff, patient, value) -> None:
    response = api(
        "patch",
        f"/api/v1/patients/{patient.id}",
        as_=staff["prescriber"],
        json={"other_prescribed": value},
    )
    error = assert_error(response, 422)
    assert any(name.startswith("other_prescribed") for name in error["fields"])
    assert db.session.get(Patient, patient.id).other_prescribed_list == []


def test_nurses_do_not_change_other_prescribed(api, staff, patient) -> None:
    response = api(
        "patch",
        f"/api/v1/patients/{patient.id}",
        as_=staff["nurse"],
        json={"other_prescribed": ["benzodiazepines"]},
    )
    assert_error(response, 403)
