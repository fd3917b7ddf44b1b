"""DEA records of the stock: inventories, Form 106, Form 41, and the recall of a lot."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.extensions import db
from mat.pdf_fonts import CJK_FONT, FONTS
from mat.stock.records import Destruction, Inventory, TheftLossReport
from tests.conftest import TODAY
from tests.stock.conftest import FORM_106, assert_ledger_matches, witness
from tests.support.checks import assert_error, count

METH = "METH-10MGML"
FILM = "BUPNX-FILM-8"


@pytest.fixture
def stocked(receive):
    receive("L-100", 1000)
    receive("F-1", 60, product=FILM)


def inventory(api, staff, counted, **changes):
    body = {
        "kind": "initial",
        "taken_on": TODAY.isoformat(),
        "taken_at": "opening",
        "counted": [
            {"station": "window-1", "product": p, "lot": lot, "quantity": q}
            for (p, lot), q in counted.items()
        ],
        "witness": witness(),
        **changes,
    }
    return api("post", "/api/v1/stock/inventories", as_=staff["nurse"], json=body)


def test_an_inventory_counts_every_lot_and_is_signed(api, staff, stocked, on_hand) -> None:
    response = inventory(api, staff, {(METH, "L-100"): 1000, (FILM, "F-1"): 60})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["kind"], body["taken_at"], body["witness"]["username"]) == (
        "initial",
        "opening",
        "nurse2",
    )
    assert {(x["lot"], x["expected"], x["counted"]) for x in body["lines"]} == {
        ("L-100", 1000, 1000),
        ("F-1", 60, 60),
    }
    again = inventory(api, staff, {(METH, "L-100"): 1000, (FILM, "F-1"): 60})
    assert_error(again, 409, "initial_exists")
    biennial = inventory(
        api, staff, {(METH, "L-100"): 1000, (FILM, "F-1"): 60}, kind="biennial", taken_at="close"
    )
    assert biennial.status_code == 201
    listed = api("get", "/api/v1/stock/inventories", as_=staff["auditor"]).get_json()
    assert [i["kind"] for i in listed] == ["biennial", "initial"]  # newest first
    assert on_hand()[("window-1", METH, "L-100")] == 1000  # a record, not a correction


def test_an_inventory_difference_needs_an_explanation(api, staff, stocked, on_hand) -> None:
    counted = {(METH, "L-100"): 990, (FILM, "F-1"): 60}
    error = assert_error(inventory(api, staff, counted), 422, "stock_reconciliation")
    assert "differ" in error["violations"][0]["message"]
    ok = inventory(api, staff, counted, explanation="Pump dead volume, see count of today.")
    assert ok.status_code == 201
    assert on_hand()[("window-1", METH, "L-100")] == 1000


@pytest.mark.parametrize(
    "changes, where",
    [
        ({"taken_on": (TODAY + timedelta(days=1)).isoformat()}, "taken_on"),
        ({"taken_on": (TODAY - timedelta(days=8)).isoformat()}, "taken_on"),
        ({"taken_at": "noon"}, "taken_at"),
        ({"kind": "annual"}, "kind"),
    ],
)
def test_bad_inventories_are_refused(api, staff, stocked, changes, where) -> None:
    response = inventory(api, staff, {(METH, "L-100"): 1000, (FILM, "F-1"): 60}, **changes)
    assert where in assert_error(response, 422)["fields"]
    assert count(Inventory) == 0


def test_an_inventory_leaving_out_a_lot_is_refused(api, staff, stocked) -> None:
    error = assert_error(inventory(api, staff, {(METH, "L-100"): 1000}), 422)
    assert "1 lot(s)" in error["fields"]["counted"][0]


def test_a_form_106_record(api, staff, stocked) -> None:
    body = FORM_106
    response = api("post", "/api/v1/stock/theft-loss-reports", as_=staff["prescriber"], json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kind"] == "theft"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "stock.form_106"))
    assert event is not None and event.rules == "stock_loss_report"
    future = {**body, "found_on": (TODAY + timedelta(days=1)).isoformat()}
    response = api("post", "/api/v1/stock/theft-loss-reports", as_=staff["nurse"], json=future)
    assert "found_on" in assert_error(response, 422)["fields"]
    response = api("post", "/api/v1/stock/theft-loss-reports", as_=staff["nurse"],
                   json={**body, "count_id": 4242})  # fmt: skip
    assert "count_id" in assert_error(response, 422)["fields"]
    response = api("post", "/api/v1/stock/theft-loss-reports", as_=staff["auditor"], json=body)
    assert_error(response, 403)
    assert count(TheftLossReport) == 1


def destroy(api, staff, quantity, witnesses):
    body = {"product": METH, "lot": "L-100", "quantity": quantity,
            "method": "Rendered unrecoverable with a chemical digester.",
            "reason": "Expired stock.", "witnesses": witnesses}  # fmt: skip
    return api("post", "/api/v1/stock/destructions", as_=staff["nurse"], json=body)


def test_a_form_41_destruction_has_two_witnesses_and_leaves_the_stock(
    api, staff, factory, stocked, on_hand
) -> None:
    factory.user("nurse", username="nurse3")
    two = [witness("nurse2"), witness("nurse3")]
    for bad in ([witness("nurse2")], [witness("nurse2"), witness("nurse2")],
                [witness("nurse2"), witness("nurse1")], []):  # fmt: skip
        error = assert_error(destroy(api, staff, 100, bad), 422, "witnesses_required")
        assert "witnesses" in error["fields"]
    assert_error(destroy(api, staff, 1001, two), 422, "stock_insufficient")
    assert count(Destruction) == 0
    response = destroy(api, staff, 100, two)
    assert response.status_code == 201, response.get_json()
    assert [w["username"] for w in response.get_json()["witnesses"]] == ["nurse2", "nurse3"]
    assert on_hand()[("window-1", METH, "L-100")] == Decimal(900)
    assert_ledger_matches()


def test_who_received_lot_x_is_one_query_and_audited(
    api, staff, factory, stocked, give, sign_order
) -> None:
    first, second, third = (factory.patient() for _ in range(3))
    for p in (first, second):
        sign_order(p)
        assert give(p, 40).status_code == 201
    sign_order(third, medication=FILM, dose_mg=8)
    assert give(third, 8).status_code == 201
    response = api("get", f"/api/v1/stock/recall?product={METH}&lot=L-100", as_=staff["auditor"])
    assert response.status_code == 200
    body = response.get_json()
    assert [r["mrn"] for r in body["recipients"]] == [first.mrn, second.mrn]
    assert body["recipients"][0]["quantity"] == 4 and body["recipients"][0]["status"] == "given"
    assert body["on_hand"][0]["on_hand"] == 992
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "stock.recall"))
    assert event is not None and str(first.id) in event.detail
    unknown = api("get", f"/api/v1/stock/recall?product={METH}&lot=NOPE", as_=staff["nurse"])
    assert "lot" in assert_error(unknown, 422)["fields"]


@pytest.mark.skipif(
    FONTS.fallback is None, reason="the CJK font is not installed (make system-packages)"
)
def test_a_form_106_in_chinese_prints_in_the_stock_report(api, staff, stocked) -> None:
    # The report's cells were escaped text in the body font: CJK printed as empty boxes.
    body = {**FORM_106, "kind": "loss", "circumstances": "瓶破損 at the window"}
    response = api("post", "/api/v1/stock/theft-loss-reports", as_=staff["prescriber"], json=body)
    assert response.status_code == 201, response.get_json()
    report = api(
        "get", f"/api/v1/reports/stock?from={TODAY}&to={TODAY}&format=pdf", as_=staff["auditor"]
    )
    assert report.status_code == 200, report.get_data(as_text=True)
    reader = PdfReader(io.BytesIO(report.get_data()))
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert "瓶破損atthewindow" in text
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any(CJK_FONT in name for name in fonts), fonts
