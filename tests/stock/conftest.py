"""Stock through the API: receive a lot, count a station, read what is on hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from mat.extensions import db
from mat.stock import ledger
from mat.stock.models import Lot
from tests.conftest import TODAY
from tests.support.factories import PASSWORD

Call = Any
NEXT_YEAR = TODAY + timedelta(days=365)
# A Form 106 (theft or loss) record of lot L-100 that the API accepts once the lot is received.
FORM_106 = {
    "product": "METH-10MGML",
    "lot": "L-100",
    "quantity": 120,
    "kind": "theft",
    "found_on": TODAY.isoformat(),
    "circumstances": "Bottle missing from the locked cabinet at opening; police report 77.",
}


def witness(username: str = "nurse2", password: str = PASSWORD) -> dict[str, str]:
    return {"username": username, "password": password}


@pytest.fixture
def receive(api: Call, staff: dict[str, Any]) -> Call:
    """``receive(lot, quantity, product=METH-10MGML, ...)``: POST a receipt, answer the response."""

    def post(
        lot: str = "L-100",
        quantity: Any = 1000,
        *,
        product: str = "METH-10MGML",
        expires_on: date | str = NEXT_YEAR,
        station: str | None = None,
        as_: Any = None,
        check: bool = True,
        **body: Any,
    ) -> Any:
        payload: dict[str, Any] = {
            "product": product,
            "lot": lot,
            "expires_on": expires_on.isoformat() if isinstance(expires_on, date) else expires_on,
            "quantity": quantity,
            "supplier": "Mallinckrodt Pharmaceuticals",
            "order_form": "222-123456789",
            "witness": witness(),
        }
        if station is not None:
            payload["station"] = station
        payload.update(body)
        payload = {k: v for k, v in payload.items() if v is not None}
        response = api("post", "/api/v1/stock/receipts", as_=as_ or staff["nurse"], json=payload)
        if check:
            assert response.status_code == 201, response.get_json()
        return response

    return post


@pytest.fixture
def on_hand(api: Call, staff: dict[str, Any]) -> Call:
    """``on_hand(station=None)``: {(station, product, lot): on hand} from GET /api/v1/stock."""

    def read(station: str | None = None) -> dict[tuple[str, str, str], Decimal]:
        query = f"?station={station}" if station else ""
        response = api("get", f"/api/v1/stock{query}", as_=staff["auditor"])
        assert response.status_code == 200, response.get_json()
        return {
            (row["station"], row["product"], row["lot"]): Decimal(str(row["on_hand"]))
            for row in response.get_json()
        }

    return read


@pytest.fixture
def stock_count(api: Call, staff: dict[str, Any]) -> Call:
    """``stock_count({(product, lot): quantity}, station=window-1, explanation=None)``."""

    def post(counted: dict[tuple[str, str], Any], **body: Any) -> Any:
        payload = {
            "station": "window-1",
            "counted": [
                {"product": p, "lot": lot, "quantity": q} for (p, lot), q in counted.items()
            ],
            "witness": witness(),
            **body,
        }
        return api("post", "/api/v1/stock/counts", as_=staff["nurse"], json=payload)

    return post


def lot_id(number: str) -> int:
    return db.session.scalar(select(Lot.id).where(Lot.lot_number == number))


def assert_ledger_matches() -> None:
    """The cached balances equal the ledger's sums, and none is negative."""
    cached = {k: v for k, v in ledger.cached_on_hand().items() if v != 0}
    summed = {k: v for k, v in ledger.ledger_on_hand().items() if v != 0}
    assert cached == summed
    assert all(v >= 0 for v in ledger.cached_on_hand().values())


SATURDAY, SUNDAY = TODAY + timedelta(days=5), TODAY + timedelta(days=6)


@pytest.fixture
def hand_out(api: Call, staff: dict[str, Any], sign_order: Call, take_home_criteria: Any) -> Call:
    """``hand_out(patient, **order)``: a weekend take-home order, a clean screen, and Saturday's
    and Sunday's doses handed out today; answers the two doses."""

    def run(
        patient: Any, station_for_take_homes: str | None = None, **order: Any
    ) -> list[dict[str, Any]]:
        sign_order(
            patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria}, **order
        )
        screen = {"collected_on": TODAY.isoformat(), "results": {"fentanyl": "negative"}}
        path = f"/api/v1/patients/{patient.id}"
        assert (
            api("post", f"{path}/drug-screens", as_=staff["nurse"], json=screen).status_code == 201
        )
        body: dict[str, Any] = {"dates": [SATURDAY.isoformat(), SUNDAY.isoformat()]}
        if station_for_take_homes:
            body["station"] = station_for_take_homes
        response = api("post", f"{path}/take-homes", as_=staff["nurse"], json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["doses"]

    return run
