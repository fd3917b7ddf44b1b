"""Who may export what, refused input, and every export on record in the audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.extensions import db
from tests.reports.conftest import DAY1, DAY2
from tests.support.checks import assert_error

LOG = "/api/v1/reports/dispensing-log"


def events(action: str) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(stmt))


def get(api, who, path: str):
    """A call whose body is read at once: a streamed body holds its request context until read,
    and the test client runs the next request in the same thread."""
    response = api("get", path, as_=who)
    response.get_data()
    return response


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_a_nurse_exports_one_day(api, clinic, fmt) -> None:
    ann = clinic.nurses["ann"]
    response = get(api, ann, f"{LOG}?from={DAY1}&to={DAY1}&format={fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=dispensing-log-{DAY1}-{DAY1}.{fmt}"
    )
    assert response.headers["Cache-Control"] == "no-store"
    (event,) = events("report.dispensing_log")
    assert event.username == "ann" and event.outcome == "done"
    detail = json.loads(event.detail)
    assert (detail["from"], detail["to"], detail["format"]) == (str(DAY1), str(DAY1), fmt)
    assert detail["through_dose_id"] == clinic.doses["evans2"]


def test_without_dates_a_nurse_gets_today(api, clinic) -> None:
    response = get(api, clinic.nurses["ben"], f"{LOG}?format=csv")
    assert response.status_code == 200
    assert f"filename=dispensing-log-{DAY2}-{DAY2}.csv" in response.headers["Content-Disposition"]


def test_a_nurse_cannot_export_a_range(api, clinic) -> None:
    response = get(api, clinic.nurses["ann"], f"{LOG}?from={DAY1}&to={DAY2}&format=csv")
    assert_error(response, 403, "forbidden")
    assert events("report.dispensing_log") == []


@pytest.mark.parametrize("who", ["auditor", "admin"])
def test_auditors_and_admins_export_a_year(api, clinic, who) -> None:
    first = DAY2 - timedelta(days=365)
    response = get(api, clinic.staff[who], f"{LOG}?from={first}&to={DAY2}&format=json")
    assert response.status_code == 200
    assert len(response.get_json()["rows"]) == 13
    assert [e.username for e in events("report.dispensing_log")] == [clinic.staff[who].username]


def test_a_prescriber_cannot_export_the_log(api, clinic) -> None:
    response = get(api, clinic.staff["prescriber"], f"{LOG}?from={DAY1}&to={DAY1}&format=csv")
    assert_error(response, 403, "forbidden")


def test_signed_out_is_401(api, clinic) -> None:
    assert_error(get(api, None, f"{LOG}?format=csv"), 401, "unauthorized")


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-13-01&to=2026-11-16&format=csv", "from"),
        ("from=2026-11-16&to=yesterday&format=csv", "to"),
        ("from=2026-11-17&to=2026-11-16&format=csv", "from"),
        ("from=2026-11-16&to=2026-11-16&format=xlsx", "format"),
        ("from=2025-11-15&to=2026-11-16&format=csv", "to"),  # 367 days: one too many
        ("from=2026-10-16&to=2026-11-16&format=pdf", "to"),  # a PDF covers 31 days at most
        ("from=2026-11-16&to=2026-11-16&format=csv&page=a3", "page"),
        ("from=2026-11-16&to=2026-11-16&format=csv&substance=heroin", "substance"),
        ("from=2026-11-16&to=2026-11-16&format=csv&product=meth", "product"),
        ("from=2026-11-16&to=2026-11-16&format=csv&product=METH-99", "product"),
        ("from=0001-01-01&to=2026-11-16&format=csv", "from"),
    ],
)
def test_bad_input_is_422_with_fields_and_no_export(api, clinic, query, field) -> None:
    error = assert_error(get(api, clinic.staff["auditor"], f"{LOG}?{query}"), 422)
    assert field in error["fields"], error
    assert events("report.dispensing_log") == []
    (refusal,) = events(f"GET {LOG}")
    assert refusal.outcome == "refused"


def test_the_longest_ranges_are_accepted(api, clinic) -> None:
    auditor = clinic.staff["auditor"]
    year = DAY2 - timedelta(days=365)
    assert get(api, auditor, f"{LOG}?from={year}&to={DAY2}&format=csv").status_code == 200
    month = DAY2 - timedelta(days=30)
    assert get(api, auditor, f"{LOG}?from={month}&to={DAY2}&format=pdf").status_code == 200


# ---- the patient history ------------------------------------------------------------------

HISTORY = "/api/v1/patients/{}/history"


@pytest.mark.parametrize("who", ["prescriber", "auditor"])
def test_history_for_prescribers_and_auditors(api, clinic, who) -> None:
    patient = clinic.patients["cruz"]
    response = get(api, clinic.staff[who], HISTORY.format(patient.id))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    first = DAY2 - timedelta(days=89)
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=history-MRN-100-{first}-{DAY2}.pdf"
    )
    (event,) = events("report.history")
    assert (event.patient_id, event.entity_id, event.username) == (
        patient.id,
        str(patient.id),
        clinic.staff[who].username,
    )
    assert json.loads(event.detail)["from"] == first.isoformat()


@pytest.mark.parametrize("who", ["nurse", "admin"])
def test_history_refused_to_other_roles(api, clinic, who) -> None:
    response = get(api, clinic.staff[who], HISTORY.format(clinic.patients["cruz"].id))
    assert_error(response, 403, "forbidden")
    assert events("report.history") == []


def test_history_of_an_unknown_patient_is_404(api, clinic) -> None:
    assert_error(get(api, clinic.staff["auditor"], HISTORY.format(999_999)), 404)
    assert events("report.history") == []


@pytest.mark.parametrize(
    "query, field",
    [("format=csv", "format"), ("from=2026-11-18&to=2026-11-17", "from"),
     ("from=2024-01-01&to=2026-11-17", "to")],
)  # fmt: skip
def test_history_bad_input(api, clinic, query, field) -> None:
    path = HISTORY.format(clinic.patients["cruz"].id) + "?" + query
    error = assert_error(get(api, clinic.staff["auditor"], path), 422)
    assert field in error["fields"]
    assert events("report.history") == []


def test_openapi_documents_the_reports(client) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    log = paths["/api/v1/reports/dispensing-log"]["get"]
    names = {p["name"] for p in log["parameters"]}
    assert {"from", "to", "format", "product", "substance", "page"} <= names
    assert "/api/v1/patients/{patient_id}/history" in paths
