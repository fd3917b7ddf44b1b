"""An imported patient is the same patient to mat as one whose history was recorded at the
window: the same dose plan (missed days, take-home ceiling); and what an import brings is what
the dose history gives back."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from mat.extensions import db
from mat.patients.models import Patient
from tests.conftest import TODAY
from tests.imports.bodies import order_row, patient_row

START = TODAY - timedelta(days=12)
# Days without a dose: one in the middle, and the last two (a run the plan must count).
SKIPPED = {START + timedelta(days=5), TODAY - timedelta(days=2), TODAY - timedelta(days=1)}
DAYS = [START + timedelta(days=n) for n in range(12) if START + timedelta(days=n) not in SKIPPED]


def _dose(mrn: str, day, amount, medication: str = "METH-10MGML", mode: str = "observed"):
    return {
        "patient_mrn": mrn,
        "date": day.isoformat(),
        "medication": medication,
        "amount_mg": amount,
        "mode": mode,
    }


def test_the_plan_of_an_imported_patient_equals_the_plan_recorded_live(
    api, staff, factory, sign_order, give, plan, clock
) -> None:
    live = factory.patient(mrn="LIVE-1", admitted_on=START)
    clock.set(START)
    sign_order(live, dose_mg=30)
    for day in DAYS:
        clock.set(day)
        assert give(live, 30).status_code == 201
    clock.set(TODAY)
    body = {
        "source": "the same history, from the other program",
        "patients": [patient_row("IMP-1", START)],
        "orders": [order_row("IMP-1", START, dose_mg=30)],
        "doses": [_dose("IMP-1", day, 30) for day in DAYS],
    }
    response = api(
        "post", "/api/v1/imports", as_=staff["admin"], json=body, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 201, response.get_json()
    imported = db.session.scalars(select(Patient).where(Patient.mrn == "IMP-1")).one()
    for day in (TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=20)):
        assert plan(imported, day) == plan(live, day)
    today = plan(imported)
    assert today["missed_days"] == 2 and today["take_home_ceiling_days"] is not None


_keys = itertools.count()


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    medication=st.sampled_from(["METH-10MGML", "BUP-SL-2"]),
    days=st.sets(st.integers(min_value=0, max_value=59), min_size=1, max_size=25),
)
def test_import_then_export_gives_back_the_imported_rows(api, staff, data, medication, days):
    n = next(_keys)
    mrn = f"PROP-{n}"
    admitted = TODAY - timedelta(days=60)
    step = 1 if medication == "METH-10MGML" else 2
    rows = [
        _dose(
            mrn,
            admitted + timedelta(days=offset),
            data.draw(st.integers(min_value=1, max_value=100)) * step,
            medication,
            data.draw(st.sampled_from(["observed", "take_home"])),
        )
        for offset in sorted(days)
    ]
    body = {
        "source": "property test",
        "patients": [patient_row(mrn, admitted)],
        "orders": [order_row(mrn, admitted, dose_mg=8 if step == 2 else 40, medication=medication)],
        "doses": rows,
    }
    response = api(
        "post", "/api/v1/imports", as_=staff["admin"], json=body, headers={"Idempotency-Key": mrn}
    )
    assert response.status_code == 201, response.get_json()
    patient = db.session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
    exported = api(
        "get",
        f"/api/v1/patients/{patient.id}/doses?from={admitted}&to={TODAY}",
        as_=staff["auditor"],
    ).get_json()
    back = [
        {
            "patient_mrn": mrn,
            "date": d["date"],
            "medication": d["medication"],
            "amount_mg": Decimal(str(d["amount_mg"])),
            "mode": d["mode"],
        }
        for d in exported
        if d["imported"]
    ]
    assert back == [{**r, "amount_mg": Decimal(r["amount_mg"])} for r in rows]
    assert {d["slot"] for d in exported} == {"daily"}
