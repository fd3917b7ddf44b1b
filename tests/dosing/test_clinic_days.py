"""A week at the dosing window: three patients through induction, titration, a missed run,
a hold, a void, and a take-home weekend, checked day by day against the expected plans.

Day 0 is Monday ``TODAY``. Everything goes through the HTTP API with a moving clinic clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mat.audit.verify import verify_chain
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


def test_a_week_with_a_readmission_a_closure_and_a_gap(
    api, staff, factory, clock, sign_order, plan, give, take_home_criteria
) -> None:
    """Dana comes back after a discharge (day 1 again), Eli has a positive screen when the
    clinic shuts on Thursday, and Finn's order runs out with nobody ordering the next one."""

    def day(n: int):
        return TODAY + timedelta(days=n)

    def call(method: str, path: str, who: str, body: dict[str, Any] | None = None) -> Any:
        return api(method, path, as_=staff[who], json=body)

    def ok(response: Any) -> Any:
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def order(patient: Any, **body: Any) -> Any:
        data = {"medication": "METH-10MGML", "kind": "maintenance",
                "start_date": clock.now.date().isoformat(), **body}  # fmt: skip
        return call("post", f"/api/v1/patients/{patient.id}/orders", "prescriber", data)

    thursday = day(3)
    ok(call("post", "/api/v1/closures", "admin", {"date": thursday.isoformat(), "reason": "Ice"}))
    # Dana: admitted in 2025, discharged ten days ago.
    dana = factory.patient(admitted_on=TODAY - timedelta(days=500), given_name="Dana")
    clock.set(day(-10))
    ok(call("patch", f"/api/v1/patients/{dana.id}", "prescriber", {"status": "discharged"}))
    # Eli: 60 mg for months, no take-home authorization.
    eli = factory.patient(admitted_on=TODAY - timedelta(days=120), given_name="Eli")
    # Finn: 100 mg, an order that ends on Tuesday.
    finn = factory.patient(admitted_on=TODAY - timedelta(days=200), given_name="Finn")
    clock.set(TODAY)
    sign_order(eli, dose_mg=60)
    sign_order(finn, dose_mg=100, end_date=day(1).isoformat())

    for n in range(7):
        clock.set(day(n))
        # -- Dana: readmitted on Monday; an 80 mg first dose is day 1 of treatment again.
        if n == 0:
            assert plan(dana)["violations"][0]["rule"] == "patient_not_active"
            readmitted = ok(call("post", f"/api/v1/patients/{dana.id}/admissions", "prescriber",
                                 {"admitted_on": day(0).isoformat(),
                                  "level_of_care": "maintenance"}))  # fmt: skip
            assert [e["number"] for e in readmitted["episodes"]] == [1, 2]
            refused = order(dana, kind="induction", dose_mg=80)
            assert [v["rule"] for v in refused.get_json()["error"]["violations"]] == [
                "methadone_first_day_max",
                "methadone_first_dose_label",
            ]
            sign_order(dana, kind="induction", dose_mg=30)
        if n == 3:  # the clinic is shut: Dana took Thursday's dose home on Wednesday
            assert plan(dana)["status"] == "given"
        else:
            expected = plan(dana)
            assert (expected["status"], expected["dose_mg"]) == ("due", 30), (n, expected)
            assert expected["take_home_ceiling_days"] == 7  # treatment days 1-14
            give(dana, 30)
        if n == 2:
            call(
                "post",
                f"/api/v1/patients/{dana.id}/drug-screens",
                "nurse",
                {"collected_on": day(2).isoformat(), "results": {"methadone": "positive"}},
            )
            th = ok(call("post", f"/api/v1/patients/{dana.id}/take-homes", "nurse",
                         {"dates": [thursday.isoformat()]}))  # fmt: skip
            assert th["doses"][0]["closure_dose"] is True

        # -- Eli: a fentanyl-positive screen on Tuesday; Thursday's dose still goes home.
        if n == 1:
            ok(call("post", f"/api/v1/patients/{eli.id}/drug-screens", "nurse",
                    {"collected_on": day(1).isoformat(),
                     "results": {"methadone": "positive", "fentanyl": "positive"}}))  # fmt: skip
        if n == 3:
            assert (plan(eli)["status"], plan(eli)["mode"]) == ("given", "observed")
        else:
            assert plan(eli)["status"] == "due", (n, plan(eli))
            give(eli, 60)
        if n == 2:
            friday = call("post", f"/api/v1/patients/{eli.id}/take-homes", "nurse",
                          {"dates": [day(4).isoformat()]})  # fmt: skip
            assert friday.status_code == 422  # an open day: the screen and the order refuse it
            th = ok(call("post", f"/api/v1/patients/{eli.id}/take-homes", "nurse",
                         {"dates": [thursday.isoformat()]}))  # fmt: skip
            assert [w["rule"] for w in th["doses"][0]["warnings"]] == ["clinic_closed"]

        # -- Finn: dosed Monday and Tuesday; no order Wednesday to Saturday; Sunday a new one.
        expected = plan(finn)
        if n <= 1:
            give(finn, 100)
        elif n < 6:
            assert expected["status"] == "none" and expected["missed_days"] == n - 2
        else:
            assert expected["missed_days"] == 4  # Wednesday to Saturday: no order at all
            refused = order(finn, dose_mg=100)
            assert [v["rule"] for v in refused.get_json()["error"]["violations"]] == [
                "missed_doses_dose_not_reduced"
            ]
            sign_order(finn, dose_mg=40)  # the lower of half of 100 mg and 40 mg
            assert plan(finn)["status"] == "due"
            give(finn, 40)

    # Dana 6 observed + 1 closure take-home, Eli 6 + 1, Finn 2 + 1.
    assert count(Dose) == 7 + 7 + 3
    assert sum(d.closure_dose for d in Dose.query) == 2
    assert verify_chain().ok
