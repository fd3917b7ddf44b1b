"""The nurse's day on the patient page: the confirm step before Give, a withheld dose's trace,
take-home dates refused before they are ticked, refusals in plain words, drug screens, a void
or spill witnessed by a second nurse signing in on the same screen, late entries and the
two-week history. Through the real HTTP stack, as tests/dosing/test_window_pages.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mat.dosing.models import Dose, DoseCorrection, DrugScreen, WithheldDose
from tests.auth.test_pages import sign_in
from tests.conftest import TODAY
from tests.dosing.test_window_pages import flashed, give_form, hidden, post, text_of
from tests.support.checks import count
from tests.support.factories import PASSWORD

SATURDAY = TODAY + timedelta(days=5)
SCHEMA_WORDS = ("Length must be", "Missing data", "Not a valid", "status 422", "Code invalid")


@pytest.fixture
def nurse(client: Any, staff: dict[str, Any]) -> Any:
    sign_in(client, "nurse1")
    return client


@pytest.fixture
def page(nurse: Any, patient: Any) -> Any:
    def read() -> str:
        response = nurse.get(f"/window/{patient.id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return text_of(response)

    return read


def confirm_page(nurse: Any, patient: Any, window: str) -> Any:
    """Press Give: the confirm step's page."""
    form = {k: v for k, v in give_form(window).items() if k != "confirm"}
    return nurse.post(f"/window/{patient.id}/give/confirm", data=form)


def no_schema_words(text: str) -> None:
    for words in SCHEMA_WORDS:
        assert words not in text, words


# ---- the confirm step ---------------------------------------------------------------------


def test_give_leads_to_a_confirm_page_that_records_nothing(nurse, page, patient, sign_order):
    sign_order(patient)
    window = page()
    assert f'action="/window/{patient.id}/give/confirm"' in window
    response = confirm_page(nurse, patient, window)
    assert response.status_code == 200
    text = text_of(response)
    assert patient.display_name in text and patient.date_of_birth.isoformat() in text
    assert "Methadone" in text and "40 mg = 4 mL" in text
    assert "Confirm: give 40 mg (4 mL)" in text
    assert count(Dose) == 0
    done = nurse.post(f"/window/{patient.id}/give", data=give_form(text))
    assert done.status_code == 303 and count(Dose) == 1
    again = nurse.post(f"/window/{patient.id}/give", data=give_form(text))  # double confirm
    assert again.status_code == 409 and count(Dose) == 1


def test_give_without_the_confirm_step_records_nothing(nurse, page, patient, sign_order):
    sign_order(patient)
    form = {k: v for k, v in give_form(page()).items() if k != "confirm"}
    response = nurse.post(f"/window/{patient.id}/give", data=form)
    assert response.status_code == 422
    text = text_of(response)
    assert "needs the confirm step" in text and patient.mrn in text
    no_schema_words(text)
    assert count(Dose) == 0


def test_the_confirm_page_refuses_a_dose_no_longer_due(nurse, page, patient, sign_order):
    sign_order(patient)
    window = page()
    assert post(nurse, patient, "hold", {"reason": "Appears sedated"}, window).status_code == 303
    response = confirm_page(nurse, patient, window)
    assert response.status_code == 409
    assert "patient_on_hold" in text_of(response) and "Confirm:" not in text_of(response)


def test_a_prescriber_cannot_open_the_confirm_step(client, staff, patient, sign_order) -> None:
    sign_order(patient)
    sign_in(client, "doc")
    token = hidden(client.get("/").get_data(as_text=True), "csrf_token")
    data = {"csrf_token": token, "token": "t", "amount_mg": "40", "slot": "daily"}
    assert client.post(f"/window/{patient.id}/give/confirm", data=data).status_code == 403


def test_a_solid_form_says_how_many_units_of_which_strength(nurse, page, patient, sign_order):
    sign_order(patient, medication="BUPNX-FILM-8", dose_mg=16)
    window = page()
    assert "Give 16 mg (2 films of 8 mg)" in window
    assert "16 mg = 2 films of 8 mg" in text_of(confirm_page(nurse, patient, window))


# ---- found by trying ----------------------------------------------------------------------


def test_a_withheld_dose_leaves_its_trace_on_the_window(nurse, page, patient, sign_order):
    sign_order(patient)
    done = post(nurse, patient, "withhold", {"reason": "Smelled of alcohol"}, page())
    assert done.status_code == 303 and count(WithheldDose) == 1
    window = page()  # and after any reload
    assert "Withheld at 09:00 by TU: Smelled of alcohol" in window
    assert "Due now" not in window
    assert 'id="withhold-reason"' not in window  # withheld once a day


