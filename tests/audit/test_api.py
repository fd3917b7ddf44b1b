"""The auditor's API: ``GET /api/v1/audit`` (JSON and CSV). Verify: test_verify_api.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from sqlalchemy import func, select

from mat.audit.models import AuditEvent
from mat.audit.queries import utc_bounds
from mat.audit.service import record
from mat.extensions import db
from tests.audit.events import events_by, stored
from tests.conftest import ZONE
from tests.support.checks import assert_error

CLINIC = ZoneInfo(ZONE)

ALL_TIME = "from=2000-01-01&to=2099-12-31"
CSV_HEADER = [
    "id", "at", "username", "roles", "client_addr", "action", "entity_type", "entity_id",
    "patient_id", "outcome", "rules", "detail", "prev_hash", "hash",
]  # fmt: skip
EVENT_KEYS = {
    "id", "at", "user_id", "username", "roles", "client_addr", "action", "entity_type",
    "entity_id", "patient_id", "outcome", "rules", "detail", "prev_hash", "hash",
}  # fmt: skip


def event_at(monkeypatch: pytest.MonkeyPatch, at: datetime, action: str = "test.event") -> int:
    """One committed event whose ``at`` is ``at`` (the app's clock, pinned for this write)."""
    with monkeypatch.context() as patched:
        patched.setitem(current_app.config, "MAT_CLOCK", lambda: at)
        record(action, detail={"at": at.isoformat()})
        db.session.commit()
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def audit_events(api: Any, auditor: Any, query: str = ALL_TIME) -> list[dict[str, Any]]:
    response = api("get", f"/api/v1/audit?{query}", as_=auditor)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["events"]


def csv_rows(response: Any) -> tuple[list[str], list[dict[str, str]]]:
    text = response.get_data(as_text=True)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


@pytest.fixture
def trail(api: Any, staff: dict[str, Any], factory: Any) -> Iterator[dict[str, Any]]:
    """Reads by a nurse and a prescriber of two patients, and refusals of each."""
    first, second = factory.patient(), factory.patient()
    api("get", f"/api/v1/patients/{first.id}", as_=staff["nurse"])
    api("get", f"/api/v1/patients/{second.id}", as_=staff["nurse"])
    api("get", f"/api/v1/patients/{first.id}", as_=staff["prescriber"])
    api("get", "/api/v1/patients/424242", as_=staff["nurse"])  # 404: refused
    api("patch", f"/api/v1/patients/{first.id}", as_=staff["nurse"], json={})  # 403: refused
    yield {"first": first, "second": second}


# --- who may read the trail ----------------------------------------------------------------


def test_auditor_reads_every_field_in_id_order(api, staff, trail) -> None:
    events = audit_events(api, staff["auditor"])
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert len(events) == 5
    assert all(set(e) == EVENT_KEYS for e in events)
    read = events[0]
    assert read["action"] == "patient.read" and read["outcome"] == "done"
    assert read["username"] == "nurse1" and read["user_id"] == staff["nurse"].id
    assert read["roles"] == ["nurse"] and read["rules"] == []
    assert read["patient_id"] == trail["first"].id
    assert (read["entity_type"], read["entity_id"]) == ("patient", str(trail["first"].id))
    assert read["client_addr"] == "127.0.0.1"
    assert isinstance(read["detail"], dict)
    assert datetime.fromisoformat(read["at"]).utcoffset() is not None
    refused = events[3]
    assert refused["outcome"] == "refused" and refused["detail"]["status"] == 404
    assert [e["prev_hash"] for e in events[1:]] == [e["hash"] for e in events[:-1]]


def test_at_is_clinic_local_time_with_its_offset(app, api, staff, monkeypatch) -> None:
    app.config["MAT_CLINIC_TZ"] = "America/New_York"
    event_at(monkeypatch, datetime(2026, 11, 5, 4, 30, 0, 123456, tzinfo=UTC))
    (event,) = audit_events(api, staff["auditor"], "from=2026-11-04&to=2026-11-04")
    assert event["at"] == "2026-11-04T23:30:00.123456-05:00"


@pytest.mark.parametrize("role", ["nurse", "nurse2", "prescriber", "admin"])
@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/verify"])
def test_other_roles_are_refused(api, staff, trail, role, path) -> None:
    assert_error(api("get", path, as_=staff[role]), 403, "forbidden")
    assert stored("audit.export") == [] and stored("audit.verify") == []


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/verify"])
def test_no_token_is_401(api, path) -> None:
    assert_error(api("get", path), 401, "unauthorized")


# --- filters ---------------------------------------------------------------------------------


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    "day, first, last",
    [
        # An ordinary November day in New York (UTC-5).
        (date(2026, 11, 5), utc(2026, 11, 5, 5), utc(2026, 11, 6, 5)),
        # Daylight saving ends on 1 November 2026: that clinic day is 25 hours long.
        (date(2026, 11, 1), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)),
        # ...and starts on 8 March 2026: 23 hours.
        (date(2026, 3, 8), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)),
    ],
)
def test_clinic_days_become_utc_bounds(day, first, last) -> None:
    assert utc_bounds(day, day, ZoneInfo("America/New_York")) == (first, last)


