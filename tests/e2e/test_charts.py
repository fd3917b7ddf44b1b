"""What a prescriber does in a browser: find the patient, preview and sign an order, end a
missed-dose block; the nurse's window shows the result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mat.orders.models import Order
from tests.conftest import TODAY
from tests.e2e.conftest import screenshot, sign_in, submit
from tests.support.checks import count
from tests.support.factories import PASSWORD

JUSTIFICATION = "Tolerant from a prior program; seen daily for sedation."


def both_sizes(page: Any, name: str) -> None:
    """A screenshot at a laptop's 1366x768 and a 10-inch tablet's 800x1280."""
    for width, height in ((1366, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{name}-{width}x{height}")
    page.set_viewport_size({"width": 1200, "height": 900})


def test_a_prescriber_signs_a_justified_titration_and_the_nurse_sees_it(
    page, live_server, staff, patient, api
) -> None:
    api("post", f"/api/v1/patients/{patient.id}/drug-screens", as_=staff["nurse"],
        json={"collected_on": (TODAY - timedelta(days=3)).isoformat(),
              "results": {"methadone": "positive", "fentanyl": "positive"}})  # fmt: skip
    sign_in(page, "doc", PASSWORD)
    page.goto("/charts")
    search = page.get_by_label("Patient: name or MRN")
    assert search.evaluate("el => el === document.activeElement")  # keyboard first
    search.fill(patient.mrn)
    submit(page, lambda: page.keyboard.press("Enter"))  # one match: the chart opens
    assert page.url.endswith(f"/charts/{patient.id}")
    assert patient.display_name in page.get_by_label("Patient", exact=True).inner_text()
    assert "fentanyl: positive (unexpected)" in page.inner_text("body")
    submit(page, page.get_by_role("link", name="New order").click)

    page.get_by_label("Medication", exact=True).select_option("METH-10MGML")
    page.get_by_label("Kind of order").select_option("titration")
    titration = page.locator("fieldset").first
    titration.get_by_label("Start dose (mg)").first.fill("30")
    page.get_by_label("Step up (mg)").fill("15")
    page.get_by_label("Every … days").first.fill("2")
    page.get_by_label("Target dose (mg)").fill("60")
    submit(page, page.get_by_role("button", name="Preview").click)
    preview = page.locator("section.preview")
    assert "Needs your justification" in preview.inner_text()
    assert preview.locator("svg").count() == 1
    both_sizes(page, "charts-preview")

    page.get_by_role("button", name="Sign this order").click()  # no justification yet
    box = page.get_by_label("Justification (a rule above needs it)")
    assert box.evaluate("el => el.matches(':invalid')")  # the browser asks for it first
    assert count(Order) == 0  # (the server refuses it too: tests/charts/test_order_pages.py)
    page.get_by_label("Justification (a rule above needs it)").fill(JUSTIFICATION)
    submit(page, page.get_by_role("button", name="Sign this order").click)
    assert page.url.endswith(f"/charts/{patient.id}")
    assert "titration: 30 mg a day, changing in 2 steps to 60 mg" in page.inner_text("body")
    assert count(Order) == 1
    both_sizes(page, "charts-chart")

    # The nurse, in a browser of her own, sees the new dose at the window.
    nurse = page.context.browser.new_context(base_url=live_server)
    try:
        window = nurse.new_page()
        sign_in(window, "nurse1", PASSWORD)
        window.goto(f"/window/{patient.id}")
        plan = window.locator("section.plan").inner_text()
        assert "Due now" in plan and "30 mg" in plan and "3 mL" in plan
        screenshot(window, "charts-nurse-window")
    finally:
        nurse.close()


def test_a_prescriber_ends_a_missed_dose_block_with_a_reduced_order(
    page, staff, patient, sign_order, give, clock
) -> None:
    sign_order(patient, dose_mg=60)
    assert give(patient, 60).status_code == 201
    clock.set(TODAY + timedelta(days=4))  # Tuesday, Wednesday and Thursday missed
    sign_in(page, "doc", PASSWORD)
    page.goto(f"/charts/{patient.id}")
    today = page.locator("section.today").inner_text()
    assert "No dose: blocked" in today and "at most 30 mg" in today
    both_sizes(page, "charts-missed-block")
    submit(page, page.get_by_role("link", name="Write the reduced order").click)
    assert page.get_by_label("Daily dose (mg): maintenance or induction").input_value() == "30"
    submit(page, page.get_by_role("button", name="Preview").click)
    assert "No rule fires on this order." in page.locator("section.preview").inner_text()
    submit(page, page.get_by_role("button", name="Sign this order").click)
    assert "Dose due: 30 mg" in page.locator("section.today").inner_text()
    assert count(Order) == 2
    screenshot(page, "charts-missed-ended")


def test_the_chart_draws_its_marks(page, staff, patient, sign_order, give, api, clock) -> None:
    """Withheld, voided, closed and hold days on the 90-day chart; the table says the same."""

    def day(n: int) -> str:
        return (TODAY + timedelta(days=n)).isoformat()

    sign_order(patient, dose_mg=40)
    api("post", "/api/v1/closures", as_=staff["admin"], json={"date": day(3), "reason": "Snow"})
    give(patient, 40)
    clock.set(TODAY + timedelta(days=1))
    dose = give(patient, 40).get_json()
    api("post", f"/api/v1/doses/{dose['id']}/corrections", as_=staff["nurse"],
        json={"kind": "void", "reason": "Wrong bottle.",
              "witness": {"username": "nurse2", "password": PASSWORD}})  # fmt: skip
    clock.set(TODAY + timedelta(days=2))
    api("post", f"/api/v1/patients/{patient.id}/doses/withheld", as_=staff["nurse"],
        json={"reason": "Drowsy"})  # fmt: skip
    clock.set(TODAY + timedelta(days=4))
    api("post", f"/api/v1/patients/{patient.id}/holds", as_=staff["nurse"],
        json={"reason": "Sedated at the window"})  # fmt: skip
    sign_in(page, "doc", PASSWORD)
    page.goto(f"/charts/{patient.id}")
    page.get_by_text("The same days as a table").click()  # the text alternative opens
    assert page.locator("table.days-table").is_visible()
    assert page.locator("svg.dose-chart .mark-withheld").count() == 1
    both_sizes(page, "charts-marks")
