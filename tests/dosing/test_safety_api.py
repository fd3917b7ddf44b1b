"""Holds, withheld doses, screens, closures and corrections through the HTTP stack."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from mat.dosing.models import ClinicClosure, Dose, DoseCorrection, DrugScreen, Hold, WithheldDose
from tests.conftest import TODAY
from tests.support.checks import assert_error, count
from tests.support.factories import PASSWORD

WITNESS = {"username": "nurse2", "password": PASSWORD}


def post(api: Any, path: str, who: Any, payload: dict[str, Any]) -> Any:
    return api("post", path, as_=who, json=payload)


# ---- holds --------------------------------------------------------------------------------


def test_a_hold_blocks_until_a_prescriber_releases_it(
    api, staff, patient, sign_order, give, plan
) -> None:
    sign_order(patient)
    hold = post(api, f"/api/v1/patients/{patient.id}/holds", staff["nurse"], {"reason": "Sedated"})
    assert hold.status_code == 201 and hold.get_json()["open"] is True
    hold_id = hold.get_json()["id"]
    record = api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"]).get_json()
    assert [h["reason"] for h in record["open_holds"]] == ["Sedated"]
    assert plan(patient)["status"] == "blocked"
    refused = post(api, f"/api/v1/holds/{hold_id}/release", staff["nurse"], {"reason": "Fine now"})
    assert [v["rule"] for v in assert_error(refused, 403)["violations"]] == ["prescriber_required"]
    released = post(
        api, f"/api/v1/holds/{hold_id}/release", staff["prescriber"], {"reason": "Assessed"}
    )
    assert released.status_code == 200 and released.get_json()["open"] is False
    assert released.get_json()["release"]["by"]["username"] == "doc"
    assert plan(patient)["status"] == "due"
    assert give(patient, 40).status_code == 201
    again = post(api, f"/api/v1/holds/{hold_id}/release", staff["prescriber"], {"reason": "Twice"})
    assert_error(again, 409, "hold_released")


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_place_no_holds(api, staff, patient, role) -> None:
    assert_error(
        post(api, f"/api/v1/patients/{patient.id}/holds", staff[role], {"reason": "No"}), 403
    )
    assert count(Hold) == 0


def test_holds_need_a_reason_and_a_patient(api, staff, patient) -> None:
    assert (
        "reason"
        in assert_error(post(api, f"/api/v1/patients/{patient.id}/holds", staff["nurse"], {}), 422)[
            "fields"
        ]
    )
    assert_error(post(api, "/api/v1/patients/999/holds", staff["nurse"], {"reason": "Ghost"}), 404)
    assert_error(
        post(api, "/api/v1/holds/999/release", staff["prescriber"], {"reason": "Ghost"}), 404
    )


# ---- withheld -----------------------------------------------------------------------------


def test_a_withheld_dose_is_recorded_and_counts_as_missed(
    api, staff, patient, sign_order, plan, clock
) -> None:
    sign_order(patient)
    path = f"/api/v1/patients/{patient.id}/doses/withheld"
    response = post(api, path, staff["nurse"], {"reason": "Appeared intoxicated"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["date"] == TODAY.isoformat()
    assert_error(post(api, path, staff["nurse"], {"reason": "Again"}), 409, "already_withheld")
    clock.set(TODAY + timedelta(days=1))
    assert plan(patient)["missed_days"] == 1
    assert count(WithheldDose) == 1


def test_a_dose_after_a_withhold_the_same_day_is_allowed(
    api, staff, patient, sign_order, give, plan, clock
) -> None:
    # The nurse assesses again later; the dose then counts and the day is not missed.
    sign_order(patient)
    post(api, f"/api/v1/patients/{patient.id}/doses/withheld", staff["nurse"], {"reason": "Drowsy"})
    assert give(patient, 40).status_code == 201
    clock.set(TODAY + timedelta(days=1))
    assert plan(patient)["missed_days"] == 0


def test_withholding_needs_something_to_withhold(api, staff, patient, sign_order, give) -> None:
    path = f"/api/v1/patients/{patient.id}/doses/withheld"
    nothing = post(api, path, staff["nurse"], {"reason": "No order"})
    assert [v["rule"] for v in assert_error(nothing, 422)["violations"]] == ["no_active_order"]
    sign_order(patient)
    give(patient, 40)
    assert_error(post(api, path, staff["nurse"], {"reason": "Too late"}), 409, "already_dosed")
    assert_error(post(api, path, staff["prescriber"], {"reason": "Not a nurse"}), 403)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert (
        "date"
        in assert_error(
            post(api, path, staff["nurse"], {"reason": "Future", "date": tomorrow}), 422
        )["fields"]
    )


# ---- screens ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"collected_on": TODAY.isoformat(), "results": {}}, "results"),
        ({"collected_on": TODAY.isoformat(), "results": {"fentanly": "negative"}}, "results"),
        ({"collected_on": TODAY.isoformat(), "results": {"fentanyl": "maybe"}}, "results"),
        (
            {
                "collected_on": (TODAY + timedelta(days=1)).isoformat(),
                "results": {"alcohol": "negative"},
            },
            "collected_on",
        ),
        ({"results": {"alcohol": "negative"}}, "collected_on"),
    ],
)
def test_bad_screens_are_422(api, staff, patient, payload, field) -> None:
    response = post(api, f"/api/v1/patients/{patient.id}/drug-screens", staff["nurse"], payload)
    fields = assert_error(response, 422)["fields"]
    assert any(name.startswith(field) for name in fields), fields
    assert count(DrugScreen) == 0


def test_auditors_record_no_screens(api, staff, patient) -> None:
    payload = {"collected_on": TODAY.isoformat(), "results": {"alcohol": "negative"}}
    assert_error(
        post(api, f"/api/v1/patients/{patient.id}/drug-screens", staff["auditor"], payload), 403
    )


# ---- closures -----------------------------------------------------------------------------


def test_only_admins_close_the_clinic_once_a_day(api, staff) -> None:
    payload = {"date": (TODAY + timedelta(days=10)).isoformat(), "reason": "Thanksgiving"}
    assert_error(post(api, "/api/v1/closures", staff["nurse"], payload), 403)
    assert post(api, "/api/v1/closures", staff["admin"], payload).status_code == 201
    assert_error(post(api, "/api/v1/closures", staff["admin"], payload), 409, "duplicate_closure")
    assert count(ClinicClosure) == 1


# ---- corrections --------------------------------------------------------------------------


def correct(api: Any, staff: Any, dose_id: int, **overrides: Any) -> Any:
    payload = {"kind": "void", "reason": "Recorded for the wrong patient.", "witness": WITNESS}
    payload.update(overrides)
    return post(api, f"/api/v1/doses/{dose_id}/corrections", staff["nurse"], payload)


def test_a_witnessed_void_frees_the_slot_for_the_right_dose(
    api, staff, patient, sign_order, give, plan
) -> None:
    sign_order(patient)
    dose = give(patient, 40).get_json()
    response = correct(api, staff, dose["id"])
    assert response.status_code == 201, response.get_json()
    correction = response.get_json()
    assert (
        correction["kind"],
        correction["by"]["username"],
        correction["witness"]["username"],
    ) == ("void", "nurse1", "nurse2")
    assert plan(patient)["status"] == "due"
    replacement = give(patient, 40)
    assert replacement.status_code == 201 and replacement.get_json()["attempt"] == 2
    assert count(Dose) == 2
    assert_error(correct(api, staff, dose["id"]), 409, "already_corrected")


@pytest.mark.parametrize(
    "witness",
    [
        {"username": "nurse2", "password": "wrong-password-here"},
        {"username": "nurse1", "password": PASSWORD},  # the same nurse
        {"username": "doc", "password": PASSWORD},  # not a nurse
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_a_correction_needs_a_second_nurse(api, staff, patient, sign_order, give, witness) -> None:
    sign_order(patient)
    dose = give(patient, 40).get_json()
    response = correct(api, staff, dose["id"], witness=witness)
    error = assert_error(response, 422, "witness_required")
    assert [v["rule"] for v in error["violations"]] == ["witness_required"]
    assert count(DoseCorrection) == 0


def test_a_spill_is_recorded_and_shown(api, staff, patient, sign_order, give) -> None:
    sign_order(patient)
    dose = give(patient, 40).get_json()
    assert (
        correct(api, staff, dose["id"], kind="spill", reason="Cup knocked over.").status_code == 201
    )
    history = api("get", f"/api/v1/patients/{patient.id}/doses", as_=staff["nurse"]).get_json()
    assert history[0]["status"] == "spilled"


def test_correction_refusals(api, staff, patient, sign_order, give) -> None:
    sign_order(patient)
    dose = give(patient, 40).get_json()
    assert_error(correct(api, staff, 999), 404, "dose_not_found")
    assert "kind" in assert_error(correct(api, staff, dose["id"], kind="undo"), 422)["fields"]
    # No witness at all is the rule's refusal (the contract's 422 witness_required).
    missing = assert_error(correct(api, staff, dose["id"], witness=None), 422, "witness_required")
    assert [v["rule"] for v in missing["violations"]] == ["witness_required"]
    half = correct(api, staff, dose["id"], witness={"username": "nurse2"})
    assert "witness.password" in assert_error(half, 422, "invalid_input")["fields"]
    response = post(
        api,
        f"/api/v1/doses/{dose['id']}/corrections",
        staff["prescriber"],
        {"kind": "void", "reason": "Not mine.", "witness": WITNESS},
    )
    assert [v["rule"] for v in assert_error(response, 403)["violations"]] == ["dispenser_required"]
    assert count(DoseCorrection) == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE holds SET reason = 'edited'",
        "DELETE FROM hold_releases",
        "UPDATE drug_screens SET results = '{}'",
        "DELETE FROM dose_corrections",
        "UPDATE withheld_doses SET reason = 'edited'",
        "DELETE FROM clinic_closures",
    ],
)
def test_the_database_refuses_to_edit_safety_records(
    app, api, staff, patient, sign_order, give, statement
) -> None:
    sign_order(patient)
    hold = post(
        api, f"/api/v1/patients/{patient.id}/holds", staff["nurse"], {"reason": "Check"}
    ).get_json()
    post(api, f"/api/v1/holds/{hold['id']}/release", staff["prescriber"], {"reason": "Checked"})
    post(
        api,
        f"/api/v1/patients/{patient.id}/drug-screens",
        staff["nurse"],
        {"collected_on": TODAY.isoformat(), "results": {"alcohol": "negative"}},
    )
    post(api, f"/api/v1/patients/{patient.id}/doses/withheld", staff["nurse"], {"reason": "Drowsy"})
    dose = give(patient, 40).get_json()
    correct(api, staff, dose["id"])
    post(api, "/api/v1/closures", staff["admin"], {"date": TODAY.isoformat(), "reason": "Flood"})
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        table = statement.split()[1] if statement.startswith("UPDATE") else statement.split()[2]
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1
        with pytest.raises(DatabaseError, match="append_only"), engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
