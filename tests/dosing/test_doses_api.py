"""The dose plan and observed doses through the HTTP stack: every refusal path, idempotency,
late entries, and the database's own refusal to edit a dose."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DatabaseError

from mat.audit.models import AuditEvent
from mat.dosing.models import Dose
from mat.extensions import db
from tests.conftest import TODAY
from tests.support.checks import assert_error, count


def rules(response) -> list[str]:
    return [v["rule"] for v in response.get_json()["error"]["violations"]]


def test_the_plan_says_what_is_due(patient, sign_order, plan) -> None:
    sign_order(patient, dose_mg=45)
    due = plan(patient)
    assert due == {
        "date": TODAY.isoformat(),
        "status": "due",
        "dose_mg": 45,
        "volume_ml": 4.5,
        "slot": "daily",
        "mode": "observed",
        "medication": "METH-10MGML",
        "violations": [],
        "warnings": [],
        "missed_days": 0,
        "take_home_ceiling_days": 14,  # treatment day 15
    }


def test_without_an_order_nothing_is_due(patient, plan) -> None:
    none = plan(patient)
    assert none["status"] == "none"
    assert [v["rule"] for v in none["violations"]] == ["no_active_order"]


def test_a_nurse_records_the_planned_dose(patient, sign_order, give, plan, staff) -> None:
    order = sign_order(patient, dose_mg=45)
    response = give(patient, 45)
    assert response.status_code == 201, response.get_json()
    dose = response.get_json()
    assert dose["amount_mg"] == 45 and dose["volume_ml"] == 4.5
    assert dose["mode"] == "observed" and dose["slot"] == "daily"
    assert dose["order_id"] == order["id"]
    assert dose["dispenser"]["username"] == "nurse1"
    assert dose["date"] == TODAY.isoformat() and dose["late_entry"] is False
    assert dose["profile"] == {"id": "us-federal", "version": "2024.2"}
    assert dose["status"] == "given" and dose["correction"] is None
    assert plan(patient)["status"] == "given"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dose.observed")).one()
    assert event.entity_id == str(dose["id"]) and event.username == "nurse1"


@pytest.mark.parametrize("role", ["prescriber", "auditor", "admin"])
def test_only_nurses_dispense(patient, sign_order, give, staff, role) -> None:
    sign_order(patient)
    error = assert_error(give(patient, 40, as_=staff[role]), 403)
    assert [v["rule"] for v in error["violations"]] == ["dispenser_required"]
    assert count(Dose) == 0


@pytest.mark.parametrize("amount", [39, 40.1, 4, 400])
def test_an_amount_other_than_the_plan_is_refused(patient, sign_order, give, amount) -> None:
    sign_order(patient)
    response = give(patient, amount)
    assert_error(response, 422, "dose_blocked")
    assert rules(response) == ["amount_mismatch"]
    assert count(Dose) == 0


def test_the_same_amount_written_differently_is_the_plan(patient, sign_order, give) -> None:
    sign_order(patient)
    assert give(patient, 40.0).status_code == 201


def test_a_second_dose_for_the_slot_is_409(patient, sign_order, give) -> None:
    sign_order(patient)
    give(patient, 40)
    response = give(patient, 40)
    assert_error(response, 409, "already_dosed")
    assert rules(response) == ["already_dosed"]
    assert count(Dose) == 1


def test_every_blocking_reason_is_listed_at_once(api, staff, patient, sign_order, give) -> None:
    sign_order(patient)
    api(
        "post",
        f"/api/v1/patients/{patient.id}/holds",
        as_=staff["nurse"],
        json={"reason": "Intoxicated at window"},
    )
    response = give(patient, 35)
    assert_error(response, 422, "dose_blocked")
    assert rules(response) == ["patient_on_hold", "amount_mismatch"]
    plan = api("get", f"/api/v1/patients/{patient.id}/dose-plan", as_=staff["nurse"]).get_json()
    assert plan["status"] == "blocked"
    assert [v["rule"] for v in plan["violations"]] == ["patient_on_hold"]
    refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).one()
    assert refusal.rules == "patient_on_hold,amount_mismatch" and refusal.patient_id == patient.id


def test_a_discharged_patient_is_not_dosed(api, staff, patient, sign_order, give) -> None:
    sign_order(patient)
    api(
        "patch", f"/api/v1/patients/{patient.id}", as_=staff["admin"], json={"status": "discharged"}
    )
    assert rules(give(patient, 40)) == ["patient_not_active"]


def test_no_order_no_dose(patient, give) -> None:
    assert rules(give(patient, 40)) == ["no_active_order"]


def test_a_late_entry_needs_a_reason_and_is_flagged(patient, sign_order, give, clock) -> None:
    sign_order(patient)
    clock.set(TODAY + timedelta(days=1))
    yesterday = TODAY.isoformat()
    missing = assert_error(give(patient, 40, date=yesterday), 422)
    assert "late_entry_reason" in missing["fields"]
    response = give(patient, 40, date=yesterday, late_entry_reason="Network down at the window.")
    assert response.status_code == 201, response.get_json()
    dose = response.get_json()
    assert dose["late_entry"] is True and dose["date"] == yesterday
    assert [w["rule"] for w in dose["warnings"]] == ["late_entry"]


@pytest.mark.parametrize(
    "days_back, field",
    [(-1, "date"), (8, "date")],  # tomorrow; past the 7-day back-entry limit
)
def test_doses_far_from_today_are_refused(
    patient, sign_order, give, clock, days_back, field
) -> None:
    clock.set(TODAY - timedelta(days=8))
    sign_order(patient)
    clock.set(TODAY)
    day = (TODAY - timedelta(days=days_back)).isoformat()
    error = assert_error(give(patient, 40, date=day, late_entry_reason="Downtime."), 422)
    assert field in error["fields"]


def test_seven_days_back_is_still_accepted(patient, sign_order, give, clock) -> None:
    clock.set(TODAY - timedelta(days=7))
    sign_order(patient)
    clock.set(TODAY)
    day = (TODAY - timedelta(days=7)).isoformat()
    assert give(patient, 40, date=day, late_entry_reason="Downtime.").status_code == 201


def test_a_reason_is_refused_for_today(patient, sign_order, give) -> None:
    sign_order(patient)
    error = assert_error(give(patient, 40, late_entry_reason="Oops."), 422)
    assert "late_entry_reason" in error["fields"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "amount_mg"),
        ({"amount_mg": "forty"}, "amount_mg"),
        ({"amount_mg": -40}, "amount_mg"),
        ({"amount_mg": 0}, "amount_mg"),
        ({"amount_mg": 40, "slot": "AM!"}, "slot"),
        ({"amount_mg": 40, "slot": "pm"}, "slot"),  # not a slot of this order
        ({"amount_mg": 40, "date": "16/11/2026"}, "date"),
        ({"amount_mg": 40, "extra": 1}, "extra"),
    ],
)
def test_bad_input_is_422_and_records_nothing(
    api, staff, patient, sign_order, payload, field
) -> None:
    sign_order(patient)
    response = api("post", f"/api/v1/patients/{patient.id}/doses", as_=staff["nurse"], json=payload)
    assert field in assert_error(response, 422)["fields"]
    assert count(Dose) == 0


def test_malformed_json_and_unknown_patient(api, staff) -> None:
    response = api(
        "post",
        "/api/v1/patients/1/doses",
        as_=staff["nurse"],
        data="{",
        content_type="application/json",
    )
    assert_error(response, 400)
    assert_error(
        api("post", "/api/v1/patients/999/doses", as_=staff["nurse"], json={"amount_mg": 40}), 404
    )


def test_a_retry_with_the_same_key_answers_the_first_dose(patient, sign_order, give) -> None:
    sign_order(patient)
    first = give(patient, 40, headers={"Idempotency-Key": "window-2-0001"})
    again = give(patient, 40, headers={"Idempotency-Key": "window-2-0001"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(Dose) == 1


def test_a_reused_key_with_another_body_is_refused(patient, sign_order, give) -> None:
    sign_order(patient)
    give(patient, 40, headers={"Idempotency-Key": "k-1"})
    response = give(patient, 41, headers={"Idempotency-Key": "k-1"})
    assert_error(response, 422, "idempotency_key_reused")
    assert count(Dose) == 1


def test_keys_belong_to_their_user(patient, sign_order, give, staff) -> None:
    sign_order(patient)
    give(patient, 40, headers={"Idempotency-Key": "shared"})
    other = give(patient, 40, as_=staff["nurse2"], headers={"Idempotency-Key": "shared"})
    assert_error(other, 409, "already_dosed")


def test_a_refused_request_stores_no_key(patient, sign_order, give) -> None:
    sign_order(patient)
    assert give(patient, 41, headers={"Idempotency-Key": "k-2"}).status_code == 422
    # The refusal left the key free: the corrected request under it is a new request.
    assert give(patient, 40, headers={"Idempotency-Key": "k-2"}).status_code == 201
    assert count(Dose) == 1


# A dose does not look its key up before the work (mat.idempotency, look_up_first=False): a
# retry does the work again and is refused, or stopped at its key's insert, and must still
# answer the first dose. Each road once:


def test_a_retry_the_next_day_answers_the_first_dose(patient, sign_order, give, clock) -> None:
    """The next day the dose would be due again: the retry records it, meets the stored key at
    its insert, and is rolled back."""
    sign_order(patient)
    first = give(patient, 40, headers={"Idempotency-Key": "window-2-0002"})
    clock.set(TODAY + timedelta(days=1), time(9))
    again = give(patient, 40, headers={"Idempotency-Key": "window-2-0002"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert count(Dose) == 1


def test_a_retry_the_rules_now_refuse_answers_the_first_dose(
    api, staff, patient, sign_order, give, clock
) -> None:
    """Next day, on hold: the retry is refused by a rule (not as already dosed) and must still
    answer the first dose."""
    sign_order(patient)
    first = give(patient, 40, headers={"Idempotency-Key": "window-2-0003"})
    held = api("post", f"/api/v1/patients/{patient.id}/holds", as_=staff["nurse"],
               json={"reason": "Sedated at the window"})  # fmt: skip
    assert held.status_code == 201
    clock.set(TODAY + timedelta(days=1), time(9))
    again = give(patient, 40, headers={"Idempotency-Key": "window-2-0003"})
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == first.get_json()
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert refused == []  # a replay, not a refusal
    assert count(Dose) == 1


def test_a_retry_in_the_next_slot_answers_the_first_dose(patient, sign_order, give, clock) -> None:
    """A split dose: the retry after the interval would be the second dose of the day."""
    split = [{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}]
    sign_order(patient, dose_mg=80, split=split)
    first = give(patient, 40, headers={"Idempotency-Key": "window-2-0004"})
    clock.set(TODAY, time(15))
    again = give(patient, 40, headers={"Idempotency-Key": "window-2-0004"})
    assert again.status_code == 200 and again.get_json()["slot"] == "am", again.get_json()
    assert again.get_json() == first.get_json()
    assert count(Dose) == 1


def test_a_reused_key_for_another_patient_is_refused_and_records_nothing(
    factory, patient, sign_order, give
) -> None:
    other = factory.patient(admitted_on=patient.admitted_on)
    sign_order(patient)
    sign_order(other)
    assert give(patient, 40, headers={"Idempotency-Key": "k-3"}).status_code == 201
    response = give(other, 40, headers={"Idempotency-Key": "k-3"})
    assert_error(response, 422, "idempotency_key_reused")
    assert count(Dose) == 1


def test_a_reused_key_the_rules_refuse_is_refused_as_reused(
    api, staff, patient, sign_order, give
) -> None:
    """Another body under a used key is a client's bug, whatever the rules say of it."""
    sign_order(patient)
    give(patient, 40, headers={"Idempotency-Key": "k-4"})
    response = give(patient, 40, headers={"Idempotency-Key": "k-4"}, slot="pm")
    assert_error(response, 422, "idempotency_key_reused")
    assert count(Dose) == 1


