"""What a person sees in a browser: sign-in, each role's home, the auditor's trail."""

from __future__ import annotations

import csv
import io

from tests.e2e.conftest import screenshot, sign_in, submit
from tests.support.factories import PASSWORD


def test_a_nurse_signs_in_and_out(page, staff) -> None:
    page.goto("/")
    assert page.url.endswith("/login?next=%2F%3F") or "/login" in page.url
    screenshot(page, "login")
    sign_in(page, "nurse1", PASSWORD)
    assert page.locator("h1").inner_text().startswith("Good to see you")
    assert page.get_by_role("heading", name="Dosing window").is_visible()
    screenshot(page, "home-nurse")
    submit(page, page.get_by_role("button", name="Sign out").click)
    assert "/login" in page.url


def test_a_wrong_password_is_said_on_the_form(page, staff) -> None:
    sign_in(page, "nurse1", "not-the-password")
    assert page.get_by_text("Wrong username or password.").is_visible()
    assert "/login" in page.url


def test_an_auditor_filters_the_trail_and_downloads_it(page, staff, api, patient) -> None:
    api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"])  # an audited read
    sign_in(page, "audit", PASSWORD)
    submit(page, page.get_by_role("link", name="Audit trail").click)
    page.fill("input[name=user]", "nurse1")
    submit(page, page.get_by_role("button", name="Show").click)
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    assert "opened a patient's record" in page.locator("tbody").inner_text()  # in words
    screenshot(page, "audit-trail")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    events = list(csv.DictReader(io.StringIO(text)))
    assert {e["username"] for e in events} == {"nurse1"}
    assert any(e["action"] == "patient.read" for e in events)


def test_a_nurse_is_refused_the_audit_screen(page, staff) -> None:
    sign_in(page, "nurse1", PASSWORD)
    response = page.goto("/audit")
    assert response.status == 403
    assert "role" in page.locator("main").inner_text().lower()
