"""The reports page ``/reports``: the same downloads as the API, behind a sign-in."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.extensions import db
from tests.auth.test_pages import sign_in
from tests.reports.conftest import DAY1, DAY2, HEADER, expected_rows


def fetch(client, path: str):
    """A page whose body is read at once (a streamed body holds its request context until
    read, and the test client runs the next request in the same thread)."""
    response = client.get(path)
    response.get_data()
    return response


def events(action: str) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(stmt))


def test_signed_out_goes_to_sign_in(client) -> None:
    response = fetch(client, "/reports")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["audit", "boss", "ann"])
def test_the_page_offers_the_log(client, clinic, username) -> None:
    sign_in(client, username)
    page = fetch(client, "/reports").get_data(as_text=True)
    assert "<h1>Reports</h1>" in page
    assert f'name="from" value="{DAY2}"' in page and f'name="to" value="{DAY2}"' in page
    assert ("Patient dosing history" in page) is (username == "audit")
    assert ("one day at a time" in page) is (username == "ann")


def test_the_admin_home_links_to_the_page(client, clinic) -> None:
    sign_in(client, "boss")
    page = fetch(client, "/").get_data(as_text=True)
    assert '<a href="/reports">Dispensing logs and histories</a>' in page


def test_the_page_download_is_the_api_download(client, api, clinic) -> None:
    sign_in(client, "audit")
    query = f"from={DAY1}&to={DAY2}&format=csv&product=&substance=&page=letter"
    page = fetch(client, f"/reports/dispensing-log?{query}")
    assert page.status_code == 200
    assert page.headers["Content-Disposition"].endswith(f"dispensing-log-{DAY1}-{DAY2}.csv")
    from_api = api(
        "get",
        f"/api/v1/reports/dispensing-log?from={DAY1}&to={DAY2}&format=csv",
        as_=clinic.staff["auditor"],
    )
    assert page.get_data() == from_api.get_data()
    text = page.get_data(as_text=True)
    assert text.split("\r\n", 1)[0] == HEADER
    assert list(csv.DictReader(io.StringIO(text, newline=""))) == expected_rows(DAY1, DAY2)
    assert [e.username for e in events("report.dispensing_log")] == ["audit", "audit"]


def test_a_nurse_downloads_one_day_but_not_a_range(client, clinic) -> None:
    sign_in(client, "ann")
    one_day = fetch(client, f"/reports/dispensing-log?from={DAY1}&to={DAY1}&format=pdf")
    assert one_day.status_code == 200 and one_day.mimetype == "application/pdf"
    both = fetch(client, f"/reports/dispensing-log?from={DAY1}&to={DAY2}&format=pdf")
    assert both.status_code == 403 and both.content_type.startswith("text/html")
    assert len(events("report.dispensing_log")) == 1


def test_a_refused_form_is_shown_again_with_422(client, clinic) -> None:
    sign_in(client, "audit")
    response = fetch(client, f"/reports/dispensing-log?from={DAY2}&to={DAY1}&format=csv")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="l-from" name="from" value="2026-11-17" aria-invalid="true"', page)
    assert "is after to" in page
    assert events("report.dispensing_log") == []


def post_history(client, **form: str):
    """The history form as the page sends it: a POST with the page's CSRF token."""
    page = fetch(client, "/reports").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    token = match.group(1) if match else ""
    response = client.post("/reports/history", data={"csrf_token": token, **form})
    response.get_data()
    return response


def test_an_auditor_downloads_a_history_by_mrn(client, clinic) -> None:
    sign_in(client, "audit")
    response = post_history(
        client, mrn="MRN-100", **{"from": str(DAY1), "to": str(DAY2)}, page="a4"
    )
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF-")
    (event,) = events("report.history")
    assert event.patient_id == clinic.patients["cruz"].id
    unknown = post_history(client, mrn="NOPE")
    assert unknown.status_code == 422 and "No patient has the MRN NOPE." in unknown.get_data(
        as_text=True
    )
    assert 'name="mrn" value="NOPE"' in unknown.get_data(as_text=True)
    assert len(events("report.history")) == 1


def test_the_history_form_never_puts_the_mrn_in_an_address(client, clinic) -> None:
    sign_in(client, "audit")
    page = fetch(client, "/reports").get_data(as_text=True)
    assert 'method="post" action="/reports/history"' in page
    assert fetch(client, "/reports/history?mrn=MRN-100").status_code == 405
    assert events("report.history") == []


@pytest.mark.parametrize("username", ["ann", "boss", "doc"])
def test_history_page_is_for_auditors(client, clinic, username) -> None:
    sign_in(client, username)
    assert post_history(client, mrn="MRN-100").status_code == 403
    assert events("report.history") == []


def test_a_prescriber_has_no_reports_page(client, clinic) -> None:
    sign_in(client, "doc")
    assert fetch(client, "/reports").status_code == 403
    assert fetch(client, f"/reports/dispensing-log?from={DAY1}&to={DAY1}").status_code == 403