def test_plain_words_replace_schema_messages(nurse, page, patient, sign_order) -> None:
    sign_order(patient)
    refused = post(nurse, patient, "withhold", {"reason": "ab"}, page())
    assert refused.status_code == 422
    text = text_of(refused)
    assert "Reason" in text and "Write at least 3 characters" in text
    no_schema_words(text)
    assert count(WithheldDose) == 0


def test_take_home_dates_a_rule_refuses_are_shown_before_ticking(
    page, patient, sign_order, take_home_criteria
) -> None:
    sign_order(patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria})
    window = page()
    saturday = SATURDAY.isoformat()
    assert f'value="{saturday}" disabled' in window
    assert f'id="refused-{saturday}"' in window and "take_home_drug_screen" in window
    assert "Hand out the ticked days" not in window
    take_homes = window[window.index('id="take-home-title"') :]
    assert "40 mg (4 mL)" in take_homes[: take_homes.index("</section>")]  # mL for methadone


# ---- drug screens -------------------------------------------------------------------------


def test_a_screen_is_recorded_and_listed_with_positives(nurse, page, patient) -> None:
    data = {
        "collected_on": TODAY.isoformat(),
        "result_fentanyl": "positive",
        "result_methadone": "negative",
        "result_cocaine": "",
    }
    done = post(nurse, patient, "screens", data, page())
    assert done.status_code == 303 and count(DrugScreen) == 1
    screen = DrugScreen.query.one()
    assert screen.result_map == {"fentanyl": "positive", "methadone": "negative"}
    assert "positive for fentanyl" in flashed(nurse)[0]
    assert '<span class="tag bad">fentanyl</span>' in page()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"collected_on": TODAY.isoformat()}, "at least one substance"),
        ({"collected_on": "", "result_fentanyl": "negative"}, "Date collected"),
        (
            {"collected_on": (TODAY + timedelta(days=1)).isoformat(), "result_opiates": "negative"},
            "future",
        ),
        ({"collected_on": TODAY.isoformat(), "result_opiates": "maybe"}, "listed options"),
    ],
)
def test_a_bad_screen_is_refused_in_plain_words(nurse, page, patient, data, words) -> None:
    refused = post(nurse, patient, "screens", data, page())
    assert refused.status_code == 422
    text = text_of(refused)
    assert words in text
    no_schema_words(text)
    assert count(DrugScreen) == 0


# ---- void or spill, witnessed on the same screen -----------------------------------------


@pytest.fixture
def given(nurse, page, patient, sign_order) -> Dose:
    sign_order(patient)
    assert nurse.post(f"/window/{patient.id}/give", data=give_form(page())).status_code == 303
    return Dose.query.one()


def correct(nurse: Any, patient: Any, dose: Dose, window: str, **fields: str) -> Any:
    data = {
        "kind": "void",
        "reason": "Recorded for the wrong patient",
        "witness_username": "nurse2",
        "witness_password": PASSWORD,
        **fields,
    }
    return post(nurse, patient, f"doses/{dose.id}/correct", data, window)


def test_a_void_is_witnessed_by_a_second_nurse_on_the_same_screen(nurse, page, patient, given):
    window = page()
    assert f'action="/window/{patient.id}/doses/{given.id}/correct"' in window
    done = correct(nurse, patient, given, window)
    assert done.status_code == 303 and count(DoseCorrection) == 1
    assert "witnessed by" in flashed(nurse)[-1]
    window = page()
    assert ">voided<" in window and "Due now" in window  # the slot may be dosed again


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"witness_password": "wrong"}, "username or password is wrong"),
        ({"witness_username": "nurse1"}, "a second nurse, not the one"),
        ({"witness_username": "doc"}, "is not a nurse"),
        ({"witness_username": "", "witness_password": ""}, "A second nurse confirms"),
        ({"kind": ""}, "What happened"),
        ({"reason": ""}, "Reason"),
    ],
)
def test_a_correction_is_refused_in_plain_words(nurse, page, patient, given, fields, words):
    refused = correct(nurse, patient, given, page(), **fields)
    assert refused.status_code == 422
    text = text_of(refused)
    assert words in text
    no_schema_words(text)
    assert count(DoseCorrection) == 0


