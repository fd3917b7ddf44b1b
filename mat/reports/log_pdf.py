"""The dispensing log as a PDF, from the same entries as the CSV and the JSON.

Layout: one block per clinic day and dispenser (the daily log groups rows by dispenser,
clinical-rules.md "Records"), each ending with that dispenser's day totals by product and a line
for their initials; then a summary per product over the whole range and a product legend.
Late entries and corrections are flagged in words (LATE, VOID of #id, SPILL of #id) on a grey
band, so they stand out on a black-and-white printout, and a dose row that a correction voided
or spilled says so itself (VOIDED, SPILLED); so are take-homes an SMA-168 exception let pass the
ceiling (EXC and the exception's number, ``take_home_exception``). A take-home row names the day
the dose is for. Each row names its lot, and its quantity in mL or in tablets or films.

Totals are net of voids and spills: they count the dose rows that stand (observed, take-home),
and list the voided and spilled dose rows of the block on their own lines, "not counted"; the
correction rows themselves are the record of who corrected what, and are not totalled.

reportlab keeps the whole document in memory until it is saved, so the API caps the PDF's range
(``MAX_PDF_DAYS`` in ``mat.reports.schemas``); CSV and JSON stream any range.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO

from mat.pdf_fonts import BOLD, FONT, text_width
from mat.reports.log_rows import LogEntry, LogQuery, LogRow, amount_text
from mat.reports.pdf_page import TEXT_WIDTH, PageFrame, ReportCanvas, wrapped_lines

LINE = 11.0
# (title, x from the left margin, width, right-aligned): 523 pt, the width A4 allows.
TABLE = (
    ("Time", 0, 28, False),  # "23:59" (23 pt), and a gap before the MRN
    ("MRN", 28, 60, False),  # "BENCH-00069" on one line (57 pt)
    ("Patient", 88, 67, False),  # "Nguyễn, Łukasz" on one line (63.4 pt)
    ("Product", 155, 64, False),  # "METH-10MGML" on one line (60 pt)
    ("Mode", 219, 47, False),  # "take-home" on one line in DejaVu Sans 8 pt (43 pt)
    ("mg", 266, 25, True),  # "112.5" (23 pt)
    # "19.9 mL" (33 pt) leaves 8 pt after the mg's column; Qty was 36 pt wide and a row read
    # "105 10.5 mL" run together. "11.25 mL" (38 pt), a volume in hundredths, still fits.
    ("Qty", 291, 41, True),
    ("Lot", 338, 43, False),  # a 6 pt gap after Qty; "MA-24117" (40.7 pt) at 7.5 pt
    ("Dose #", 381, 39, False),  # 7 digits at 8 pt (35.6 pt), 8 digits at 7 pt
    ("Flags", 420, TEXT_WIDTH - 420, False),  # "LATE entered 11-17 10:00", bold 7 pt: 103
)
FLAG_SIZE = 7.0
# Where a row's cells go, worked out once: (x, width a left-aligned cell is fitted to, the right
# edge of a right-aligned one), the flag's column apart.
COLUMNS = tuple((x, width - 3, x + width if right else None) for _, x, width, right in TABLE[:-1])
_, FLAGS_X, FLAGS_WIDTH, _ = TABLE[-1]
# Nothing of a row is ever cut (21 CFR 1304.24: an inspector matches a row to its patient, lot
# and dose by these texts): a text wider than its column goes on over further lines of the row.
# The widths above only decide what usually fits on one line.
WRAPPED = tuple(i for i, (_, _, right) in enumerate(COLUMNS) if right is None)
FLAGS = len(COLUMNS)  # the flags' key among a row's wrapped texts
# The codes a row is matched by. Split over two lines, one reads as another: dose 1081765
# printed "108176" over "5" reads as dose 108176. So one too wide for its column is printed
# smaller, down to 6.5 pt, and wrapped (at 8 pt) only when even that does not fit.
IDENTIFIERS = frozenset(
    i for i, (title, *_) in enumerate(TABLE) if title in {"MRN", "Product", "Lot", "Dose #"}
)
SMALLER_SIZES = (7.5, 7.0, 6.5)


def fitted_cell(text: str, width: float, identifier: bool) -> tuple[tuple[str, ...], float]:
    """A left-aligned cell's lines and the size they print at: 8 pt, wrapped where too wide,
    or, for an identifier, one line at the largest of ``SMALLER_SIZES`` that fits."""
    if text_width(text, FONT, 8.0) <= width:  # one line, the common case: measured once
        return (text,), 8.0  # what wrapping gives a text that fits, without its word loop
    if identifier:  # too wide at 8 pt, so wrapping would split it: smaller first
        for size in SMALLER_SIZES:
            if text_width(text, FONT, size) <= width:
                return (text,), size
    return wrapped_lines(text, width, FONT, 8.0), 8.0


@dataclass
class Tally:
    count: int = 0
    mg: Decimal = Decimal(0)
    quantity: Decimal = Decimal(0)  # mL of a liquid, units of a solid

    def add(self, mg: Decimal, quantity: Decimal | None) -> None:
        self.count += 1
        self.mg += mg
        self.quantity += quantity or 0


def quantity_unit(form: str, quantity: Decimal) -> str:
    """``mL`` for liquids; ``tablet(s)``/``film(s)`` for solids."""
    if form == "liquid":
        return "mL"
    return form if 0 < quantity <= 1 else f"{form}s"


@dataclass
class ProductTotals:
    """One product's totals, net of voids and spills: the dose rows that stand, by mode, and the
    dose rows a correction voided or spilled, by kind."""

    form: str
    observed: Tally = field(default_factory=Tally)
    take_home: Tally = field(default_factory=Tally)
    void: Tally = field(default_factory=Tally)
    spill: Tally = field(default_factory=Tally)

    def add(self, entry: LogEntry) -> None:
        row = entry.row
        if row.correction_kind:  # the correction row: its dose row carries the mark
            return
        quantity = row.volume_ml if row.dosage_form == "liquid" else row.units
        getattr(self, row.corrected or row.mode).add(row.amount_mg, quantity)

    def lines(self, code: str) -> list[str]:
        """``METH-10MGML: 3 observed, 1 take-home, 160 mg, 16 mL`` (net) and a line per
        correction kind, in words a test (and an auditor) can read back."""
        mg = self.observed.mg + self.take_home.mg
        quantity = self.observed.quantity + self.take_home.quantity
        doses = f"{self.observed.count} observed, {self.take_home.count} take-home"
        lines = []
        if self.observed.count or self.take_home.count:  # a block may hold only corrections
            lines.append(f"{code}: {doses}, {self._amounts(mg, quantity)}")
        for kind, tally in (("voided", self.void), ("spilled", self.spill)):
            if tally.count:
                amounts = self._amounts(tally.mg, tally.quantity)
                lines.append(f"{code}: {tally.count} {kind}, {amounts}, not counted")
        return lines

    def _amounts(self, mg: Decimal, quantity: Decimal) -> str:
        return f"{amount_text(mg)} mg, {amount_text(quantity)} {quantity_unit(self.form, quantity)}"


def _add(totals: dict[str, ProductTotals], entry: LogEntry) -> None:
    code = entry.row.product
    if code not in totals:
        totals[code] = ProductTotals(form=entry.row.dosage_form)
    totals[code].add(entry)


def quantity_text(row: LogRow) -> str:
    """The Qty cell: ``4 mL``, ``2 film``, ``0.5 tablet`` (singular: a column, not a sentence)."""
    if row.dosage_form == "liquid":
        return f"{amount_text(row.volume_ml)} mL" if row.volume_ml is not None else ""
    return f"{amount_text(row.units)} {row.dosage_form}" if row.units is not None else ""


def row_texts(row: LogRow) -> tuple[str, ...]:
    """The texts of a row's columns, in ``TABLE`` order (the flags apart)."""
    at = row.dispensed_at  # hour and minute as numbers: strftime was a tenth of this function
    time = "" if row.late_entry and not row.correction_kind else f"{at.hour:02d}:{at.minute:02d}"
    return (
        time,
        row.patient_mrn,
        row.patient_name,
        row.product,
        row.mode.replace("_", "-"),
        amount_text(row.amount_mg),
        quantity_text(row),
        row.lot or "",
        "" if row.dose_id is None else str(row.dose_id),
    )