def test_dates_are_clinic_days_both_included(app, api, staff, monkeypatch) -> None:
    app.config["MAT_CLINIC_TZ"] = "America/New_York"
    times = {
        "day_before_last_second": datetime(2026, 11, 5, 4, 59, 59, 999999, tzinfo=UTC),
        "first_instant": datetime(2026, 11, 5, 5, 0, tzinfo=UTC),
        "last_instant": datetime(2026, 11, 6, 4, 59, 59, 999999, tzinfo=UTC),
        "day_after": datetime(2026, 11, 6, 5, 0, tzinfo=UTC),
    }
    ids = {name: event_at(monkeypatch, at) for name, at in times.items()}

    def shown(query: str) -> list[int]:
        return [e["id"] for e in audit_events(api, staff["auditor"], query)]

    assert shown("from=2026-11-05&to=2026-11-05") == [ids["first_instant"], ids["last_instant"]]
    assert shown("from=2026-11-04&to=2026-11-04") == [ids["day_before_last_second"]]
    assert shown("from=2026-11-04&to=2026-11-06") == list(ids.values())
    assert shown("from=2026-11-07&to=2026-11-10") == []


def test_without_dates_the_last_7_clinic_days_are_shown(app, api, staff, monkeypatch) -> None:
    # Instants at the clinic (MAT_CLINIC_TZ of the run): the days are the clinic's days.
    app.config["MAT_CLOCK"] = lambda: datetime(2026, 11, 16, 9, tzinfo=CLINIC)
    too_old = event_at(monkeypatch, datetime(2026, 11, 9, 23, 59, 59, tzinfo=CLINIC))
    oldest = event_at(monkeypatch, datetime(2026, 11, 10, 0, 0, tzinfo=CLINIC))
    newest = event_at(monkeypatch, datetime(2026, 11, 16, 23, 59, tzinfo=CLINIC))
    tomorrow = event_at(monkeypatch, datetime(2026, 11, 17, 0, 0, tzinfo=CLINIC))

    def shown(query: str) -> list[int]:
        # The exports themselves are events of "today" too: look at the test's events only.
        events = audit_events(api, staff["auditor"], query)
        return [e["id"] for e in events if e["action"] == "test.event"]

    assert shown("") == [oldest, newest]
    assert shown("to=2026-11-09") == [too_old]  # from: six days before to
    assert shown("from=2026-11-16") == [newest]  # to: today
    assert tomorrow not in shown("from=2026-11-01")
    export = stored("audit.export")[0]
    assert json.loads(export.detail)["filters"]["from"] == "2026-11-10"


def test_filter_by_user(api, staff, trail) -> None:
    events = audit_events(api, staff["auditor"], f"{ALL_TIME}&user=doc")
    assert [e["username"] for e in events] == ["doc"]
    assert audit_events(api, staff["auditor"], f"{ALL_TIME}&user=nobody") == []


def test_filter_by_patient(api, staff, trail) -> None:
    events = audit_events(api, staff["auditor"], f"{ALL_TIME}&patient_id={trail['second'].id}")
    assert [(e["action"], e["patient_id"]) for e in events] == [
        ("patient.read", trail["second"].id)
    ]


def test_filter_by_outcome(api, staff, trail) -> None:
    refused = audit_events(api, staff["auditor"], f"{ALL_TIME}&outcome=refused")
    assert [e["detail"]["status"] for e in refused] == [404, 403]
    done = audit_events(api, staff["auditor"], f"{ALL_TIME}&outcome=done&user=nurse1")
    assert [e["action"] for e in done] == ["patient.read", "patient.read"]


def test_filters_combine(api, staff, trail) -> None:
    query = f"{ALL_TIME}&user=nurse1&outcome=refused&patient_id=424242"
    events = audit_events(api, staff["auditor"], query)
    assert [(e["username"], e["outcome"], e["detail"]["status"]) for e in events] == [
        ("nurse1", "refused", 404)
    ]
    query = f"{ALL_TIME}&user=doc&outcome=refused"
    assert audit_events(api, staff["auditor"], query) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-11-10&to=2026-11-09", "from"),
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("from=2026-11-01&to=yesterday", "to"),
        ("from=11/01/2026", "from"),
        ("from=0001-01-01&to=2026-11-01", "from"),
        ("from=2026-11-01&to=9999-12-31", "to"),
        ("format=xml", "format"),
        ("patient_id=abc", "patient_id"),
        ("patient_id=0", "patient_id"),
        ("patient_id=2147483648", "patient_id"),
        ("patient_id=99999999999999999999", "patient_id"),
        ("user=nurse%01", "user"),
        ("user=" + "n" * 81, "user"),
        ("outcome=maybe", "outcome"),
    ],
)
def test_bad_filters_are_422_with_fields_and_change_nothing(
    api, staff, trail, query, field
) -> None:
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    error = assert_error(api("get", f"/api/v1/audit?{query}", as_=staff["auditor"]), 422)
    assert field in error["fields"], error
    assert stored("audit.export") == []
    # Only the refusal itself is on record, as every refusal is.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
    assert stored("GET /api/v1/audit")[-1].outcome == "refused"


