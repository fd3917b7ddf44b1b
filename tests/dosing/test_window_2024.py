"""The nurse's window shows the 2024 rules with their sentences: the day of treatment in the
current episode, the split part handed out to take home, a closure day with a positive screen,
exception dates, loss reports and the screen reminder."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from mat.dosing.models import Dose
from tests.auth.test_pages import sign_in
from tests.conftest import TODAY
from tests.dosing.test_window_pages import give_form, nurse, post, text_of, window
from tests.support.checks import count
from tests.support.factories import PASSWORD

__all__ = ["nurse", "window"]  # fixtures used here

THURSDAY = TODAY + timedelta(days=3)


def api_post(api: Any, path: str, who: Any, body: dict[str, Any]) -> Any:
    response = api("post", path, as_=who, json=body)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def test_the_bar_shows_the_day_of_treatment_and_the_episode(window, patient) -> None:
    page = text_of_page(window())
    assert "treatment day 15" in page and "(episode 1, admitted 2026-11-02)" in page


def text_of_page(page: str) -> str:
    return " ".join(page.split())


def test_other_prescribed_substances_are_shown(api, staff, window, patient) -> None:
    api("patch", f"/api/v1/patients/{patient.id}", as_=staff["prescriber"],
        json={"other_prescribed": ["benzodiazepines"]})  # fmt: skip
    assert "also prescribed: benzodiazepines" in text_of_page(window())


def test_the_split_take_home_part_is_handed_out_from_the_page(
    api, staff, nurse, window, patient, sign_order, take_home_criteria, clock
) -> None:
    sign_order(
        patient,
        dose_mg=60,
        split=[{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}],
        take_home={"split_slots": ["pm"], "criteria": take_home_criteria},
    )
    api_post(api, f"/api/v1/patients/{patient.id}/drug-screens", staff["nurse"],
             {"collected_on": TODAY.isoformat(), "results": {"methadone": "positive"}})  # fmt: skip
    assert "Give 30 mg (3 mL)" in window()
    assert post(nurse, patient, "give", give_form(window()), window()).status_code == 303
    clock.set(TODAY, time(9, 2))
    page = window()
    assert "Hand out 30 mg (3 mL) to take home (pm)" in page
    assert "the patient takes it later" in page
    done = post(nurse, patient, "give", give_form(page), page)
    assert done.status_code == 303
    assert [d.mode for d in Dose.query.order_by(Dose.id)] == ["observed", "take_home"]


def test_a_closure_day_with_a_positive_screen_is_handed_out_from_the_page(
    api, staff, nurse, window, patient, sign_order
) -> None:
    sign_order(patient)
    api_post(api, "/api/v1/closures", staff["admin"],
             {"date": THURSDAY.isoformat(), "reason": "Snowstorm"})  # fmt: skip
    api_post(api, f"/api/v1/patients/{patient.id}/drug-screens", staff["nurse"],
             {"collected_on": TODAY.isoformat(), "results": {"fentanyl": "positive"}})  # fmt: skip
    page = window()
    assert f'value="{THURSDAY.isoformat()}"' in page and "clinic closed" in page
    done = post(nurse, patient, "take-homes", {"dates": [THURSDAY.isoformat()]}, page)
    assert done.status_code == 303, text_of(done)
    assert count(Dose) == 1 and Dose.query.one().closure_dose is True


def test_exception_dates_and_loss_reports_are_shown_before_handing_out(
    api, staff, nurse, window, patient, sign_order, take_home_criteria, clock
) -> None:
    saturday = TODAY + timedelta(days=5)
    clock.set(TODAY + timedelta(days=4), time(15, 0))  # Friday
    sign_in(nurse, "nurse1")  # Monday's session ended after 15 minutes idle
    sign_order(patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria})
    api_post(api, f"/api/v1/patients/{patient.id}/take-home-exceptions", staff["prescriber"], {
        "number": "SMA-9", "approved_by": "State OTA", "approved_on": TODAY.isoformat(),
        "from": saturday.isoformat(), "to": saturday.isoformat(), "reason": "Travel for work.",
    })  # fmt: skip
    assert "exception SMA-9" in window()
    api_post(api, f"/api/v1/patients/{patient.id}/drug-screens", staff["nurse"],
             {"collected_on": TODAY.isoformat(), "results": {"methadone": "positive"}})  # fmt: skip
    api_post(api, f"/api/v1/patients/{patient.id}/doses", staff["nurse"], {"amount_mg": 40})
    doses = api_post(
        api,
        f"/api/v1/patients/{patient.id}/take-homes",
        staff["nurse"],
        {"dates": [saturday.isoformat(), (saturday + timedelta(days=1)).isoformat()]},
    )
    for dose in doses["doses"]:
        api_post(api, f"/api/v1/doses/{dose['id']}/loss-reports", staff["nurse"],
                 {"kind": "lost", "reported_on": (TODAY + timedelta(days=4)).isoformat(),
                  "note": "Dropped both bottles."})  # fmt: skip
    page = text_of_page(window())
    assert "take_home_loss" in page
    assert "2 take-home doses were reported lost, stolen or spilled in the last 90 days" in page


def test_the_plan_shows_the_screen_reminder(nurse, factory, sign_order) -> None:
    patient = factory.patient(admitted_on=TODAY - timedelta(days=60))
    sign_order(patient)
    page = text_of_page(text_of(nurse.get(f"/window/{patient.id}")))
    assert "drug_screen_frequency" in page
    assert "0 urine drug screens in the 61 days of treatment since 2026-09-17; 1 is due" in page


def test_a_late_take_home_void_says_to_report_a_loss(api, staff, patient, sign_order, clock):
    # The witness form is the API's; the refusal's sentence points at the loss report.
    sign_order(patient, take_home={"weekdays": ["sat"], "criteria": {
        "no_active_use_or_risk": True, "regular_attendance": True, "no_behavioral_problems": True,
        "no_diversion": True, "safe_transport_and_storage": True}})  # fmt: skip
    api_post(api, f"/api/v1/patients/{patient.id}/drug-screens", staff["nurse"],
             {"collected_on": TODAY.isoformat(), "results": {"methadone": "positive"}})  # fmt: skip
    api_post(api, f"/api/v1/patients/{patient.id}/doses", staff["nurse"], {"amount_mg": 40})
    saturday = TODAY + timedelta(days=5)
    [dose] = api_post(api, f"/api/v1/patients/{patient.id}/take-homes", staff["nurse"],
                      {"dates": [saturday.isoformat()]})["doses"]  # fmt: skip
    clock.set(TODAY + timedelta(days=1))
    refused = api("post", f"/api/v1/doses/{dose['id']}/corrections", as_=staff["nurse"], json={
        "kind": "void", "reason": "Wrong bottle.",
        "witness": {"username": "nurse2", "password": PASSWORD}})  # fmt: skip
    assert refused.status_code == 422
    assert "loss-reports" in refused.get_json()["error"]["violations"][0]["message"]


def test_the_plan_says_before_the_press_that_the_take_home_part_is_refused(
    api, staff, window, patient, sign_order, take_home_criteria, give
) -> None:
    sign_order(
        patient,
        dose_mg=60,
        split=[{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}],
        take_home={"split_slots": ["pm"], "criteria": take_home_criteria},
    )
    api_post(api, f"/api/v1/patients/{patient.id}/drug-screens", staff["nurse"],
             {"collected_on": TODAY.isoformat(), "results": {"fentanyl": "positive"}})  # fmt: skip
    assert give(patient, 30).status_code == 201
    page = text_of_page(window())
    assert "Do not dose: blocked" in page and "take_home_drug_screen" in page
    assert "Hand out" not in page
