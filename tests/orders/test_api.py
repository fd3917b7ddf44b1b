"""Signing and previewing orders through the HTTP stack: roles, rules, refusals, the audit trail."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.extensions import db
from mat.orders.models import Order, TakeHomeAuthorization
from tests.conftest import TODAY
from tests.support.checks import assert_error, count
from tests.support.factories import CRITERIA, RATIONALE


def body(**overrides: Any) -> dict[str, Any]:
    """A methadone maintenance order starting today."""
    data: dict[str, Any] = {
        "medication": "METH-10MGML",
        "kind": "maintenance",
        "start_date": TODAY.isoformat(),
        "dose_mg": 40,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def sign(api: Any, staff: Any, patient: Any, **overrides: Any) -> Any:
    return api(
        "post",
        f"/api/v1/patients/{patient.id}/orders",
        as_=staff["prescriber"],
        json=body(**overrides),
    )


def rules_of(response: Any) -> list[str]:
    return [v["rule"] for v in response.get_json()["error"]["violations"]]


def test_a_prescriber_signs_a_maintenance_order(api, staff, patient) -> None:
    response = sign(api, staff, patient)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["medication"] == "METH-10MGML"
    assert order["kind"] == "maintenance"
    assert order["status"] == "active"
    assert order["first_dose_mg"] == 40
    assert order["steps"] == [{"date": TODAY.isoformat(), "dose_mg": 40}]
    assert order["profile"] == {"id": "us-federal", "version": "2024.2"}
    assert order["signed_by"]["username"] == "doc"
    assert order["warnings"] == []
    first = order["schedule"][0]
    assert first == {
        "date": TODAY.isoformat(),
        "slot": "daily",
        "dose_mg": 40,
        "volume_ml": 4,
        "mode": "observed",
        "order_id": order["id"],
    }
    stored = db.session.get(Order, order["id"])
    assert stored.signed_by.username == "doc" and stored.profile_version == "2024.2"


def test_the_patient_record_shows_the_active_order(api, staff, patient) -> None:
    order = sign(api, staff, patient).get_json()
    record = api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"]).get_json()
    assert record["active_order"]["id"] == order["id"]
    assert record["active_order"]["signed_by"]["initials"] == "TU"


@pytest.mark.parametrize("role", ["nurse", "auditor", "admin"])
def test_only_prescribers_sign_preview_and_discontinue(api, staff, patient, role) -> None:
    for path in (
        f"/api/v1/patients/{patient.id}/orders",
        f"/api/v1/patients/{patient.id}/orders/preview",
    ):
        error = assert_error(api("post", path, as_=staff[role], json=body()), 403, "forbidden")
        assert [v["rule"] for v in error["violations"]] == ["prescriber_required"]
    order = sign(api, staff, patient).get_json()
    response = api(
        "post",
        f"/api/v1/orders/{order['id']}/discontinue",
        as_=staff[role],
        json={"reason": "x" * 5},
    )
    assert_error(response, 403, "forbidden")
    assert count(Order) == 1
    assert db.session.get(Order, order["id"]).discontinuation is None


def test_preview_answers_schedule_and_violations_and_writes_nothing(api, staff, patient) -> None:
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders/preview",
        as_=staff["prescriber"],
        json=body(kind="titration", dose_mg=None,
                  titration={"start_mg": 30, "step_mg": 15, "every_days": 2, "target_mg": 60}),
    )  # fmt: skip
    assert response.status_code == 200
    preview = response.get_json()
    doses = [(p["date"], p["dose_mg"]) for p in preview["schedule"]]
    assert doses[:5] == [
        (TODAY.isoformat(), 30),
        ((TODAY + timedelta(days=1)).isoformat(), 30),
        ((TODAY + timedelta(days=2)).isoformat(), 45),
        ((TODAY + timedelta(days=3)).isoformat(), 45),
        ((TODAY + timedelta(days=4)).isoformat(), 60),
    ]
    assert {v["rule"] for v in preview["violations"]} == {"methadone_increase_step"}
    assert count(Order) == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.preview")).one()
    assert (event.outcome, event.rules) == ("refused", "methadone_increase_step")


def test_preview_of_an_unmeasurable_dose_shows_the_refusal_and_no_schedule(
    api, staff, patient
) -> None:
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders/preview",
        as_=staff["prescriber"],
        json=body(dose_mg=40.05),
    )
    preview = response.get_json()
    assert preview["schedule"] == []
    assert [v["rule"] for v in preview["violations"]] == ["dose_not_measurable"]


def test_a_justify_rule_refuses_without_justification(api, staff, patient) -> None:
    # Day 1 of a re-induction: 60 mg methadone is over the 50 mg first-day limit.
    response = sign(api, staff, patient, kind="induction", dose_mg=60)
    error = assert_error(response, 422, "order_blocked")
    # The label's first-dose warning comes along: every rule that fired is listed.
    assert rules_of(response) == ["methadone_first_day_max", "methadone_first_dose_label"]
    assert [v["severity"] for v in error["violations"]] == ["justify", "warn"]
    assert count(Order) == 0
    refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).one()
    assert refusal.rules == "methadone_first_day_max,methadone_first_dose_label"
    assert refusal.patient_id == patient.id


def test_a_justification_lets_it_through_and_is_stored_and_shown(api, staff, patient) -> None:
    why = "Transfer from another OTP on 60 mg, confirmed by phone with their prescriber."
    response = sign(api, staff, patient, kind="induction", dose_mg=60, justification=why)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["justification"] == why
    assert [w["rule"] for w in order["warnings"]] == [
        "methadone_first_day_max",
        "methadone_first_dose_label",
    ]
    listed = api("get", f"/api/v1/patients/{patient.id}/orders", as_=staff["auditor"]).get_json()
    assert listed[0]["justification"] == why
    assert listed[0]["warnings"] == order["warnings"]


def test_at_the_first_day_limit_no_justification_is_needed(api, staff, patient) -> None:
    response = sign(api, staff, patient, kind="induction", dose_mg=50)
    assert response.status_code == 201
    # Above the label's 30 mg first dose and 40 mg day-1 total: a warning, never a refusal.
    assert [w["rule"] for w in response.get_json()["warnings"]] == ["methadone_first_dose_label"]
    assert sign(api, staff, patient, kind="induction", dose_mg=30).get_json()["warnings"] == []


def test_a_blank_justification_justifies_nothing(api, staff, patient) -> None:
    response = sign(api, staff, patient, kind="induction", dose_mg=60, justification="   ")
    assert_error(response, 422, "order_blocked")


@pytest.mark.parametrize(
    "overrides, rule",
    [
        ({"dose_mg": 400}, "dose_implausible"),  # above the 300 mg methadone ceiling
        ({"dose_mg": 40.05}, "dose_not_measurable"),  # 0.1 mL of 10 mg/mL is 1 mg
        ({"medication": "BUP-SL-8", "dose_mg": 4}, "dose_not_measurable"),  # half an 8 mg tablet
        ({"medication": "BUP-SL-8", "dose_mg": 40}, "dose_implausible"),  # above 32 mg
    ],
)
def test_block_rules_refuse_even_with_a_justification(api, staff, patient, overrides, rule) -> None:
    response = sign(api, staff, patient, justification="I am sure.", **overrides)
    assert_error(response, 422, "order_blocked")
    assert rule in rules_of(response)
    assert count(Order) == 0


def test_warn_rules_are_stored_with_the_order(api, staff, patient) -> None:
    sign(api, staff, patient, dose_mg=100)
    response = sign(
        api, staff, patient, start_date=(TODAY + timedelta(days=7)).isoformat(), dose_mg=110
    )
    assert response.status_code == 201, response.get_json()
    assert [w["rule"] for w in response.get_json()["warnings"]] == ["methadone_high_dose"]


def test_dose_jump_compares_with_the_current_order(api, staff, patient) -> None:
    sign(api, staff, patient, medication="BUPNX-FILM-8", dose_mg=8)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    jump = sign(api, staff, patient, medication="BUPNX-FILM-8", dose_mg=16, start_date=tomorrow)
    assert rules_of(jump) == ["dose_jump"]
    below = sign(api, staff, patient, medication="BUPNX-FILM-2", dose_mg=14, start_date=tomorrow)
    assert below.status_code == 201, below.get_json()


def test_a_discharged_patient_gets_no_order(api, staff, patient) -> None:
    api(
        "patch", f"/api/v1/patients/{patient.id}", as_=staff["admin"], json={"status": "discharged"}
    )
    response = sign(api, staff, patient)
    assert rules_of(response) == ["patient_not_active"]


def test_take_home_authorization_records_the_five_criteria_and_the_rationale(
    api, staff, patient
) -> None:
    take_home = {"weekdays": ["sat", "sun"], "criteria": CRITERIA, "rationale": RATIONALE}
    response = sign(api, staff, patient, take_home=take_home)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["take_home"]["weekdays"] == ["sat", "sun"]
    assert order["take_home"]["criteria_list"] == "2024"
    assert order["take_home"]["criteria"] == CRITERIA
    assert order["take_home"]["rationale"] == RATIONALE
    assert order["take_home"]["affirmed_by"]["username"] == "doc"
    assert order["warnings"] == []
    saturday = TODAY + timedelta(days=5)
    modes = {p["date"]: p["mode"] for p in order["schedule"]}
    assert modes[saturday.isoformat()] == "take_home"
    assert modes[TODAY.isoformat()] == "observed"
    authorization = db.session.scalars(select(TakeHomeAuthorization)).one()
    assert authorization.affirmed_by.username == "doc"
    assert (authorization.rationale, authorization.stable_home) == (RATIONALE, None)


@pytest.mark.parametrize("criterion", sorted(CRITERIA))
@pytest.mark.parametrize("answer", [None, "absent", "yes", 1, "true"])
def test_each_unanswered_criterion_refuses_the_order(
    api, staff, patient, criterion, answer
) -> None:
    criteria: dict[str, Any] = {**CRITERIA, criterion: answer}
    if answer == "absent":
        del criteria[criterion]
    take_home = {"weekdays": ["sun"], "criteria": criteria, "rationale": RATIONALE}
    error = assert_error(sign(api, staff, patient, take_home=take_home), 422, "invalid_input")
    assert f"take_home.criteria.{criterion}" in error["fields"]
    assert count(Order) == 0 and count(TakeHomeAuthorization) == 0


@pytest.mark.parametrize("rationale", ["absent", "", "   "])
def test_a_missing_rationale_refuses_the_order(api, staff, patient, rationale) -> None:
    take_home: dict[str, Any] = {"weekdays": ["sun"], "criteria": CRITERIA, "rationale": rationale}
    if rationale == "absent":
        del take_home["rationale"]
    error = assert_error(sign(api, staff, patient, take_home=take_home), 422, "invalid_input")
    assert "take_home.rationale" in error["fields"]
    assert count(Order) == 0


def test_the_old_criteria_are_not_accepted_any_more(api, staff, patient) -> None:
    old = {"no_recent_misuse": True, "stable_home": True, "safe_storage": True}
    take_home = {"weekdays": ["sun"], "criteria": {**CRITERIA, **old}, "rationale": RATIONALE}
    error = assert_error(sign(api, staff, patient, take_home=take_home), 422, "invalid_input")
    assert {f"take_home.criteria.{name}" for name in old} <= set(error["fields"])
    with_note = {"weekdays": ["sun"], "criteria": CRITERIA, "rationale": RATIONALE, "note": "x"}
    error = assert_error(sign(api, staff, patient, take_home=with_note), 422, "invalid_input")
    assert "take_home.note" in error["fields"]


@pytest.mark.parametrize("criterion", sorted(CRITERIA))
def test_a_criterion_answered_no_needs_a_justification(api, staff, patient, criterion) -> None:
    take_home = {"weekdays": ["sun"], "criteria": {**CRITERIA, criterion: False}}
    take_home["rationale"] = RATIONALE
    refused = sign(api, staff, patient, take_home=take_home)
    error = assert_error(refused, 422, "order_blocked")
    [violation] = error["violations"]
    assert (violation["rule"], violation["severity"]) == ("take_home_criteria", "justify")
    assert f"answered no: {criterion} (" in violation["message"]
    assert count(Order) == 0
    why = "Works nights; the pharmacy is closed on Sundays; the benefit outweighs the risk."
    signed = sign(api, staff, patient, take_home=take_home, justification=why)
    assert signed.status_code == 201, signed.get_json()
    order = signed.get_json()
    assert [w["rule"] for w in order["warnings"]] == ["take_home_criteria"]
    assert order["take_home"]["criteria"][criterion] is False
    assert order["justification"] == why


def test_take_homes_beyond_the_ceiling_are_refused(api, staff, patient) -> None:
    # Treatment day 15 today: at most 14 consecutive methadone take-home days.
    dates = [(TODAY + timedelta(days=n)).isoformat() for n in range(15)]
    authorization = {"criteria": CRITERIA, "rationale": RATIONALE}
    over = sign(api, staff, patient, take_home={"dates": dates, **authorization})
    assert rules_of(over) == ["take_home_plan_ceiling"]
    at = sign(api, staff, patient, take_home={"dates": dates[:14], **authorization})
    assert at.status_code == 201, at.get_json()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"start_date": (TODAY - timedelta(days=1)).isoformat()}, "start_date"),
        ({"start_date": (TODAY + timedelta(days=366)).isoformat()}, "start_date"),
        ({"medication": "METH-99"}, "medication"),
        ({"kind": "cure"}, "kind"),
        ({"dose_mg": -5}, "dose_mg"),
        ({"dose_mg": "forty"}, "dose_mg"),
        ({"steps": [{"date": TODAY.isoformat(), "dose_mg": 30}]}, "dose_mg"),  # two ways at once
        ({"end_date": (TODAY - timedelta(days=1)).isoformat()}, "end_date"),
        ({"split": [{"slot": "am", "fraction": 0.5}]}, "split"),
        ({"take_home": {"criteria": CRITERIA, "rationale": RATIONALE}}, "take_home.weekdays"),
        (
            {
                "dose_mg": None,
                "taper": {"start_mg": 40, "step_percent": 10, "every_days": 7, "end_mg": 0},
            },
            "kind",
        ),  # taper parameters on a maintenance order
    ],
)
def test_invalid_orders_are_422_with_fields_and_change_nothing(
    api, staff, patient, overrides, field
) -> None:
    error = assert_error(sign(api, staff, patient, **overrides), 422)
    assert field in error["fields"], error
    assert count(Order) == 0


def test_malformed_and_missing_bodies(api, staff, patient) -> None:
    path = f"/api/v1/patients/{patient.id}/orders"
    malformed = api(
        "post", path, as_=staff["prescriber"], data="{", content_type="application/json"
    )
    assert_error(malformed, 400)
    missing = assert_error(api("post", path, as_=staff["prescriber"], json={}), 422)
    assert {"medication", "kind", "start_date"} <= set(missing["fields"])
    assert_error(
        api("post", "/api/v1/patients/9999/orders", as_=staff["prescriber"], json=body()), 404
    )
    assert count(Order) == 0


def test_signing_is_audited_with_the_rules_that_fired(api, staff, patient) -> None:
    why = "Transfer on 60 mg."
    order = sign(api, staff, patient, kind="induction", dose_mg=60, justification=why).get_json()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.sign")).one()
    assert event.entity_id == str(order["id"]) and event.username == "doc"
    assert event.rules == "methadone_first_day_max,methadone_first_dose_label"
    assert json.loads(event.detail)["justification"] == why
