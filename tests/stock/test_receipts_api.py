"""Stock enters by a receipt and moves by a transfer, each signed by two people."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from mat.audit.models import AuditEvent
from mat.extensions import db
from mat.stock.models import Lot, StockMovement, StockReceipt
from tests.conftest import TODAY
from tests.stock.conftest import assert_ledger_matches, witness
from tests.support.checks import assert_error, count

METH = "METH-10MGML"


def test_a_receipt_puts_its_quantity_at_the_station(receive, on_hand, staff) -> None:
    body = receive("L-100", 1000).get_json()
    assert body["received_by"]["username"] == "nurse1"
    assert body["witness"]["username"] == "nurse2"
    assert (body["product"], body["lot"], body["station"], body["quantity"]) == (
        METH,
        "L-100",
        "window-1",
        1000,
    )
    assert on_hand() == {("window-1", METH, "L-100"): Decimal(1000)}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "stock.receipt"))
    assert event is not None and '"order_form":"222-123456789"' in event.detail


def test_a_second_receipt_of_the_same_lot_adds_to_it(receive, on_hand) -> None:
    receive("L-100", 1000)
    receive("L-100", 500)
    assert on_hand() == {("window-1", METH, "L-100"): Decimal(1500)}
    assert count(Lot) == 1 and count(StockReceipt) == 2
    assert_ledger_matches()


def test_an_admin_may_receive_and_an_auditor_may_not(receive, staff) -> None:
    assert receive("L-1", 100, as_=staff["admin"]).status_code == 201
    for who in ("auditor", "prescriber"):
        assert_error(receive("L-2", 100, as_=staff[who], check=False), 403)
    assert count(StockReceipt) == 1


@pytest.mark.parametrize(
    "changes, rule_count",
    [
        ({"witness": None}, 1),  # no witness
        ({"witness": witness(password="wrong-password-123")}, 1),
        ({"witness": witness("nurse1")}, 1),  # the receiver cannot witness
        ({"witness": witness("audit")}, 1),  # auditors do not sign stock records
        ({"expires_on": TODAY - timedelta(days=1)}, 1),  # already expired
        ({"expires_on": TODAY - timedelta(days=1), "witness": None}, 2),  # all reasons at once
    ],
)
def test_a_refused_receipt_names_stock_receipt_and_stores_nothing(
    receive, changes, rule_count
) -> None:
    response = receive("L-1", 100, check=False, **changes)
    error = assert_error(response, 422, "stock_receipt")
    assert [v["rule"] for v in error["violations"]] == ["stock_receipt"] * rule_count
    assert count(StockReceipt) == 0 and count(Lot) == 0 and count(StockMovement) == 0


def test_a_lot_number_already_held_with_another_expiry_is_refused(receive) -> None:
    receive("L-1", 100, expires_on=TODAY + timedelta(days=100))
    response = receive("L-1", 100, expires_on=TODAY + timedelta(days=101), check=False)
    error = assert_error(response, 422, "stock_receipt")
    assert "check the label" in error["violations"][0]["message"]
    assert count(StockReceipt) == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": "10.05"}, "quantity"),  # liquids to 0.1 mL
        ({"product": "BUPNX-FILM-8", "quantity": "10.5"}, "quantity"),  # whole films
        ({"product": "NOPE-1"}, "product"),
        ({"station": "nowhere"}, "station"),
        ({"lot": ""}, "lot"),
        ({"supplier": ""}, "supplier"),
        ({"order_form": "!"}, "order_form"),
        ({"expires_on": "2026-02-30"}, "expires_on"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(receive, changes, field) -> None:
    payload = {k: (float(v) if k == "quantity" and isinstance(v, str) else v)
               for k, v in changes.items()}  # fmt: skip
    response = receive(check=False, **payload)
    error = assert_error(response, 422)
    assert field in error["fields"], error
    assert count(StockReceipt) == 0


def test_stations_are_added_by_admins_only(api, staff) -> None:
    body = {"code": "vault", "name": "Narcotics vault"}
    assert_error(api("post", "/api/v1/stock/stations", as_=staff["nurse"], json=body), 403)
    response = api("post", "/api/v1/stock/stations", as_=staff["admin"], json=body)
    assert response.status_code == 201 and response.get_json()["code"] == "vault"
    again = api("post", "/api/v1/stock/stations", as_=staff["admin"], json=body)
    assert_error(again, 409, "duplicate_station")
    bad = api(
        "post", "/api/v1/stock/stations", as_=staff["admin"], json={"code": "Vault 2", "name": "x"}
    )
    assert "code" in assert_error(bad, 422)["fields"]
    listed = api("get", "/api/v1/stock/stations", as_=staff["auditor"]).get_json()
    assert [s["code"] for s in listed] == ["vault", "window-1"]


def transfer(api, staff, quantity, **changes):
    body = {"from_station": "vault", "to_station": "window-1", "product": METH, "lot": "L-100",
            "quantity": quantity, "witness": witness(), **changes}  # fmt: skip
    return api("post", "/api/v1/stock/transfers", as_=staff["nurse"], json=body)


def test_a_transfer_moves_part_of_a_lot(api, staff, receive, on_hand) -> None:
    api("post", "/api/v1/stock/stations", as_=staff["admin"], json={"code": "vault", "name": "V"})
    receive("L-100", 1000, station="vault")
    response = transfer(api, staff, 250)
    assert response.status_code == 201, response.get_json()
    assert on_hand() == {
        ("vault", METH, "L-100"): Decimal(750),
        ("window-1", METH, "L-100"): Decimal(250),
    }
    error = assert_error(transfer(api, staff, 751), 422, "stock_insufficient")
    assert "vault holds 750 mL" in error["message"]
    assert "to_station" in assert_error(transfer(api, staff, 1, to_station="vault"), 422)["fields"]
    assert "witness" in assert_error(transfer(api, staff, 1, witness=None), 422)["fields"]
    assert "lot" in assert_error(transfer(api, staff, 1, lot="NEVER"), 422)["fields"]
    assert on_hand()[("vault", METH, "L-100")] == 750
    assert_ledger_matches()


def test_stock_records_are_append_only_in_the_database(app, receive) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DatabaseError

    receive("L-100", 1000)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        for statement in (
            "UPDATE stock_movements SET quantity = 5",
            "DELETE FROM stock_receipts",
            "UPDATE lots SET expires_on = '2099-01-01'",
            "DELETE FROM stations",
        ):
            with pytest.raises(DatabaseError, match="append_only"), engine.begin() as conn:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_failed_witness_passwords_are_limited_but_refused_rules_are_not(receive) -> None:
    for _ in range(12):  # refused by a rule (expired): never locks the clinic out
        response = receive("L-1", 100, check=False, expires_on=TODAY - timedelta(days=1))
        assert response.status_code == 422
    statuses = [
        receive("L-1", 100, check=False, witness=witness(password="guess-123456")).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_a_receipt_retried_with_its_idempotency_key_is_stored_once(api, staff, on_hand) -> None:
    body = {"product": METH, "lot": "L-1", "expires_on": (TODAY + timedelta(days=90)).isoformat(),
            "quantity": 100, "supplier": "Supplier", "order_form": "CSOS-0001",
            "witness": witness()}  # fmt: skip
    headers = {"Idempotency-Key": "receipt-L-1"}
    first = api("post", "/api/v1/stock/receipts", as_=staff["nurse"], json=body, headers=headers)
    again = api("post", "/api/v1/stock/receipts", as_=staff["nurse"], json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert on_hand() == {("window-1", METH, "L-1"): Decimal(100)} and count(StockReceipt) == 1
