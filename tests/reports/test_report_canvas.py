"""``ReportCanvas.cells`` writes a cell's text object from what reportlab wrote for the same text
earlier in the document. The page it writes must be, byte for byte, the page reportlab's own text
objects write (``beginText`` / ``setFont`` / ``setTextOrigin`` / ``textLine``, one per cell), in
either font, for texts met for the first time and again, with characters a PDF string escapes,
with letters outside Latin-1 (which go into the embedded font's subsets as they are met), and on
a second page."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from mat.pdf_fonts import BOLD, FONT, runs
from mat.reports.pdf_page import PageFrame, ReportCanvas

FRAME = PageFrame("Demo clinic", "Dispensing log", "2026-11-01", datetime(2026, 12, 6, tzinfo=UTC))
LINES = [
    [(0, "07:15", FONT, 8.0), (28, "BENCH-00069", FONT, 8.0), (88, "Nguyễn, Łukasz", FONT, 8.0)],
    [(0, "07:16", FONT, 8.0), (28, "BENCH-00069", FONT, 8.0), (88, "Smith (Ann)", FONT, 8.0)],
    [(88, "Nguyễn, Łukasz", FONT, 8.0), (420, "LATE entered 11-17 10:00", BOLD, 7.0)],
    [(28, "back\\slash", FONT, 8.0), (88, "Ærø Ōtsuka", FONT, 8.0), (420, "Ōtsuka", BOLD, 7.0)],
    [(28, "BENCH-00069", BOLD, 7.0), (88, "BENCH-00069", FONT, 7.0)],  # same text, other face
    # New texts of characters reportlab has written before, escapes included: written without a
    # text object (``_ascii_operators``), and still the same bytes.
    [(0, "1037055", FONT, 8.0), (40, "1037056", FONT, 8.0), (88, "(back\\slash) 1037", FONT, 8.0)],
    [(88, "陳 Chen", FONT, 8.0)],  # two runs where the CJK font is installed
]


def _reference(out: io.BytesIO) -> None:
    """The same lines with one reportlab text object per run, as reportlab's API writes them."""
    pdf = ReportCanvas(out, page="letter", frame=FRAME)
    for page in range(2):
        for cells in LINES:
            for x, cell, font, size in cells:
                at = pdf.left + x
                text = pdf.canvas.beginText()
                pieces = runs(cell, font)
                for n, (piece, name) in enumerate(pieces, 1):
                    text.setFont(name, size)
                    text.setTextOrigin(at, pdf.y)
                    text.textLine(piece)
                    if n < len(pieces):
                        at += stringWidth(piece, name, size)
                pdf.canvas.drawText(text)
            pdf.y -= 11
        if not page:
            pdf.next_page()
    pdf.finish()


def _cells(out: io.BytesIO) -> None:
    pdf = ReportCanvas(out, page="letter", frame=FRAME)
    for page in range(2):
        for cells in LINES:
            pdf.cells(cells)
            pdf.y -= 11
        if not page:
            pdf.next_page()
    pdf.finish()


def test_cells_write_the_bytes_reportlabs_text_objects_write() -> None:
    reference, written = io.BytesIO(), io.BytesIO()
    _reference(reference)
    _cells(written)
    assert written.getvalue() == reference.getvalue()
    text = PdfReader(written).pages[1].extract_text()
    assert "Nguyễn, Łukasz" in text and "Ærø Ōtsuka" in text and "back\\slash" in text


def test_a_new_text_of_characters_written_before_needs_no_text_object() -> None:
    pdf = ReportCanvas(io.BytesIO(), page="letter", frame=FRAME)
    assert pdf._ascii_operators("1037055", FONT, 8.0) is None  # nothing written yet
    pdf.cells([(0, "1037055", FONT, 8.0), (40, "Smith (Ann)", FONT, 8.0)])
    for text in ("1037057", "5501307", "(Ann 1037)"):
        fast = pdf._ascii_operators(text, FONT, 8.0)
        assert fast is not None and fast == pdf._operators(text, FONT, 8.0), text
    # A character reportlab has not written in this font, or a text outside printable ASCII,
    # or another size or face: reportlab writes it.
    for text, font, size in (("1037058", FONT, 8.0), ("Łukasz", FONT, 8.0), ("1037", FONT, 7.0),
                             ("1037", BOLD, 8.0), ("10\t37", FONT, 8.0)):  # fmt: skip
        assert pdf._ascii_operators(text, font, size) is None, (text, font, size)


def test_a_repeated_cell_is_written_at_its_own_place() -> None:
    out = io.BytesIO()
    pdf = ReportCanvas(out, page="letter", frame=FRAME)
    pdf.canvas.setPageCompression(0)
    pdf.cells([(28, "BENCH-00069", FONT, 8.0)])
    pdf.y -= 11
    pdf.cells([(40, "BENCH-00069", FONT, 8.0)])
    code = [line for line in pdf.canvas._code if "BENCH-00069" in line]
    first, second = pdf.top, pdf.top - 11
    assert code[0].startswith(f"BT 1 0 0 1 0 0 Tm 1 0 0 1 {pdf.left + 28:g} {first:g} Tm ")
    assert code[1].startswith(f"BT 1 0 0 1 0 0 Tm 1 0 0 1 {pdf.left + 40:g} {second:g} Tm ")
    assert code[0].split(" Tm ", 2)[2] == code[1].split(" Tm ", 2)[2]
