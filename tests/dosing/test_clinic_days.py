"""A week at the dosing window: three patients through induction, titration, a missed run,
a hold, a void, and a take-home weekend, checked day by day against the expected plans.

Day 0 is Monday ``TODAY``. Everything goes through the HTTP API with a moving clinic clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mat.audit.service import verify_chain
from mat.dosing.models import Dose
from tests.conftest import TODAY
from tests.support.checks import count
from tests.support.factories import PASSWORD


def test_a_week_at_the_window(
    api, staff, factory, clock, sign_order, plan, give, take_home_criteria
) -> None:
    def day(n: int):
        return TODAY + timedelta(days=n)

    def post(path: str, who: str, body: dict[str, Any]) -> Any:
        response = api("post", path, as_=staff[who], json=body)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    # Avery: new today, methadone titration 30 -> 45 mg, 5 mg every 3 days.
    avery = factory.patient(admitted_on=TODAY, given_name="Avery")
    titration = {"start_mg": 30, "step_mg": 5, "every_days": 3, "target_mg": 45}
    sign_order(avery, kind="titration", dose_mg=None, titration=titration)
    # Blake: new today, buprenorphine/naloxone induction 8, 12, then 16 mg.
    blake = factory.patient(admitted_on=TODAY, given_name="Blake")
    steps = [
        {"date": day(0).isoformat(), "dose_mg": 8},
        {"date": day(1).isoformat(), "dose_mg": 12},
        {"date": day(2).isoformat(), "dose_mg": 16},
    ]
    sign_order(blake, medication="BUPNX-FILM-2", kind="induction", dose_mg=None, steps=steps)
    # Casey: on 60 mg methadone for two months, weekend take-homes, a clean screen today.
    casey = factory.patient(admitted_on=TODAY - timedelta(days=60), given_name="Casey")
    weekends = {"weekdays": ["sat", "sun"], "criteria": take_home_criteria}
    sign_order(casey, dose_mg=60, take_home=weekends)
    post(
        f"/api/v1/patients/{casey.id}/drug-screens",
        "nurse",
        {
            "collected_on": TODAY.isoformat(),
            "results": {"fentanyl": "negative", "methadone": "positive"},
        },
    )

    avery_doses = {0: 30, 1: 30, 2: 30, 3: 35, 4: 35, 5: 35, 6: 40}
    blake_doses = {0: 8, 1: 12, 2: 16, 3: 16, 4: 16, 5: 16, 6: 16}
    for n in range(7):
        clock.set(day(n))
        # -- Avery: every day but Friday (day 4); on Wednesday a dose is voided and given again.
        expected = plan(avery)
        assert (expected["status"], expected["dose_mg"]) == ("due", avery_doses[n]), (n, expected)
        assert expected["missed_days"] == (1 if n == 5 else 0)
        if n != 4:
            dose = give(avery, avery_doses[n]).get_json()
            if n == 2:
                post(
                    f"/api/v1/doses/{dose['id']}/corrections",
                    "nurse",
                    {
                        "kind": "void",
                        "reason": "Scanned the wrong bottle.",
                        "witness": {"username": "nurse2", "password": PASSWORD},
                    },
                )
                assert plan(avery)["status"] == "due"
                assert give(avery, 30).get_json()["attempt"] == 2
            assert plan(avery)["status"] == "given"

        # -- Blake: induction steps; on Thursday a hold stops the window until it is released.
        expected = plan(blake)
        assert expected["dose_mg"] == blake_doses[n] and expected["volume_ml"] is None
        if n == 3:
            hold = post(f"/api/v1/patients/{blake.id}/holds", "nurse", {"reason": "Sedated"})
            assert plan(blake)["status"] == "blocked"
            post(
                f"/api/v1/holds/{hold['id']}/release", "prescriber", {"reason": "Reassessed, alert"}
            )
        assert plan(blake)["status"] == "due"
        give(blake, blake_doses[n])

        # -- Casey: dosed Monday, misses Tuesday to Thursday, needs a new order on Friday.
        expected = plan(casey)
        if n == 0:
            give(casey, 60)
        elif n in (1, 2, 3):
            assert expected["status"] == "due" and expected["missed_days"] == n - 1
        elif n == 4:
            assert expected["status"] == "blocked" and expected["missed_days"] == 3
            assert [v["rule"] for v in expected["violations"]] == ["missed_doses_review"]
            refused = api(
                "post",
                f"/api/v1/patients/{casey.id}/take-homes",
                as_=staff["nurse"],
                json={"dates": [day(5).isoformat(), day(6).isoformat()]},
            )
            assert refused.status_code == 422
            # After 3 missed days the new order starts at half the last dose (policy).
            sign_order(casey, dose_mg=30, take_home=weekends)
            assert plan(casey)["status"] == "due"
            give(casey, 30)
            post(
                f"/api/v1/patients/{casey.id}/take-homes",
                "nurse",
                {"dates": [day(5).isoformat(), day(6).isoformat()]},
            )
        else:  # the weekend: taken home on Friday
            assert (expected["status"], expected["mode"]) == ("given", "take_home")

    clock.set(day(7))
    assert plan(casey)["missed_days"] == 0 and plan(casey)["status"] == "due"
    assert plan(avery)["dose_mg"] == 40 and plan(avery)["missed_days"] == 0
    # Avery 6 + 1 voided, Blake 7, Casey 2 observed + 2 take-home.
    assert count(Dose) == 7 + 7 + 4
    assert verify_chain().ok
