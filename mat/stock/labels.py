"""Take-home bottle labels as a PDF: one label per bottle (one take-home dose).

Two layouts: ``sheet``, US Letter label sheets of 4 x 2 inch labels, 2 across and 5 down (the
common 10-up shipping-label sheet), filled in order; and ``thermal``, one 2 x 1 inch label per
page for a label printer. Each label carries what the contract lists: clinic name, address and
phone (``MAT_CLINIC_ADDRESS``, ``MAT_CLINIC_PHONE``, optional), patient name and MRN, medication
and strength, the amount in mg and in mL (units for tablets and films), the date the dose is for,
the lot, the dispenser's initials, the child-safety warning with the federal transfer caution
(21 CFR 290.5), and a QR code of the dose id (reportlab's own QR widget), which a barcode scanner
at the window types back when the empty bottle is returned.

Nothing on a label is cut: the patient's name, the MRN, the medication, the amount, the day and
the lot are what a nurse, the patient and an inspector read to know whose bottle it is and what
is in it. A text too wide for its place is printed smaller, then wrapped onto further lines, and
the texts below it move down (``mat.stock.label_layout``); the clinic's name, address and phone
are treated the same. When the texts would then run into the warnings, the label is refused
(422 ``label_does_not_fit``, nothing printed): a thermal label points to the sheet label, which
has twice the width; one too full even for the sheet (a name of some 150 characters) says to
label the bottle by hand from the dose record.
The refusal is checked before anything is drawn of that label.

What a label says is ``mat.stock.printing.LabelData``; this module only draws it, and is
imported when labels are printed (it loads reportlab). Texts are drawn run by run
(``mat.pdf_fonts.draw_text``): a Chinese name prints in the CJK font, not as empty boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import getAscentDescent
from reportlab.pdfgen.canvas import Canvas

from mat.errors import InvalidInput
from mat.pdf_fonts import FONT, draw_text
from mat.stock.label_layout import Placed, Text, stack, stack_up

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
# The smallest type a text is shrunk to (it wraps instead). Sheet labels come out of an office
# laser printer (600 dpi), where 5 pt still prints crisp. A thermal label printer has 203 dpi:
# 3.6 pt is 10 dots from ascender to descender, which is what the label's address and lot were
# already printed at and about the least a thermal head prints legibly (smaller, the letters'
# counters fill in); the warnings' 3.2 pt is for a fixed text read as a whole, not for names.
SHEET_SMALLEST, THERMAL_SMALLEST = 5.0, 3.6
CLEARANCE = 0.5  # points kept free between a label's texts and the warnings under them
LAYOUTS = {"sheet": "4 x 2 inch sheet label", "thermal": "2 x 1 inch thermal label"}
INSTEAD = {  # what to do when a label's texts do not fit it whole
    "sheet": "label this bottle by hand from the dose record",
    "thermal": "print the 4 x 2 inch sheet label instead",
}


def _qr(c: Canvas, text: str, x: float, y: float, size: float, border: int = 4) -> None:
    """The QR code in a ``size`` square, ``border`` modules of it the blank quiet zone."""
    widget = QrCodeWidget(text, barLevel="M", barBorder=border)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0]
    )
    drawing.add(widget)
    renderPDF.draw(drawing, c, x, y)


def _draw(c: Canvas, x: float, texts: list[Placed]) -> None:
    for placed in texts:
        for line, baseline in zip(placed.lines, placed.baselines, strict=True):
            draw_text(c, x, baseline, line, placed.text.font, placed.size)


def _bottom(texts: list[Placed], below: float) -> float:
    """Where the last of ``texts`` ends (``below`` when there are none)."""
    return texts[-1].bottom if texts else below


def _check_room(label: LabelData, layout: str, lowest: float, warnings: list[Placed]) -> None:
    """Refuse the label when its texts, pushed down by the ones that had to wrap, would print
    over the warnings: a label printed cut or overprinted is worse than no label."""
    if lowest >= warnings[0].top + CLEARANCE:
        return
    raise InvalidInput(
        f"Dose {label.dose_id}: the patient's name, MRN, medication, amount, date and lot do not "
        f"fit whole on a {LAYOUTS[layout]}; nothing was printed. To label this take-home, "
        f"{INSTEAD[layout]}.",
        code="label_does_not_fit",
    )


def _lot_line(label: LabelData, *, short: bool = False) -> str:
    lot = f"Lot {label.lot}" if label.lot else "Lot not tracked"
    if short:  # the thermal label has room for the lot and the initials only
        return f"{lot} · by {label.initials}"
    return f"{lot} · dispensed {label.dispensed_on.isoformat()} by {label.initials}"


def _identity(label: LabelData, sizes: tuple[float, ...], befores: tuple[float, ...], *,
              short: bool) -> list[Text]:  # fmt: skip
    """Whose bottle it is and what is in it: the texts beside the QR code."""
    texts = (
        (label.patient_name, True, "the patient's name"),
        (f"MRN {label.mrn}", False, "the MRN"),
        (label.medication, False, "the medication"),
        (label.amount, True, "the amount"),
        (f"For {label.for_date:%a %d %b %Y}" + ("" if short else " only"), True, "the day"),
        (_lot_line(label, short=short), False, "the lot"),
    )
    return [
        Text(text, size, bold, before, what)
        for (text, bold, what), size, before in zip(texts, sizes, befores, strict=True)
    ]


def _warnings(bottom: float, left: float, width: float, sizes: tuple[float, float]) -> list[Placed]:
    texts = [Text(WARNING, sizes[0], bold=True), Text(TRANSFER_CAUTION, sizes[1], bold=True)]
    return stack_up(texts, bottom, width, 1.12)


def _draw_sheet_label(c: Canvas, label: LabelData, x: float, y: float) -> None:
    """One 4 x 2 inch label with its lower left corner at (x, y): the clinic across the top, the
    label's texts on the left, the QR code on the right, the warnings across the bottom."""
    width, height = SHEET_LABEL
    pad, qr = 9.0, 70.0
    text_width = width - qr - 3 * pad
    top, left, right = y + height - pad, x + pad, x + width - pad
    clinic = [
        Text(label.clinic, 8.5, bold=True, before=-0.5),
        Text(label.address, 6.5, before=1.0),
        Text(label.phone, 6.5),
    ]
    header = stack(clinic, top, width - 2 * pad, SHEET_SMALLEST)
    rule = header[-1].baselines[-1] - 3
    sizes, befores = (10, 7.5, 7.5, 12.5, 9, 6.5), (1, 1.5, 2.5, 1.5, 2, 2.5)
    texts = stack(_identity(label, sizes, befores, short=False), rule, text_width, SHEET_SMALLEST)
    qr_x, qr_y = right - qr, rule - 2 - qr
    caption = qr_y - 1.5  # in the square's 4-module quiet zone, 2.5 modules under the code
    warnings = _warnings(y + 5.3, left, width - 2 * pad, (6.5, 5.5))
    lowest = min(_bottom(texts, rule), caption + getAscentDescent(FONT, 6.5)[1])
    _check_room(label, "sheet", lowest, warnings)
    _draw(c, left, header)
    c.setLineWidth(0.5)
    c.line(left, rule, right, rule)
    _draw(c, left, texts)
    _qr(c, label.qr_text, qr_x, qr_y, qr)
    c.setFont(FONT, 6.5)
    c.drawCentredString(qr_x + qr / 2, caption, f"Dose {label.dose_id}")
    _draw(c, left, warnings)