def test_empty_filters_mean_not_given(api, staff, trail) -> None:
    query = "from=2000-01-01&to=2099-12-31&user=&patient_id=&outcome=&format="
    assert len(audit_events(api, staff["auditor"], query)) == 5


# --- CSV -------------------------------------------------------------------------------------


def test_csv_has_the_same_events_as_json(api, staff, trail) -> None:
    query = f"{ALL_TIME}&user=nurse1"
    events = audit_events(api, staff["auditor"], query)
    response = api("get", f"/api/v1/audit?{query}&format=csv", as_=staff["auditor"])
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=audit-2000-01-01-2099-12-31.csv"
    )
    assert response.headers["Cache-Control"] == "no-store"
    header, rows = csv_rows(response)
    assert header == CSV_HEADER
    assert len(rows) == len(events) == 4
    for row, event in zip(rows, events, strict=True):
        assert int(row["id"]) == event["id"]
        assert row["at"] == event["at"]
        assert json.loads(row["detail"]) == event["detail"]
        assert row["roles"].split(",") == event["roles"]
        assert row["rules"] == ",".join(event["rules"])
        assert (row["prev_hash"], row["hash"]) == (event["prev_hash"], event["hash"])
        assert row["patient_id"] == (
            "" if event["patient_id"] is None else str(event["patient_id"])
        )


def test_csv_keeps_refused_rules_and_empty_cells(api, staff, monkeypatch) -> None:
    events_by(staff["nurse"], 1, outcome="refused", rules=["patient_on_hold", "no_active_order"])
    response = api("get", f"/api/v1/audit?{ALL_TIME}&format=csv", as_=staff["auditor"])
    _, (row,) = csv_rows(response)
    assert row["outcome"] == "refused"
    assert row["rules"] == "patient_on_hold,no_active_order"
    assert row["patient_id"] == ""


def test_csv_streams_in_batches(api, staff, monkeypatch) -> None:
    import mat.audit.export as export

    monkeypatch.setattr(export, "BATCH", 2)
    events_by(staff["nurse"], 5)
    response = api("get", f"/api/v1/audit?{ALL_TIME}&format=csv", as_=staff["auditor"])
    assert response.is_streamed
    chunks = list(response.iter_encoded())
    assert len(chunks) == 1 + 3  # the header, then 2 + 2 + 1 rows
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert [row["entity_id"] for row in rows] == ["0", "1", "2", "3", "4"]


def test_export_covers_the_trail_as_it_was_asked_for(api, staff, trail) -> None:
    """The JSON export's event is in a later CSV; neither contains its own export event."""
    events = audit_events(api, staff["auditor"])
    response = api("get", f"/api/v1/audit?{ALL_TIME}&format=csv", as_=staff["auditor"])
    _, rows = csv_rows(response)
    json_export, csv_export = stored("audit.export")
    assert [int(r["id"]) for r in rows] == [e["id"] for e in events] + [json_export.id]
    assert json.loads(csv_export.detail)["through_id"] == json_export.id


def test_every_export_is_an_event(api, staff, trail) -> None:
    patient_id = trail["first"].id
    audit_events(api, staff["auditor"], f"{ALL_TIME}&patient_id={patient_id}&outcome=done")
    api("get", "/api/v1/audit?from=2026-11-01&to=2026-11-02&format=csv", as_=staff["auditor"])
    json_export, csv_export = stored("audit.export")
    assert (json_export.username, json_export.roles, json_export.outcome) == (
        "audit",
        "auditor",
        "done",
    )
    assert json_export.patient_id == patient_id  # who looked at this patient's trail
    assert json.loads(json_export.detail) == {
        "filters": {
            "from": "2000-01-01",
            "to": "2099-12-31",
            "user": None,
            "patient_id": patient_id,
            "outcome": "done",
        },
        "format": "json",
        "through_id": json_export.id - 1,
    }
    assert json.loads(csv_export.detail)["format"] == "csv"
    assert json.loads(csv_export.detail)["filters"]["from"] == "2026-11-01"
    assert csv_export.patient_id is None


# --- OpenAPI ---------------------------------------------------------------------------------


def test_the_audit_api_is_in_the_openapi_document(client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    audit = doc["paths"]["/api/v1/audit"]["get"]
    names = {p["name"] for p in audit["parameters"]}
    assert names == {"from", "to", "user", "patient_id", "outcome", "format"}
    assert set(audit["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert "/api/v1/audit/verify" in doc["paths"]
    schemas = doc["components"]["schemas"]
    assert set(schemas["AuditEventOut"]["properties"]) == EVENT_KEYS
    assert set(schemas["ChainReportOut"]["properties"]) == {
        "ok", "events", "first_bad", "reason", "checkpoints", "legacy_events", "records",
        "complete", "next",
    }  # fmt: skip
    verify = doc["paths"]["/api/v1/audit/verify"]["get"]
    assert {p["name"] for p in verify["parameters"]} == {"after"}
