"""Take-home bottle labels as a PDF: one label per bottle (one take-home dose).

Two layouts: ``sheet``, US Letter label sheets of 4 x 2 inch labels, 2 across and 5 down (the
common 10-up shipping-label sheet), filled in order; and ``thermal``, one 2 x 1 inch label per
page for a label printer. Each label carries what the contract lists: clinic name, address and
phone (``MAT_CLINIC_ADDRESS``, ``MAT_CLINIC_PHONE``, optional), patient name and MRN, medication
and strength, the amount in mg and in mL (units for tablets and films), the date the dose is for,
the lot, the dispenser's initials, the child-safety warning with the federal transfer caution
(21 CFR 290.5), and a QR code of the dose id (reportlab's own QR widget), which a barcode scanner
at the window types back when the empty bottle is returned.

What a label says is ``mat.stock.printing.LabelData``; this module only draws it, and is
imported when labels are printed (it loads reportlab).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from mat.reports.pdf_page import BOLD, FONT, fit

if TYPE_CHECKING:
    from mat.stock.printing import LabelData

WARNING = "KEEP OUT OF REACH OF CHILDREN: one dose can kill a child. Store locked."
TRANSFER_CAUTION = (
    "Caution: Federal law prohibits the transfer of this drug to any person other than the "
    "patient for whom it was prescribed."
)
# The 10-up sheet: 4 x 2 inch labels, 2 columns, 5 rows, on US Letter.
SHEET_LABEL = (4 * inch, 2 * inch)
SHEET_LEFT, SHEET_TOP, SHEET_COLUMN_PITCH = 0.15625 * inch, 0.5 * inch, 4.1875 * inch
SHEET_COLUMNS, SHEET_ROWS = 2, 5
THERMAL_LABEL = (2 * inch, 1 * inch)


def _qr(c: Canvas, text: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(text, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0]
    )
    drawing.add(widget)
    renderPDF.draw(drawing, c, x, y)


def _line(c: Canvas, x: float, y: float, text: str, width: float, size: float, bold=False) -> None:
    font = BOLD if bold else FONT
    c.setFont(font, size)
    c.drawString(x, y, fit(text, width, font, size))


def _wrapped(c: Canvas, x: float, y: float, text: str, width: float, size: float) -> float:
    """Draw ``text`` wrapped to ``width`` downwards from ``y``; the y below the last line."""
    c.setFont(BOLD, size)
    for part in simpleSplit(text, BOLD, size, width):
        c.drawString(x, y, part)
        y -= size * 1.12
    return y


def _lot_line(label: LabelData, *, short: bool = False) -> str:
    lot = f"Lot {label.lot}" if label.lot else "Lot not tracked"
    if short:  # the thermal label has room for the lot and the initials only
        return f"{lot} · by {label.initials}"
    return f"{lot} · dispensed {label.dispensed_on.isoformat()} by {label.initials}"


def _draw_sheet_label(c: Canvas, label: LabelData, x: float, y: float) -> None:
    """One 4 x 2 inch label with its lower left corner at (x, y): the text on the left, the QR
    code on the right, the warnings across the bottom."""
    width, height = SHEET_LABEL
    pad, qr = 9.0, 70.0
    text_width = width - qr - 3 * pad
    top, left = y + height - pad, x + pad
    _line(c, left, top - 8, label.clinic, width - 2 * pad, 8.5, bold=True)
    _line(c, left, top - 15.5, label.address, text_width, 6.5)
    _line(c, left, top - 22, label.phone, text_width, 6.5)
    c.setLineWidth(0.5)
    c.line(left, top - 25, x + width - pad, top - 25)
    _line(c, left, top - 36, label.patient_name, text_width, 10, bold=True)
    _line(c, left, top - 45, f"MRN {label.mrn}", text_width, 7.5)
    _line(c, left, top - 55, label.medication, text_width, 7.5)
    _line(c, left, top - 69, label.amount, text_width, 12.5, bold=True)
    _line(c, left, top - 80, f"For {label.for_date:%a %d %b %Y} only", text_width, 9, bold=True)
    _line(c, left, top - 89, _lot_line(label), text_width, 6.5)
    qr_x, qr_y = x + width - pad - qr, top - 27 - qr
    _qr(c, label.qr_text, qr_x, qr_y, qr)
    c.setFont(FONT, 6.5)
    c.drawCentredString(qr_x + qr / 2, qr_y - 5, f"Dose {label.dose_id}")
    below = _wrapped(c, left, top - 109, WARNING, width - 2 * pad, 6.5)
    _wrapped(c, left, below, TRANSFER_CAUTION, width - 2 * pad, 5.5)


def _draw_thermal_label(c: Canvas, label: LabelData) -> None:
    """One 2 x 1 inch label filling the page: the clinic across the top, the QR code below it on
    the left, the text beside it, the warnings across the bottom in small print."""
    width, height = THERMAL_LABEL
    pad, qr = 3.0, 35.0
    left = pad + qr + 5
    text_width = width - left - pad
    top = height - pad
    _line(c, pad, top - 4.5, label.clinic, width - 2 * pad, 5, bold=True)
    _qr(c, label.qr_text, pad - 2, top - 7 - qr, qr)
    c.setFont(FONT, 3.6)
    c.drawCentredString(pad + qr / 2 - 2, top - 7 - qr - 3.2, f"Dose {label.dose_id}")
    _line(c, left, top - 10.5, label.address, text_width, 3.6)
    _line(c, left, top - 14.5, label.phone, text_width, 3.6)
    _line(c, left, top - 20.5, label.patient_name, text_width, 5.8, bold=True)
    _line(c, left, top - 25, f"MRN {label.mrn}", text_width, 4)
    _line(c, left, top - 29.2, label.medication, text_width, 4)
    _line(c, left, top - 35.5, label.amount, text_width, 6.2, bold=True)
    _line(c, left, top - 41, f"For {label.for_date:%a %d %b %Y}", text_width, 4.8, bold=True)
    _line(c, left, top - 45.2, _lot_line(label, short=True), text_width, 3.6)
    below = _wrapped(c, pad, top - 51.5, WARNING, width - 2 * pad, 3.6)
    _wrapped(c, pad, below, TRANSFER_CAUTION, width - 2 * pad, 3.2)


def write_labels(labels: Sequence[LabelData], out: BinaryIO, *, layout: str) -> None:
    """The labels as a PDF into ``out``: ``sheet`` (10 to a Letter sheet) or ``thermal``."""
    size = LETTER if layout == "sheet" else THERMAL_LABEL
    c = Canvas(out, pagesize=size, invariant=1)
    c.setTitle("Take-home labels " + ", ".join(f"dose {label.dose_id}" for label in labels))
    per_page = SHEET_COLUMNS * SHEET_ROWS
    for n, label in enumerate(labels):
        if layout == "thermal":
            if n:
                c.showPage()
            _draw_thermal_label(c, label)
            continue
        if n and n % per_page == 0:
            c.showPage()
        row, column = divmod(n % per_page, SHEET_COLUMNS)
        x = SHEET_LEFT + column * SHEET_COLUMN_PITCH
        y = LETTER[1] - SHEET_TOP - (row + 1) * SHEET_LABEL[1]
        _draw_sheet_label(c, label, x, y)
    c.showPage()
    c.save()
