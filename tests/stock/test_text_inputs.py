"""The stock records' free text (a station's name, a supplier, notes, explanations, a loss's
circumstances, a destruction's method and reason) is held to the rule of every text mat stores
(``clinic_text``): the stock report and the DEA records print it. Refused with 422, naming the
field, and nothing written."""

from __future__ import annotations

import pytest

from mat.stock.models import Station
from mat.stock.records import Destruction, TheftLossReport
from tests.stock.conftest import FORM_106, witness
from tests.support.checks import assert_error, count

METH = "METH-10MGML"
BIDI = "Vault \u202e2"  # a right-to-left override: reads differently on screen than stored
ARABIC = "صيدلية"  # a shaped script the report fonts cannot print
CONTROL = "Found open\x1b[2J"  # an escape sequence


def test_a_station_name_with_a_direction_override_is_refused(api, staff) -> None:
    before = count(Station)
    body = {"code": "vault-2", "name": BIDI}
    error = assert_error(api("post", "/api/v1/stock/stations", as_=staff["admin"], json=body), 422)
    assert "direction" in error["fields"]["name"][0]
    assert count(Station) == before


def test_a_supplier_the_reports_cannot_print_is_refused(receive) -> None:
    error = assert_error(receive("L-200", 100, supplier=ARABIC, check=False), 422)
    assert "cannot print" in error["fields"]["supplier"][0]


def test_a_receipt_keeps_its_supplier_in_normal_form(receive) -> None:
    # "e" + combining acute is stored as one "é" (NFC), as every name mat stores.
    answer = receive("L-201", 100, supplier="Pharmace\u0301utique SA").get_json()
    assert answer["supplier"] == "Pharmacéutique SA"


@pytest.mark.parametrize(
    "path, field, value, model",
    [
        ("/api/v1/stock/theft-loss-reports", "circumstances", CONTROL, TheftLossReport),
        ("/api/v1/stock/destructions", "reason", "Expired \u2066stock", Destruction),
        ("/api/v1/stock/destructions", "method", "Digester\nand water", Destruction),
    ],
)
def test_a_dea_record_s_text_is_refused(
    api, staff, factory, receive, path, field, value, model
) -> None:
    receive("L-100", 1000)
    factory.user("nurse", username="nurse3")
    bodies = {
        "/api/v1/stock/theft-loss-reports": FORM_106,
        "/api/v1/stock/destructions": {
            "product": METH, "lot": "L-100", "quantity": 5, "method": "Chemical digester.",
            "reason": "Expired stock.", "witnesses": [witness(), witness("nurse3")],
        },
    }  # fmt: skip
    body = {**bodies[path], field: value}
    error = assert_error(api("post", path, as_=staff["nurse"], json=body), 422)
    assert list(error["fields"]) == [field]
    assert count(model) == 0
    # The same record with its text as the rule allows is written: only the text was refused.
    response = api("post", path, as_=staff["nurse"], json=bodies[path])
    assert response.status_code == 201, response.get_json()
    assert count(model) == 1


def test_a_form_106_keeps_its_line_breaks(api, staff, receive) -> None:
    receive("L-100", 1000)
    body = {**FORM_106, "circumstances": "Bottle broken.\r\nPolice report 77."}
    response = api("post", "/api/v1/stock/theft-loss-reports", as_=staff["prescriber"], json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["circumstances"] == "Bottle broken.\nPolice report 77."
