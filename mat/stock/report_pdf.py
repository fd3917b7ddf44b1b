"""The stock report as a PDF: per station a summary of the range per lot and the daily lines,
then the counts and variances, receipts, transfers and DEA Form 106 and 41 records.

Laid out with reportlab's platypus in the page frame of every report (``mat.reports.pdf_page``),
with the history PDF's tables. The API limits a PDF to 31 days, as for the dispensing log.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from flask import current_app
from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from mat.clock import clinic_now, clinic_zone
from mat.pdf_fonts import paragraph_markup

# The history PDF's paragraph helper and styles: every report reads the same.
from mat.reports.history_pdf import BODY, HEADING, _p, fitted_cell
from mat.reports.log_rows import amount_text
from mat.reports.pdf_page import (
    FOOTER_HEIGHT,
    HEADER_HEIGHT,
    MARGIN,
    PAGE_SIZES,
    TEXT_WIDTH,
    PageFrame,
    TotalPagesCanvas,
)
from mat.stock.report import StockLine, StockReport

SMALL = ParagraphStyle("stock-small", fontName=BODY.fontName, fontSize=7, leading=8.5)
CELL = ParagraphStyle("stock-cell", fontName=BODY.fontName, fontSize=7, leading=8.5)
NUMBER = ParagraphStyle("stock-number", parent=CELL, alignment=TA_RIGHT)
SMALLEST = 5.0  # a cell's word wider than its column is printed smaller, to this size, if it fits
PADDING = 3.0  # left and right of every cell
# (title, what it sums) of the summary's number columns, in the order of the reconciliation.
SUMMARY = (
    ("Recv", "received"),
    ("In", "transferred_in"),
    ("Out", "transferred_out"),
    ("Disp", "dispensed"),
    ("Spill", "spilled"),
    ("Destr", "destroyed"),
    ("Adj", "count_adjustment"),
)
DAILY = ("Open", "Recv", "In-Out", "Drawn", "Void", "Spill", "Destr", "Adj", "Close")


def _row(texts: list[str], numbers_from: int, style: str = "") -> list[Paragraph]:
    """Cells in 7 pt, numbers right-aligned from column ``numbers_from`` on. Free text (a loss
    report's circumstances, a destruction's reason) may hold characters only the CJK font
    prints: those runs are set in it, as in every other report, never printed as boxes."""
    return [
        Paragraph(
            f"<{style}>{_markup(text)}</{style}>" if style else _markup(text),
            NUMBER if n >= numbers_from else CELL,
        )
        for n, text in enumerate(texts)
    ]


def _markup(text: str) -> str:
    return paragraph_markup(text, CELL.fontName)


def _grid(header: list[str], rows: list[list[Paragraph]], numbers_from: int,
          widths: list[float]) -> Table:  # fmt: skip
    """A table like the history PDF's, in 7 pt, its number columns and their titles right."""
    fitted = [
        [fitted_cell(cell, width - 2 * PADDING, SMALLEST)
         for cell, width in zip(row, widths, strict=True)]
        for row in rows
    ]  # fmt: skip
    table = Table(
        [_row(header, numbers_from, "b"), *fitted], colWidths=widths, repeatRows=1, hAlign="LEFT"
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), Color(0.9, 0.9, 0.9)),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, Color(0.8, 0.8, 0.8)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
            ]
        )
    )
    return table


def _summary(lines: list[StockLine]) -> list[list[Paragraph]]:
    """Per lot over the range: the first opening, the sums, the last closing."""
    lots: dict[tuple[str, str], list[StockLine]] = {}
    for line in lines:
        lots.setdefault((line.product, line.lot), []).append(line)
    rows = []
    for (product, lot), own in lots.items():
        sums = [sum((getattr(x, name) for x in own), Decimal(0)) for _, name in SUMMARY]
        numbers = [own[0].opening, *sums, own[-1].closing]
        rows.append(_row([product, lot, own[0].unit, *map(amount_text, numbers)], 3))
    return rows


def _quiet(line: StockLine) -> bool:
    """A day the lot only sat there: no movement and no count."""
    moved = (line.received, line.transferred_in, line.transferred_out, line.drawn,
             line.returned, line.spilled, line.destroyed, line.count_adjustment)  # fmt: skip
    return not any(moved) and line.counted is None


def _station_flow(station: str, lines: list[StockLine]) -> list[Any]:
    flow: list[Any] = [Paragraph(f"Station {station}", HEADING)]
    header = ["Product", "Lot", "Unit", "Open", *(title for title, _ in SUMMARY), "Close"]
    flow.append(_grid(header, _summary(lines), 3, [66, 56, 30] + [41.2] * 9))
    flow.append(Spacer(1, 6))
    days = [
        _row(
            [
                line.date.isoformat(),
                line.product,
                line.lot,
                *map(
                    amount_text,
                    (
                        line.opening,
                        line.received,
                        line.transferred_in - line.transferred_out,
                        line.drawn,
                        line.returned,
                        line.spilled,
                        line.destroyed,
                        line.count_adjustment,
                        line.closing,
                    ),
                ),
                "" if line.counted is None else f"{amount_text(line.counted)} {line.count_status}",
            ],
            3,
        )
        for line in lines
        if not _quiet(line)
    ]
    widths = [48, 60, 46, *[34] * 9, 63]
    flow.append(_grid(["Day", "Product", "Lot", *DAILY, "Counted"], days, 3, widths))
    return flow


