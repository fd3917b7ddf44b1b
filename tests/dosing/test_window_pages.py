"""The nurse's dosing window through the real HTTP stack: signed in with the form, CSRF tokens
read from the page, the same services and rules as the JSON API."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.dosing.models import Dose, Hold, WithheldDose
from mat.extensions import db
from tests.auth.test_pages import sign_in
from tests.conftest import TODAY
from tests.support.checks import audited_refusals, count

FRIDAY, SATURDAY, SUNDAY = (TODAY + timedelta(days=n) for n in (4, 5, 6))


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} in the page"
    return html.unescape(match.group(1))


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def nurse(client: Any, staff: dict[str, Any]) -> Any:
    sign_in(client, "nurse1")
    return client


@pytest.fixture
def window(nurse: Any, patient: Any) -> Any:
    """``window()``: the patient's page (status 200) as text."""

    def read() -> str:
        response = nurse.get(f"/window/{patient.id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True)

    return read


def give_form(page: str) -> dict[str, str]:
    """The Give form's fields, as the confirm page posts them (``confirm=yes``)."""
    names = ("csrf_token", "token", "amount_mg", "slot", "date")
    return {**{name: hidden(page, name) for name in names}, "confirm": "yes"}


def post(client: Any, patient: Any, action: str, data: dict[str, Any], page: str) -> Any:
    return client.post(
        f"/window/{patient.id}/{action}", data={"csrf_token": hidden(page, "csrf_token"), **data}
    )


def flashed(client: Any) -> list[str]:
    """The flash messages waiting for the next page (base.html shows them once)."""
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def refusals() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")))


# ---- reading ------------------------------------------------------------------------------


def test_the_plan_shows_the_dose_in_mg_and_ml(window, patient, sign_order) -> None:
    sign_order(patient)
    page = window()
    assert patient.display_name in page and patient.mrn in page
    assert "Due now" in page
    assert "40 mg" in page and "4 mL" in page
    assert "Give 40 mg (4 mL)" in page
    assert Decimal(hidden(page, "amount_mg")) == 40  # the order's amount; the nurse types none


def test_without_an_order_the_page_says_why_and_offers_no_dose(window, patient) -> None:
    page = window()
    assert "No dose planned today" in page and "Give" not in page


def search(client: Any, q: str) -> Any:
    """The search form as the page sends it: the term in a POST body, with the CSRF token."""
    form = client.get("/window").get_data(as_text=True)
    return client.post("/window", data={"csrf_token": hidden(form, "csrf_token"), "q": q})


def test_search_finds_the_patient_by_mrn_and_by_name(nurse, patient, factory) -> None:
    factory.patient(family_name="Someone", mrn="OTHER-1")
    # One match opens the patient's window at once (the scanner's MRN and Enter).
    for term in (patient.mrn, patient.family_name.lower()):
        response = search(nurse, term)
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/window/{patient.id}")
    page = text_of(search(nurse, "test"))  # both are called Test: listed, none opened
    assert f"/window/{patient.id}" in page and "OTHER-1" in page
    assert "No patient matches" in text_of(search(nurse, "nobody-like-this"))


def test_the_search_term_never_travels_in_the_address(nurse, patient) -> None:
    page = nurse.get("/window").get_data(as_text=True)
    assert 'method="post" action="/window" role="search"' in page
    patient_page = nurse.get(f"/window/{patient.id}").get_data(as_text=True)
    assert 'method="get"' not in patient_page
    # An old bookmark with a term in its address shows the empty form and searches nothing.
    old = text_of(nurse.get(f"/window?q={patient.mrn}"))
    assert f"/window/{patient.id}" not in old
    assert not [e for e in refusals() + _searches() if e.action == "patient.search"]


def test_a_search_term_with_invisible_controls_is_refused(nurse, patient) -> None:
    response = search(nurse, "Smith\u202e")
    assert response.status_code == 422
    assert not _searches()
    assert audited_refusals() == [(422, "invalid_input", None)]  # once, by the search box


def _searches() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.search")))


def test_the_nurse_home_links_to_the_window(nurse) -> None:
    assert 'href="/window"' in nurse.get("/").get_data(as_text=True)


def test_the_window_needs_a_signed_in_user(client, patient) -> None:
    response = client.get(f"/window/{patient.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["doc", "audit"])
def test_prescribers_and_auditors_are_refused(client, staff, patient, sign_order, username):
    sign_order(patient)
    sign_in(client, username)
    assert client.get("/window").status_code == 403
    assert client.get(f"/window/{patient.id}").status_code == 403
    token = hidden(client.get("/").get_data(as_text=True), "csrf_token")  # the sign-out form's
    response = client.post(
        f"/window/{patient.id}/give",
        data={"csrf_token": token, "token": "t", "amount_mg": "40", "slot": "daily"},
    )
    assert response.status_code == 403
    assert "dispenser_required" in response.get_data(as_text=True)
    assert count(Dose) == 0


def test_an_unknown_patient_is_a_404_page(nurse) -> None:
    response = nurse.get("/window/999999")
    assert response.status_code == 404 and "No patient with id" in text_of(response)


# ---- giving -------------------------------------------------------------------------------


def test_give_records_exactly_one_dose_and_shows_it(nurse, window, patient, sign_order) -> None:
    sign_order(patient)
    response = post(nurse, patient, "give", give_form(window()), window())
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/window/{patient.id}")
    assert count(Dose) == 1
    assert flashed(nurse)[0].startswith("Recorded: 40 mg (4 mL)")
    page = text_of(nurse.get(response.headers["Location"]))
    assert "Given: every dose planned today is recorded" in page
    assert "09:00" in page and ">TU<" in page and ">given<" in page
    assert "Give 40 mg" not in page


def test_a_second_press_of_the_same_form_records_nothing(nurse, window, patient, sign_order):
    sign_order(patient)
    form = give_form(window())
    assert nurse.post(f"/window/{patient.id}/give", data=form).status_code == 303
    again = nurse.post(f"/window/{patient.id}/give", data=form)
    assert again.status_code == 409
    page = text_of(again)
    assert "already_dosed" in page and "No second dose was recorded" in page
    assert patient.mrn in page  # shown on the patient's page, not a bare error page
    assert count(Dose) == 1
    assert [e.rules for e in refusals()] == ["already_dosed"]  # audited once
    assert audited_refusals() == [(409, "already_dosed", patient.id)]  # naming the patient


def test_a_second_window_gets_already_dosed(nurse, window, patient, sign_order) -> None:
    sign_order(patient)
    first, second = give_form(window()), give_form(window())
    assert first["token"] != second["token"]
    assert nurse.post(f"/window/{patient.id}/give", data=first).status_code == 303
    again = nurse.post(f"/window/{patient.id}/give", data=second)
    assert again.status_code == 409 and "already_dosed" in text_of(again)
    assert count(Dose) == 1


def test_a_changed_amount_is_refused_by_the_rule(nurse, window, patient, sign_order) -> None:
    sign_order(patient)
    form = {**give_form(window()), "amount_mg": "45"}
    response = nurse.post(f"/window/{patient.id}/give", data=form)
    assert response.status_code == 422 and "amount_mismatch" in text_of(response)
    assert count(Dose) == 0


def test_a_post_without_csrf_token_is_refused(nurse, window, patient, sign_order) -> None:
    sign_order(patient)
    form = give_form(window())
    del form["csrf_token"]
    response = nurse.post(f"/window/{patient.id}/give", data=form)
    assert response.status_code == 400 and "csrf" in text_of(response).lower()
    assert count(Dose) == 0


# ---- holds and withheld doses -------------------------------------------------------------


def test_a_hold_blocks_the_dose_and_hides_the_give_button(
    nurse, window, patient, sign_order
) -> None:
    sign_order(patient)
    stale = give_form(window())
    response = post(nurse, patient, "hold", {"reason": "Appears sedated"}, window())
    assert response.status_code == 303 and count(Hold) == 1
    page = text_of(nurse.get(response.headers["Location"]))
    assert "Do not dose: blocked" in page and "patient_on_hold" in page
    assert "Appears sedated" in page and "Give 40 mg" not in page
    refused = nurse.post(f"/window/{patient.id}/give", data=stale)  # a form opened before
    assert refused.status_code == 422 and "patient_on_hold" in text_of(refused)
    assert count(Dose) == 0


def test_a_hold_needs_a_reason(nurse, window, patient) -> None:
    response = post(nurse, patient, "hold", {"reason": "  "}, window())
    assert response.status_code == 422 and count(Hold) == 0
    # Refused before any service read the patient: the page's patient is named all the same.
    assert audited_refusals() == [(422, "invalid_input", patient.id)]


def test_a_withheld_dose_needs_a_reason(nurse, window, patient, sign_order) -> None:
    sign_order(patient)
    refused = post(nurse, patient, "withhold", {"reason": ""}, window())
    assert refused.status_code == 422
    page = text_of(refused)
    assert "Say why the dose is withheld" in page and 'aria-invalid="true"' in page
    assert count(WithheldDose) == 0
    done = post(nurse, patient, "withhold", {"reason": "Smelled of alcohol"}, window())
    assert done.status_code == 303 and count(WithheldDose) == 1
    assert "withheld: Smelled of alcohol" in flashed(nurse)[0]


# ---- take-homes ---------------------------------------------------------------------------


@pytest.fixture
def weekend_order(patient, sign_order, take_home_criteria):
    return sign_order(
        patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria}
    )


def test_the_form_lists_the_authorized_days_of_the_week(window, weekend_order) -> None:
    page = window()
    assert f'value="{SATURDAY.isoformat()}"' in page and f'value="{SUNDAY.isoformat()}"' in page
    assert f'value="{FRIDAY.isoformat()}"' not in page


def test_take_homes_are_all_or_nothing(nurse, window, api, staff, patient, weekend_order) -> None:
    days = {"dates": [SATURDAY.isoformat(), SUNDAY.isoformat()]}
    refused = post(nurse, patient, "take-homes", days, window())
    assert refused.status_code == 422
    page = text_of(refused)
    assert "take_home_drug_screen" in page and patient.mrn in page
    assert "checked" in page  # the ticked days stay ticked
    assert count(Dose) == 0
    crafted = {"dates": [FRIDAY.isoformat(), SATURDAY.isoformat()]}
    refused = post(nurse, patient, "take-homes", crafted, window())
    assert refused.status_code == 422 and "take_home_not_authorized" in text_of(refused)
    assert count(Dose) == 0

    screen = {"collected_on": TODAY.isoformat(), "results": {"fentanyl": "negative"}}
    api("post", f"/api/v1/patients/{patient.id}/drug-screens", as_=staff["nurse"], json=screen)
    done = post(nurse, patient, "take-homes", days, window())
    assert done.status_code == 303 and count(Dose) == 2
    assert flashed(nurse)[0].startswith("Take-home doses handed out (2)")
    page = text_of(nurse.get(done.headers["Location"]))
    assert "handed out" in page
    again = post(nurse, patient, "take-homes", days, window())
    assert again.status_code == 409 and "already_dosed" in text_of(again)
    assert count(Dose) == 2


def test_no_ticked_day_is_refused_on_the_page(nurse, window, patient, weekend_order) -> None:
    response = post(nurse, patient, "take-homes", {}, window())
    assert response.status_code == 422 and "Tick at least one date" in text_of(response)
