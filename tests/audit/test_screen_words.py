"""The audit screen in words: patients by MRN and name (not internal ids), the MRN filter,
refused rows saying what was tried and why, details as key: value lines."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from mat.audit.describe import describe, detail_lines, reason
from mat.audit.models import AuditEvent
from mat.extensions import db
from tests.audit.events import events_by
from tests.auth.test_pages import sign_in

ALL_TIME = "from=2000-01-01&to=2099-12-31"


@pytest.fixture
def auditor(client, staff) -> Any:
    sign_in(client, "audit")
    return client


# ---- describe (unit) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, detail, what, why",
    [
        ("POST /api/v1/patients/3/doses", {"status": 403}, "record a dose", "wrong role"),
        (
            "POST /window/3/give",
            {"status": 422, "code": "rule_violation"},
            "give a dose",
            "a clinical rule refused it",
        ),
        (
            "POST /api/v1/patients",
            {"status": 409, "code": "duplicate_mrn"},
            "register a patient",
            "someone changed it first",
        ),
        ("POST /api/v1/imports", {"status": 413}, "import records", "too much sent at once"),
        ("GET /audit", {"status": 403, "code": "forbidden"}, "read the audit trail", "wrong role"),
        (
            "POST /logout",
            {"status": 400, "code": "csrf_failed"},
            "sign out",
            "the form had expired",
        ),
        (
            "GET /no/such/page",
            {"status": 404},
            "open an address that does not exist",
            "no such page or record",
        ),
        (
            "POST /api/v1/orders/7/discontinue",
            {"status": 500},
            "discontinue an order",
            "a server error (nothing was recorded)",
        ),
    ],
)
def test_refused_requests_in_words(app: Flask, action, detail, what, why) -> None:
    said = describe(action, "refused", detail, app.url_map)
    assert (said.what, said.why, said.route) == (what, why, action)


def test_done_events_in_words(app: Flask) -> None:
    said = describe("dose.observed", "done", {}, app.url_map)
    assert (said.what, said.why, said.route) == ("gave an observed dose", None, None)
    assert describe("auth.login", "done", {}, app.url_map).what == "signed in"
    # A name without words yet stays as stored, never invented.
    assert describe("brand.new_thing", "done", {}, app.url_map).what == "brand.new_thing"


def test_a_refusal_without_status_is_still_worded() -> None:
    assert reason({}) == "refused"
    assert reason({"status": 502}) == "a server error (nothing was recorded)"


def test_detail_lines_flatten_json() -> None:
    detail = json.dumps(
        {
            "status": 422,
            "fields": ["amount_mg", "slot"],
            "filters": {"from": "2026-11-01", "user": None},
            "ok": True,
            "steps": [{"day": 1, "mg": 30}],
        }
    )
    assert detail_lines(detail) == [
        ("status", "422"),
        ("fields", "amount_mg, slot"),
        ("filters.from", "2026-11-01"),
        ("filters.user", "—"),
        ("ok", "yes"),
        ("steps[1].day", "1"),
        ("steps[1].mg", "30"),
    ]
    assert detail_lines("{}") == []
    assert detail_lines("not json") == [("detail", "not json")]


# ---- the screen ---------------------------------------------------------------------------


def test_rows_show_mrn_and_name_not_the_internal_id(auditor, staff, factory) -> None:
    patient = factory.patient(mrn="MRN-77001", family_name="Okonkwo", given_name="Ada")
    events_by(staff["nurse"], 2, patient_id=patient.id)
    page = auditor.get(f"/audit?{ALL_TIME}").get_data(as_text=True)
    assert '<strong class="mrn">MRN-77001</strong><br>Okonkwo, Ada' in page
    assert "Patient id" not in page
    assert f"<td>{patient.id}</td>\n        <td>" not in page


def test_patients_of_a_page_are_read_in_one_query(app, auditor, staff, factory) -> None:
    for _ in range(5):
        events_by(staff["nurse"], 1, patient_id=factory.patient().id)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert auditor.get(f"/audit?{ALL_TIME}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    patient_reads = [s for s in statements if re.search(r"FROM patients\b", s)]
    assert len(patient_reads) == 1, patient_reads


def test_the_screen_read_of_names_is_on_record(auditor, staff, factory) -> None:
    patient = factory.patient()
    events_by(staff["nurse"], 1, patient_id=patient.id)
    auditor.get(f"/audit?{ALL_TIME}")
    view = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "audit.view").order_by(AuditEvent.id.desc())
    ).first()
    assert view is not None and json.loads(view.detail)["patients_shown"] == [patient.id]


def test_filter_by_mrn(auditor, staff, factory) -> None:
    wanted = factory.patient(mrn="MRN-12345")
    other = factory.patient(mrn="MRN-99999")
    events_by(staff["nurse"], 2, patient_id=wanted.id)
    events_by(staff["nurse2"], 3, patient_id=other.id)
    response = auditor.get(f"/audit?{ALL_TIME}&mrn=mrn-12345")  # case does not matter
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<strong>2</strong> matching events" in page
    assert "MRN-99999" not in page
    assert 'name="mrn" value="MRN-12345"' in page
    # The page links keep the filter (CSV, pages).
    csv_link = re.search(r'<a href="([^"]+)">Download CSV</a>', page).group(1)
    assert f"patient_id={wanted.id}" in csv_link


def test_an_unknown_mrn_is_refused_on_the_form(auditor, staff) -> None:
    response = auditor.get(f"/audit?{ALL_TIME}&mrn=NOPE-1")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<strong>Patient MRN</strong>: No patient has the MRN NOPE-1." in page
    assert 'aria-invalid="true"' in page


def test_an_unknown_mrn_refuses_the_csv_too(auditor, staff) -> None:
    response = auditor.get(f"/audit/export.csv?{ALL_TIME}&mrn=NOPE-1")
    assert response.status_code == 422


def test_a_refused_row_says_what_and_why_in_words(app, auditor, client, staff) -> None:
    # A nurse tries the audit screen: a refusal with a route.
    other = app.test_client()
    sign_in(other, "nurse1")
    assert other.get("/audit").status_code == 403
    page = auditor.get(f"/audit?{ALL_TIME}&outcome=refused").get_data(as_text=True)
    assert (
        '<span class="refused-mark">Refused:</span> read the audit trail '
        '<span class="why">— wrong role</span>'
    ) in page
    # The route is kept, but inside the details, not as the action.
    assert "<dt>request</dt><dd><code>GET /audit</code></dd>" in page
    assert "<dt>status</dt><dd>403</dd>" in page