def _records_flow(report: StockReport) -> list[Any]:
    zone = clinic_zone()

    def at(value: Any) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    counts = [
        [
            at(c.counted_at),
            c.station.code,
            c.counted_by.initials,
            c.witness.initials,
            c.state,
            "; ".join(
                f"{ln.lot.medication.code} {ln.lot.lot_number}: expected "
                f"{amount_text(ln.expected)}, counted {amount_text(ln.counted)}"
                + (" PAST TOLERANCE" if ln.beyond_tolerance else "")
                for ln in c.lines
            )
            + (f". Explanation: {c.explanation}" if c.explanation else "")
            + (
                f". Resolved by {c.resolution.by.initials} {at(c.resolution.at)}: "
                f"{c.resolution.resolution}"
                if c.resolution
                else ""
            ),
        ]
        for c in report.counts
    ]
    receipts = [
        [
            at(r.received_at),
            r.station.code,
            r.lot.medication.code,
            r.lot.lot_number,
            r.lot.expires_on.isoformat(),
            amount_text(r.quantity),
            r.supplier,
            r.order_form,
            f"{r.received_by.initials}/{r.witness.initials}",
        ]
        for r in report.receipts
    ]
    transfers = [
        [
            at(t.at),
            f"{t.from_station.code} > {t.to_station.code}",
            t.lot.medication.code,
            t.lot.lot_number,
            amount_text(t.quantity),
            f"{t.by.initials}/{t.witness.initials}",
        ]
        for t in report.transfers
    ]
    losses = [
        [
            r.found_on.isoformat(),
            r.station.code,
            r.lot.medication.code,
            r.lot.lot_number,
            r.kind,
            amount_text(r.quantity),
            r.circumstances,
            r.by.initials,
        ]
        for r in report.theft_loss_reports
    ]
    destroyed = [
        [
            at(d.at),
            d.station.code,
            d.lot.medication.code,
            d.lot.lot_number,
            amount_text(d.quantity),
            f"{d.method} ({d.reason})",
            f"{d.by.initials}; wit. {d.witness1.initials}, {d.witness2.initials}",
        ]
        for d in report.destructions
    ]

    def section(
        title: str, rows: list[list[str]], empty: str, header: list[str], widths: list[float]
    ) -> list[Any]:
        return [
            Paragraph(title, HEADING),
            _grid(header, [_row(r, len(r)) for r in rows], len(header), widths)
            if rows
            else _p(empty, BODY),
        ]

    return [
        *section(
            "Counts and variances",
            counts,
            "No count in these days.",
            ["Counted", "Station", "By", "Wit.", "Status", "Lines"],
            [70, 50, 26, 26, 46, 305],
        ),
        *section(
            "Receipts",
            receipts,
            "No receipt in these days.",
            [
                "Received",
                "Station",
                "Product",
                "Lot",
                "Expires",
                "Qty",
                "Supplier",
                "Form 222/CSOS",
                "By/wit.",
            ],
            [62, 44, 58, 48, 50, 36, 95, 74, 56],
        ),
        *section(
            "Transfers",
            transfers,
            "No transfer in these days.",
            ["At", "From > to", "Product", "Lot", "Qty", "By/wit."],
            [70, 110, 70, 70, 50, 153],
        ),
        *section(
            "DEA Form 106: theft or loss",
            losses,
            "No Form 106 record in these days.",
            ["Found", "Station", "Product", "Lot", "Kind", "Qty", "Circumstances", "By"],
            [52, 46, 58, 48, 40, 36, 213, 30],
        ),
        *section(
            "DEA Form 41: destruction",
            destroyed,
            "No Form 41 record in these days.",
            ["At", "Station", "Product", "Lot", "Qty", "Method (reason)", "By; witnesses"],
            [62, 44, 62, 48, 36, 171, 100],
        ),
    ]


def pdf_bytes(report: StockReport, page: str) -> bytes:
    query = report.query
    subtitle = f"{query.first.isoformat()} to {query.last.isoformat()}"
    if query.station:
        subtitle += f", station {query.station}"
    if query.product:
        subtitle += f", product {query.product}"
    clinic = current_app.config["MAT_CLINIC_NAME"]
    frame = PageFrame(clinic, "Controlled-substance stock", subtitle, clinic_now())
    out = io.BytesIO()
    width, _ = PAGE_SIZES[page]
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE_SIZES[page],
        leftMargin=MARGIN,
        rightMargin=width - MARGIN - TEXT_WIDTH,
        topMargin=MARGIN + HEADER_HEIGHT,
        bottomMargin=MARGIN + FOOTER_HEIGHT,
        title=f"Controlled-substance stock {subtitle}",
        author=clinic,
    )
    legend = (
        "Quantities in each lot's unit (mL, tablets, films). Close = Open + Recv + In - Out - "
        "Disp - Spill - Destr + Adj, where Disp (dispensed to patients) = Drawn (the dose rows "
        "of the dispensing log) - Void (returned to stock) - Spill. Adj is a count's adjustment "
        "of the record to what was counted. Days a lot only sat at a station (nothing moved, no "
        "count) are left out here; the CSV and JSON list every day."
    )
    story: list[Any] = [Paragraph(legend, SMALL)]
    by_station: dict[str, list[StockLine]] = {}
    for line in report.lines:
        by_station.setdefault(line.station, []).append(line)
    if not by_station:
        story.append(_p("No stock was held or moved in these days.", BODY))
    for station, lines in by_station.items():
        story += _station_flow(station, lines)
    story += _records_flow(report)

    def on_page(canvas: Any, document: Any) -> None:
        frame.draw(canvas, document.page)

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=TotalPagesCanvas)
    return out.getvalue()