def test_an_unusable_key_is_422(patient, sign_order, give) -> None:
    sign_order(patient)
    response = give(patient, 40, headers={"Idempotency-Key": "x" * 101})
    assert "Idempotency-Key" in assert_error(response, 422)["fields"]


def test_split_doses_keep_their_interval(patient, sign_order, give, plan, clock) -> None:
    split = [{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}]
    sign_order(patient, dose_mg=80, split=split)
    assert give(patient, 40).get_json()["slot"] == "am"
    clock.set(TODAY, time(12, 59))
    assert rules(give(patient, 40)) == ["split_interval"]
    assert plan(patient)["status"] == "blocked"
    clock.set(TODAY, time(13, 0))
    assert plan(patient)["status"] == "due"
    assert give(patient, 40).get_json()["slot"] == "pm"
    assert plan(patient)["status"] == "given"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE doses SET amount_mg = 400", "DELETE FROM doses", "UPDATE doses SET slot = 'pm'"],
)
def test_the_database_refuses_to_edit_or_delete_a_dose(
    app, patient, sign_order, give, statement
) -> None:
    sign_order(patient)
    give(patient, 40)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # the app's own role
    try:
        with pytest.raises(DatabaseError, match="append_only"), engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT amount_mg, slot FROM doses")).one() == (40, "daily")
    finally:
        engine.dispose()


def test_the_dose_history_shows_corrections(api, staff, patient, sign_order, give) -> None:
    sign_order(patient)
    dose = give(patient, 40).get_json()
    api(
        "post",
        f"/api/v1/doses/{dose['id']}/corrections",
        as_=staff["nurse"],
        json={
            "kind": "void",
            "reason": "Wrong patient scanned.",
            "witness": {"username": "nurse2", "password": "correct-horse-battery"},
        },
    )
    history = api("get", f"/api/v1/patients/{patient.id}/doses", as_=staff["auditor"]).get_json()
    assert [(d["id"], d["status"]) for d in history] == [(dose["id"], "voided")]
    assert history[0]["correction"]["witness"]["username"] == "nurse2"
    assert json.loads(json.dumps(history))[0]["correction"]["reason"] == "Wrong patient scanned."
