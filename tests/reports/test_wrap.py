"""``pdf_page.wrap``, which every printed name, MRN and lot goes through when it is wider than its
place (the dispensing log's columns, the take-home labels): whole words where they fit, a long
hyphenated name broken after its hyphen, never a character lost. Widths are measured in the
font the PDFs use, so the tests hold with DejaVu Sans or the Helvetica fallback."""

from __future__ import annotations

from itertools import pairwise

import pytest

from mat.pdf_fonts import BOLD, FONT, text_width
from mat.reports.pdf_page import wrap

NAME = "Featherstonehaugh-Cholmondeley, Maximiliana"


def test_a_hyphenated_name_wider_than_its_column_breaks_after_the_hyphen() -> None:
    # Wide enough for "Featherstonehaugh-" but not for the whole hyphenated surname.
    width = text_width("Featherstonehaugh-Cholmondeley,", BOLD, 10) - 1
    assert text_width("Featherstonehaugh-", BOLD, 10) < width
    assert wrap(NAME, width, BOLD, 10) == ["Featherstonehaugh-", "Cholmondeley, Maximiliana"]


def test_a_word_that_fits_a_line_alone_is_never_split() -> None:
    # The old wrap filled the line up to the width: "Smith Featherstonehau" / "gh-...".
    text = "Smith Featherstonehaugh-Cholmondeley"
    width = text_width("Featherstonehaugh-Cholmondeley", FONT, 8) + 2
    assert wrap(text, width) == ["Smith", "Featherstonehaugh-Cholmondeley"]
    lot = "Lot L-2026-0001 (exp 2027-01-31) · dispensed 2026-12-06 by TU"
    lines = wrap(lot, text_width("Lot L-2026-0001 (exp 2027-01-31) · dispensed 2026-", FONT, 8))
    assert lines == ["Lot L-2026-0001 (exp 2027-01-31) · dispensed", "2026-12-06 by TU"]


def test_an_mrn_wider_than_its_column_breaks_at_its_hyphens() -> None:
    mrn = "MRN-2026-WESTSIDE-000123"
    width = text_width("WESTSIDE-0", FONT, 8)
    assert wrap(mrn, width) == ["MRN-2026-", "WESTSIDE-", "000123"]


def test_a_part_without_a_hyphen_is_broken_inside_only_when_it_must_be() -> None:
    lot = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    width = text_width("ABCDEFGHIJ", FONT, 8)
    lines = wrap(f"Lot {lot}", width)
    assert lines[0] == "Lot"  # the short word keeps its own line, the long one starts afresh
    assert "".join(lines[1:]) == lot
    assert all(text_width(line, FONT, 8) <= width for line in lines)
    for line, after in pairwise(lines[1:]):  # each as full as it can be
        assert text_width(line + after[0], FONT, 8) > width


@pytest.mark.parametrize(
    "text",
    [
        NAME,
        "Ng, Jo",
        "O'Brien-Smythe-Featherstonehaugh, Anne-Marie Josephine",
        "MRN-2026-WESTSIDE-000123-AB-CDEFGHIJKLMNOP",
        "Lot LOT-2026-ABCDEFGH-0001234567 (exp 2027-01-31) · by TU",
        "a--b---c - d",
    ],
)
@pytest.mark.parametrize("width", [12.0, 30.0, 55.0, 90.0, 400.0])
def test_wrapping_loses_nothing_and_keeps_to_the_width(text: str, width: float) -> None:
    lines = wrap(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:  # wider only when one character alone is wider than the column
        assert text_width(line, FONT, 8) <= width or len(line) == 1, (line, width)
