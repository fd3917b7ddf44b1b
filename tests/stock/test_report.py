"""The stock report for a simulated month, reconciled with the dispensing log line by line: each
day's quantity drawn from a lot is the sum of that day's log rows of the lot, each day's
returned and spilled quantities are the log's correction rows, and the closing stock is what
the stock screen shows."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import time, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from tests.conftest import TODAY
from tests.stock.conftest import witness
from tests.support.checks import assert_error

METH, FILM = "METH-10MGML", "BUPNX-FILM-8"
DAYS = 28
LAST = TODAY + timedelta(days=DAYS - 1)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def month(api, staff, factory, clock, receive, sign_order, take_home_criteria) -> dict[str, Any]:
    """Four weeks at a clinic with a window and a vault; returns what happened."""
    nurse = staff["nurse"]

    def post(path: str, body: dict[str, Any], who: Any = None) -> dict[str, Any]:
        response = api("post", path, as_=who or nurse, json=body)
        assert response.status_code in (200, 201), (path, response.get_json())
        return response.get_json()

    post("/api/v1/stock/stations", {"code": "vault", "name": "Vault"}, staff["admin"])
    receive("MA-1", 1000, station="vault")
    receive("F-9", 90, product=FILM)
    settled = TODAY - timedelta(days=60)
    weekend = {"weekdays": ["sat", "sun"], "criteria": take_home_criteria}
    ana, bo, cy = (factory.patient(admitted_on=settled) for _ in range(3))
    sign_order(ana, dose_mg=60, take_home=weekend)
    sign_order(bo, dose_mg=40)
    sign_order(cy, medication=FILM, dose_mg=16)
    events: dict[str, Any] = {"open_count": None}
    for n in range(DAYS):
        day = TODAY + timedelta(days=n)
        clock.set(day, time(8, 0))
        if n in (0, 14):
            post("/api/v1/stock/transfers", {"from_station": "vault", "to_station": "window-1",
                                             "product": METH, "lot": "MA-1", "quantity": 450,
                                             "witness": witness()})  # fmt: skip
        if n in (0, 21):
            screen = {"collected_on": day.isoformat(), "results": {"fentanyl": "negative"}}
            post(f"/api/v1/patients/{ana.id}/drug-screens", screen)
        clock.set(day, time(9, 0))
        for patient, mg in ((ana, 60), (bo, 40), (cy, 16)):
            if patient is ana and day.weekday() >= 5:
                continue  # taken home on Friday
            dose = post(f"/api/v1/patients/{patient.id}/doses", {"amount_mg": mg})
            if (n, patient) in ((3, bo), (10, cy)):
                kind = "void" if n == 3 else "spill"
                clock.set(day, time(9, 5))
                post(f"/api/v1/doses/{dose['id']}/corrections",
                     {"kind": kind, "reason": "Witnessed.", "witness": witness()})  # fmt: skip
                post(f"/api/v1/patients/{patient.id}/doses", {"amount_mg": mg})
        if day.weekday() == 4:
            clock.set(day, time(9, 30))
            dates = [(day + timedelta(days=d)).isoformat() for d in (1, 2)]
            post(f"/api/v1/patients/{ana.id}/take-homes", {"dates": dates})
        if n == 20:
            post("/api/v1/stock/destructions", {"station": "vault", "product": METH,
                                                "lot": "MA-1", "quantity": 10,
                                                "method": "Chemical digester.",
                                                "reason": "Damaged bottle.",
                                                "witnesses": [witness("nurse2"),
                                                              witness("third")]}, )  # fmt: skip
        clock.set(day, time(17, 0))
        held = {(r["product"], r["lot"]): Decimal(str(r["on_hand"])) for r in
                api("get", "/api/v1/stock?station=window-1", as_=nurse).get_json()}  # fmt: skip
        short = Decimal(3) if n == 12 else Decimal(0)
        body = {"station": "window-1", "witness": witness(),
                "counted": [{"product": p, "lot": lot, "quantity": q - (short if p == METH else 0)}
                            for (p, lot), q in held.items()]}  # fmt: skip
        if short:
            body["explanation"] = "3 mL short at close; pump inspected."
        counted = post("/api/v1/stock/counts", body)
        if short:
            events["open_count"] = counted["id"]
        if n == 13:
            post(f"/api/v1/stock/variances/{events['open_count']}/resolve",
                 {"resolution": "Pump seal leak, replaced."}, staff["admin"])  # fmt: skip
    return events


@pytest.fixture
def third(factory):
    return factory.user("nurse", username="third")


def report(api, staff, fmt: str, query: str = "") -> Any:
    response = api(
        "get", f"/api/v1/reports/stock?from={TODAY}&to={LAST}&format={fmt}{query}",
        as_=staff["auditor"],
    )  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response


def log_rows(api, staff) -> list[dict[str, Any]]:
    response = api(
        "get", f"/api/v1/reports/dispensing-log?from={TODAY}&to={LAST}&format=json",
        as_=staff["auditor"],
    )  # fmt: skip
    assert response.status_code == 200
    return response.get_json()["rows"]


def quantity(row: dict[str, Any]) -> Decimal:
    value = row["volume_ml"] if row["volume_ml"] is not None else row["units"]
    return Decimal(str(value))


@pytest.mark.slow
def test_a_month_of_stock_reconciles_with_the_dispensing_log(api, staff, third, month) -> None:
    lines = report(api, staff, "json").get_json()["lines"]
    rows = log_rows(api, staff)
    drawn: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    returned: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    spilled: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        assert row["lot"] is not None  # both products were received before the first dose
        key = (row["dispensed_on"], row["lot"])
        if row["correction_kind"] == "void":
            returned[key] += quantity(row)
        elif row["correction_kind"] == "spill":
            spilled[key] += quantity(row)
        else:
            drawn[key] += quantity(row)
    window = [line for line in lines if line["station"] == "window-1"]
    for line in window:
        key = (line["date"], line["lot"])
        assert Decimal(str(line["drawn"])) == drawn.pop(key, Decimal(0)), line
        assert Decimal(str(line["returned"])) == returned.pop(key, Decimal(0)), line
        assert Decimal(str(line["spilled"])) == spilled.pop(key, Decimal(0)), line
        numbers = {k: Decimal(str(line[k])) for k in line if isinstance(line[k], int | float)}
        assert numbers["closing"] == (
            numbers["opening"] + numbers["received"] + numbers["transferred_in"]
            - numbers["transferred_out"] - numbers["dispensed"] - numbers["spilled"]
            - numbers["destroyed"] + numbers["count_adjustment"]
        )  # fmt: skip
        assert numbers["dispensed"] == numbers["drawn"] - numbers["returned"] - numbers["spilled"]
    assert not any(drawn.values()) and not any(returned.values()) and not any(spilled.values())
    # Each day opens with the day before's closing, station by station and lot by lot.
    by_lot: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_lot[(line["station"], line["lot"])].append(line)
    for own in by_lot.values():
        for before, after in pairwise(own):
            assert after["opening"] == before["closing"]
    # The last closing is the stock on hand now.
    now = {(r["station"], r["lot"]): r["on_hand"] for r in
           api("get", "/api/v1/stock", as_=staff["auditor"]).get_json()}  # fmt: skip
    last = {key: own[-1]["closing"] for key, own in by_lot.items() if own[-1]["closing"]}
    assert last == now
    vault = by_lot[("vault", "MA-1")]
    assert (
        sum(x["transferred_out"] for x in vault) == 900 and sum(x["destroyed"] for x in vault) == 10
    )
    # The short count: counted, its variance, open and then resolved.
    short = next(x for x in window if x["count_status"] == "resolved" and x["lot"] == "MA-1")
    assert (short["variance"], short["date"]) == (-3, (TODAY + timedelta(days=12)).isoformat())


@pytest.mark.slow
def test_the_report_in_csv_and_pdf(api, staff, third, month) -> None:
    text = report(api, staff, "csv").get_data(as_text=True)
    header, *_ = text.split("\r\n", 1)
    assert header == (
        "date,station,product,lot,expires_on,unit,opening,received,transferred_in,"
        "transferred_out,drawn,returned,spilled,dispensed,destroyed,count_adjustment,closing,"
        "counted,variance,count_status"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["station"] for r in rows} == {"vault", "window-1"}
    assert any(r["count_adjustment"] == "-3" for r in rows)
    only_film = list(csv.DictReader(io.StringIO(
        report(api, staff, "csv", f"&product={FILM}").get_data(as_text=True))))  # fmt: skip
    assert {r["product"] for r in only_film} == {FILM}
    response = api("get", f"/api/v1/reports/stock?from={TODAY}&to={TODAY + timedelta(days=20)}"
                   "&format=pdf", as_=staff["admin"])  # fmt: skip
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )
    for expected in ("Controlled-substance stock", "Station window-1", "Station vault",
                     "Counts and variances", "3 mL short at close", "Pump seal leak",
                     "DEA Form 41: destruction", "Chemical digester", "Receipts"):  # fmt: skip
        assert expected in text, expected
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = pdfium.PdfDocument(data)
    try:
        pdf[0].render(scale=2).to_pil().save(ARTIFACTS / "stock-report-first.png")
        pdf[len(pdf) - 1].render(scale=2).to_pil().save(ARTIFACTS / "stock-report-last.png")
    finally:
        pdf.close()


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-11-20&to=2026-11-10", "from"),
        ("from=2026-01-01&to=2027-01-10", "to"),
        ("from=2026-11-01&to=2026-12-10&format=pdf", "to"),
        ("format=xml", "format"),
        ("station=Bad Station", "station"),
    ],
)
def test_bad_queries_are_422(api, staff, query, field) -> None:
    response = api("get", f"/api/v1/reports/stock?{query}", as_=staff["auditor"])
    assert field in assert_error(response, 422)["fields"]


@pytest.mark.parametrize("who, status", [("auditor", 200), ("admin", 200), ("nurse", 403),
                                         ("prescriber", 403)])  # fmt: skip
def test_who_downloads_the_stock_report(api, staff, who, status) -> None:
    response = api("get", "/api/v1/reports/stock?format=csv", as_=staff[who])
    assert response.status_code == status
