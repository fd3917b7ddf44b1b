"""A nurse's day at the window in a browser: give through the confirm step, see a refusal,
record a screen, and void a dose with a second nurse signing in on the same screen."""

from __future__ import annotations

from mat.dosing.models import Dose, DoseCorrection, DrugScreen
from tests.e2e.conftest import screenshot, sign_in, submit
from tests.support.checks import count
from tests.support.factories import PASSWORD

SIZES = {"1280": (1280, 800), "1366": (1366, 768), "phone": (390, 844)}


def shots(page, name: str) -> None:
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_nurse_works_through_the_day(page, staff, patient, sign_order) -> None:
    sign_order(patient)
    sign_in(page, "nurse1", PASSWORD)
    page.goto(f"/window/{patient.id}")
    shots(page, "day-due")
    # At phone width the Give button is on the first screen, without scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    box = page.get_by_role("button", name="Give 40 mg (4 mL)").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844
    page.set_viewport_size({"width": 1280, "height": 800})

    # A second window (another tab) reaches the confirm step for the same dose.
    other = page.context.new_page()
    other.goto(f"/window/{patient.id}")
    submit(other, other.get_by_role("button", name="Give 40 mg (4 mL)").click)

    submit(page, page.get_by_role("button", name="Give 40 mg (4 mL)").click)
    assert count(Dose) == 0  # the confirm step records nothing
    check = page.get_by_role("region", name="Check before you give").inner_text()
    assert patient.display_name in check and patient.date_of_birth.isoformat() in check
    assert "40 mg = 4 mL" in check
    shots(page, "day-confirm")
    submit(page, page.get_by_role("button", name="Confirm: give 40 mg (4 mL)").click)
    assert count(Dose) == 1
    row = page.locator("table.doses tbody tr").first
    assert "40 mg (4 mL)" in row.inner_text() and "given" in row.inner_text().lower()
    shots(page, "day-given")

    # The second window confirms too: a second dose the same day is refused, in words.
    submit(other, other.get_by_role("button", name="Confirm: give 40 mg (4 mL)").click)
    alert = other.get_by_role("alert").first.inner_text()
    assert "Not done" in alert and "already_dosed" in alert and "status" not in alert
    shots(other, "day-refused")
    other.close()
    assert count(Dose) == 1

    # A screen, positive for fentanyl.
    page.get_by_text("Record a screen").click()
    page.get_by_label("fentanyl: positive").check()
    page.get_by_label("methadone: negative").check()
    submit(page, page.get_by_role("button", name="Record the screen").click)
    assert count(DrugScreen) == 1
    screens = page.get_by_role("region", name="Drug screens").inner_text()
    assert "fentanyl" in screens.lower()

    # A void, with the second nurse signing in on this screen.
    page.get_by_text("Void or spill the").click()
    page.get_by_label("Void: recorded in error").check()
    page.locator("details.correct textarea").fill("Recorded for the wrong patient")
    page.get_by_label("Witness's username").fill("nurse2")
    page.get_by_label("Witness's password").fill(PASSWORD)
    shots(page, "day-void-form")
    submit(page, page.get_by_role("button", name="Record the correction").click)
    assert count(DoseCorrection) == 1
    assert "voided" in page.locator("table.doses tbody tr").first.inner_text().lower()
    shots(page, "day-voided")
    page.get_by_text("Record a dose given while mat was down").click()
    assert page.get_by_label("Why it is entered late (required)").is_visible()
    shots(page, "day-late-entry-form")


def test_what_a_new_nurse_found_by_trying(
    page, api, staff, patient, sign_order, take_home_criteria
) -> None:
    """A withheld dose stays on the window after a reload; take-home dates a rule refuses are
    disabled with the reason; a long medication name wraps in its column at 1280 px."""
    from mat.extensions import db
    from mat.formulary.models import Medication

    medication = db.session.scalar(db.select(Medication).where(Medication.code == "METH-10MGML"))
    medication.name = "Methadone hydrochloride oral concentrate, dye-free and sugar-free, 10 mg/mL"
    db.session.commit()
    sign_order(patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria})
    sign_in(page, "nurse1", PASSWORD)
    page.goto(f"/window/{patient.id}")
    page.set_viewport_size({"width": 1280, "height": 800})
    name = page.locator("dl.facts > div").first.bounding_box()
    slot = page.locator("dl.facts > div").nth(1).bounding_box()
    assert name is not None and slot is not None
    assert name["x"] + name["width"] <= slot["x"]  # the name wraps, the slot is not overprinted
    saturday = page.get_by_role("region", name="Take-home doses, the coming week")
    assert saturday.locator("input[type=checkbox]").first.is_disabled()
    assert "take_home_drug_screen" in saturday.inner_text()
    shots(page, "day-take-homes-refused")

    page.get_by_label("Reason (required)").first.fill("Smelled of alcohol")
    submit(page, page.get_by_role("button", name="Withhold").click)
    page.reload()
    status = page.locator(".plan .status").inner_text()
    assert status.startswith("Withheld at 09:00 by TU: Smelled of alcohol")
    assert "Due now" not in page.locator("main").inner_text()
    shots(page, "day-withheld")
