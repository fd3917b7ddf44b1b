"""The dispensing log in its three formats, each checked row by row against the database."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mat.reports.log_rows import COLUMNS, LogQuery, LogSnapshot, log_rows
from mat.reports.log_text import csv_cells
from tests.reports.conftest import DAY1, DAY2, HEADER, ZONE, corrected_kinds, expected_rows
from tests.reports.reading import blocks, pdf_cells, pdf_text, read_log_pdf, total_lines
from tests.support.factories import PASSWORD

LOG = "/api/v1/reports/dispensing-log"
BOTH_DAYS = f"from={DAY1}&to={DAY2}"


@pytest.fixture
def export(api, clinic):
    def get(query: str, who: str = "auditor") -> bytes:
        response = api("get", f"{LOG}?{query}", as_=clinic.staff[who])
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data()

    return get


def read_csv(data: bytes) -> tuple[str, list[dict[str, str]]]:
    text = data.decode("utf-8")
    return text.split("\r\n", 1)[0], list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_the_contract_header_and_every_row_of_the_database(export) -> None:
    header, rows = read_csv(export(f"{BOTH_DAYS}&format=csv"))
    assert header == HEADER
    assert rows == expected_rows(DAY1, DAY2)
    # The fixture's story, as the log tells it: 10 doses handed out and 2 corrections.
    assert len(rows) == 13
    assert sum(r["mode"] == "take_home" for r in rows) == 2
    assert [r["correction_kind"] for r in rows if r["correction_kind"]] == ["void", "spill"]


def test_log_semantics(export, clinic) -> None:
    _, rows = read_csv(export(f"{BOTH_DAYS}&format=csv"))
    by_dose = {r["dose_id"]: r for r in rows if r["dose_id"]}
    # A take-home handed out at 19:30 in New York (00:30 UTC the next day) is on day 1.
    saturday = by_dose[str(clinic.doses["cruz_sat"])]
    assert (saturday["dispensed_on"], saturday["dispensed_at"]) == (
        DAY1.isoformat(),
        f"{DAY1}T19:30:00-05:00",
    )
    # A late entry is on the day it was given, entered the next day.
    late = by_dose[str(clinic.doses["fox1_late"])]
    assert (late["dispensed_on"], late["late_entry"]) == (DAY1.isoformat(), "true")
    assert late["dispensed_at"].startswith(DAY2.isoformat())
    # A correction is on the day and in the block of the nurse who recorded it.
    (void,) = [r for r in rows if r["correction_kind"] == "void"]
    assert void["correction_of"] == str(clinic.doses["diaz1_voided"]) and void["dose_id"] == ""
    assert (void["dispenser_initials"], void["amount_mg"], void["product"]) == (
        "BE",
        "16",
        "BUP-SL-8",
    )
    # Ordered by day, then dispenser, then time.
    keys = [(r["dispensed_on"], r["dispenser_initials"]) for r in rows]
    assert keys == sorted(keys)


def test_json_has_the_same_rows_with_exact_numbers(export) -> None:
    body = json.loads(export(f"{BOTH_DAYS}&format=json"), parse_float=Decimal)
    assert (body["from"], body["to"]) == (DAY1.isoformat(), DAY2.isoformat())
    expected = expected_rows(DAY1, DAY2)
    keys = [
        *HEADER.split(","),
        "corrected",
        "take_home_exception",
    ]  # the contract's columns, then two
    assert [list(r) for r in body["rows"]] == [keys] * len(expected)
    corrected = corrected_kinds()
    for got, want in zip(body["rows"], expected, strict=True):
        assert got["dose_id"] == (int(want["dose_id"]) if want["dose_id"] else None)
        assert got["correction_of"] == (
            int(want["correction_of"]) if want["correction_of"] else None
        )
        assert got["late_entry"] is (want["late_entry"] == "true")
        assert isinstance(got["amount_mg"], int | Decimal)
        assert Decimal(got["amount_mg"]) == Decimal(want["amount_mg"])
        volume = None if got["volume_ml"] is None else Decimal(got["volume_ml"])
        assert volume == (Decimal(want["volume_ml"]) if want["volume_ml"] else None)
        texts = ("dispensed_on", "dispensed_at", "patient_mrn", "patient_name", "product",
                 "strength", "dosage_form", "mode", "dispenser_initials", "substance")  # fmt: skip
        assert {k: got[k] for k in texts} == {k: want[k] for k in texts}
        assert got["correction_kind"] == (want["correction_kind"] or None)
        assert got["lot"] == (want["lot"] or None)
        assert got["units"] == (Decimal(want["units"]) if want["units"] else None)
        # A dose row a correction covers says so itself; a correction row does not.
        assert got["corrected"] == corrected.get(want["dose_id"]), got


@pytest.mark.parametrize(
    "query, keep",
    [
        ("product=BUP-SL-8", lambda r: r["product"] == "BUP-SL-8"),
        ("substance=methadone", lambda r: r["substance"] == "methadone"),
        ("product=NTX-TAB-50", lambda r: False),
    ],
)
def test_filters(export, query, keep) -> None:
    _, rows = read_csv(export(f"{BOTH_DAYS}&format=csv&{query}"))
    assert rows == [r for r in expected_rows(DAY1, DAY2) if keep(r)]


def test_one_day(export) -> None:
    _, rows = read_csv(export(f"from={DAY2}&to={DAY2}&format=csv"))
    assert rows == expected_rows(DAY2, DAY2) and {r["dispensed_on"] for r in rows} == {str(DAY2)}


def test_pdf_has_every_row_in_its_dispenser_block_with_flags_and_totals(export) -> None:
    data = export(f"{BOTH_DAYS}&format=pdf")
    assert data.startswith(b"%PDF-")
    rows, totals = read_log_pdf(data)
    expected = expected_rows(DAY1, DAY2)
    assert [(day, initials) for day, initials, _ in rows] == [
        (r["dispensed_on"], r["dispenser_initials"]) for r in expected
    ]
    corrected = corrected_kinds()
    assert [cells for _, _, cells in rows] == [pdf_cells(r, corrected) for r in expected]
    for block, block_rows in blocks(expected).items():
        assert sorted(totals[block]) == total_lines(block_rows, corrected), block
    assert sorted(totals["summary"]) == total_lines(expected, corrected)
    layout, plain = pdf_text(data)
    assert "Riverside Opioid Treatment Program" in layout[0]
    assert f"Dispensing log  {DAY1} to {DAY2}" in layout[0]
    assert "Dispenser (AN) initials:" in layout[0] and "Dispenser (BE) initials:" in layout[0]
    assert re.search(r"Page 1 of\s*1\b", plain[0])


def test_a_long_log_numbers_its_pages_and_carries_blocks_over(app, export, clinic) -> None:
    from tests.reports.test_memory import insert_doses

    insert_doses(clinic.staff["nurse"], patients=150, days=1, first=DAY1)
    data = export(f"from={DAY1}&to={DAY1}&format=pdf&page=a4")
    _, plain = pdf_text(data)
    pages = len(plain)
    assert pages >= 3
    for number, text in enumerate(plain, start=1):
        assert re.search(rf"Page {number} of\s*{pages}\b", text), text[:200]
    assert "(continued)" in plain[1]
    rows, totals = read_log_pdf(data)
    expected = expected_rows(DAY1, DAY1)
    corrected = corrected_kinds()
    assert [cells for _, _, cells in rows] == [pdf_cells(r, corrected) for r in expected]
    for block, block_rows in blocks(expected).items():
        assert sorted(totals[block]) == total_lines(block_rows, corrected), block
    assert sorted(totals["summary"]) == total_lines(expected, corrected)


def test_an_empty_range_is_a_header_and_a_summary(export) -> None:
    day = "2026-01-05"
    header, rows = read_csv(export(f"from={day}&to={day}&format=csv"))
    assert (header, rows) == (HEADER, [])
    assert json.loads(export(f"from={day}&to={day}&format=json"))["rows"] == []
    layout, _ = pdf_text(export(f"from={day}&to={day}&format=pdf"))
    assert "No doses and no corrections were recorded in this range." in layout[0]


def test_an_export_covers_the_rows_stored_when_it_began(api, clinic, clock) -> None:
    before = expected_rows(DAY1, DAY2)
    snapshot = LogSnapshot.now()
    clock.set(DAY2, time(16, 0))  # a void recorded while the export is being written
    body = {"kind": "void", "reason": "Wrong patient label.",
            "witness": {"username": "ann", "password": PASSWORD}}  # fmt: skip
    fixed = api("post", f"/api/v1/doses/{clinic.doses['evans2']}/corrections",
                as_=clinic.nurses["ben"], json=body)  # fmt: skip
    assert fixed.status_code == 201, fixed.get_json()
    query, zone = LogQuery(DAY1, DAY2), ZoneInfo(ZONE)
    assert [csv_cells(row) for row in log_rows(query, zone, snapshot)] == [
        list(row.values()) for row in before
    ]
    now = [csv_cells(row) for row in log_rows(query, zone, LogSnapshot.now())]
    assert len(now) == len(before) + 1 and now[-1][COLUMNS.index("correction_kind")] == "void"
