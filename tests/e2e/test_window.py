"""What a nurse sees at the dosing window in a browser: find the patient, give, see the dose."""

from __future__ import annotations

from mat.dosing.models import Dose
from tests.e2e.conftest import screenshot, sign_in, submit
from tests.support.checks import count
from tests.support.factories import PASSWORD


def test_a_nurse_finds_the_patient_and_gives_the_dose(page, staff, patient, sign_order) -> None:
    sign_order(patient)
    sign_in(page, "nurse1", PASSWORD)
    submit(page, page.get_by_role("link", name="Dosing window").click)
    page.get_by_label("Patient: name or MRN").fill(patient.mrn)
    submit(page, lambda: page.keyboard.press("Enter"))  # keyboard first: type the MRN, Enter
    screenshot(page, "window-search")
    submit(page, page.get_by_role("link", name=patient.display_name).click)
    bar = page.get_by_label("Patient", exact=True)
    assert patient.mrn in bar.inner_text() and patient.display_name in bar.inner_text()
    screenshot(page, "window-due")
    # once.js (a static file: the policy forbids inline script) disables a form's buttons as it
    # is sent, so a second press sends nothing. Shown on the hold form, stopped before it posts.
    disabled = page.evaluate(
        """() => {
            const form = document.querySelector("form[action$='/hold']");
            form.addEventListener("submit", (event) => event.preventDefault());
            form.querySelector("textarea").value = "checking the button";
            form.requestSubmit();
            return form.querySelector("button").disabled;
        }"""
    )
    assert disabled is True

    submit(page, page.get_by_role("button", name="Give 40 mg (4 mL)").click)
    assert page.get_by_role("status").inner_text().startswith("Recorded: 40 mg (4 mL)")
    row = page.locator("table.doses tbody tr")
    assert row.count() == 1
    assert "40 mg (4 mL)" in row.inner_text() and "given" in row.inner_text().lower()
    assert page.get_by_role("button", name="Give 40 mg (4 mL)").count() == 0
    assert count(Dose) == 1
    screenshot(page, "window-given")
