"""Take-home dispensing through the HTTP stack: all or nothing, each rule of the take-home table."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from mat.dosing.models import Dose
from tests.conftest import TODAY
from tests.support.checks import assert_error, count

SATURDAY, SUNDAY = TODAY + timedelta(days=5), TODAY + timedelta(days=6)


def iso(*days: date) -> list[str]:
    return [d.isoformat() for d in days]


@pytest.fixture
def screen(api, staff):
    def post(patient: Any, collected_on: date = TODAY, **results: str) -> Any:
        response = api(
            "post",
            f"/api/v1/patients/{patient.id}/drug-screens",
            as_=staff["nurse"],
            json={
                "collected_on": collected_on.isoformat(),
                "results": results or {"fentanyl": "negative"},
            },
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return post


@pytest.fixture
def weekend_order(patient, sign_order, take_home_criteria):
    return sign_order(
        patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria}
    )


@pytest.fixture
def take_home(api, staff):
    def post(patient: Any, dates: list[str], headers: Any = None, as_: Any = None) -> Any:
        return api(
            "post",
            f"/api/v1/patients/{patient.id}/take-homes",
            as_=as_ or staff["nurse"],
            json={"dates": dates},
            headers=headers,
        )

    return post


def rules(response: Any) -> list[str]:
    return [v["rule"] for v in response.get_json()["error"]["violations"]]


def test_weekend_take_homes_are_handed_out(patient, weekend_order, screen, take_home) -> None:
    screen(patient, methadone="positive", fentanyl="negative")  # methadone on methadone: expected
    response = take_home(patient, iso(SATURDAY, SUNDAY))
    assert response.status_code == 201, response.get_json()
    doses = response.get_json()["doses"]
    assert [(d["date"], d["mode"], d["amount_mg"]) for d in doses] == [
        (SATURDAY.isoformat(), "take_home", 40),
        (SUNDAY.isoformat(), "take_home", 40),
    ]
    assert all(d["dispenser"]["username"] == "nurse1" for d in doses)


def test_a_day_the_order_does_not_authorize_refuses_all(
    patient, weekend_order, screen, take_home
) -> None:
    screen(patient)
    response = take_home(patient, iso(TODAY + timedelta(days=4), SATURDAY))  # a Friday
    assert_error(response, 422, "dose_blocked")
    assert rules(response) == ["take_home_not_authorized"]
    assert count(Dose) == 0


def test_no_screen_no_take_home(patient, weekend_order, take_home) -> None:
    assert rules(take_home(patient, iso(SATURDAY))) == ["take_home_drug_screen"]


@pytest.mark.parametrize("age, allowed", [(30, True), (31, False)])
def test_the_newest_screen_must_be_at_most_30_days_old(
    patient, weekend_order, screen, take_home, age, allowed
) -> None:
    screen(patient, collected_on=TODAY - timedelta(days=age))
    response = take_home(patient, iso(SATURDAY))
    assert (response.status_code == 201) is allowed, response.get_json()


def test_an_unexpected_positive_refuses(patient, weekend_order, screen, take_home) -> None:
    screen(patient, fentanyl="positive")
    assert rules(take_home(patient, iso(SATURDAY))) == ["take_home_drug_screen"]


def test_two_positives_suspend_until_a_new_order(
    patient, sign_order, take_home_criteria, screen, take_home, clock
) -> None:
    clock.set(TODAY - timedelta(days=20))
    screen(patient, collected_on=TODAY - timedelta(days=20), cocaine="positive")
    clock.set(TODAY)
    screen(patient, collected_on=TODAY - timedelta(days=2), cocaine="positive")
    screen(patient, collected_on=TODAY - timedelta(days=1), cocaine="negative")
    authorization = {"weekdays": ["sat", "sun"], "criteria": take_home_criteria}
    sign_order(patient, take_home=authorization, start_date=(TODAY + timedelta(days=1)).isoformat())
    # Signed today, after the second positive (two days ago): the suspension is lifted.
    assert take_home(patient, iso(SATURDAY)).status_code == 201


def test_step_back_holds_while_the_order_predates_the_second_positive(
    patient, weekend_order, screen, take_home
) -> None:
    screen(patient, collected_on=TODAY - timedelta(days=20), cocaine="positive")
    screen(patient, collected_on=TODAY, cocaine="positive")
    screen(patient, collected_on=TODAY, cocaine="negative", fentanyl="negative")
    refused = take_home(patient, iso(SATURDAY))
    assert "take_home_step_back" in rules(refused)


def test_the_methadone_ceiling_by_treatment_day(
    patient, sign_order, take_home_criteria, screen, take_home
) -> None:
    # Treatment day 15: at most 14 consecutive days; the order authorizes 14 dates.
    dates = [TODAY + timedelta(days=n) for n in range(1, 15)]
    sign_order(patient, take_home={"dates": iso(*dates), "criteria": take_home_criteria})
    screen(patient)
    assert take_home(patient, iso(*dates[:13])).status_code == 201
    assert take_home(patient, iso(dates[13])).status_code == 201  # the 14th day of the run
    assert count(Dose) == 14


def test_a_run_past_the_ceiling_is_refused(
    factory, api, staff, sign_order, take_home_criteria, screen, take_home
) -> None:
    # Treatment day 1 today: at most 7 consecutive take-home days.
    patient = factory.patient(admitted_on=TODAY)
    dates = [TODAY + timedelta(days=n) for n in range(1, 8)]
    sign_order(patient, take_home={"dates": iso(*dates), "criteria": take_home_criteria})
    screen(patient)
    assert take_home(patient, iso(*dates)).status_code == 201  # 7 days: at the ceiling
    assert count(Dose) == 7


def test_buprenorphine_has_no_ceiling(
    factory, sign_order, take_home_criteria, screen, take_home
) -> None:
    patient = factory.patient(admitted_on=TODAY)
    dates = [TODAY + timedelta(days=n) for n in range(1, 11)]
    sign_order(
        patient,
        medication="BUPNX-FILM-8",
        dose_mg=8,
        take_home={"dates": iso(*dates), "criteria": take_home_criteria},
    )
    screen(patient, buprenorphine="positive")
    assert take_home(patient, iso(*dates)).status_code == 201


def test_a_closure_day_allows_one_flagged_take_home(
    api, staff, patient, sign_order, screen, take_home
) -> None:
    sign_order(patient)  # no take-home authorization at all
    screen(patient)
    thursday = TODAY + timedelta(days=3)
    api(
        "post",
        "/api/v1/closures",
        as_=staff["admin"],
        json={"date": thursday.isoformat(), "reason": "Snowstorm"},
    )
    response = take_home(patient, iso(thursday))
    assert response.status_code == 201, response.get_json()
    dose = response.get_json()["doses"][0]
    assert dose["closure_dose"] is True
    assert [w["rule"] for w in dose["warnings"]] == ["clinic_closed"]


def test_a_held_patient_gets_no_take_homes(
    api, staff, patient, weekend_order, screen, take_home
) -> None:
    screen(patient)
    api(
        "post",
        f"/api/v1/patients/{patient.id}/holds",
        as_=staff["prescriber"],
        json={"reason": "Missed counselling"},
    )
    assert rules(take_home(patient, iso(SATURDAY))) == ["patient_on_hold"]


def test_the_same_date_twice_is_already_dosed(patient, weekend_order, screen, take_home) -> None:
    screen(patient)
    assert take_home(patient, iso(SATURDAY)).status_code == 201
    response = take_home(patient, iso(SATURDAY))
    assert_error(response, 409, "already_dosed")
    assert count(Dose) == 1


def test_a_retry_with_the_same_key_answers_the_first_take_homes(
    patient, weekend_order, screen, take_home
) -> None:
    screen(patient)
    key = {"Idempotency-Key": "th-1"}
    first = take_home(patient, iso(SATURDAY, SUNDAY), headers=key)
    again = take_home(patient, iso(SATURDAY, SUNDAY), headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert count(Dose) == 2


@pytest.mark.parametrize(
    "dates",
    [
        [],
        ["tomorrow"],
        [(TODAY - timedelta(days=1)).isoformat()],
        [(TODAY + timedelta(days=29)).isoformat()],
    ],
)
def test_bad_dates_are_422(patient, weekend_order, take_home, dates) -> None:
    fields = assert_error(take_home(patient, dates), 422)["fields"]
    assert any(name.startswith("dates") for name in fields), fields
    assert count(Dose) == 0


def test_only_nurses_hand_out_take_homes(patient, weekend_order, take_home, staff) -> None:
    error = assert_error(take_home(patient, iso(SATURDAY), as_=staff["prescriber"]), 403)
    assert [v["rule"] for v in error["violations"]] == ["dispenser_required"]
