"""Every dose draws from a lot: through the dosing API, with the stock it leaves behind."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from mat.dosing.models import Dose
from mat.extensions import db
from tests.conftest import TODAY
from tests.stock.conftest import assert_ledger_matches, lot_id, witness
from tests.support.checks import assert_error, count

METH = "METH-10MGML"


def test_a_product_without_receipts_is_not_tracked(give, patient, sign_order, on_hand) -> None:
    sign_order(patient)
    response = give(patient, 40)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["lot"], body["station"], body["units"]) == (None, "window-1", None)
    assert on_hand() == {}


def test_a_dose_names_its_lot_and_takes_its_volume(give, patient, sign_order, receive, on_hand):
    receive("L-100", 1000)
    sign_order(patient)
    body = give(patient, 40).get_json()
    assert (body["lot"], body["station"]) == ("L-100", "window-1")
    assert on_hand() == {("window-1", METH, "L-100"): Decimal(996)}
    assert db.session.get(Dose, body["id"]).lot_id == lot_id("L-100")
    assert_ledger_matches()


def test_the_lot_that_expires_first_and_holds_the_dose_is_drawn(
    give, patient, sign_order, receive, on_hand
) -> None:
    receive("LATE", 1000, expires_on=TODAY + timedelta(days=300))
    receive("SOON", 3, expires_on=TODAY + timedelta(days=10))  # expires first, holds 3 mL
    receive("MIDDLE", 500, expires_on=TODAY + timedelta(days=100))
    sign_order(patient)
    assert give(patient, 40).get_json()["lot"] == "MIDDLE"  # 4 mL: SOON cannot hold it
    stock = on_hand()
    assert stock[("window-1", METH, "MIDDLE")] == 496
    assert stock[("window-1", METH, "SOON")] == 3


def test_no_stock_at_the_station_refuses_with_stock_insufficient(
    api, give, patient, sign_order, receive, staff
) -> None:
    api(
        "post",
        "/api/v1/stock/stations",
        as_=staff["admin"],
        json={"code": "vault", "name": "Vault"},
    )
    receive("L-100", 1000, station="vault")
    sign_order(patient)
    error = assert_error(give(patient, 40), 422, "dose_blocked")
    assert [v["rule"] for v in error["violations"]] == ["stock_insufficient"]
    assert count(Dose) == 0


def test_only_expired_stock_refuses_with_stock_expired(
    give, patient, sign_order, receive, clock
) -> None:
    receive("OLD", 1000, expires_on=TODAY)
    sign_order(patient)
    clock.set(TODAY + timedelta(days=1))
    error = assert_error(give(patient, 40), 422, "dose_blocked")
    assert [v["rule"] for v in error["violations"]] == ["stock_expired"]
    assert count(Dose) == 0


def test_a_lot_is_usable_on_its_expiry_date(give, patient, sign_order, receive) -> None:
    receive("TODAY", 1000, expires_on=TODAY)
    sign_order(patient)
    assert give(patient, 40).get_json()["lot"] == "TODAY"


def test_solid_forms_are_counted_in_units(give, patient, sign_order, receive, on_hand) -> None:
    receive("F-1", 60, product="BUPNX-FILM-8")
    sign_order(patient, medication="BUPNX-FILM-8", dose_mg=16)
    body = give(patient, 16).get_json()
    assert (body["units"], body["lot"]) == (2, "F-1")
    assert on_hand() == {("window-1", "BUPNX-FILM-8", "F-1"): Decimal(58)}


def test_an_unknown_station_is_refused_and_nothing_is_stored(give, patient, sign_order) -> None:
    sign_order(patient)
    error = assert_error(give(patient, 40, station="window-9"), 422)
    assert "station" in error["fields"]
    assert count(Dose) == 0


@pytest.mark.parametrize(
    "kind, left",
    [
        ("void", Decimal(1000)),  # recorded in error: the 4 mL go back to the lot
        ("spill", Decimal(996)),  # dispensed and lost: written off
    ],
)
def test_a_void_returns_the_quantity_and_a_spill_writes_it_off(
    api, give, patient, sign_order, receive, on_hand, staff, kind, left
) -> None:
    receive("L-100", 1000)
    sign_order(patient)
    dose = give(patient, 40).get_json()
    response = api(
        "post",
        f"/api/v1/doses/{dose['id']}/corrections",
        as_=staff["nurse"],
        json={"kind": kind, "reason": "Witnessed at the window.", "witness": witness()},
    )
    assert response.status_code == 201, response.get_json()
    assert on_hand()[("window-1", METH, "L-100")] == left
    assert_ledger_matches()


def test_take_homes_draw_at_the_station_named(api, staff, patient, receive, hand_out, on_hand):
    api("post", "/api/v1/stock/stations", as_=staff["admin"], json={"code": "vault", "name": "V"})
    receive("W-1", 100)
    receive("V-1", 100, station="vault")
    doses = hand_out(patient, station_for_take_homes="vault")
    assert {d["station"] for d in doses} == {"vault"} and {d["lot"] for d in doses} == {"V-1"}
    assert on_hand() == {
        ("window-1", METH, "W-1"): Decimal(100),
        ("vault", METH, "V-1"): Decimal(92),
    }


def test_the_history_pdf_names_each_doses_lot(api, staff, give, patient, sign_order, receive):
    import io

    from pypdf import PdfReader

    receive("L-100", 1000)
    sign_order(patient)
    give(patient, 40)
    response = api("get", f"/api/v1/patients/{patient.id}/history", as_=staff["prescriber"])
    assert response.status_code == 200
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages
    )
    assert "L-100" in text and "4 mL" in text


def test_stock_on_hand_of_an_unknown_station_is_a_422(api, staff) -> None:
    response = api("get", "/api/v1/stock?station=nowhere", as_=staff["nurse"])
    assert "station" in assert_error(response, 422)["fields"]
    assert_error(api("get", "/api/v1/stock", as_=staff["prescriber"]), 403)
