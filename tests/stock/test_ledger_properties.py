"""The ledger property (hypothesis): for any sequence of receipts, doses, take-homes, spills,
voids, transfers, counts and days passing, through the real API and database, each station's
lot holds exactly what was received, less what was dispensed, less what was written off, never
below zero; and the cached balances always equal the ledger's sums. On SQLite here, on
PostgreSQL under ``make pg-test``.

Every example is a new stretch of clinic days with its own patients and lots; the database of
the test is shared by its examples, and so is the Python model of what each station's lot should
hold (a dose may well come from an earlier example's lot that expires sooner).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from mat.dosing.models import Dose
from mat.extensions import db
from mat.formulary.models import Medication
from mat.stock import ledger
from mat.stock.models import Lot, Station
from tests.conftest import TODAY
from tests.stock.conftest import assert_ledger_matches, witness

STATIONS = ("window-1", "vault")
# (product, lot suffix, days to expiry from the example's first day, quantity per dose)
LOTS = (
    ("METH-10MGML", "a", 300, Decimal(4)),
    ("METH-10MGML", "b", 0, Decimal(4)),  # expires on the first day: refused after a day passes
    ("BUPNX-FILM-8", "f", 300, Decimal(2)),
)
PATIENTS = (("METH-10MGML", 40), ("METH-10MGML", 40), ("BUPNX-FILM-8", 16))

receive = st.tuples(
    st.just("receive"),
    st.integers(0, 2),
    st.sampled_from(STATIONS),
    st.integers(1, 120).map(lambda n: Decimal(n)),
)
dose = st.tuples(st.just("dose"), st.integers(0, 2), st.sampled_from(STATIONS))
take_home = st.tuples(st.just("take_home"), st.integers(0, 2), st.sampled_from(STATIONS))
correct = st.tuples(st.just("correct"), st.sampled_from(("void", "spill")), st.integers(0, 20))
transfer = st.tuples(
    st.just("transfer"), st.integers(0, 2), st.booleans(), st.integers(1, 60).map(Decimal)
)
count = st.tuples(st.just("count"), st.sampled_from(STATIONS), st.integers(-3, 3))
next_day = st.tuples(st.just("next_day"))
STEPS = st.lists(
    st.one_of(receive, dose, take_home, correct, transfer, count, next_day), max_size=14
)

_examples = itertools.count()


@pytest.fixture
def clinic(api, staff, factory, sign_order, clock, take_home_criteria) -> Any:
    response = api("post", "/api/v1/stock/stations", as_=staff["admin"],
                   json={"code": "vault", "name": "Vault"})  # fmt: skip
    assert response.status_code == 201

    class Clinic:
        # (station code, lot number) -> what it should hold, across examples
        model: dict[tuple[str, str], Decimal] = defaultdict(Decimal)

        def start(self) -> tuple[int, date]:
            k = next(_examples)
            day = TODAY + timedelta(days=3 * k)
            clock.set(day, time(9, 0))
            self.patients = []
            for product, mg in PATIENTS:
                patient = factory.patient(admitted_on=day - timedelta(days=40))
                # Take-homes on the days an example can reach (it moves at most a few days).
                dates = [(day + timedelta(days=n)).isoformat() for n in range(1, 6)]
                authorization = {"dates": dates, "criteria": take_home_criteria}
                sign_order(patient, medication=product, dose_mg=mg, take_home=authorization,
                           start_date=day.isoformat())  # fmt: skip
                screen = {"collected_on": day.isoformat(), "results": {"fentanyl": "negative"}}
                api("post", f"/api/v1/patients/{patient.id}/drug-screens", as_=staff["nurse"],
                    json=screen)  # fmt: skip
                self.patients.append(patient)
            return k, day

    return Clinic()


PER_DOSE = {"METH-10MGML": Decimal(4), "BUPNX-FILM-8": Decimal(2)}


def on_hand_by_name() -> dict[tuple[str, str], Decimal]:
    """The cached balances as (station code, lot number) -> on hand, empty ones left out."""
    stations = {s.id: s.code for s in db.session.scalars(select(Station))}
    lots = {lot.id: lot.lot_number for lot in db.session.scalars(select(Lot))}
    return {
        (stations[s], lots[lot]): q for (s, lot), q in ledger.cached_on_hand().items() if q != 0
    }


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(steps=STEPS)
def test_on_hand_is_received_less_dispensed_less_written_off(
    api, staff, clinic, clock, steps
) -> None:
    k, first_day = clinic.start()
    names = [f"P{k}{suffix}" for _, suffix, _, _ in LOTS]
    model = clinic.model
    doses: list[dict[str, Any]] = []
    nurse = staff["nurse"]

    def post(path: str, body: dict[str, Any]) -> Any:
        return api("post", path, as_=nurse, json=body)

    for step in steps:
        kind = step[0]
        today = clock.now.date()
        if kind == "receive":
            _, n, station, quantity = step
            product, _, expires_in, _ = LOTS[n]
            body = {"product": product, "lot": names[n], "quantity": quantity,
                    "expires_on": (first_day + timedelta(days=expires_in)).isoformat(),
                    "supplier": "Supplier", "order_form": "222-000000001", "station": station,
                    "witness": witness()}  # fmt: skip
            response = post("/api/v1/stock/receipts", body)
            assert response.status_code in (201, 422), response.get_json()
            if response.status_code == 201:
                model[(station, names[n])] += quantity
        elif kind in ("dose", "take_home"):
            _, n, station = step
            patient = clinic.patients[n]
            if kind == "dose":
                mg = PATIENTS[n][1]
                response = post(f"/api/v1/patients/{patient.id}/doses",
                                {"amount_mg": mg, "station": station})  # fmt: skip
                given = [response.get_json()] if response.status_code == 201 else []
            else:
                dates = [(today + timedelta(days=1)).isoformat()]
                response = post(f"/api/v1/patients/{patient.id}/take-homes",
                                {"dates": dates, "station": station})  # fmt: skip
                given = response.get_json()["doses"] if response.status_code == 201 else []
            assert response.status_code in (201, 409, 422), response.get_json()
            for taken in given:
                if taken["lot"] is None:  # tracking starts with the product's first receipt
                    product = db.session.scalar(
                        select(Medication.id).where(Medication.code == taken["medication"])
                    )
                    assert (
                        db.session.scalar(select(Lot.id).where(Lot.medication_id == product))
                        is None
                    )
                    continue
                model[(station, taken["lot"])] -= PER_DOSE[taken["medication"]]
                doses.append(taken)
        elif kind == "correct":
            _, correction, n = step
            if not doses:
                continue
            taken = doses[n % len(doses)]
            body = {"kind": correction, "reason": "Property test.", "witness": witness()}
            response = post(f"/api/v1/doses/{taken['id']}/corrections", body)
            assert response.status_code in (201, 409, 422), response.get_json()
            if response.status_code == 201 and correction == "void":
                model[(taken["station"], taken["lot"])] += PER_DOSE[taken["medication"]]
        elif kind == "transfer":
            _, n, to_vault, quantity = step
            source, target = ("window-1", "vault") if to_vault else ("vault", "window-1")
            body = {"from_station": source, "to_station": target, "product": LOTS[n][0],
                    "lot": names[n], "quantity": quantity, "witness": witness()}  # fmt: skip
            response = post("/api/v1/stock/transfers", body)
            assert response.status_code in (201, 422), response.get_json()
            if response.status_code == 201:
                model[(source, names[n])] -= quantity
                model[(target, names[n])] += quantity
        elif kind == "count":
            # Every lot held at the station is counted, off by ``delta`` (never below zero).
            _, station, delta = step
            counted = {
                lot: max(q + delta, Decimal(0))
                for (s, lot), q in model.items()
                if s == station and q != 0
            }
            products = {
                lot.lot_number: lot.medication.code for lot in db.session.scalars(select(Lot))
            }
            body = {"station": station, "explanation": "Property test.", "witness": witness(),
                    "counted": [{"product": products[lot], "lot": lot, "quantity": q}
                                for lot, q in counted.items()]}  # fmt: skip
            response = post("/api/v1/stock/counts", body)
            assert response.status_code == 201, response.get_json()
            for lot, q in counted.items():
                model[(station, lot)] = q
        elif kind == "next_day":
            clock.set(today + timedelta(days=1), time(9, 0))
        db.session.expire_all()
        assert on_hand_by_name() == {key: q for key, q in model.items() if q != 0}, step
        assert all(q >= 0 for q in model.values())
        assert_ledger_matches()
    drawn = [db.session.get(Dose, taken["id"]) for taken in doses]  # tracked doses only
    assert all(d is not None and d.lot_id is not None for d in drawn)
