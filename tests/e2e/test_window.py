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
    page.get_by_label("Scan the patient's card, or type a name or MRN").fill(patient.mrn)
    # Keyboard first: type the MRN (or scan it), Enter; one match opens the patient at once.
    submit(page, lambda: page.keyboard.press("Enter"))
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
    assert count(Dose) == 0  # the confirm step first (the "Recorded" flash is base.html's)
    submit(page, page.get_by_role("button", name="Confirm: give 40 mg (4 mL)").click)
    row = page.locator("table.doses tbody tr")
    assert row.count() == 1
    assert "40 mg (4 mL)" in row.inner_text() and "given" in row.inner_text().lower()
    assert page.get_by_role("button", name="Give 40 mg (4 mL)").count() == 0
    assert count(Dose) == 1
    screenshot(page, "window-given")


def test_the_window_shows_the_2024_rules(page, api, staff, factory, clock, sign_order) -> None:
    """A readmitted patient on a split dose whose evening part goes home, with a reminder that a
    screen is due: the day of treatment, the hand-out button and every sentence on screen."""
    from datetime import time, timedelta

    from tests.conftest import TODAY

    patient = factory.patient(admitted_on=TODAY - timedelta(days=300))
    clock.set(TODAY - timedelta(days=110))
    api("patch", f"/api/v1/patients/{patient.id}", as_=staff["prescriber"],
        json={"status": "discharged"})  # fmt: skip
    clock.set(TODAY)
    api("post", f"/api/v1/patients/{patient.id}/admissions", as_=staff["prescriber"],
        json={"admitted_on": (TODAY - timedelta(days=99)).isoformat(),
              "level_of_care": "maintenance"})  # fmt: skip
    criteria = dict.fromkeys(["no_active_use_or_risk", "regular_attendance",
                              "no_behavioral_problems", "no_diversion",
                              "safe_transport_and_storage"], True)  # fmt: skip
    sign_order(
        patient,
        dose_mg=60,
        split=[{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}],
        take_home={"split_slots": ["pm"], "criteria": criteria},
    )
    api("post", f"/api/v1/patients/{patient.id}/drug-screens", as_=staff["nurse"],
        json={"collected_on": (TODAY - timedelta(days=12)).isoformat(),
              "results": {"methadone": "positive", "fentanyl": "negative"}})  # fmt: skip
    sign_in(page, "nurse1", PASSWORD)
    page.goto(f"/window/{patient.id}")
    submit(page, page.get_by_role("button", name="Give 30 mg (3 mL)").click)
    submit(page, page.get_by_role("button", name="Confirm: give 30 mg (3 mL)").click)
    clock.set(TODAY, time(9, 4))
    page.goto(f"/window/{patient.id}")
    bar = page.get_by_label("Patient", exact=True).inner_text()
    assert "treatment day 100" in bar and "episode 2" in bar
    assert page.get_by_role("button", name="Hand out 30 mg (3 mL) to take home (pm)").count() == 1
    assert "drug_screen_frequency" in page.content()
    screenshot(page, "window-split-take-home")
    submit(page, page.get_by_role("button", name="Hand out 30 mg (3 mL) to take home (pm)").click)
    submit(page, page.get_by_role("button", name="Confirm: hand out 30 mg (3 mL)").click)
    assert count(Dose) == 2
    screenshot(page, "window-split-take-home-given")
