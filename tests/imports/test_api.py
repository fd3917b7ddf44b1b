"""POST /api/v1/imports: what it brings in, and every refusal leaving nothing behind."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from mat.audit.models import AuditEvent
from mat.dosing.models import Dose, DrugScreen
from mat.extensions import db
from mat.imports.models import Import
from mat.orders.models import Order
from mat.patients.models import Patient
from tests.conftest import TODAY
from tests.imports.bodies import dose_rows, one_patient_body, order_row, patient_row
from tests.support.checks import assert_error

URL = "/api/v1/imports"
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def post_import(api, staff):
    def post(body: Any, *, key: str | None = "import-1", as_: Any = None, **kwargs: Any) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return api("post", URL, as_=as_ or staff["admin"], json=body, headers=headers, **kwargs)

    return post


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_nothing_written() -> None:
    assert [_count(m) for m in (Import, Patient, Order, Dose, DrugScreen)] == [0, 0, 0, 0, 0]


def _patient(mrn: str) -> Patient:
    return db.session.scalars(select(Patient).where(Patient.mrn == mrn)).one()


def test_an_import_brings_patients_orders_doses_and_screens(post_import, api, staff) -> None:
    response = post_import(one_patient_body())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["dry_run"] is False and isinstance(body["id"], int)
    assert body["counts"] == {"patients": 1, "orders": 1, "doses": 200, "drug_screens": 1}
    # 60 mg from day 1: what the order rules would refuse comes back as a warning.
    assert {"row": "orders[0]", "rule": "methadone_first_day_max"}.items() <= next(
        w for w in body["warnings"] if w["rule"] == "methadone_first_day_max"
    ).items()
    patient = _patient("OLD-1")
    orders = api("get", f"/api/v1/patients/{patient.id}/orders", as_=staff["nurse"]).get_json()
    assert [(o["imported"], o["prescribed_by"], o["status"]) for o in orders] == [
        (True, "Dr. A. Former (Old Clinic)", "active")
    ]
    assert orders[0]["signed_by"]["username"] == staff["admin"].username
    first = (TODAY - timedelta(days=200)).isoformat()
    doses = api(
        "get",
        f"/api/v1/patients/{patient.id}/doses?from={first}&to={YESTERDAY}",
        as_=staff["nurse"],
    ).get_json()
    assert len(doses) == 200 and all(d["imported"] for d in doses)
    assert {d["lot"] for d in doses} == {None} and {d["station"] for d in doses} == {None}


def test_the_import_is_one_audit_event_naming_source_and_counts(post_import) -> None:
    body = post_import(one_patient_body()).get_json()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert len(events) == 1
    detail = json.loads(events[0].detail)
    assert detail["source"] == "OldClinic EHR export 2026-11-15"
    assert detail["counts"] == body["counts"]
    assert events[0].entity_id == str(body["id"])


def test_the_audit_chain_verifies_after_an_import(post_import, api, staff) -> None:
    post_import(one_patient_body(days=5))
    answer = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()
    assert answer["ok"] is True and answer["first_bad"] is None


def test_imported_doses_count_for_the_plan_by_day_of_treatment(post_import, plan) -> None:
    post_import(one_patient_body(days=200))
    today = plan(_patient("OLD-1"))
    assert today["status"] == "due" and today["missed_days"] == 0
    assert today["take_home_ceiling_days"] == 28  # day 201 (from day 31 on), not day 1's 7


def test_imported_doses_are_not_rows_of_the_dispensing_log(post_import, api, staff) -> None:
    post_import(one_patient_body())
    day = YESTERDAY.isoformat()
    log = api(
        "get",
        f"/api/v1/reports/dispensing-log?from={day}&to={day}&format=json",
        as_=staff["auditor"],
    ).get_json()
    assert log["rows"] == []


@pytest.mark.parametrize("role", ["nurse", "prescriber", "auditor"])
def test_only_an_admin_imports(post_import, staff, role) -> None:
    assert_error(post_import(one_patient_body(), as_=staff[role]), 403)
    assert_nothing_written()


def test_an_import_needs_an_idempotency_key(post_import) -> None:
    error = assert_error(post_import(one_patient_body(), key=None), 422)
    assert "Idempotency-Key" in error["fields"]
    assert_nothing_written()


def test_the_same_key_answers_the_first_answer_without_a_second_import(post_import) -> None:
    first = post_import(one_patient_body())
    again = post_import(one_patient_body())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert _count(Import) == 1 and _count(Dose) == 200


def test_a_bad_row_refuses_the_whole_import_keyed_by_row(post_import) -> None:
    body = one_patient_body()
    body["doses"][3]["amount_mg"] = -5
    body["doses"][7]["mode"] = "delivered"
    body["orders"][0]["prescribed_by"] = ""
    error = assert_error(post_import(body), 422, "import_refused")
    assert {"doses[3].amount_mg", "doses[7].mode", "orders[0].prescribed_by"} <= set(
        error["fields"]
    )
    assert_nothing_written()


@pytest.mark.parametrize(
    "change, field",
    [
        (
            lambda b: b["doses"].append({**b["doses"][0], "date": TODAY.isoformat()}),
            "doses[200].date",
        ),
        (lambda b: b["doses"].append(dict(b["doses"][5])), "doses[200].date"),
        (lambda b: b["doses"][0].update(date="2025-01-01"), "doses[0].date"),  # before admission
        (lambda b: b["doses"][0].update(medication="BUP-SL-8"), "doses[0].medication"),
        (lambda b: b["doses"][0].update(slot="pm"), "doses[0].slot"),
        (lambda b: b["doses"][0].update(amount_mg=60.05), "doses[0].amount_mg"),  # not measurable
        (lambda b: b["doses"][0].update(patient_mrn="NOBODY"), "doses[0].patient_mrn"),
        (lambda b: b["orders"][0].update(patient_mrn="NOBODY"), "orders[0].patient_mrn"),
        (lambda b: b["orders"][0].update(medication="METH-99"), "orders[0].medication"),
        (lambda b: b["patients"].append(dict(b["patients"][0])), "patients[1].mrn"),
        (lambda b: b["patients"][0].update(admitted_on="2062-01-01"), "patients[0].admitted_on"),
        (lambda b: b["drug_screens"][0].update(results={"fentanly": "positive"}), None),
        (lambda b: b["drug_screens"][0].update(collected_on="2026-11-17"), None),
        (lambda b: b.update(source=""), "source"),
    ],
)
def test_each_refusal_writes_nothing(post_import, change, field) -> None:
    body = one_patient_body()
    change(body)
    error = assert_error(post_import(body), 422)
    if field is not None:
        assert field in error["fields"], error["fields"]
    else:
        assert any(name.startswith("drug_screens[0].") for name in error["fields"])
    assert_nothing_written()


def test_a_dose_no_order_covers_is_refused(post_import) -> None:
    body = one_patient_body(days=30)
    body["orders"][0]["start_date"] = (TODAY - timedelta(days=10)).isoformat()
    error = assert_error(post_import(body), 422)
    assert "No order covers" in error["fields"]["doses[0].date"][0]
    assert "doses[19].date" in error["fields"] and "doses[20].date" not in error["fields"]
    assert_nothing_written()


def test_a_listed_patient_whose_mrn_exists_is_409(post_import, factory) -> None:
    factory.patient(mrn="OLD-1")
    assert_error(post_import(one_patient_body()), 409, "duplicate_mrn")
    assert _count(Import) == 0 and _count(Dose) == 0 and _count(Order) == 0


def test_a_dose_mat_already_holds_is_409(post_import, patient, sign_order, give, clock) -> None:
    clock.set(YESTERDAY)
    sign_order(patient)
    assert give(patient, 40).status_code == 201
    clock.set(TODAY)
    body = {
        "source": "paper charts",
        "orders": [order_row(patient.mrn, YESTERDAY - timedelta(days=5), dose_mg=40)],
        "doses": dose_rows(patient.mrn, YESTERDAY - timedelta(days=5), YESTERDAY, amount=40),
    }
    error = assert_error(post_import(body), 409, "dose_exists")
    assert "doses[5].date" in error["fields"]
    assert _count(Import) == 0 and _count(Dose) == 1 and _count(Order) == 1


def test_rows_may_name_a_patient_already_in_mat(post_import, patient, plan) -> None:
    body = {
        "source": "paper charts",
        "orders": [order_row(patient.mrn, patient.admitted_on, dose_mg=40)],
        "doses": dose_rows(patient.mrn, patient.admitted_on, YESTERDAY, amount=40),
    }
    assert post_import(body).get_json()["counts"]["doses"] == 14
    assert plan(patient)["missed_days"] == 0


def test_a_dry_run_counts_and_writes_nothing_but_its_event(post_import) -> None:
    response = post_import(one_patient_body(dry_run=True))
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"] is None and body["dry_run"] is True
    assert body["counts"] == {"patients": 1, "orders": 1, "doses": 200, "drug_screens": 1}
    assert_nothing_written()
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "import.dry_run" in actions and "import" not in actions


def test_a_malformed_body_is_400(post_import, api, staff) -> None:
    response = api(
        "post",
        URL,
        as_=staff["admin"],
        data=b'{"source": "x", "patients": [',
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert_error(response, 400)
    assert_nothing_written()


def test_a_body_past_the_cap_is_413_and_names_the_command_line(post_import, monkeypatch) -> None:
    monkeypatch.setattr("mat.imports.api.BODY_LIMIT", 1000)
    error = assert_error(post_import(one_patient_body()), 413, "payload_too_large")
    assert "flask --app mat import history" in error["message"]
    assert_nothing_written()


def test_an_imported_dose_is_not_corrected_in_mat(post_import, api, staff) -> None:
    post_import(one_patient_body(days=3))
    dose = db.session.scalars(select(Dose)).first()
    response = api(
        "post",
        f"/api/v1/doses/{dose.id}/corrections",
        as_=staff["nurse"],
        json={
            "kind": "void",
            "reason": "Wrong patient.",
            "witness": {"username": "nurse2", "password": "correct-horse-battery"},
        },
    )
    assert_error(response, 409, "imported_dose")


def test_two_patients_and_their_rows_in_any_order(post_import) -> None:
    admitted = TODAY - timedelta(days=20)
    body = {
        "source": "OldClinic",
        "drug_screens": [],
        "doses": dose_rows("B-2", admitted, YESTERDAY) + dose_rows("A-1", admitted, YESTERDAY),
        "orders": [order_row("B-2", admitted), order_row("A-1", admitted)],
        "patients": [patient_row("A-1", admitted), patient_row("B-2", admitted)],
    }
    assert post_import(body).get_json()["counts"] == {
        "patients": 2,
        "orders": 2,
        "doses": 40,
        "drug_screens": 0,
    }


def test_the_history_pdf_marks_imported_orders_and_doses(post_import, api, staff) -> None:
    body = post_import(one_patient_body(days=10)).get_json()
    patient = _patient("OLD-1")
    first = (TODAY - timedelta(days=10)).isoformat()
    response = api(
        "get",
        f"/api/v1/patients/{patient.id}/history?from={first}&to={YESTERDAY}&format=pdf",
        as_=staff["prescriber"],
    )
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Imported: prescribed by Dr. A. Former (Old Clinic) at the previous program" in text
    assert text.count(f"imported (import #{body['id']})") == 10


def test_the_openapi_document_describes_the_import_body(client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    operation = doc["paths"]["/api/v1/imports"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ImportIn"}
    assert {"source", "patients", "orders", "doses", "drug_screens"} <= set(
        doc["components"]["schemas"]["ImportIn"]["properties"]
    )


def test_a_body_past_the_other_calls_one_megabyte_is_taken(post_import) -> None:
    admitted = TODAY - timedelta(days=365)
    mrns = [f"BIG-{n}" for n in range(40)]
    body = {
        "source": "a bigger clinic",
        "patients": [patient_row(mrn, admitted) for mrn in mrns],
        "orders": [order_row(mrn, admitted, dose_mg=30) for mrn in mrns],
        "doses": [row for mrn in mrns for row in dose_rows(mrn, admitted, YESTERDAY, amount=30)],
    }
    assert len(json.dumps(body)) > 1024 * 1024
    response = post_import(body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["counts"]["doses"] == 40 * 365


def test_doses_may_be_covered_by_an_order_already_in_mat(
    post_import, patient, sign_order, clock, plan
) -> None:
    start = TODAY - timedelta(days=6)
    clock.set(start)
    signed = sign_order(patient, dose_mg=40)
    clock.set(TODAY)
    body = {"source": "paper charts", "doses": dose_rows(patient.mrn, start, YESTERDAY, 40)}
    assert post_import(body).get_json()["counts"]["doses"] == 6
    assert {d.order_id for d in db.session.scalars(select(Dose))} == {signed["id"]}
    assert plan(patient)["missed_days"] == 0


def test_an_imported_patient_is_in_episode_one_from_admission(post_import, api, staff) -> None:
    post_import(one_patient_body(days=50))
    patient = _patient("OLD-1")
    detail = api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"]).get_json()
    assert [(e["number"], e["admitted_on"]) for e in detail["episodes"]] == [
        (1, (TODAY - timedelta(days=50)).isoformat())
    ]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"dose": []}, "dose"),  # a misspelt section would import nothing without a word
        ({"source": {"system": "Old"}}, "source"),
        ({"source": None}, "source"),
        ({"dry_run": "perhaps"}, "dry_run"),
    ],
)
def test_the_top_level_holds_only_known_keys_of_the_right_kind(post_import, change, field) -> None:
    body = one_patient_body()
    body.update(change)
    error = assert_error(post_import(body), 422)
    assert list(error["fields"]) == [field]
    assert_nothing_written()


def test_a_source_that_is_missing_is_422(post_import) -> None:
    body = one_patient_body()
    del body["source"]
    assert list(assert_error(post_import(body), 422)["fields"]) == ["source"]
    assert_nothing_written()
