"""The dispensing log PDF never splits a code a row is matched by while it can print it whole.

A dose number printed "108176" over "5" reads as dose 108176, and a lot "MA-" over "24117" as
two cells (21 CFR 1304.24: an inspector matches a row to its patient, lot and dose). The log
is laid out from rows made here and read back from the real PDF (pypdf), cell by cell, with
the size each cell printed at."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise

import pytest

from mat.pdf_fonts import FONT, text_width
from mat.reports.log_pdf import COLUMNS, TABLE, write_log_pdf
from mat.reports.log_rows import LogEntry, LogQuery, LogRow
from tests.reports.reading import text_cells

DAY = date(2026, 11, 16)
TITLES = [title for title, *_ in TABLE]


def _entry(*, dose_id: int, lot: str, mrn: str = "BENCH-00069") -> LogEntry:
    row = LogRow(
        dispensed_on=DAY,
        dispensed_at=datetime(2026, 11, 16, 7, 15, tzinfo=UTC),
        patient_mrn=mrn,
        patient_name="Nguyễn, Łukasz",
        substance="methadone",
        product="METH-10MGML",
        strength="10 mg/mL",
        dosage_form="liquid",
        mode="observed",
        amount_mg=Decimal(80),
        volume_ml=Decimal(8),
        dispenser_initials="AN",
        dose_id=dose_id,
        late_entry=False,
        correction_of=None,
        correction_kind=None,
        units=None,
        lot=lot,
    )
    return LogEntry(row, DAY, 1, "Ann Nurse", None, "Methadone oral concentrate")


def _cells(entries: list[LogEntry]) -> list[tuple[float, float, str, float]]:
    """The first page's cells as (x from the table's left, y, text, size)."""
    out = io.BytesIO()
    printed = datetime(2026, 12, 7, tzinfo=UTC)
    query = LogQuery(DAY, DAY)
    write_log_pdf(entries, query, out, page="letter", clinic="Demo", printed_at=printed)
    found = text_cells(out.getvalue())
    left = next(x for x, _, text, _ in found if text == "Time")  # the table's first title
    return [(x - left, y, text, size) for x, y, text, size in found]


def _column(cells: list[tuple[float, float, str, float]], title: str) -> list[tuple[str, float]]:
    x = COLUMNS[TITLES.index(title)][0]
    return [(text, size) for cx, _, text, size in cells if abs(cx - x) < 0.5 and text != title]


@pytest.mark.parametrize(
    ("dose_id", "size"),
    [
        (108176, 8.0),  # six digits, as before
        (1081765, 8.0),  # seven: a network of clinics passes a million doses
        (10817654, 7.0),  # eight: one line, smaller
    ],
)
def test_a_dose_number_prints_on_one_line(dose_id: int, size: float) -> None:
    assert _column(_cells([_entry(dose_id=dose_id, lot="MA-24117")]), "Dose #") == [
        (str(dose_id), size)
    ]


def test_the_demo_lots_print_on_one_line() -> None:
    # "MA-24117" is 40.7 pt at 8 pt, a little wider than its column: it prints at 7.5 pt.
    cells = _cells([_entry(dose_id=1, lot="MA-24117"), _entry(dose_id=2, lot="24117")])
    assert _column(cells, "Lot") == [("MA-24117", 7.5), ("24117", 8.0)]


def test_a_lot_a_little_too_wide_prints_smaller_and_one_too_long_wraps_at_full_size() -> None:
    width = COLUMNS[TITLES.index("Lot")][1]
    smaller, long = "MA-241178", "LOT-2026-11-000123-A"
    assert text_width(smaller, FONT, 8) > width >= text_width(smaller, FONT, 6.5)
    assert text_width(long, FONT, 6.5) > width  # the test is about a lot no size fits
    cells = _cells([_entry(dose_id=1, lot=smaller), _entry(dose_id=2, lot=long)])
    lots = _column(cells, "Lot")
    assert lots[0][0] == smaller and 6.5 <= lots[0][1] < 8.0
    # Nothing is cut: the long lot goes on over further lines of its row, at 8 pt.
    assert "".join(text for text, _ in lots[1:]) == long
    assert len(lots) > 2 and {size for _, size in lots[1:]} == {8.0}


def test_an_mrn_too_wide_for_its_column_prints_smaller_on_one_line() -> None:
    mrn = "WESTSIDE-00069"
    width = COLUMNS[TITLES.index("MRN")][1]
    assert text_width(mrn, FONT, 8) > width >= text_width(mrn, FONT, 6.5)
    mrns = _column(_cells([_entry(dose_id=1, lot="MA-24117", mrn=mrn)]), "MRN")
    assert len(mrns) == 1 and mrns[0][0] == mrn and mrns[0][1] < 8.0


def test_the_table_keeps_its_columns_apart_and_inside_the_page() -> None:
    # No column runs into the next, the flags end at the text width, and a late entry's flag
    # still fits its line.
    from mat.pdf_fonts import BOLD
    from mat.reports.pdf_page import TEXT_WIDTH

    for (_, x, width, _), (_, following, _, _) in pairwise(TABLE):
        assert x + width <= following
    _, x, width, _ = TABLE[-1]
    assert x + width == TEXT_WIDTH and width >= text_width("LATE entered 11-17 10:00", BOLD, 7)
