"""Take-homes under the 2024 rule through the HTTP stack: closure days, screens, SMA-168
exceptions, loss reports, late voids, split take-home parts and the screen-frequency reminder."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest

from mat.dosing.models import Dose, DoseCorrection, TakeHomeLoss
from mat.orders.models import TakeHomeException
from tests.conftest import TODAY
from tests.dosing.test_take_homes_api import SATURDAY, SUNDAY, iso, rules, screen, take_home
from tests.support.checks import assert_error, count
from tests.support.factories import PASSWORD

__all__ = ["screen", "take_home"]  # fixtures used here, defined there

THURSDAY = TODAY + timedelta(days=3)
WITNESS = {"username": "nurse2", "password": PASSWORD}


@pytest.fixture
def closed_thursday(api, staff) -> date:
    response = api(
        "post",
        "/api/v1/closures",
        as_=staff["admin"],
        json={"date": THURSDAY.isoformat(), "reason": "Snowstorm"},
    )
    assert response.status_code == 201
    return THURSDAY


@pytest.fixture
def weekends(sign_order, take_home_criteria):
    def sign(patient: Any, **overrides: Any) -> dict[str, Any]:
        authorization = {"weekdays": ["sat", "sun"], "criteria": take_home_criteria}
        return sign_order(patient, take_home=authorization, **overrides)

    return sign


def post(api: Any, path: str, who: Any, body: dict[str, Any]) -> Any:
    return api("post", path, as_=who, json=body)


# ---- clinic_closed ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "screens",
    [
        [{"fentanyl": "positive"}],
        [],  # no screen at all
        [{"methadone": "negative"}],
    ],
)
def test_a_closure_day_take_home_whatever_the_screens(
    patient, sign_order, screen, take_home, closed_thursday, screens
) -> None:
    sign_order(patient)  # no take-home authorization at all
    for results in screens:
        screen(patient, **results)
    response = take_home(patient, iso(closed_thursday))
    assert response.status_code == 201, response.get_json()
    [dose] = response.get_json()["doses"]
    assert dose["closure_dose"] is True
    assert [w["rule"] for w in dose["warnings"]] == ["clinic_closed"]


def test_a_closure_day_with_an_open_day_is_judged_by_the_screens(
    patient, weekends, screen, take_home, closed_thursday
) -> None:
    weekends(patient)
    screen(patient, fentanyl="positive")
    response = take_home(patient, iso(closed_thursday, SATURDAY))
    assert rules(response) == ["take_home_drug_screen", "clinic_closed"]
    assert count(Dose) == 0


def test_a_hold_or_a_missed_dose_block_still_refuses_the_closure_dose(
    api, staff, factory, clock, sign_order, screen, take_home, closed_thursday
) -> None:
    held = factory.patient()
    sign_order(held)
    post(api, f"/api/v1/patients/{held.id}/holds", staff["nurse"], {"reason": "Sedated"})
    assert rules(take_home(held, iso(closed_thursday))) == ["patient_on_hold", "clinic_closed"]
    away = factory.patient()
    clock.set(TODAY - timedelta(days=4))
    sign_order(away)
    clock.set(TODAY)  # four planned days missed
    assert rules(take_home(away, iso(closed_thursday))) == ["missed_doses_review", "clinic_closed"]
    assert count(Dose) == 0


@pytest.mark.parametrize(
    "level, allowed",
    [("detox", False), ("inpatient", False), ("outpatient", True), ("maintenance", True)],
)
def test_the_closure_allowance_is_for_patients_in_maintenance_treatment(
    factory, sign_order, screen, take_home, closed_thursday, level, allowed
) -> None:
    patient = factory.patient(level_of_care=level)
    sign_order(patient)
    screen(patient, fentanyl="positive")
    response = take_home(patient, iso(closed_thursday))
    assert (response.status_code == 201) is allowed, response.get_json()
    if not allowed:
        assert rules(response) == ["take_home_not_authorized", "take_home_drug_screen"]


# ---- take_home_drug_screen: other prescribed, the medication missing ---------------------------


def test_a_benzodiazepine_prescribed_elsewhere_is_expected(
    api, staff, patient, weekends, screen, take_home
) -> None:
    weekends(patient)
    screen(patient, methadone="positive", benzodiazepines="positive")
    assert rules(take_home(patient, iso(SATURDAY))) == ["take_home_drug_screen"]
    api(
        "patch",
        f"/api/v1/patients/{patient.id}",
        as_=staff["prescriber"],
        json={"other_prescribed": ["benzodiazepines"]},
    )
    assert take_home(patient, iso(SATURDAY)).status_code == 201


def test_a_screen_negative_for_methadone_refuses_take_homes(
    patient, weekends, screen, take_home
) -> None:
    weekends(patient)
    screen(patient, methadone="negative", fentanyl="negative")
    refused = take_home(patient, iso(SATURDAY))
    error = assert_error(refused, 422, "dose_blocked")
    assert "possible diversion" in error["violations"][0]["message"]
    screen(patient, collected_on=TODAY, methadone="positive")  # the same sample, found
    assert take_home(patient, iso(SATURDAY)).status_code == 201


# ---- take_home_exception ------------------------------------------------------------------------


def exception_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "number": "SMA-2026-118",
        "approved_by": "State Opioid Treatment Authority (J. Doe)",
        "approved_on": (TODAY - timedelta(days=2)).isoformat(),
        "from": (TODAY + timedelta(days=15)).isoformat(),
        "to": (TODAY + timedelta(days=16)).isoformat(),
        "reason": "Family funeral out of state; no OTP within reach.",
    }
    body.update(overrides)
    return body


def test_an_exception_lets_take_homes_pass_the_ceiling_and_marks_them(
    api, staff, patient, sign_order, take_home_criteria, screen, take_home
) -> None:
    # Treatment day 15: at most 14 consecutive days; 16 asked.
    dates = [TODAY + timedelta(days=n) for n in range(1, 17)]
    authorization = {"dates": iso(*dates), "criteria": take_home_criteria}
    refused = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders",
        as_=staff["prescriber"],
        json={
            "medication": "METH-10MGML",
            "kind": "maintenance",
            "start_date": TODAY.isoformat(),
            "dose_mg": 40,
            "take_home": {**authorization, "rationale": "Travel."},
        },
    )
    assert rules(refused) == ["take_home_plan_ceiling"]
    path = f"/api/v1/patients/{patient.id}/take-home-exceptions"
    recorded = post(api, path, staff["prescriber"], exception_body())
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["from"] == dates[14].isoformat()
    order = sign_order(patient, take_home=authorization)
    assert [w["rule"] for w in order["warnings"]] == ["take_home_exception"]
    screen(patient)
    response = take_home(patient, iso(*dates[:14]))
    assert response.status_code == 201, response.get_json()
    assert all(d["take_home_exception"] is None for d in response.get_json()["doses"])
    response = take_home(patient, iso(*dates[14:]))
    assert response.status_code == 201, response.get_json()
    doses = response.get_json()["doses"]
    assert [d["take_home_exception"] for d in doses] == ["SMA-2026-118"] * 2
    assert [w["rule"] for w in doses[0]["warnings"]] == ["take_home_exception"]
    listed = api("get", path, as_=staff["auditor"]).get_json()
    assert [e["number"] for e in listed] == ["SMA-2026-118"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"to": (TODAY + timedelta(days=14)).isoformat()}, "to"),  # before from
        (
            {
                "from": (TODAY - timedelta(days=9)).isoformat(),
                "to": (TODAY - timedelta(days=1)).isoformat(),
            },
            "to",
        ),
        ({"to": (TODAY + timedelta(days=400)).isoformat()}, "to"),  # over a year
        ({"approved_on": (TODAY + timedelta(days=1)).isoformat()}, "approved_on"),
        ({"number": ""}, "number"),
        ({"reason": None}, "reason"),
        ({"from": "soon"}, "from"),
    ],
)
def test_an_exception_out_of_range_is_refused(api, staff, patient, overrides, field) -> None:
    path = f"/api/v1/patients/{patient.id}/take-home-exceptions"
    error = assert_error(post(api, path, staff["prescriber"], exception_body(**overrides)), 422)
    assert field in error["fields"]
    assert count(TakeHomeException) == 0


def test_who_records_an_exception_and_only_once(api, staff, patient) -> None:
    path = f"/api/v1/patients/{patient.id}/take-home-exceptions"
    for who in ("nurse", "admin", "auditor"):
        assert_error(post(api, path, staff[who], exception_body()), 403)
    assert post(api, path, staff["prescriber"], exception_body()).status_code == 201
    assert_error(post(api, path, staff["prescriber"], exception_body()), 409, "duplicate_exception")
    missing = "/api/v1/patients/9999/take-home-exceptions"
    assert_error(post(api, missing, staff["prescriber"], exception_body()), 404)
    assert count(TakeHomeException) == 1


# ---- take_home_correction and loss reports ------------------------------------------------------


def correct(api: Any, staff: Any, dose_id: int, **body: Any) -> Any:
    payload = {"kind": "void", "reason": "Recorded in error.", "witness": WITNESS, **body}
    return post(api, f"/api/v1/doses/{dose_id}/corrections", staff["nurse"], payload)


def report(api: Any, who: Any, dose_id: int, **body: Any) -> Any:
    payload = {"kind": "lost", "reported_on": TODAY.isoformat(), "note": "Left on the bus.", **body}
    return post(api, f"/api/v1/doses/{dose_id}/loss-reports", who, payload)


@pytest.fixture
def weekend_doses(patient, weekends, screen, take_home, clock) -> list[dict[str, Any]]:
    screen(patient)
    clock.set(TODAY + timedelta(days=4), time(15, 0))  # Friday afternoon
    weekends(patient)
    response = take_home(patient, iso(SATURDAY, SUNDAY))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["doses"]


def test_a_take_home_is_voided_the_day_it_is_handed_out(api, staff, weekend_doses) -> None:
    assert correct(api, staff, weekend_doses[0]["id"]).status_code == 201


@pytest.mark.parametrize("kind", ["void", "spill"])
def test_after_that_day_a_take_home_correction_is_refused(
    api, staff, clock, weekend_doses, kind
) -> None:
    clock.set(SATURDAY, time(9, 0))
    refused = correct(api, staff, weekend_doses[1]["id"], kind=kind)
    error = assert_error(refused, 422, "take_home_correction")
    assert [v["rule"] for v in error["violations"]] == ["take_home_correction"]
    assert f"/api/v1/doses/{weekend_doses[1]['id']}/loss-reports" in error["message"]
    no_witness = correct(api, staff, weekend_doses[1]["id"], witness=None)
    both = assert_error(no_witness, 422, "take_home_correction")["violations"]
    assert [v["rule"] for v in both] == ["take_home_correction", "witness_required"]
    assert count(DoseCorrection) == 0


def test_a_loss_is_reported_and_reviewed_and_the_dose_replaced(
    api, staff, patient, clock, weekend_doses, give
) -> None:
    clock.set(SATURDAY, time(10, 0))
    sunday = weekend_doses[1]
    response = report(
        api, staff["nurse"], sunday["id"], kind="spilled", reported_on=SATURDAY.isoformat()
    )
    assert response.status_code == 201, response.get_json()
    loss = response.get_json()
    assert (loss["kind"], loss["date"], loss["review"]) == ("spilled", SUNDAY.isoformat(), None)
    assert_error(report(api, staff["nurse"], sunday["id"]), 409, "already_reported")
    review_path = f"/api/v1/loss-reports/{loss['id']}/review"
    decision = {"decision": "replace", "note": "Seen; plausible; one replacement."}
    assert_error(post(api, review_path, staff["nurse"], decision), 403)
    reviewed = post(api, review_path, staff["prescriber"], decision)
    assert reviewed.status_code == 200, reviewed.get_json()
    assert reviewed.get_json()["review"]["decision"] == "replace"
    assert_error(post(api, review_path, staff["prescriber"], decision), 409, "already_reviewed")
    # Sunday's slot takes a replacement: the patient comes in and it is given observed.
    clock.set(SUNDAY, time(9, 0))
    replacement = give(patient, 40)
    assert replacement.status_code == 201, replacement.get_json()
    assert replacement.get_json()["attempt"] == 2
    history = api("get", f"/api/v1/patients/{patient.id}/doses", as_=staff["nurse"]).get_json()
    lost = next(d for d in history if d["id"] == sunday["id"])
    assert lost["loss"]["kind"] == "spilled" and lost["loss"]["review"]["decision"] == "replace"


def test_a_past_day_is_not_replaced(api, staff, clock, weekend_doses) -> None:
    monday = TODAY + timedelta(days=7)  # the Monday after
    clock.set(monday)
    loss = report(
        api,
        staff["prescriber"],
        weekend_doses[0]["id"],
        kind="stolen",
        reported_on=monday.isoformat(),
    ).get_json()
    path = f"/api/v1/loss-reports/{loss['id']}/review"
    refused = post(
        api, path, staff["prescriber"], {"decision": "replace", "note": "Police report."}
    )
    assert "decision" in assert_error(refused, 422)["fields"]
    decided = post(api, path, staff["prescriber"], {"decision": "no_replacement", "note": "Past."})
    assert decided.status_code == 200


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"kind": "eaten"}, 422, "invalid_input"),
        (
            {"reported_on": (TODAY - timedelta(days=1)).isoformat()},
            422,
            "invalid_input",
        ),  # < handed out
        ({"reported_on": (TODAY + timedelta(days=9)).isoformat()}, 422, "invalid_input"),  # future
        ({"note": ""}, 422, "invalid_input"),
    ],
)
def test_a_bad_loss_report_is_refused(api, staff, weekend_doses, body, status, code) -> None:
    assert_error(report(api, staff["nurse"], weekend_doses[0]["id"], **body), status, code)
    assert count(TakeHomeLoss) == 0


def test_only_a_take_home_that_counts_is_reported_lost(
    api, staff, patient, sign_order, give
) -> None:
    sign_order(patient)
    observed = give(patient, 40).get_json()
    assert_error(report(api, staff["nurse"], observed["id"]), 422, "not_a_take_home")
    assert_error(report(api, staff["auditor"], observed["id"]), 403)
    assert_error(report(api, staff["nurse"], 99999), 404)
    assert count(TakeHomeLoss) == 0


def test_two_losses_in_90_days_warn_at_every_later_take_home(
    api, staff, patient, clock, weekend_doses, take_home
) -> None:
    clock.set(SATURDAY, time(10, 0))
    for dose in weekend_doses:
        assert (
            report(api, staff["nurse"], dose["id"], reported_on=SATURDAY.isoformat()).status_code
            == 201
        )
    clock.set(SUNDAY, time(10, 0))  # both weekend doses were taken home: nothing missed
    response = take_home(patient, iso(SATURDAY + timedelta(days=7)))
    assert response.status_code == 201, response.get_json()
    [warning] = response.get_json()["doses"][0]["warnings"]
    assert warning["rule"] == "take_home_loss"


# ---- split take-home parts ---------------------------------------------------------------------


@pytest.fixture
def split_order(patient, sign_order, take_home_criteria):
    return sign_order(
        patient,
        dose_mg=60,
        split=[{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}],
        take_home={"split_slots": ["pm"], "criteria": take_home_criteria},
    )


def test_the_later_part_is_handed_out_in_the_same_visit(
    api, staff, patient, split_order, screen, give, plan, clock
) -> None:
    assert [(p["slot"], p["mode"]) for p in split_order["schedule"][:2]] == [
        ("am", "observed"),
        ("pm", "take_home"),
    ]
    assert split_order["take_home"]["split_slots"] == ["pm"]
    screen(patient)
    before = give(patient, 30, slot="pm")
    assert [v["rule"] for v in assert_error(before, 422)["violations"]] == ["split_interval"]
    assert give(patient, 30).get_json()["mode"] == "observed"
    due = plan(patient)
    assert (due["status"], due["slot"], due["mode"]) == ("due", "pm", "take_home")
    clock.set(TODAY, time(9, 3))  # minutes later, not four hours: it is taken at home
    handed = give(patient, 30, slot="pm")
    assert handed.status_code == 201, handed.get_json()
    assert (handed.get_json()["mode"], handed.get_json()["slot"]) == ("take_home", "pm")
    assert plan(patient)["status"] == "given"


def test_the_take_home_part_answers_to_the_screens(
    api, staff, patient, split_order, screen, give
) -> None:
    screen(patient, fentanyl="positive")
    assert give(patient, 30).status_code == 201  # the observed part: given
    refused = give(patient, 30, slot="pm")
    assert [v["rule"] for v in assert_error(refused, 422)["violations"]] == [
        "take_home_drug_screen"
    ]


def test_split_slots_name_a_later_slot(api, staff, patient, take_home_criteria) -> None:
    body = {
        "medication": "METH-10MGML",
        "kind": "maintenance",
        "start_date": TODAY.isoformat(),
        "dose_mg": 60,
        "split": [{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}],
        "take_home": {"split_slots": ["am"], "criteria": take_home_criteria, "rationale": "x"},
    }
    response = post(api, f"/api/v1/patients/{patient.id}/orders", staff["prescriber"], body)
    assert "take_home.split_slots" in assert_error(response, 422)["fields"]


def test_buprenorphine_split_parts_are_two_hours_apart(patient, sign_order, give, clock) -> None:
    split = [{"slot": "am", "fraction": 0.5}, {"slot": "pm", "fraction": 0.5}]
    sign_order(patient, medication="BUP-SL-8", dose_mg=16, split=split)
    give(patient, 8)
    clock.set(TODAY, time(10, 59))
    assert [v["rule"] for v in assert_error(give(patient, 8), 422)["violations"]] == [
        "split_interval"
    ]
    clock.set(TODAY, time(11, 0))
    assert give(patient, 8).status_code == 201


# ---- drug_screen_frequency on the nurse's plan --------------------------------------------------


def test_the_plan_reminds_when_screens_are_due(factory, sign_order, screen, plan) -> None:
    patient = factory.patient(admitted_on=TODAY - timedelta(days=60))  # day 61: 1 due
    sign_order(patient)
    [reminder] = plan(patient)["warnings"]
    assert (reminder["rule"], reminder["severity"]) == ("drug_screen_frequency", "warn")
    screen(patient)
    assert plan(patient)["warnings"] == []
