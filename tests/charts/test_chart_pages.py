"""The prescriber's chart through the real HTTP stack: search, chart, holds, discontinue, level
of care and discharge. Signed in with the form; CSRF tokens read from the pages."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.dosing.models import Hold
from mat.extensions import db
from mat.orders.models import Order
from mat.patients.models import Patient
from tests.auth.test_pages import sign_in
from tests.conftest import TODAY
from tests.imports.bodies import one_patient_body
from tests.support.checks import audited_refusals, count
from tests.support.sealing import sealed


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert match
    return match.group(1)


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def doc(client: Any, staff: dict[str, Any]) -> Any:
    sign_in(client, "doc")
    return client


def chart(client: Any, patient: Any) -> str:
    response = client.get(f"/charts/{patient.id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return text(response)


# ---- search -------------------------------------------------------------------------------


def test_one_match_opens_the_chart(doc, patient) -> None:
    page = text(doc.get("/charts"))
    assert "autofocus" in page
    response = doc.post("/charts", data={"q": patient.mrn, "csrf_token": csrf(page)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/charts/{patient.id}")


def test_several_matches_are_listed_and_none_is_said(doc, factory) -> None:
    a = factory.patient(family_name="Lindqvist")
    b = factory.patient(family_name="Lindgren")
    page = text(doc.get("/charts"))
    listed = text(doc.post("/charts", data={"q": "lind", "csrf_token": csrf(page)}))
    assert a.mrn in listed and b.mrn in listed and "2 patients match" in listed
    none = text(doc.post("/charts", data={"q": "zzz", "csrf_token": csrf(page)}))
    assert "No patient matches" in none


def test_a_too_long_search_is_said_in_plain_words(doc) -> None:
    page = text(doc.get("/charts"))
    response = doc.post("/charts", data={"q": "x" * 81, "csrf_token": csrf(page)})
    assert response.status_code == 422
    body = text(response)
    assert "at most 80 characters" in body and "Length must be" not in body
    assert audited_refusals() == [(422, "invalid_input", None)]  # once, by the search page


@pytest.mark.parametrize("username", ["nurse1", "audit", "boss"])
def test_only_prescribers_open_charts(client, staff, patient, username) -> None:
    sign_in(client, username)
    assert client.get("/charts").status_code == 403
    assert client.get(f"/charts/{patient.id}").status_code == 403
    assert client.get(f"/charts/{patient.id}/orders/new").status_code == 403


def test_signed_out_goes_to_sign_in(client, patient) -> None:
    response = client.get(f"/charts/{patient.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_unknown_patient_is_a_404(doc) -> None:
    assert doc.get("/charts/999999").status_code == 404


# ---- the chart ----------------------------------------------------------------------------


def test_the_chart_shows_the_patient_the_order_and_the_svg(doc, patient, sign_order) -> None:
    sign_order(patient, dose_mg=40)
    page = chart(doc, patient)
    assert patient.display_name in page and patient.mrn in page and "1985-05-17" in page
    assert "treatment day 15" in page and "episode 1" in page and "outpatient" in page
    assert "maintenance: 40 mg a day" in page
    assert "<svg" in page and 'role="img"' in page and "<title" in page and "<desc" in page
    assert "The same days as a table" in page
    sealed()
    reads = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "patient.read", AuditEvent.patient_id == patient.id
        )
    ).all()
    assert len(reads) == 1


def test_imported_orders_are_marked(doc, api, staff) -> None:
    response = api(
        "post",
        "/api/v1/imports",
        as_=staff["admin"],
        json=one_patient_body(days=100),
        headers={"Idempotency-Key": "chart-import"},
    )
    assert response.status_code == 201, response.get_json()
    patient = db.session.scalars(select(Patient).where(Patient.mrn == "OLD-1")).one()
    page = chart(doc, patient)
    assert "imported" in page and "Dr. A. Former (Old Clinic)" in page
    assert "60 mg" in page  # the imported doses are on the 90-day chart and its table


def test_positives_are_highlighted(doc, patient, sign_order, api, staff) -> None:
    sign_order(patient)
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/drug-screens",
        as_=staff["nurse"],
        json={
            "collected_on": TODAY.isoformat(),
            "results": {"methadone": "positive", "fentanyl": "positive", "cocaine": "negative"},
        },
    )
    assert response.status_code == 201, response.get_json()
    page = chart(doc, patient)
    assert "fentanyl: positive (unexpected)" in page
    assert 'class="result positive">methadone: positive' in page


# ---- holds --------------------------------------------------------------------------------


def _hold(api: Any, staff: Any, patient: Any) -> int:
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/holds",
        as_=staff["nurse"],
        json={"reason": "Sedated at the window"},
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def test_release_a_hold_with_a_reason(doc, patient, sign_order, api, staff) -> None:
    sign_order(patient)
    hold_id = _hold(api, staff, patient)
    page = chart(doc, patient)
    assert "Sedated at the window" in page and "Release hold" in page
    url = f"/charts/{patient.id}/holds/{hold_id}/release"
    response = doc.post(url, data={"reason": "Seen, alert", "csrf_token": csrf(page)})
    assert response.status_code == 303
    assert db.session.get(Hold, hold_id).release.reason == "Seen, alert"
    assert "Release hold" not in chart(doc, patient)  # flashes: base.html (the frame)


def test_release_without_a_reason_is_refused_in_plain_words(
    doc, patient, sign_order, api, staff
) -> None:
    sign_order(patient)
    hold_id = _hold(api, staff, patient)
    page = chart(doc, patient)
    url = f"/charts/{patient.id}/holds/{hold_id}/release"
    response = doc.post(url, data={"reason": " ", "csrf_token": csrf(page)})
    assert response.status_code == 422
    body = text(response)
    assert "Write the reason in a few words" in body and "Length must" not in body
    assert db.session.get(Hold, hold_id).release is None
    # Audited once, naming the chart's patient (refused before any service read them).
    assert audited_refusals() == [(422, "invalid_input", patient.id)]


def test_a_hold_of_another_patient_is_not_released_here(
    doc, patient, factory, sign_order, api, staff
) -> None:
    other = factory.patient()
    hold_id = _hold(api, staff, other)
    page = chart(doc, patient)
    url = f"/charts/{patient.id}/holds/{hold_id}/release"
    response = doc.post(url, data={"reason": "Seen, alert", "csrf_token": csrf(page)})
    assert response.status_code == 404
    assert db.session.get(Hold, hold_id).release is None


def test_a_nurse_cannot_release_a_hold(client, staff, patient, api) -> None:
    hold_id = _hold(api, staff, patient)
    sign_in(client, "nurse1")
    page = text(client.get("/window"))
    response = client.post(
        f"/charts/{patient.id}/holds/{hold_id}/release",
        data={"reason": "Seen, alert", "csrf_token": csrf(page)},
    )
    assert response.status_code == 403
    assert db.session.get(Hold, hold_id).release is None


# ---- discontinue --------------------------------------------------------------------------


def test_discontinue_with_a_reason(doc, patient, sign_order) -> None:
    order_id = sign_order(patient)["id"]
    page = chart(doc, patient)
    url = f"/charts/{patient.id}/orders/{order_id}/discontinue"
    response = doc.post(url, data={"reason": "Moved away", "csrf_token": csrf(page)})
    assert response.status_code == 303
    assert db.session.get(Order, order_id).discontinuation.reason == "Moved away"


def test_discontinue_without_a_reason_is_refused(doc, patient, sign_order) -> None:
    order_id = sign_order(patient)["id"]
    page = chart(doc, patient)
    url = f"/charts/{patient.id}/orders/{order_id}/discontinue"
    response = doc.post(url, data={"reason": "", "csrf_token": csrf(page)})
    assert response.status_code == 422
    assert "Write the reason" in text(response)
    assert db.session.get(Order, order_id).discontinuation is None


def test_discontinue_twice_is_a_plain_conflict(doc, patient, sign_order) -> None:
    order_id = sign_order(patient)["id"]
    page = chart(doc, patient)
    url = f"/charts/{patient.id}/orders/{order_id}/discontinue"
    assert doc.post(url, data={"reason": "Moved", "csrf_token": csrf(page)}).status_code == 303
    again = doc.post(url, data={"reason": "Moved", "csrf_token": csrf(page)})
    assert again.status_code == 409
    assert "only an active order can be discontinued" in text(again)


# ---- level of care, discharge -------------------------------------------------------------


def test_change_the_level_of_care(doc, patient) -> None:
    page = chart(doc, patient)
    url = f"/charts/{patient.id}/level-of-care"
    bad = doc.post(url, data={"level_of_care": "spa", "csrf_token": csrf(page)})
    assert bad.status_code == 422 and "Choose one of the levels" in text(bad)
    db.session.refresh(patient)
    assert patient.level_of_care == "outpatient"
    response = doc.post(
        url, data={"level_of_care": "intensive_outpatient", "csrf_token": csrf(page)}
    )
    assert response.status_code == 303
    db.session.refresh(patient)
    assert patient.level_of_care == "intensive_outpatient"


def test_discharge_needs_the_confirmation(doc, patient, sign_order) -> None:
    order_id = sign_order(patient)["id"]
    page = chart(doc, patient)
    url = f"/charts/{patient.id}/discharge"
    refused = doc.post(url, data={"csrf_token": csrf(page)})
    assert refused.status_code == 422 and "Tick the box" in text(refused)
    db.session.refresh(patient)
    assert patient.status == "active"
    assert doc.post(url, data={"confirm": "yes", "csrf_token": csrf(page)}).status_code == 303
    db.session.refresh(patient)
    assert patient.status == "discharged"
    assert db.session.get(Order, order_id).discontinuation is not None
    assert count(Order) == 1


# ---- the 90-day chart from real records ---------------------------------------------------


def test_the_chart_marks_withheld_corrected_closed_and_hold_days(
    client, staff, patient, sign_order, give, api, clock
) -> None:
    from datetime import timedelta

    from tests.support.factories import PASSWORD

    def day(n: int) -> str:
        return (TODAY + timedelta(days=n)).isoformat()

    sign_order(patient, dose_mg=40)
    closure = {"date": day(3), "reason": "Snow day"}
    assert api("post", "/api/v1/closures", as_=staff["admin"], json=closure).status_code == 201
    assert give(patient, 40).status_code == 201
    clock.set(TODAY + timedelta(days=1))
    dose = give(patient, 40).get_json()
    void = {
        "kind": "void",
        "reason": "Scanned the wrong bottle.",
        "witness": {"username": "nurse2", "password": PASSWORD},
    }
    url = f"/api/v1/doses/{dose['id']}/corrections"
    assert api("post", url, as_=staff["nurse"], json=void).status_code == 201
    clock.set(TODAY + timedelta(days=2))
    withheld = {"reason": "Drowsy at the window"}
    url = f"/api/v1/patients/{patient.id}/doses/withheld"
    assert api("post", url, as_=staff["nurse"], json=withheld).status_code == 201
    clock.set(TODAY + timedelta(days=4))
    _hold(api, staff, patient)
    sign_in(client, "doc")
    page = chart(client, patient)
    rows = dict(re.findall(r'<tr><th scope="row">([\d-]+)</th>(.*?)</tr>', page, re.S))
    assert '40 mg</td><td class="num">40 mg' in rows[day(0)]
    assert "voided/spilled" in rows[day(1)] and "0 mg</td>" in rows[day(1)]
    assert "withheld" in rows[day(2)]
    assert "clinic closed" in rows[day(3)]
    assert "on hold" in rows[day(4)]
    for mark in ("mark-withheld", "mark-corrected", "band-closed", "band-hold"):
        assert f'class="{mark}"' in page


def test_readmit_a_discharged_patient(doc, patient, clock) -> None:
    from datetime import timedelta

    page = chart(doc, patient)
    url = f"/charts/{patient.id}/discharge"
    assert doc.post(url, data={"confirm": "yes", "csrf_token": csrf(page)}).status_code == 303
    clock.set(TODAY + timedelta(days=7))
    sign_in(doc, "doc")  # a week later
    page = chart(doc, patient)
    assert "Readmit" in page and "Discharge</button>" not in page
    url = f"/charts/{patient.id}/readmit"
    bad = doc.post(url, data={"admitted_on": "next week", "level_of_care": "outpatient",
                              "csrf_token": csrf(page)})  # fmt: skip
    assert bad.status_code == 422 and "YYYY-MM-DD" in text(bad)
    before = (TODAY - timedelta(days=1)).isoformat()  # before the discharge
    early = doc.post(url, data={"admitted_on": before, "level_of_care": "outpatient",
                                "csrf_token": csrf(page)})  # fmt: skip
    assert early.status_code == 422 and "readmission date is out of range" in text(early)
    day = (TODAY + timedelta(days=7)).isoformat()
    response = doc.post(url, data={"admitted_on": day, "level_of_care": "detox",
                                   "csrf_token": csrf(page)})  # fmt: skip
    assert response.status_code == 303
    again = chart(doc, patient)
    assert "episode 2" in again and "treatment day 1" in again and "detox" in again


def test_take_home_status_and_ceiling(doc, patient, sign_order, api, staff) -> None:
    from datetime import timedelta

    from tests.support.factories import CRITERIA

    sign_order(patient, take_home={"weekdays": ["sat", "sun"], "criteria": dict(CRITERIA)})
    screen = {"collected_on": TODAY.isoformat(), "results": {"fentanyl": "negative"}}
    api("post", f"/api/v1/patients/{patient.id}/drug-screens", as_=staff["nurse"], json=screen)
    page = chart(doc, patient)
    assert "Take-homes authorized: Sat, Sun." in page and "14 days in a row" in page
    assert "No take-home dose handed out" in page
    saturday, sunday = (TODAY + timedelta(days=n) for n in (5, 6))
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/take-homes",
        as_=staff["nurse"],
        json={"dates": [saturday.isoformat(), sunday.isoformat()]},
    )
    assert response.status_code == 201, response.get_json()
    page = chart(doc, patient)
    assert "Handed out, not yet due: Sat 21 Nov: 40 mg; Sun 22 Nov: 40 mg." in page