def _draw_thermal_label(c: Canvas, label: LabelData) -> None:
    """One 2 x 1 inch label filling the page: the clinic across the top, the QR code below it on
    the left, the label's texts beside it, the warnings across the bottom in small print."""
    width, height = THERMAL_LABEL
    # A 2-module quiet zone inside the QR's square (the blank label and the gap to the texts
    # around it widen it): its modules stay 1.2 pt, 3.4 dots of a 203 dpi head, and the texts
    # beside it get the width the 4-module zone took.
    pad, qr, border = 3.0, 30.0, 2
    left = pad + qr + 3
    contact = " · ".join(part for part in (label.address, label.phone) if part)
    header = stack(
        [Text(label.clinic, 5, bold=True, before=-0.5), Text(contact, 3.6, before=0.4)],
        height - pad,
        width - 2 * pad,
        THERMAL_SMALLEST,
    )
    below_header = header[-1].baselines[-1]
    sizes, befores = (5.8, 4, 4, 6.2, 4.8, 3.6), (0.7, 0.5, 0.2, 0.1, 0.7, 0.6)
    texts = stack(
        _identity(label, sizes, befores, short=True),
        below_header,
        width - left - pad,
        THERMAL_SMALLEST,
    )
    qr_y = below_header - 1.5 - qr
    caption = qr_y - 1  # inside the square's quiet zone, under the modules
    warnings = _warnings(5.8, pad, width - 2 * pad, (3.6, 3.2))
    lowest = min(_bottom(texts, below_header), caption + getAscentDescent(FONT, 3.6)[1])
    _check_room(label, "thermal", lowest, warnings)
    _draw(c, pad, header)
    _qr(c, label.qr_text, pad, qr_y, qr, border)
    c.setFont(FONT, 3.6)
    c.drawCentredString(pad + qr / 2, caption, f"Dose {label.dose_id}")
    _draw(c, left, texts)
    _draw(c, pad, warnings)


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
