"""The daily count of a station: expected against counted, tolerance, variances and their
resolution (clinical-rules.md, stock_reconciliation)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mat.stock.records import StockCount, VarianceResolution
from tests.stock.conftest import assert_ledger_matches, witness
from tests.support.checks import assert_error
from tests.support.checks import count as rows

METH = "METH-10MGML"
FILM = "BUPNX-FILM-8"


@pytest.fixture
def stocked(receive, give, patient, sign_order):
    """1000 mL of L-100 and 60 films of F-1 at window-1; a 40 mg (4 mL) dose drawn."""
    receive("L-100", 1000)
    receive("F-1", 60, product=FILM)
    sign_order(patient)
    assert give(patient, 40).status_code == 201


def test_a_count_at_tolerance_balances_and_adjusts_to_what_was_counted(
    stocked, stock_count, on_hand
) -> None:
    response = stock_count({(METH, "L-100"): "995", (FILM, "F-1"): 60})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "balanced" and body["warnings"] == []
    lines = {line["lot"]: line for line in body["lines"]}
    assert (lines["L-100"]["expected"], lines["L-100"]["counted"], lines["L-100"]["variance"]) == (
        996,
        995,
        -1,
    )
    assert lines["L-100"]["tolerance"] == 1 and lines["F-1"]["variance"] == 0
    assert on_hand()[("window-1", METH, "L-100")] == Decimal(995)  # the next day opens from it
    assert_ledger_matches()


def test_a_variance_past_tolerance_needs_an_explanation(stocked, stock_count, on_hand) -> None:
    counted = {(METH, "L-100"): 996, (FILM, "F-1"): 59}
    error = assert_error(stock_count(counted), 422, "stock_reconciliation")
    assert [v["rule"] for v in error["violations"]] == ["stock_reconciliation"]
    assert "F-1" in error["violations"][0]["message"]
    assert count_rows() == 0 and on_hand()[("window-1", FILM, "F-1")] == 60

    response = stock_count(counted, explanation="One film dropped and destroyed; see note.")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "open"
    assert [w["rule"] for w in body["warnings"]] == ["stock_loss_report"]
    assert on_hand()[("window-1", FILM, "F-1")] == 59
    assert_ledger_matches()


def count_rows() -> int:
    return rows(StockCount)


def test_every_lot_at_the_station_is_counted(stocked, stock_count) -> None:
    error = assert_error(stock_count({(METH, "L-100"): 996}), 422)
    assert "F-1" in error["fields"]["counted"][0]
    assert count_rows() == 0


@pytest.mark.parametrize(
    "line, field",
    [
        ((METH, "NEVER"), "counted[2].lot"),
        (("NOPE-1", "X"), "counted[2].product"),
    ],
)
def test_a_lot_never_received_cannot_be_counted(stocked, stock_count, line, field) -> None:
    counted = {(METH, "L-100"): 996, (FILM, "F-1"): 60, line: 5}
    assert field in assert_error(stock_count(counted), 422)["fields"]


def test_a_count_needs_a_witness_who_is_someone_else(stocked, stock_count) -> None:
    counted = {(METH, "L-100"): 996, (FILM, "F-1"): 60}
    for bad in (None, witness("nurse1"), witness(password="wrong-password-123")):
        error = assert_error(stock_count(counted, witness=bad), 422, "stock_reconciliation")
        assert error["violations"][0]["rule"] == "stock_reconciliation"
    assert count_rows() == 0


def test_only_nurses_count(api, stocked, staff) -> None:
    body = {"counted": [], "witness": witness()}
    for who in ("prescriber", "auditor", "admin"):
        assert_error(api("post", "/api/v1/stock/counts", as_=staff[who], json=body), 403)


def test_duplicate_lines_and_bad_quantities_are_refused(stocked, api, staff) -> None:
    line = {"product": METH, "lot": "L-100", "quantity": 996}
    body = {"counted": [line, line], "witness": witness()}
    assert (
        "counted"
        in assert_error(api("post", "/api/v1/stock/counts", as_=staff["nurse"], json=body), 422)[
            "fields"
        ]
    )
    body = {"counted": [{**line, "quantity": 996.05}], "witness": witness()}
    response = api("post", "/api/v1/stock/counts", as_=staff["nurse"], json=body)
    assert "counted[0].quantity" in assert_error(response, 422)["fields"]


def open_variance(stock_count) -> int:
    response = stock_count(
        {(METH, "L-100"): 980, (FILM, "F-1"): 60}, explanation="Pump leak found at close."
    )
    assert response.status_code == 201 and response.get_json()["status"] == "open"
    return response.get_json()["id"]


def test_an_open_variance_is_resolved_by_a_prescriber_or_admin(api, stocked, stock_count, staff):
    count_id = open_variance(stock_count)
    listed = api("get", "/api/v1/stock/variances", as_=staff["nurse"]).get_json()
    assert [c["id"] for c in listed] == [count_id]
    path = f"/api/v1/stock/variances/{count_id}/resolve"
    body = {"resolution": "Pump seal replaced; loss confirmed by the pharmacist."}
    assert_error(api("post", path, as_=staff["nurse"], json=body), 403)
    assert_error(api("post", path, as_=staff["auditor"], json=body), 403)
    assert (
        "resolution"
        in assert_error(api("post", path, as_=staff["prescriber"], json={"resolution": ""}), 422)[
            "fields"
        ]
    )
    response = api("post", path, as_=staff["prescriber"], json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "resolved"
    assert response.get_json()["resolution"]["by"]["username"] == "doc"
    assert api("get", "/api/v1/stock/variances", as_=staff["nurse"]).get_json() == []
    everything = api("get", "/api/v1/stock/variances?status=all", as_=staff["auditor"])
    assert [c["status"] for c in everything.get_json()] == ["resolved"]
    assert_error(api("post", path, as_=staff["admin"], json=body), 409, "already_resolved")
    assert rows(VarianceResolution) == 1


def test_who_counted_or_witnessed_does_not_resolve(api, factory, stocked, stock_count, staff):
    both = factory.user("nurse", "admin", username="nurse-admin")
    response = api(
        "post",
        "/api/v1/stock/counts",
        as_=both,
        json={
            "counted": [
                {"product": METH, "lot": "L-100", "quantity": 980},
                {"product": FILM, "lot": "F-1", "quantity": 60},
            ],
            "explanation": "Short.",
            "witness": witness(),
        },
    )
    count_id = response.get_json()["id"]
    body = {"resolution": "Reviewed and accepted."}
    error = assert_error(
        api("post", f"/api/v1/stock/variances/{count_id}/resolve", as_=both, json=body), 403
    )
    assert error["code"] == "own_variance"


def test_a_balanced_count_has_nothing_to_resolve(api, stocked, stock_count, staff) -> None:
    count_id = stock_count({(METH, "L-100"): 996, (FILM, "F-1"): 60}).get_json()["id"]
    response = api(
        "post",
        f"/api/v1/stock/variances/{count_id}/resolve",
        as_=staff["admin"],
        json={"resolution": "Nothing."},
    )
    assert_error(response, 409, "balanced")
    assert_error(
        api("post", "/api/v1/stock/variances/999999/resolve", as_=staff["admin"],
            json={"resolution": "Nothing."}),
        404,
    )  # fmt: skip
