"""The chart's order form through the real HTTP stack: Preview shows the schedule and every
rule; Sign signs what was previewed, once, and only while the patient's record is unchanged."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from mat.extensions import db
from mat.orders.models import Order
from tests.auth.test_pages import sign_in
from tests.charts.test_chart_pages import csrf, text
from tests.conftest import TODAY
from tests.support.checks import audited_refusals, count

TITRATION = {
    "medication": "METH-10MGML",
    "kind": "titration",
    "start_date": TODAY.isoformat(),
    "titration_start_mg": "30",
    "titration_step_mg": "15",
    "titration_every_days": "2",
    "titration_target_mg": "60",
}
MAINTENANCE = {
    "medication": "METH-10MGML",
    "kind": "maintenance",
    "start_date": TODAY.isoformat(),
    "dose_mg": "40",
}
JUSTIFICATION = "Tolerant from a prior program; watched for sedation."


@pytest.fixture
def doc(client: Any, staff: dict[str, Any]) -> Any:
    sign_in(client, "doc")
    return client


def token(page: str) -> str:
    match = re.search(r'name="preview" value="([^"]*)"', page)
    assert match, "no Sign form on the page"
    return html.unescape(match.group(1))


def preview(client: Any, patient: Any, fields: dict[str, Any]) -> Any:
    form = text(client.get(f"/charts/{patient.id}/orders/new"))
    return client.post(
        f"/charts/{patient.id}/orders/preview", data={"csrf_token": csrf(form), **fields}
    )


def sign(client: Any, patient: Any, page: str, **fields: Any) -> Any:
    return client.post(
        f"/charts/{patient.id}/orders/sign",
        data={"csrf_token": csrf(page), "preview": token(page), **fields},
    )


def test_the_form_offers_every_order_kind(doc, patient) -> None:
    page = text(doc.get(f"/charts/{patient.id}/orders/new"))
    for name in ("dose_mg", "titration_step_mg", "taper_step_percent", "steps", "split_slot_1",
                 "th_weekdays", "th_dates", "th_rationale", "criterion_no_diversion"):  # fmt: skip
        assert f'name="{name}"' in page
    for kind in ("induction", "titration", "maintenance", "taper"):
        assert f'value="{kind}"' in page
    assert 'name="justification"' not in page  # no rule has fired yet


def test_preview_of_a_titration_shows_schedule_rule_and_justification_box(doc, patient) -> None:
    response = preview(doc, patient, TITRATION)
    assert response.status_code == 200
    page = text(response)
    assert "Needs your justification" in page and "methadone" in page.lower()
    assert 'name="justification"' in page
    assert "<svg" in page and 'id="preview-chart"' in page
    day3 = (TODAY + timedelta(days=2)).isoformat()
    assert re.search(rf"{day3}</th><td>\w+</td><td class=\"num\">45 mg", page)
    assert count(Order) == 0


def test_no_justification_box_when_no_justify_rule_fires(doc, patient) -> None:
    page = text(preview(doc, patient, MAINTENANCE))
    assert "No rule fires on this order." in page
    assert 'name="justification"' not in page and "Sign this order" in page


def test_sign_without_the_justification_is_refused(doc, patient) -> None:
    page = text(preview(doc, patient, TITRATION))
    response = sign(doc, patient, page)
    assert response.status_code == 422
    again = text(response)
    assert "The order was not signed" in again and 'name="justification"' in again
    assert "Sign this order" in again  # the preview is shown again, ready to sign
    assert count(Order) == 0
    assert audited_refusals() == [(422, "order_blocked", patient.id)]  # once, naming the patient


def test_sign_with_the_justification_signs_what_was_previewed(doc, patient) -> None:
    page = text(preview(doc, patient, TITRATION))
    response = sign(doc, patient, page, justification=JUSTIFICATION, titration_target_mg="200")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/charts/{patient.id}")
    order = db.session.scalars(select(Order)).one()
    assert (order.kind, order.first_dose_mg, order.justification) == (
        "titration",
        Decimal(30),
        JUSTIFICATION,
    )
    # A field sent with Sign does not change the order: the preview's form is signed.
    assert order.stored.steps[-1].dose_mg == 60


def test_a_double_click_signs_once(doc, patient) -> None:
    page = text(preview(doc, patient, MAINTENANCE))
    assert sign(doc, patient, page).status_code == 303
    second = sign(doc, patient, page)
    assert second.status_code == 409
    assert count(Order) == 1
    body = text(second)
    # The first signature changed the record, so the preview is stale as well as used.
    assert "preview again" in body or "already signed" in body


def test_the_same_preview_is_never_signed_twice_even_if_the_record_is_unchanged(
    doc, patient, monkeypatch
) -> None:
    from mat.charts import preview_token

    page = text(preview(doc, patient, MAINTENANCE))
    assert sign(doc, patient, page).status_code == 303
    monkeypatch.setattr(preview_token, "situation_fingerprint", lambda *_: "same")
    monkeypatch.setattr(preview_token, "unseal", lambda t, p, d: {"nonce": _nonce(t), "form": {}})
    second = sign(doc, patient, page)
    assert second.status_code == 409 and "already signed" in text(second)
    assert count(Order) == 1


def _nonce(raw: str) -> str:
    from mat.charts.preview_token import _serializer

    return str(_serializer().loads(raw)["nonce"])


def test_a_stale_preview_is_refused(doc, patient, api, staff) -> None:
    page = text(preview(doc, patient, MAINTENANCE))
    hold = api(
        "post",
        f"/api/v1/patients/{patient.id}/holds",
        as_=staff["nurse"],
        json={"reason": "Sedated"},
    )
    assert hold.status_code == 201
    response = sign(doc, patient, page)
    assert response.status_code == 409
    assert "changed since your preview: preview again" in text(response)
    assert 'name="dose_mg" value="40"' in text(response)  # the form, filled in as previewed
    assert count(Order) == 0


def test_a_tampered_preview_is_refused(doc, patient) -> None:
    page = text(preview(doc, patient, MAINTENANCE))
    response = doc.post(
        f"/charts/{patient.id}/orders/sign",
        data={"csrf_token": csrf(page), "preview": token(page) + "x"},
    )
    assert response.status_code == 422 and "preview the order again" in text(response)
    assert count(Order) == 0


def test_a_preview_of_another_patient_is_refused(doc, patient, factory) -> None:
    other = factory.patient()
    page = text(preview(doc, patient, MAINTENANCE))
    response = sign(doc, other, page)
    assert response.status_code == 422 and "another patient" in text(response)
    assert count(Order) == 0


def test_bad_input_is_said_in_plain_words(doc, patient) -> None:
    response = preview(doc, patient, {**MAINTENANCE, "dose_mg": "forty"})
    assert response.status_code == 422
    body = text(response)
    assert "Daily dose" in body and "Write a number" in body
    assert "Send a number" not in body and "invalid_input" not in body and "422" not in body
    assert 'value="forty"' in body  # the form comes back as sent
    assert re.search(r'name="dose_mg" value="forty" aria-invalid="true"', body)
    two = text(preview(doc, patient, {**MAINTENANCE, "steps": f"{TODAY} 40"}))
    assert "Say the dose one way only" in two and "Give exactly one of" not in two
    assert count(Order) == 0


def test_a_dose_the_rules_block_cannot_be_signed(doc, patient) -> None:
    page = text(preview(doc, patient, {**MAINTENANCE, "dose_mg": "40.05"}))
    assert "Blocks the order" in page and "Sign this order" not in page


@pytest.mark.parametrize("username", ["nurse1", "audit", "boss"])
def test_only_prescribers_preview_and_sign(client, staff, patient, username) -> None:
    sign_in(client, "doc")
    page = text(preview(client, patient, MAINTENANCE))
    client.post("/logout", data={"csrf_token": csrf(page)})
    sign_in(client, username)
    home = text(client.get("/"))
    data = {"csrf_token": csrf(home), **MAINTENANCE}
    assert client.post(f"/charts/{patient.id}/orders/preview", data=data).status_code == 403
    data = {"csrf_token": csrf(home), "preview": token(page)}
    assert client.post(f"/charts/{patient.id}/orders/sign", data=data).status_code == 403
    assert count(Order) == 0


def test_taper_steps_and_split_orders(doc, patient, sign_order) -> None:
    sign_order(patient, dose_mg=60)
    taper = {
        "medication": "METH-10MGML",
        "kind": "taper",
        "start_date": (TODAY + timedelta(days=1)).isoformat(),
        "taper_start_mg": "60",
        "taper_step_percent": "10",
        "taper_every_days": "7",
        "taper_end_mg": "40",
    }
    page = text(preview(doc, patient, taper))
    assert "Sign this order" in page and "54 mg" in page
    steps = {
        "medication": "METH-10MGML",
        "kind": "maintenance",
        "start_date": TODAY.isoformat(),
        "steps": f"{TODAY} 60\n{TODAY + timedelta(days=3)} 54",
        "split_slot_1": "am",
        "split_fraction_1": "0.5",
        "split_slot_2": "pm",
        "split_fraction_2": "0.5",
    }
    page = text(preview(doc, patient, steps))
    assert "Sign this order" in page
    assert sign(doc, patient, page).status_code == 303
    order = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
    assert [slot for slot, _ in order.stored.split] == ["am", "pm"]


def test_take_homes_with_the_criteria_and_rationale(doc, patient, sign_order) -> None:
    sign_order(patient, dose_mg=60)
    fields = {
        **MAINTENANCE,
        "dose_mg": "60",
        "start_date": (TODAY + timedelta(days=1)).isoformat(),
        "take_home": "yes",
        "th_weekdays": "sun",
        "th_rationale": "Works weekends; lock box seen.",
        "criterion_no_active_use_or_risk": "yes",
        "criterion_regular_attendance": "yes",
        "criterion_no_behavioral_problems": "yes",
        "criterion_no_diversion": "no",
        "criterion_safe_transport_and_storage": "yes",
    }
    page = text(preview(doc, patient, fields))
    assert 'name="justification"' in page  # a "no" needs a justification
    missing = text(preview(doc, patient, {**fields, "criterion_no_diversion": ""}))
    assert "Answer yes or no for each criterion" in missing
    assert sign(doc, patient, page, justification=JUSTIFICATION).status_code == 303
    order = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
    assert order.take_home is not None and order.take_home.no_diversion is False


# ---- missed-dose blocks -------------------------------------------------------------------


def test_a_missed_dose_block_offers_the_reduced_order(doc, patient, sign_order, give, clock):
    sign_order(patient, dose_mg=60)
    assert give(patient, 60).status_code == 201
    clock.set(TODAY + timedelta(days=4))  # Tuesday to Thursday missed
    sign_in(doc, "doc")  # the session of Monday has long timed out
    page = text(doc.get(f"/charts/{patient.id}"))
    assert "No dose: blocked" in page
    assert "at most 30 mg" in page and "Write the reduced order" in page
    link = html.unescape(re.search(r'href="([^"]*orders/new\?[^"]*)"', page).group(1))
    form = text(doc.get(link))
    assert 'name="dose_mg" value="30"' in form
    assert 'value="maintenance" selected' in form
    friday = (TODAY + timedelta(days=4)).isoformat()
    fields = {**MAINTENANCE, "dose_mg": "30", "start_date": friday}
    previewed = text(preview(doc, patient, fields))
    assert "Sign this order" in previewed and 'name="justification"' not in previewed
    assert sign(doc, patient, previewed).status_code == 303
    assert "Dose due: 30 mg" in text(doc.get(f"/charts/{patient.id}"))


def test_after_four_missed_days_the_restart_is_capped(doc, patient, sign_order, give, clock):
    sign_order(patient, dose_mg=100)
    assert give(patient, 100).status_code == 201
    clock.set(TODAY + timedelta(days=5))  # four days missed
    sign_in(doc, "doc")
    page = text(doc.get(f"/charts/{patient.id}"))
    assert "at most 40 mg (the cap of 40 mg after 4 missed days)" in page
    assert re.search(r'orders/new\?[^"]*dose_mg=40', page)


def test_after_five_missed_days_the_chart_asks_for_an_induction(
    doc, patient, sign_order, give, clock
):
    sign_order(patient, dose_mg=60)
    assert give(patient, 60).status_code == 201
    clock.set(TODAY + timedelta(days=6))  # five days missed
    sign_in(doc, "doc")
    page = text(doc.get(f"/charts/{patient.id}"))
    assert "restarts with an induction order" in page and "Write the induction order" in page
    link = html.unescape(re.search(r'href="([^"]*orders/new\?[^"]*)"', page).group(1))
    assert 'value="induction" selected' in text(doc.get(link))
