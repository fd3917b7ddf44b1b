"""A patient's dosing history as a PDF, for the prescriber's chart review and the auditor.

Demographics and every episode of care (earlier ones too); the orders that covered the range
with their justifications, warnings and take-home authorizations (the criteria as answered, the
rationale); a chart of the dose planned and the dose given each day; the doses; holds, drug
screens (and the ``drug_screen_frequency`` reminder), withheld doses, corrections, SMA-168
take-home exceptions and take-home loss reports. One patient over at most a year is a few
pages, laid out with reportlab's platypus (tables that break across pages), in the same page
frame as the dispensing log.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from mat.clock import clinic_zone
from mat.patients.models import Patient
from mat.pdf_fonts import paragraph_markup, text_width
from mat.reports.history import History, read_history, warnings_of
from mat.reports.log_rows import amount_text
from mat.reports.pdf_page import (
    BOLD,
    FONT,
    FOOTER_HEIGHT,
    HEADER_HEIGHT,
    MARGIN,
    PAGE_SIZES,
    TEXT_WIDTH,
    PageFrame,
    TotalPagesCanvas,
)
from mat.stock.rules import quantity_text, units_of

if TYPE_CHECKING:
    from mat.patients.episodes import EpisodeSummary

BODY = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=11)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10)
HEADING = ParagraphStyle("heading", fontName=BOLD, fontSize=11, leading=14, spaceBefore=10,
                         spaceAfter=4)  # fmt: skip
PLANNED, GIVEN = Color(0.55, 0.55, 0.55), Color(0.04, 0.36, 0.68)
GRID = Color(0.8, 0.8, 0.8)
# The "Dose" column of corrections and loss reports: "#1234567" on one line with its padding (at
# 40 pt a 6-digit dose number printed as "#28812" over "3"). The doses' lot column holds a
# 12-character lot number on one line.
DOSE_NUMBER = 50
SMALLEST = 6.0  # a cell's word wider than its column is printed smaller, to this size, if it fits


def _p(text: str, style: ParagraphStyle = SMALL) -> Paragraph:
    # Escaped, with CJK runs in the CJK font (mat.pdf_fonts).
    return Paragraph(paragraph_markup(text, style.fontName), style)


def fitted_cell(cell: Any, room: float, smallest: float) -> Any:
    """A table cell whose longest word (a dose number, a quantity, a code) is wider than ``room``
    points printed smaller, down to ``smallest``, when that makes the word fit: "#28812" over "3"
    or "123456" over "7" reads as two numbers. A word too long even then (a 30-character lot) is
    left at its size for reportlab to break over lines inside the cell (``splitLongWords``): it
    is never cut and never runs into the next column."""
    if not isinstance(cell, Paragraph):
        return cell
    style = cell.style
    words = cell.getPlainText().split()
    widest = max((text_width(w, style.fontName, style.fontSize) for w in words), default=0.0)
    if widest <= room:
        return cell
    size = math.floor(style.fontSize * room / widest * 10) / 10
    if size < smallest:
        return cell
    return Paragraph(cell.text, ParagraphStyle(f"{style.name}-{size}", parent=style, fontSize=size))


def _table(header: Sequence[str], rows: list[list[Any]], widths: Sequence[float]) -> Table:
    cells = [[_p(h) for h in header]] + [
        [
            fitted_cell(cell if isinstance(cell, Flowable) else _p(str(cell)), width - 6, SMALLEST)
            for cell, width in zip(row, widths, strict=True)
        ]
        for row in rows
    ]
    table = Table(cells, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), BOLD),
                ("BACKGROUND", (0, 0), (-1, 0), Color(0.9, 0.9, 0.9)),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                # 3 pt, not reportlab's 6: a date stays on one line in DejaVu Sans.
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _section(title: str, rows: list[list[Any]], empty: str, table: Table | None) -> list[Any]:
    return [Paragraph(escape(title), HEADING), table if rows and table else _p(empty, BODY)]


def _local(at: datetime) -> str:
    return at.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M")


def _demographics(patient: Patient) -> list[Any]:
    facts = [
        ["Name", patient.display_name, "MRN", patient.mrn],
        ["Date of birth", patient.date_of_birth.isoformat(), "Admitted (day 1)",
         patient.admitted_on.isoformat()],
        ["Level of care", patient.level_of_care.replace("_", " "), "Status", patient.status],
    ]  # fmt: skip
    table = Table([[_p(str(c), BODY) for c in row] for row in facts], colWidths=[80, 180, 90, 173])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, -1), BOLD),
                ("FONT", (2, 0), (2, -1), BOLD),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),  # "Name" beside a name wrapped over lines
            ]
        )
    )
    return [Paragraph("Patient", HEADING), table]


def _episodes(history: History) -> list[Any]:
    """Every episode of care: a readmission starts day 1 again, the earlier ones stay."""
    rows = [
        [f"#{e.number}", e.admitted_on, e.level_of_care.replace("_", " "),
         e.admitted_by.initials if e.admitted_by else "",
         _discharged(e)]
        for e in history.episodes
    ]  # fmt: skip
    return _section("Episodes of care", rows, "No episode recorded.", _table(
        ["Episode", "Admitted (day 1)", "Level of care", "By", "Discharged"], rows,
        [48, 80, 110, 30, 255]))  # fmt: skip


def _discharged(episode: EpisodeSummary) -> str:
    if not episode.discharged:
        return "current episode"
    on = episode.discharged_on
    who = episode.discharged_by
    when = on.isoformat() if on else "date not recorded (before episodes were kept)"
    return f"{when}{' by ' + who.initials if who else ''}"


def _authorization(order: Any) -> list[str]:
    """The take-home authorization as signed: days, split slots, criteria, rationale."""
    take_home = order.stored.take_home
    if take_home is None:
        return []
    days = sorted(take_home.weekdays) + sorted(d.isoformat() for d in take_home.dates)
    lines = [f"Take-homes authorized: {', '.join(days) or 'no whole days'}."]
    if take_home.split_slots:
        lines.append(f"Split parts taken home: {', '.join(sorted(take_home.split_slots))}.")
    auth = order.take_home
    if auth is not None:
        answers = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in auth.criteria.items())
        listed = "2024 criteria" if auth.criteria_list == "2024" else "criteria (list before 2024)"
        lines.append(f"Federal take-home {listed}: {answers}.")
        if auth.rationale:
            lines.append(f"Rationale: {auth.rationale}")
        if auth.note:
            lines.append(f"Note: {auth.note}")
    return lines


def _orders(history: History) -> list[Any]:
    flow: list[Any] = [Paragraph("Orders", HEADING)]
    if not history.orders:
        flow.append(_p("No order covered these days.", BODY))
    for shown in history.orders:
        order, status = shown.order, shown.status
        ends = order.end_date.isoformat() if order.end_date else "open-ended"
        title = (
            f"Order #{order.id}: {order.medication.code} {order.kind}, {order.start_date} to "
            f"{ends}, {status}"
        )
        flow.append(Paragraph(f"<b>{paragraph_markup(title, BODY.fontName)}</b>", BODY))
        steps = ", ".join(
            f"from {s.start}: {amount_text(s.dose_mg)} mg" for s in order.stored.steps
        )
        signed = f"Signed by {order.signed_by.full_name} on {_local(order.signed_at)}."
        if order.imported:  # another program's order (mat.imports)
            signed = (
                f"Imported: prescribed by {order.prescribed_by_text} at the previous program; "
                f"brought into mat by {order.signed_by.full_name} (import #{order.import_id})."
            )
        lines = [f"Schedule: {steps}.", signed]
        lines += _authorization(order)
        if order.discontinuation is not None:
            stop = order.discontinuation
            lines.append(f"Discontinued from {stop.effective_on}: {stop.reason}")
        lines.append(f"Justification: {order.justification or 'none needed'}")
        for warning in warnings_of(order):
            lines.append(f"Warning {warning['rule']}: {warning['message']}")
        flow += [_p(line) for line in lines]
        flow.append(Spacer(1, 5))
    return flow


def _chart(history: History) -> list[Any]:
    """Planned and given mg per day: a missed or short day shows as a drop of the given line."""
    height = 170
    drawing = Drawing(TEXT_WIDTH, height)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 36, 34, TEXT_WIDTH - 48, height - 52
    # Floats for drawing only: the numbers in every table stay exact.
    planned = [(n, float(d.planned_mg)) for n, d in enumerate(history.days)]
    given = [(n, float(d.given_mg)) for n, d in enumerate(history.days)]
    plot.data = [planned, given]
    plot.lines[0].strokeColor, plot.lines[0].strokeWidth = PLANNED, 2.5
    plot.lines[0].strokeDashArray = [4, 2]
    plot.lines[1].strokeColor, plot.lines[1].strokeWidth = GIVEN, 1.2
    top = max([v for _, v in planned + given] + [1.0])
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, top * 1.15
    plot.yValueAxis.labels.fontName, plot.yValueAxis.labels.fontSize = FONT, 7
    last = max(len(history.days) - 1, 1)
    step = max(1, round(last / 8))
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, last
    plot.xValueAxis.valueSteps = list(range(0, last + 1, step))
    days = history.days

    def label(n: float) -> str:
        return days[int(n)].day.strftime("%m-%d") if 0 <= int(n) < len(days) else ""

    plot.xValueAxis.labelTextFormat = label
    plot.xValueAxis.labels.fontName, plot.xValueAxis.labels.fontSize = FONT, 7
    drawing.add(plot)
    legend = Legend()
    legend.x, legend.y, legend.fontName, legend.fontSize = 40, height - 6, FONT, 7.5
    legend.alignment, legend.columnMaximum, legend.dx = "right", 1, 14
    legend.colorNamePairs = [
        (PLANNED, "planned mg"),
        (GIVEN, "given mg (voids and spills left out)"),
    ]
    drawing.add(legend)
    return [Paragraph("Planned and given dose per day (mg)", HEADING), drawing]


def _quantity(dose: Any) -> str:
    """mL of a liquid, tablets or films of a solid form (``mat.stock``)."""
    product = dose.medication.as_product()
    quantity = dose.volume_ml if product.is_liquid else units_of(product, dose.amount_mg)
    return "" if quantity is None else quantity_text(product, quantity)


def _status(dose: Any) -> str:
    if dose.correction is not None:
        return f"{dose.correction.kind}ed"
    return f"reported {dose.loss.kind}" if dose.loss is not None else "given"


def _note(dose: Any) -> str:
    if dose.imported:  # the previous program's record; its dispensing log holds the dose
        return f"imported (import #{dose.import_id})"
    if dose.late_entry_reason:
        return f"late entry, {_local(dose.dispensed_at)}: {dose.late_entry_reason}"
    if dose.mode == "take_home" and dose.take_home_exception_id:
        return (
            f"handed out {_local(dose.dispensed_at)}; past the ceiling under exception "
            f"{dose.take_home_exception.number}"
        )
    if dose.mode == "take_home":
        return f"handed out {_local(dose.dispensed_at)}"
    return ""


def _records(history: History) -> list[Any]:
    doses = [
        [d.service_date, d.slot, d.mode.replace("_", "-"), amount_text(d.amount_mg),
         _quantity(d), d.lot.lot_number if d.lot else "", d.dispenser.initials, _status(d),
         _note(d)]
        for d in history.doses
    ]  # fmt: skip
    holds = [
        [_local(h.set_at), h.reason, h.set_by.initials,
         _local(h.release.at) + ": " + h.release.reason if h.release else "open"]
        for h in history.holds
    ]  # fmt: skip
    screens = [
        [s.collected_on, ", ".join(f"{k} {v}" for k, v in sorted(s.result_map.items())),
         s.recorded_by.initials]
        for s in history.screens
    ]  # fmt: skip
    withheld = [[w.service_date, w.reason, w.by.initials] for w in history.withheld]
    corrections = [
        [f"#{d.id}", d.service_date, d.correction.kind, d.correction.reason,
         d.correction.by.initials, d.correction.witness.initials, _local(d.correction.at)]
        for d in history.corrected
        if d.correction is not None
    ]  # fmt: skip
    exceptions = [
        [e.number, e.approved_by, e.approved_on, f"{e.starts_on} to {e.ends_on}", e.reason,
         e.recorded_by.initials]
        for e in history.exceptions
    ]  # fmt: skip
    losses = [
        [f"#{loss.dose_id}", loss.dose.service_date, loss.kind, loss.reported_on, loss.note,
         loss.reported_by.initials, _review(loss)]
        for loss in history.losses
    ]  # fmt: skip
    reminders = [_p(f"{v.rule}: {v.message}", BODY) for v in history.reminders]
    return [
        *_section("Doses", doses, "No doses in these days.", _table(
            ["Date", "Slot", "Mode", "mg", "Qty", "Lot", "By", "Status", "Note"], doses,
            [58, 36, 52, 34, 42, 68, 28, 74, 131])),
        *_section("Holds", holds, "No holds in these days.", _table(
            ["Set", "Reason", "By", "Released"], holds, [82, 191, 30, 220])),
        *_section("Drug screens", screens, "No drug screens collected in these days.", _table(
            ["Collected", "Results", "By"], screens, [70, 420, 33])),
        *reminders,
        *_section("Withheld doses", withheld, "No dose was withheld in these days.", _table(
            ["Date", "Reason", "By"], withheld, [70, 420, 33])),
        *_section("Corrections", corrections, "No dose was voided or spilled.", _table(
            ["Dose", "Date", "Kind", "Reason", "By", "Witness", "Recorded"], corrections,
            [DOSE_NUMBER, 58, 34, 212, 30, 44, 95])),
        *_section("Take-home exceptions (SMA-168)", exceptions,
                  "No take-home exception covered these days.", _table(
            ["Number", "Approved by", "On", "Dates", "Reason", "By"], exceptions,
            [70, 110, 58, 110, 145, 30])),
        *_section("Take-home loss reports", losses, "No take-home was reported lost.", _table(
            ["Dose", "For", "Kind", "Reported", "Note", "By", "Prescriber's review"], losses,
            [DOSE_NUMBER, 58, 40, 58, 142, 30, 145])),
    ]  # fmt: skip


def _review(loss: Any) -> str:
    if loss.review is None:
        return "awaiting a prescriber's review"
    decision = "replace" if loss.review.decision == "replace" else "no replacement"
    return f"{decision} ({loss.review.by.initials}): {loss.review.note}"


def write_history_pdf(
    patient: Patient,
    first: date,
    last: date,
    out: BinaryIO,
    *,
    page: str,
    clinic: str,
    printed_at: datetime,
) -> None:
    history = read_history(patient, first, last)
    subtitle = f"{patient.display_name} ({patient.mrn}), {first.isoformat()} to {last.isoformat()}"
    frame = PageFrame(clinic, "Dosing history", subtitle, printed_at)
    width, _ = PAGE_SIZES[page]
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE_SIZES[page],
        leftMargin=MARGIN,
        rightMargin=width - MARGIN - TEXT_WIDTH,
        topMargin=MARGIN + HEADER_HEIGHT,
        bottomMargin=MARGIN + FOOTER_HEIGHT,
        title=f"Dosing history {subtitle}",
        author=clinic,
    )
    story = [
        *_demographics(patient),
        *_episodes(history),
        *_orders(history),
        *_chart(history),
        *_records(history),
    ]

    def on_page(canvas: Any, document: Any) -> None:
        frame.draw(canvas, document.page)

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=TotalPagesCanvas)