def test_failed_witness_passwords_are_limited_but_other_refusals_are_not(
    nurse, page, patient, given
) -> None:
    window = page()
    for _ in range(12):  # a correction without its reason: never locks the window out
        assert correct(nurse, patient, given, window, reason="").status_code == 422
    statuses = [
        correct(nurse, patient, given, window, witness_password="guess-123456").status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    assert count(DoseCorrection) == 0


def test_a_dose_of_another_patient_is_not_corrected_here(nurse, page, factory, given) -> None:
    other = factory.patient(family_name="Elsewhere")
    response = correct(nurse, other, given, page())
    assert response.status_code == 404 and count(DoseCorrection) == 0


def test_an_auditor_cannot_correct(client, staff, patient, given) -> None:
    token = hidden(client.get("/").get_data(as_text=True), "csrf_token")
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, "audit")
    token = hidden(client.get("/").get_data(as_text=True), "csrf_token")
    data = {"csrf_token": token, "kind": "void", "reason": "xyz"}
    response = client.post(f"/window/{patient.id}/doses/{given.id}/correct", data=data)
    assert response.status_code == 403 and count(DoseCorrection) == 0


# ---- late entry and the history -----------------------------------------------------------


@pytest.fixture
def since_last_week(patient, sign_order, clock):
    clock.set(TODAY - timedelta(days=3))
    sign_order(patient)
    clock.set(TODAY)


def late(nurse: Any, patient: Any, window: str, **fields: str) -> Any:
    data = {
        "date": (TODAY - timedelta(days=1)).isoformat(),
        "amount_mg": "40",
        "late_entry_reason": "Network down all afternoon",
        **fields,
    }
    return post(nurse, patient, "late-entry", data, window)


def test_a_late_entry_is_recorded_and_shown_in_the_history(
    nurse, page, patient, since_last_week
) -> None:
    done = late(nurse, patient, page())
    assert done.status_code == 303 and count(Dose) == 1
    assert Dose.query.one().late_entry_reason == "Network down all afternoon"
    window = page()
    assert "Doses since" in window and "late entry" in window and "40 mg (4 mL)" in window


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"late_entry_reason": ""}, "Say why this dose is entered late"),
        ({"date": (TODAY - timedelta(days=8)).isoformat()}, "Back-entry is limited"),
        ({"date": TODAY.isoformat()}, "Give button"),
        ({"amount_mg": "forty"}, "Enter a number"),
        ({"amount_mg": "45"}, "amount_mismatch"),
    ],
)
def test_a_late_entry_is_refused_in_plain_words(
    nurse, page, patient, since_last_week, fields, words
) -> None:
    refused = late(nurse, patient, page(), **fields)
    assert refused.status_code == 422
    text = text_of(refused)
    assert words in text
    no_schema_words(text)
    assert count(Dose) == 0


def test_a_warning_is_shown_apart_from_the_rules_that_refused(
    nurse, page, api, staff, patient, sign_order
) -> None:
    sign_order(patient)
    closure = {"date": SATURDAY.isoformat(), "reason": "Holiday"}
    assert api("post", "/api/v1/closures", as_=staff["admin"], json=closure).status_code == 201
    window = page()
    assert f'value="{SATURDAY.isoformat()}"' in window  # a closure day: one take-home allowed
    assert post(nurse, patient, "hold", {"reason": "Appears sedated"}, window).status_code == 303
    refused = post(nurse, patient, "take-homes", {"dates": [SATURDAY.isoformat()]}, page())
    assert refused.status_code == 422
    text = text_of(refused)
    not_done = text[text.index("Not done") : text.index("Nothing was recorded")]
    assert "patient_on_hold" in not_done and "clinic_closed" not in not_done
    noted = text[text.index('aria-label="Warnings"') :]
    assert "clinic_closed" in noted[: noted.index("</div>")]
    assert count(Dose) == 0


@pytest.mark.parametrize("username", ["doc", "audit", "boss"])
@pytest.mark.parametrize("action", ["give/confirm", "screens", "late-entry", "doses/1/correct"])
def test_only_a_nurse_records_at_the_window(client, staff, patient, username, action) -> None:
    sign_in(client, username)
    token = hidden(client.get("/").get_data(as_text=True), "csrf_token")
    data = {
        "csrf_token": token,
        "collected_on": TODAY.isoformat(),
        "result_fentanyl": "negative",
        "date": (TODAY - timedelta(days=1)).isoformat(),
        "amount_mg": "40",
        "late_entry_reason": "Network down",
    }
    response = client.post(f"/window/{patient.id}/{action}", data=data)
    assert response.status_code == 403 and "dispenser_required" in text_of(response)
    assert count(DrugScreen) == 0 and count(Dose) == 0
