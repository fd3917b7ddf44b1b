"""The auditor's screen ``/audit``: filters, pages, refused rows, CSV download, chain check."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.audit.views import FIELD_LABELS
from mat.extensions import db
from tests.audit.events import events_by
from tests.audit.tampering import tamper
from tests.auth.test_pages import sign_in

ALL_TIME = "from=2000-01-01&to=2099-12-31"
ROW = re.compile(r'<tr class="(done|refused)">\s*<td>(\d+)</td>')


def rows(page: str) -> list[tuple[str, int]]:
    return [(outcome, int(event_id)) for outcome, event_id in ROW.findall(page)]


def link(page: str, text: str) -> str | None:
    match = re.search(r'<a href="([^"]+)"[^>]*>' + re.escape(text), page)
    return match.group(1).replace("&amp;", "&") if match else None


def stored(action: str) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(stmt))


@pytest.fixture
def auditor(client, staff) -> Any:
    sign_in(client, "audit")
    return client


def test_signed_out_goes_to_sign_in(client) -> None:
    response = client.get("/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["nurse1", "doc", "boss"])
@pytest.mark.parametrize(
    "method, path", [("get", "/audit"), ("get", "/audit/export.csv"), ("post", "/audit/verify")]
)
def test_other_roles_get_a_403_page(client, staff, username, method, path) -> None:
    sign_in(client, username)
    home = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    response = client.open(path, method=method.upper(), data={"csrf_token": token})
    assert response.status_code == 403
    assert response.content_type.startswith("text/html")
    assert stored("audit.view") == stored("audit.export") == stored("audit.verify") == []


def test_auditor_home_links_to_the_audit_screen(auditor) -> None:
    page = auditor.get("/").get_data(as_text=True)
    assert '<a href="/audit">Audit trail</a>' in page


def test_screen_shows_events_newest_first_and_is_on_record(auditor, staff) -> None:
    ids = events_by(staff["nurse"], 3)
    response = auditor.get(f"/audit?{ALL_TIME}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Audit trail</h1>" in page
    shown = [event_id for _, event_id in rows(page)]
    assert shown == sorted(shown, reverse=True) and set(ids) <= set(shown)
    assert "nurse1" in page and "test.event" in page
    (view,) = stored("audit.view")
    assert view.username == "audit"
    assert json.loads(view.detail)["filters"]["from"] == "2000-01-01"


def test_screen_defaults_to_the_last_7_days(app, auditor) -> None:
    from datetime import UTC, datetime

    app.config["MAT_CLOCK"] = lambda: datetime(2026, 11, 16, 9, tzinfo=UTC)
    page = auditor.get("/audit").get_data(as_text=True)
    assert 'name="from" value="2026-11-10"' in page and 'name="to" value="2026-11-16"' in page
    assert link(page, "Download CSV") == "/audit/export.csv?from=2026-11-10&to=2026-11-16"


def test_screen_filters(auditor, staff, patient) -> None:
    nurse_ids = events_by(staff["nurse"], 2)
    doc_ids = events_by(staff["prescriber"], 2, patient_id=patient.id)
    page = auditor.get(f"/audit?{ALL_TIME}&user=nurse1").get_data(as_text=True)
    assert [event_id for _, event_id in rows(page)] == nurse_ids[::-1]
    assert 'name="user" value="nurse1"' in page
    page = auditor.get(f"/audit?{ALL_TIME}&patient_id={patient.id}").get_data(as_text=True)
    assert [event_id for _, event_id in rows(page)] == doc_ids[::-1]
    page = auditor.get(f"/audit?{ALL_TIME}&user=doc&outcome=refused").get_data(as_text=True)
    assert rows(page) == [] and "No events match these filters." in page
    # Empty fields of the form are "not given".
    empty = f"/audit?{ALL_TIME}&user=&patient_id=&outcome="
    assert auditor.get(empty).status_code == 200


def test_refused_rows_are_marked_with_their_rules(auditor, staff) -> None:
    (refused_id,) = events_by(
        staff["nurse"], 1, outcome="refused", rules=["patient_on_hold", "no_active_order"]
    )
    page = auditor.get(f"/audit?{ALL_TIME}&user=nurse1").get_data(as_text=True)
    assert rows(page) == [("refused", refused_id)]
    assert '<code class="rule">patient_on_hold</code>' in page
    assert '<code class="rule">no_active_order</code>' in page
    page = auditor.get(f"/audit?{ALL_TIME}&outcome=refused").get_data(as_text=True)
    assert ("refused", refused_id) in rows(page)


def test_screen_pages_by_100(auditor, staff) -> None:
    ids = events_by(staff["nurse"], 250)
    newest_first = ids[::-1]
    first = auditor.get(f"/audit?{ALL_TIME}&user=nurse1").get_data(as_text=True)
    assert [i for _, i in rows(first)] == newest_first[:100]
    assert "<strong>250</strong> matching events" in first
    assert link(first, "← Newer events") is None
    second = auditor.get(link(first, "Older events →")).get_data(as_text=True)
    assert [i for _, i in rows(second)] == newest_first[100:200]
    third = auditor.get(link(second, "Older events →")).get_data(as_text=True)
    assert [i for _, i in rows(third)] == newest_first[200:]
    assert link(third, "Older events →") is None
    # Back again: the filters travel with the cursor, and new events (these views) do not shift
    # the pages.
    back = auditor.get(link(third, "← Newer events")).get_data(as_text=True)
    assert [i for _, i in rows(back)] == newest_first[100:200]
    assert "user=nurse1" in link(back, "← Newer events")
    assert len(stored("audit.view")) == 4


def test_csv_download_has_the_screen_s_filters(auditor, staff) -> None:
    ids = events_by(staff["nurse"], 3)
    events_by(staff["prescriber"], 2)
    page = auditor.get(f"/audit?{ALL_TIME}&user=nurse1").get_data(as_text=True)
    url = link(page, "Download CSV")
    assert url == f"/audit/export.csv?{ALL_TIME}&user=nurse1"
    response = auditor.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=audit-2000-01-01-2099-12-31.csv"
    )
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert [int(r["id"]) for r in lines] == ids
    assert all(json.loads(r["detail"]) == {} for r in lines)
    (export,) = stored("audit.export")
    assert json.loads(export.detail)["filters"]["user"] == "nurse1"
    assert json.loads(export.detail)["format"] == "csv"


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("from=2026-11-10&to=2026-11-09", "from", "is after to"),
        ("from=2026-02-30", "from", "Use a date as YYYY-MM-DD."),
        ("patient_id=twelve", "patient_id", "Not a valid integer."),
        ("outcome=maybe", "outcome", "Must be one of"),
        ("before=5&after=3", "before", "not both"),
        ("before=99999999999", "before", "less than or equal to 2147483647"),
        ("user=a%01", "user", "Use a username."),
    ],
)
def test_bad_filters_show_on_the_screen_with_422(auditor, query, field, message) -> None:
    response = auditor.get(f"/audit?{query}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"<strong>{FIELD_LABELS[field]}</strong>: " in page and message in page
    assert "<h1>Audit trail</h1>" in page  # the screen again, with its form, to correct it
    assert stored("audit.view") == []


def test_bad_filters_on_the_download_are_422_too(auditor) -> None:
    response = auditor.get("/audit/export.csv?from=2026-11-10&to=2026-11-09")
    assert response.status_code == 422
    assert response.content_type.startswith("text/html")
    assert "is after to" in response.get_data(as_text=True)
    assert stored("audit.export") == []


def _csrf(client: Any) -> str:
    page = client.get(f"/audit?{ALL_TIME}").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_verify_the_chain_from_the_screen(auditor, staff) -> None:
    events_by(staff["nurse"], 3)
    token = _csrf(auditor)
    # The auditor's sign-in, the three events and the view the token came from.
    assert len(db.session.scalars(select(AuditEvent.id)).all()) == 5
    response = auditor.post("/audit/verify", data={"csrf_token": token})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The chain is intact" in page and "<strong>5</strong> events" in page
    (check,) = stored("audit.verify")
    assert json.loads(check.detail) == {"ok": True, "events": 5, "first_bad": None}


def test_verify_shows_the_first_bad_event(auditor, staff) -> None:
    ids = events_by(staff["nurse"], 5)
    tamper(f"UPDATE audit_events SET entity_id = 'forged' WHERE id = {ids[1]}")
    response = auditor.post("/audit/verify", data={"csrf_token": _csrf(auditor)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"The chain is broken at event {ids[1]}" in page
    assert "does not match its hash" in page


def test_verify_needs_the_csrf_token(auditor) -> None:
    assert auditor.post("/audit/verify", data={}).status_code == 400
    assert stored("audit.verify") == []
