"""What the 2024 rule adds to the records, read back from the PDFs and the JSON log: episodes of
care, the take-home criteria and rationale, SMA-168 exceptions on the rows they let through,
loss reports and the screen-frequency reminder."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from tests.conftest import TODAY
from tests.reports.test_history import text_of
from tests.support.factories import CRITERIA, RATIONALE

BEFORE = TODAY - timedelta(days=20)
DATES = [TODAY + timedelta(days=n) for n in range(1, 9)]  # 8 take-home days from day 2


@pytest.fixture
def readmitted(api, staff, factory, clock, sign_order, give) -> dict[str, Any]:
    """Admitted in June, discharged 20 days ago, readmitted today with 8 days of take-homes:
    the eighth past the day-1 ceiling of 7, under an SMA-168 exception; one reported lost."""

    def post(path: str, who: str, body: dict[str, Any]) -> Any:
        response = api("post", path, as_=staff[who], json=body)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    patient = factory.patient(admitted_on=TODAY - timedelta(days=168), mrn="RE-1")
    clock.set(BEFORE)
    sign_order(patient, dose_mg=70)
    give(patient, 70)
    api("patch", f"/api/v1/patients/{patient.id}", as_=staff["prescriber"],
        json={"status": "discharged"})  # fmt: skip
    clock.set(TODAY, time(8, 0))
    post(f"/api/v1/patients/{patient.id}/admissions", "prescriber",
         {"admitted_on": TODAY.isoformat(), "level_of_care": "maintenance"})  # fmt: skip
    exception = post(
        f"/api/v1/patients/{patient.id}/take-home-exceptions",
        "prescriber",
        {
            "number": "SMA-2026-77",
            "approved_by": "State OTA (M. Quinn)",
            "approved_on": TODAY.isoformat(),
            "from": DATES[-1].isoformat(),
            "to": DATES[-1].isoformat(),
            "reason": "Court date in another state.",
        },
    )
    order = sign_order(
        patient,
        kind="induction",
        dose_mg=30,
        take_home={"dates": [d.isoformat() for d in DATES], "criteria": CRITERIA},
    )
    post(f"/api/v1/patients/{patient.id}/drug-screens", "nurse",
         {"collected_on": TODAY.isoformat(), "results": {"methadone": "positive"}})  # fmt: skip
    give(patient, 30)
    clock.set(TODAY, time(9, 0))
    doses = post(f"/api/v1/patients/{patient.id}/take-homes", "nurse",
                 {"dates": [d.isoformat() for d in DATES]})["doses"]  # fmt: skip
    clock.set(TODAY, time(16, 0))
    loss = post(f"/api/v1/doses/{doses[0]['id']}/loss-reports", "nurse",
                {"kind": "stolen", "reported_on": TODAY.isoformat(),
                 "note": "Bag taken at the bus stop; police report 4411."})  # fmt: skip
    post(f"/api/v1/loss-reports/{loss['id']}/review", "prescriber",
         {"decision": "no_replacement", "note": "Comes in tomorrow instead."})  # fmt: skip
    return {"patient": patient, "order": order, "doses": doses, "exception": exception}


def test_the_history_shows_episodes_criteria_exceptions_and_losses(api, staff, readmitted) -> None:
    patient = readmitted["patient"]
    response = api(
        "get",
        f"/api/v1/patients/{patient.id}/history?from={BEFORE}&to={TODAY}",
        as_=staff["auditor"],
    )
    assert response.status_code == 200
    text = " ".join(text_of(response.get_data()).split())
    for expected in (
        "Episodes of care",
        f"#1 {TODAY - timedelta(days=168)}",
        f"{BEFORE} by TU",  # discharged
        f"#2 {TODAY} maintenance TU current episode",
        "Federal take-home 2024 criteria: no_active_use_or_risk yes, regular_attendance yes",
        f"Rationale: {RATIONALE}",
        "Warning take_home_exception: Take-homes pass the ceiling on "
        f"{DATES[-1]} under exception SMA-2026-77",
        "past the ceiling under exception SMA-2026-77",
        "Take-home exceptions (SMA-168)",
        "State OTA (M. Quinn)",
        "Court date in another state.",
        "Take-home loss reports",
        "Bag taken at the bus stop;",  # a table cell wraps the rest
        "no replacement (TU): Comes in",
        "reported stolen",
    ):
        assert expected in text, expected


def test_the_dispensing_log_prints_the_exception_on_the_rows_it_let_through(
    api, staff, readmitted
) -> None:
    day = f"from={TODAY}&to={TODAY}"
    body = api(
        "get", f"/api/v1/reports/dispensing-log?{day}&format=json", as_=staff["auditor"]
    ).get_json()
    take_homes = [r for r in body["rows"] if r["mode"] == "take_home"]
    assert [r["take_home_exception"] for r in take_homes] == [None] * 7 + ["SMA-2026-77"]
    observed = [r for r in body["rows"] if r["mode"] == "observed"]
    assert [r["take_home_exception"] for r in observed] == [None]
    pdf = api("get", f"/api/v1/reports/dispensing-log?{day}&format=pdf", as_=staff["auditor"])
    text = text_of(pdf.get_data())
    assert text.count("EXC SMA-2026-77") == 1
    csv = api("get", f"/api/v1/reports/dispensing-log?{day}&format=csv", as_=staff["auditor"])
    header = csv.get_data(as_text=True).splitlines()[0]
    assert "exception" not in header  # the contract's columns, unchanged


def test_the_doses_answer_carries_the_exception_and_the_loss(api, staff, readmitted) -> None:
    patient = readmitted["patient"]
    listed = api(
        "get",
        f"/api/v1/patients/{patient.id}/doses?from={TODAY}&to={DATES[-1]}",
        as_=staff["nurse"],
    ).get_json()
    by_id = {d["id"]: d for d in listed}
    first, last = readmitted["doses"][0], readmitted["doses"][-1]
    assert by_id[last["id"]]["take_home_exception"] == "SMA-2026-77"
    assert by_id[first["id"]]["loss"]["kind"] == "stolen"
    losses = api(
        "get", f"/api/v1/patients/{patient.id}/loss-reports", as_=staff["auditor"]
    ).get_json()
    assert [(x["kind"], x["review"]["decision"]) for x in losses] == [("stolen", "no_replacement")]


def test_the_history_reminds_when_screens_are_due(api, staff, factory, sign_order, give) -> None:
    patient = factory.patient(admitted_on=TODAY - timedelta(days=100))  # day 101: 2 due
    sign_order(patient)
    give(patient, 40)
    response = api("get", f"/api/v1/patients/{patient.id}/history", as_=staff["prescriber"])
    text = " ".join(text_of(response.get_data()).split())
    assert "drug_screen_frequency: 0 urine drug screens in the 101 days of treatment" in text
