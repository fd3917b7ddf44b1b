"""A small clinic in New York, built through the real API over two clinic days, and helpers to
read the dispensing log back from the database the way the contract describes it.

Day 1 is Monday ``TODAY``, day 2 Tuesday. Two nurses, Ann (AN) and Ben (BE); four patients on
two products (METH-10MGML, BUP-SL-8); the tablets' stock is tracked (lot B-77), the methadone's
is not (no receipt), so the log has rows with and without a lot. Day 1: observed doses, a void
and the replacement dose, weekend take-homes handed out at 19:30 (00:30 UTC on day 2: the
clinic's day 1). Day 2: observed doses, a spill and the replacement, and a late entry for day 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mat.dosing.models import Dose, DoseCorrection
from mat.extensions import db
from tests.conftest import TODAY
from tests.support.factories import PASSWORD

ZONE = "America/New_York"
DAY1, DAY2 = TODAY, TODAY + timedelta(days=1)
SATURDAY, SUNDAY = TODAY + timedelta(days=5), TODAY + timedelta(days=6)
HEADER = (
    "dispensed_on,dispensed_at,patient_mrn,patient_name,substance,product,strength,dosage_form,"
    "mode,amount_mg,volume_ml,dispenser_initials,dose_id,late_entry,correction_of,correction_kind,"
    "units,lot"
)


@dataclass
class Clinic:
    nurses: dict[str, Any]
    patients: dict[str, Any]
    staff: dict[str, Any]
    doses: dict[str, int] = field(default_factory=dict)  # name -> dose id


@pytest.fixture
def clinic(app, api, clock, factory, staff, sign_order, take_home_criteria) -> Clinic:
    app.config["MAT_CLINIC_TZ"] = ZONE
    app.config["MAT_CLINIC_NAME"] = "Riverside Opioid Treatment Program"
    clock.zone = ZoneInfo(ZONE)
    clock.set(DAY1, time(8, 0))
    ann = factory.user("nurse", username="ann", initials="AN")
    ben = factory.user("nurse", username="ben", initials="BE")
    settled = TODAY - timedelta(days=60)
    patients = {
        "cruz": factory.patient(mrn="MRN-100", given_name="Ana", family_name="Cruz",
                                admitted_on=settled),
        "diaz": factory.patient(mrn="MRN-200", given_name="Bo", family_name="Diaz",
                                admitted_on=settled),
        "evans": factory.patient(mrn="MRN-300", given_name="Cy", family_name="Evans",
                                 admitted_on=settled),
        "fox": factory.patient(mrn="MRN-400", given_name="Di", family_name="Fox",
                               admitted_on=settled),
    }  # fmt: skip
    weekends = {"weekdays": ["sat", "sun"], "criteria": take_home_criteria}
    sign_order(patients["cruz"], dose_mg=60, take_home=weekends)
    sign_order(patients["diaz"], medication="BUP-SL-8", dose_mg=16)
    sign_order(patients["evans"], dose_mg=40)
    sign_order(patients["fox"], dose_mg=30)
    clinic = Clinic({"ann": ann, "ben": ben}, patients, staff)

    def post(path: str, nurse: Any, body: dict[str, Any], at: time, day: date = DAY1) -> Any:
        clock.set(day, at)
        response = api("post", path, as_=nurse, json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def give(name: str, nurse: Any, mg: int, at: time, day: date = DAY1, **body: Any) -> int:
        path = f"/api/v1/patients/{patients[name].id}/doses"
        return post(path, nurse, {"amount_mg": mg, **body}, at, day)["id"]

    def correct(dose_id: int, kind: str, nurse: Any, witness: str, at: time, day: date) -> None:
        body = {"kind": kind, "reason": "Witnessed at the window.",
                "witness": {"username": witness, "password": PASSWORD}}  # fmt: skip
        post(f"/api/v1/doses/{dose_id}/corrections", nurse, body, at, day)

    # -- day 1: the buprenorphine tablets' stock is tracked (a receipt), methadone's is not
    receipt = {"product": "BUP-SL-8", "lot": "B-77", "expires_on": "2027-06-30", "quantity": 100,
               "supplier": "Hikma", "order_form": "CSOS-55012",
               "witness": {"username": "ben", "password": PASSWORD}}  # fmt: skip
    post("/api/v1/stock/receipts", ann, receipt, time(7, 30))
    post(f"/api/v1/patients/{patients['cruz'].id}/drug-screens", ann,
         {"collected_on": DAY1.isoformat(),
          "results": {"fentanyl": "negative", "methadone": "positive"}}, time(8, 30))  # fmt: skip
    clinic.doses["cruz1"] = give("cruz", ann, 60, time(9, 0))
    clinic.doses["diaz1_voided"] = give("diaz", ann, 16, time(9, 10))
    correct(clinic.doses["diaz1_voided"], "void", ben, "ann", time(9, 20), DAY1)
    clinic.doses["diaz1"] = give("diaz", ann, 16, time(9, 25))
    clinic.doses["evans1"] = give("evans", ben, 40, time(9, 40))
    clock.set(DAY1, time(19, 30))  # 00:30 UTC on day 2, still the clinic's day 1
    response = api("post", f"/api/v1/patients/{patients['cruz'].id}/take-homes", as_=ann,
                   json={"dates": [SATURDAY.isoformat(), SUNDAY.isoformat()]})  # fmt: skip
    assert response.status_code == 201, response.get_json()
    sat, sun = response.get_json()["doses"]
    clinic.doses["cruz_sat"], clinic.doses["cruz_sun"] = sat["id"], sun["id"]
    # -- day 2
    clinic.doses["cruz2_spilled"] = give("cruz", ben, 60, time(8, 50), DAY2)
    correct(clinic.doses["cruz2_spilled"], "spill", ben, "ann", time(8, 55), DAY2)
    clinic.doses["cruz2"] = give("cruz", ben, 60, time(9, 5), DAY2)
    clinic.doses["diaz2"] = give("diaz", ann, 16, time(9, 15), DAY2)
    clinic.doses["fox1_late"] = give(
        "fox",
        ann,
        30,
        time(10, 0),
        DAY2,
        date=DAY1.isoformat(),
        late_entry_reason="Downtime on Monday; paper record.",
    )
    clinic.doses["evans2"] = give("evans", ben, 40, time(10, 30), DAY2)
    clock.set(DAY2, time(17, 0))
    return clinic


def expected_rows(first: date, last: date, zone: str = ZONE) -> list[dict[str, str]]:
    """The log as the contract describes it, computed here from the stored rows (ORM objects,
    not the report's query), as CSV cells in the log's order."""
    tz = ZoneInfo(zone)

    def text(amount: Any) -> str:
        return "" if amount is None else format(amount.normalize(), "f")

    def cells(dose: Dose, on: date, at: Any, initials: str, correction: Any) -> dict[str, str]:
        med = dose.medication
        per = "mL" if med.form == "liquid" else med.unit
        return {
            "dispensed_on": on.isoformat(),
            "dispensed_at": at.astimezone(tz).isoformat(timespec="seconds"),
            "patient_mrn": patient_of(dose).mrn,
            "patient_name": f"{patient_of(dose).family_name}, {patient_of(dose).given_name}",
            "substance": med.substance,
            "product": med.code,
            "strength": f"{text(med.strength_mg)} mg/{per}",
            "dosage_form": med.form,
            "mode": dose.mode,
            "amount_mg": text(dose.amount_mg),
            "volume_ml": text(dose.volume_ml),
            "dispenser_initials": initials,
            "dose_id": "" if correction else str(dose.id),
            "late_entry": "true" if dose.late_entry and not correction else "false",
            "correction_of": str(dose.id) if correction else "",
            "correction_kind": correction.kind if correction else "",
            "units": "" if med.form == "liquid" else text(dose.amount_mg / med.strength_mg),
            "lot": dose.lot.lot_number if dose.lot else "",
        }

    found: list[tuple[tuple[Any, ...], dict[str, str]]] = []
    for dose in db.session.scalars(select(Dose)):
        local = dose.dispensed_at.astimezone(tz).date()
        on = local if dose.mode == "take_home" else dose.service_date
        key = (on, dose.dispenser_id, dose.dispensed_at, 0, dose.id)
        found.append((key, cells(dose, on, dose.dispensed_at, dose.dispenser.initials, None)))
    for fix in db.session.scalars(select(DoseCorrection)):
        on = fix.at.astimezone(tz).date()
        key = (on, fix.by_id, fix.at, 1, fix.id)
        found.append((key, cells(fix.dose, on, fix.at, fix.by.initials, fix)))
    return [row for key, row in sorted(found, key=lambda pair: pair[0]) if first <= key[0] <= last]


def corrected_kinds() -> dict[str, str]:
    """dose id -> the kind of the correction that covers it (void, spill)."""
    return {str(fix.dose_id): fix.kind for fix in db.session.scalars(select(DoseCorrection))}


def patient_of(dose: Dose) -> Any:
    from mat.patients.models import Patient

    return db.session.get(Patient, dose.patient_id)