def flags(entry: LogEntry) -> tuple[str, bool]:
    """The row's flag text, and whether it marks a late entry or a correction."""
    row = entry.row
    if row.correction_kind:
        witness = f" wit. {entry.witness_initials}" if entry.witness_initials else ""
        return f"{row.correction_kind.upper()} of #{row.correction_of}{witness}", True
    if row.corrected:
        late = f" · LATE {row.dispensed_at:%m-%d %H:%M}" if row.late_entry else ""
        return f"{row.corrected.upper()}ED{late}", True
    if row.late_entry:
        return f"LATE entered {row.dispensed_at:%m-%d %H:%M}", True
    if row.mode == "take_home" and entry.take_home_exception:
        # Past the take-home ceiling under an approved SMA-168 exception: marked, like a late
        # entry, so an inspector finds it at a glance.
        return f"EXC {entry.take_home_exception} for {entry.service_date:%m-%d}", True
    if row.mode == "take_home":
        return f"for {entry.service_date:%a %Y-%m-%d}", False
    return "", False


class _LogLayout:
    def __init__(self, pdf: ReportCanvas) -> None:
        self.pdf = pdf
        self.block: tuple[date, int] | None = None
        self.heading = ""
        self.initials = ""
        self.day_totals: dict[str, ProductTotals] = {}
        self.totals: dict[str, ProductTotals] = {}
        self.products: dict[str, str] = {}
        # Each cell's lines and size, kept for this document: a month prints each patient's
        # name and MRN every day among 15,000 dose numbers that print once, which pushed the
        # names out of the process's small wrap cache (40,000 misses a month). Kept here, the
        # texts are freed with the document instead of staying in every worker (about 24 MB
        # for 65,536). One dictionary a column, by text: no key tuple for each of a row's cells.
        self._cells: dict[int, dict[str, tuple[tuple[str, ...], float]]] = {i: {} for i in WRAPPED}
        self._flags: dict[tuple[str, bool], tuple[tuple[str, ...], float]] = {}

    def entry(self, entry: LogEntry) -> None:
        key = (entry.row.dispensed_on, entry.dispenser_id)
        texts = row_texts(entry.row)
        flag, marked = flags(entry)
        wrapped = {i: self.cell(i, texts[i]) for i in WRAPPED}
        wrapped[FLAGS] = self.flag(flag, marked)
        lines = max([len(w) for w, _ in wrapped.values()])
        if key != self.block:
            self.close_block()
            self.open_block(key, entry)
        elif self.pdf.ensure(LINE * lines):
            self.block_heading(continued=True)
        self.row(marked, texts, wrapped, lines)
        _add(self.day_totals, entry)
        _add(self.totals, entry)
        row = entry.row
        if row.product not in self.products:  # a few products, among thousands of rows
            legend = f"{entry.product_name} ({row.substance}, {row.dosage_form}, {row.strength})"
            self.products[row.product] = legend

    def cell(self, column: int, text: str) -> tuple[tuple[str, ...], float]:
        cells = self._cells[column]
        found = cells.get(text)
        if found is None:
            found = cells[text] = fitted_cell(text, COLUMNS[column][1], column in IDENTIFIERS)
        return found

    def flag(self, text: str, marked: bool) -> tuple[tuple[str, ...], float]:
        key = (text, marked)
        found = self._flags.get(key)
        if found is None:
            font = BOLD if marked else FONT
            found = self._flags[key] = (
                wrapped_lines(text, FLAGS_WIDTH, font, FLAG_SIZE),
                FLAG_SIZE,
            )
        return found

    def open_block(self, key: tuple[date, int], entry: LogEntry) -> None:
        self.block, self.day_totals = key, {}
        self.initials = entry.row.dispenser_initials
        self.heading = f"{key[0]:%a %Y-%m-%d}   Dispenser: {entry.dispenser_name} ({self.initials})"
        # A block's heading never ends a page alone: it comes with at least two rows.
        self.pdf.ensure(2 * LINE + 18 + 2 * LINE)
        self.block_heading(continued=False)

    def block_heading(self, *, continued: bool) -> None:
        pdf = self.pdf
        pdf.y -= 14
        pdf.shade(14)
        pdf.text(4, self.heading + ("  (continued)" if continued else ""), size=9.5, bold=True)
        pdf.y -= LINE + 2
        for title, x, width, right in TABLE:
            if right:
                pdf.text_right(x + width, title, size=7, bold=True)
            else:
                pdf.text(x, title, size=7, bold=True)
        pdf.y -= 3
        pdf.rule()
        pdf.y -= LINE - 2

    def row(
        self,
        marked: bool,
        texts: tuple[str, ...],
        wrapped: dict[int, tuple[tuple[str, ...], float]],
        lines: int,
    ) -> None:
        """One log row on ``lines`` lines: a wrapped text goes on as many as it needs.
        ``wrapped`` holds each left-aligned cell's lines and size (``FLAGS``: the flag's)."""
        pdf = self.pdf
        if marked:
            pdf.shade(LINE)
            for _ in range(lines - 1):  # the band covers the row's further lines too
                pdf.y -= LINE
                pdf.shade(LINE)
            pdf.y += LINE * (lines - 1)
        flag_font = BOLD if marked else FONT
        for line in range(lines):
            if line:
                pdf.y -= LINE
            cells = []
            for i, (x, _, right) in enumerate(COLUMNS):  # in column order, as they read
                if right is not None:
                    if line == 0:  # an amount: always short, on the row's first line
                        cells.append((right - text_width(texts[i], FONT, 8), texts[i], FONT, 8.0))
                else:
                    pieces, size = wrapped[i]
                    if line < len(pieces) and pieces[line]:
                        cells.append((x, pieces[line], FONT, size))
            flag_lines, flag_size = wrapped[FLAGS]
            if line < len(flag_lines) and flag_lines[line]:
                cells.append((FLAGS_X, flag_lines[line], flag_font, flag_size))
            pdf.cells(cells)
        pdf.y -= LINE

    def close_block(self) -> None:
        if self.block is None:
            return
        pdf = self.pdf
        lines = [line for code, t in self.day_totals.items() for line in t.lines(code)]
        if pdf.ensure(6 + LINE * (len(lines) + 1) + 30):
            self.block_heading(continued=True)
        pdf.y += LINE - 4
        pdf.rule()
        pdf.y -= LINE
        day = self.block[0]
        pdf.text(4, f"Day totals of {self.initials} on {day.isoformat()}", size=8, bold=True)
        for line in lines:
            pdf.y -= LINE
            pdf.text(16, line)
        pdf.y -= 20
        pdf.text(
            4,
            f"Dispenser ({self.initials}) initials: ____________     "
            "Reviewed by: ____________     Date: ____________",
            size=8.5,
        )
        pdf.y -= 12
        self.block = None

    def summary(self, query: LogQuery) -> None:
        pdf = self.pdf
        lines = [line for code in sorted(self.totals) for line in self.totals[code].lines(code)]
        legend = [f"{code} = {self.products[code]}" for code in sorted(self.products)]
        pdf.ensure(30 + LINE * (len(lines) + 2))
        pdf.y -= 18
        pdf.shade(14)
        title = f"Summary by product, {query.first.isoformat()} to {query.last.isoformat()}"
        pdf.text(4, title, size=9.5, bold=True)
        if not lines:
            pdf.y -= LINE + 4
            pdf.text(4, "No doses and no corrections were recorded in this range.")
        for line in lines:
            pdf.y -= LINE + 1
            pdf.ensure(LINE)
            pdf.text(16, line)
        pdf.y -= 6
        for line in legend:
            pdf.y -= LINE
            pdf.ensure(LINE)
            pdf.text(16, line, size=7.5)


def _subtitle(query: LogQuery) -> str:
    text = f"{query.first.isoformat()} to {query.last.isoformat()}"
    if query.product:
        text += f", product {query.product}"
    if query.substance:
        text += f", {query.substance} only"
    return text


def write_log_pdf(
    entries: Iterable[LogEntry],
    query: LogQuery,
    out: BinaryIO,
    *,
    page: str,
    clinic: str,
    printed_at: datetime,
) -> None:
    """Lay the entries out page by page into ``out`` (reportlab writes it at the end)."""
    frame = PageFrame(clinic, "Dispensing log", _subtitle(query), printed_at)
    pdf = ReportCanvas(out, page=page, frame=frame)
    layout = _LogLayout(pdf)
    for entry in entries:
        layout.entry(entry)
    layout.close_block()
    layout.summary(query)
    pdf.finish()
