"""The patient history and the stock report print a long MRN, a long lot number and a large
quantity whole: not cut, not run into the next column, a number on one line.

Their tables are reportlab ``Paragraph`` cells: a word wider than its column is broken over lines
inside the cell (``splitLongWords``, on by default), which these tests hold in place."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from pypdf import PdfReader

from mat.pdf_fonts import FONT, text_width
from mat.reports.history_pdf import DOSE_NUMBER, SMALL
from tests.conftest import TODAY
from tests.stock.test_labels_fit import char_boxes, squeezed

MRN = "MRN2026WESTSIDE000123ABCDEFGHIJK"  # 32 characters, no hyphen to break at
LOT = "LOT2026ABCDEFGH0001234567XYZ0123456789A"  # 39


def overprinted(data: bytes) -> list[tuple[str, str]]:
    """Pairs of glyphs of the first page that print over each other (a text run into the next
    column); glyphs that merely touch (kerning) are not counted."""
    boxes = char_boxes(data)
    found = []
    for n, (a, (al, ab, ar, at)) in enumerate(boxes):
        for b, (bl, bb, br, bt) in boxes[n + 1 :]:
            width, height = min(ar, br) - max(al, bl), min(at, bt) - max(ab, bb)
            if width > 0.3 and height > 0.3:
                found.append((a, b))
    return found


def test_a_six_digit_dose_number_has_room_in_the_history(app) -> None:
    # The corrections' and loss reports' "Dose" column: "#288123" printed "#28812" over "3".
    assert text_width("#1234567", FONT, SMALL.fontSize) + 2 * 3 <= DOSE_NUMBER


def test_a_long_mrn_and_lot_print_whole_in_the_history(
    api, staff, factory, receive, hand_out
) -> None:
    receive(LOT, 1000)
    patient = factory.patient(mrn=MRN)
    hand_out(patient)
    path = f"/api/v1/patients/{patient.id}/history?format=pdf"
    response = api(
        "get", f"{path}&from={TODAY}&to={TODAY + timedelta(days=6)}", as_=staff["auditor"]
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_data()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "…" not in text
    assert MRN in squeezed(text) and LOT in squeezed(text)
    assert overprinted(data) == []


def test_a_long_lot_and_a_large_quantity_print_whole_in_the_stock_report(
    api, staff, receive
) -> None:
    receive(LOT, 1234567)
    response = api(
        "get",
        f"/api/v1/reports/stock?from={TODAY}&to={TODAY}&format=pdf",
        as_=staff["auditor"],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_data()
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "…" not in text and LOT in squeezed(text)
    # Each time on one line, smaller, never "123456" over "7" (two numbers to a reader): in the
    # summary (received, close), the day's line (received, close) and the receipt; the product
    # code never "METH-10MGM" over "L".
    layout = reader.pages[0].extract_text(extraction_mode="layout")
    assert len(re.findall(r"(?<![\d.])1234567(?![\d.])", layout)) == 5, layout
    assert not re.search(r"(?<![\d.])123456(?![\d.])", layout), layout
    assert not re.search(r"METH-10MGM(?!L)", layout), layout
    assert overprinted(data) == []
