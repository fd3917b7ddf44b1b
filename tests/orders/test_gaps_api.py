"""Tolerance gaps through the HTTP stack: days with no order after the last dose count as missed,
at the window and when the next order is signed; an induction after a taper is judged by the
first-day rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import TODAY
from tests.support.checks import assert_error


def rules_of(response: Any) -> list[str]:
    return [v["rule"] for v in response.get_json()["error"]["violations"]]


def order_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "medication": "METH-10MGML",
        "kind": "maintenance",
        "start_date": TODAY.isoformat(),
        "dose_mg": 100,
    }
    return {**body, **overrides}


def on_100_mg_then_a_gap(factory, clock, sign_order, give, gap_days: int) -> Any:
    """A patient dosed 100 mg for two days, whose order then ended: ``gap_days`` days with no
    order at all before today."""
    patient = factory.patient(admitted_on=TODAY - timedelta(days=200))
    first = TODAY - timedelta(days=gap_days + 2)
    clock.set(first)
    sign_order(patient, dose_mg=100, end_date=(first + timedelta(days=1)).isoformat())
    give(patient, 100)
    clock.set(first + timedelta(days=1))
    give(patient, 100)
    clock.set(TODAY)
    return patient


def test_100_mg_after_an_unordered_gap_needs_a_justification(
    api, staff, factory, clock, sign_order, give, plan
) -> None:
    patient = on_100_mg_then_a_gap(factory, clock, sign_order, give, gap_days=4)
    path = f"/api/v1/patients/{patient.id}/orders"
    refused = api("post", path, as_=staff["prescriber"], json=order_body())
    error = assert_error(refused, 422, "order_blocked")
    assert rules_of(refused) == ["missed_doses_dose_not_reduced"]
    assert "After 4 missed days the first dose of 100 mg is above 40 mg" in error["message"]
    why = "Seen today: took methadone from a friend daily; no sedation; tolerance kept."
    signed = api("post", path, as_=staff["prescriber"], json=order_body(justification=why))
    assert signed.status_code == 201, signed.get_json()
    assert [w["rule"] for w in signed.get_json()["warnings"]] == ["missed_doses_dose_not_reduced"]
    today = plan(patient)
    assert (today["status"], today["missed_days"]) == ("due", 4)  # signed after the gap


def test_a_reduced_dose_after_the_gap_needs_nothing(
    api, staff, factory, clock, sign_order, give
) -> None:
    patient = on_100_mg_then_a_gap(factory, clock, sign_order, give, gap_days=3)
    path = f"/api/v1/patients/{patient.id}/orders"
    assert rules_of(api("post", path, as_=staff["prescriber"], json=order_body(dose_mg=51))) == [
        "missed_doses_dose_not_reduced"
    ]
    signed = api("post", path, as_=staff["prescriber"], json=order_body(dose_mg=50))
    assert signed.status_code == 201 and signed.get_json()["warnings"] == []


def test_a_gap_of_five_days_needs_an_induction_at_the_window(
    api, staff, factory, clock, sign_order, give, plan
) -> None:
    patient = on_100_mg_then_a_gap(factory, clock, sign_order, give, gap_days=5)
    sign_order(patient, dose_mg=40)
    blocked = plan(patient)
    assert blocked["status"] == "blocked"
    assert [v["rule"] for v in blocked["violations"]] == ["missed_doses_reinduction"]
    assert "(5 of them with no order at all)" in blocked["violations"][0]["message"]
    sign_order(patient, kind="induction", dose_mg=30)
    assert plan(patient)["status"] == "due"


def test_an_order_signed_for_tomorrow_ends_the_gap_it_foresaw(
    api, staff, factory, clock, sign_order, give, plan
) -> None:
    patient = on_100_mg_then_a_gap(factory, clock, sign_order, give, gap_days=3)
    tomorrow = TODAY + timedelta(days=1)
    sign_order(patient, dose_mg=40, start_date=tomorrow.isoformat())  # 4 days by then: 40 mg
    clock.set(tomorrow)
    due = plan(patient)
    assert (due["status"], due["missed_days"]) == ("due", 4)


def test_a_patient_never_dosed_has_no_gap(factory, sign_order, plan) -> None:
    patient = factory.patient(admitted_on=TODAY - timedelta(days=30))
    sign_order(patient)
    assert (plan(patient)["status"], plan(patient)["missed_days"]) == ("due", 0)


def test_an_induction_after_a_taper_to_4_mg_restarts_at_40(
    api, staff, factory, clock, sign_order, give
) -> None:
    patient = factory.patient(admitted_on=TODAY - timedelta(days=300))
    clock.set(TODAY - timedelta(days=1))
    sign_order(patient, dose_mg=4)
    give(patient, 4)
    clock.set(TODAY)
    path = f"/api/v1/patients/{patient.id}/orders"
    jump = api("post", path, as_=staff["prescriber"], json=order_body(dose_mg=40))
    assert "dose_implausible" in rules_of(jump)  # a maintenance order at ten times: a units error
    restart = api(
        "post", path, as_=staff["prescriber"], json=order_body(kind="induction", dose_mg=40)
    )
    assert restart.status_code == 201, restart.get_json()
    assert [w["rule"] for w in restart.get_json()["warnings"]] == ["methadone_first_dose_label"]
