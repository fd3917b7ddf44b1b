"""What every report PDF shares: page sizes, margins, fonts, the page header and footer, and
"page n of m" in one pass.

Margins are chosen so one layout fits both A4 (595 x 842 pt) and US Letter (612 x 792 pt): the
text block is as wide as A4 allows and as tall as the page allows, so a page prints whole on
either paper. The total page count is a PDF form drawn on every page and filled in after the
last one, so the rows are read once (no second pass that could see a different database).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import BinaryIO

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from mat.pdf_fonts import BOLD, FONT, draw_text, runs, text_width

PAGE_SIZES: dict[str, tuple[float, float]] = {"letter": LETTER, "a4": A4}
MARGIN = 36.0  # half an inch: inside what office printers can print on both papers
TEXT_WIDTH = min(width for width, _ in PAGE_SIZES.values()) - 2 * MARGIN
GREY = Color(0.35, 0.35, 0.35)
SHADE = Color(0.9, 0.9, 0.9)
HEADER_HEIGHT = 44.0
FOOTER_HEIGHT = 16.0
PART2_NOTICE = (
    "Confidential patient record (42 CFR Part 2, HIPAA): do not disclose without the patient's "
    "written consent or as the regulations permit."
)
_TOTAL_FORM = "mat_page_total"


@lru_cache(maxsize=8192)  # a column's cells repeat: MRNs, names, codes
def fit(text: str, width: float, font: str = FONT, size: float = 8) -> str:
    """``text`` cut with an ellipsis to ``width`` points: a long name never runs into the next
    column."""
    if text_width(text, font, size) <= width:
        return text
    while text and text_width(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, width: float, font: str = FONT, size: float = 8) -> list[str]:
    """``text`` in lines of at most ``width`` points, broken at spaces; a word wider than the
    column alone is broken after a hyphen ("Featherstonehaugh-" / "Cholmondeley"), and inside a
    part only when the part alone is still too wide: a patient's name is printed whole, never
    cut, and a word that fits a line (a date, an MRN) is never split."""
    return list(_wrapped(text, width, font, size))


def wrapped_lines(text: str, width: float, font: str = FONT, size: float = 8) -> tuple[str, ...]:
    """``wrap``'s lines as a tuple, worked out afresh (not from the process's cache): for a
    caller that keeps its own, for one document (``log_pdf``)."""
    return _wrapped.__wrapped__(text, width, font, size)


# A word's parts that may end a line: each run of text up to and including its hyphens.
_AFTER_HYPHENS = re.compile(r"[^-]*-+|[^-]+")


@lru_cache(maxsize=4096)  # page titles and stock labels wrap the same few texts again and again
def _wrapped(text: str, width: float, font: str, size: float) -> tuple[str, ...]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for part in _AFTER_HYPHENS.findall(word):  # a word wider than the column
            if text_width(current + part, font, size) <= width:
                current += part
                continue
            if current:
                lines.append(current)
            current = ""
            for char in part:  # a part wider than the column: break it where it must
                if text_width(current + char, font, size) > width and current:
                    lines.append(current)
                    current = ""
                current += char
    lines.append(current)
    return tuple(lines)


@lru_cache(maxsize=64)  # drawn on every page
def title_lines(title: str, room: float) -> tuple[float, tuple[str, ...]]:
    """The page title's size and lines, never cut: it names the patient and MRN of a history on
    every page. On one line in the ``room`` the printed time leaves (10 pt, 9 pt, or smaller down
    to 7.5 pt), else on two lines of 7 pt under the clinic's name, the second as wide as the page;
    smaller only when even that cannot hold it (about 6 pt for a name and an MRN as long as the
    fields allow). The clinic's name above it may still be cut: it names no patient."""
    for size in (10.0, 9.0):
        if text_width(title, BOLD, size) <= room:
            return size, (title,)
    shrunk = math.floor(9 * room / text_width(title, BOLD, 9) * 10) / 10
    if shrunk >= 7.5:
        return shrunk, (title,)
    size = 7.0
    while True:
        first = wrap(title, room, BOLD, size)[0]  # a prefix of the title
        rest = wrap(title[len(first) :].lstrip(), TEXT_WIDTH, BOLD, size)
        if len(rest) == 1 or size <= 3:
            return size, (first, rest[0]) if rest[0] else (first,)
        size -= 0.5


class TotalPagesCanvas(Canvas):
    """A canvas whose pages show "Page n of m": each page draws the form ``mat_page_total``,
    which is written once, when the document is saved and m is known.

    Always ``invariant``: no creation date or random document id, so the same rows give the
    same bytes (the CLI writes exactly what the API sends).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs["invariant"] = 1
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def save(self) -> None:
        pages = self.getPageNumber() - 1  # showPage has moved past the last page
        self.beginForm(_TOTAL_FORM)
        self.setFont(FONT, 9)
        self.drawString(0, 0, str(max(pages, 1)))
        self.endForm()
        super().save()


@dataclass(frozen=True)
class PageFrame:
    """What every page of a report shows around its body."""

    clinic: str
    title: str
    subtitle: str
    printed_at: datetime

    def draw(self, c: Canvas, number: int) -> None:
        height = c._pagesize[1]
        left, right, head = MARGIN, MARGIN + TEXT_WIDTH, height - MARGIN
        c.saveState()
        c.setFillColor(black)
        c.setFont(BOLD, 12)
        draw_text(c, left, head - 12, fit(self.clinic, TEXT_WIDTH - 110, BOLD, 12), BOLD, 12)
        c.setFont(FONT, 9)
        label = f"Page {number} of "
        x = right - 85
        c.drawString(x, head - 11, label)
        c.saveState()
        c.translate(x + text_width(label, FONT, 9), head - 11)
        c.doForm(_TOTAL_FORM)
        c.restoreState()
        printed = "Printed " + self.printed_at.strftime("%Y-%m-%d %H:%M ")
        printed += self.printed_at.tzname() or ""
        room = TEXT_WIDTH - text_width(printed, FONT, 8) - 12
        size, lines = title_lines(f"{self.title}  {self.subtitle}", room)
        baselines = (head - 27,) if len(lines) == 1 else (head - 23, head - 31)
        for line, baseline in zip(lines, baselines, strict=True):
            draw_text(c, left, baseline, line, BOLD, size)
        c.setFont(FONT, 8)
        c.setFillColor(GREY)
        c.drawRightString(right, head - 27, printed)
        c.setLineWidth(0.8)
        c.line(left, head - 34, right, head - 34)
        c.setFont(FONT, 6.5)
        c.drawString(left, MARGIN, fit(PART2_NOTICE, TEXT_WIDTH, FONT, 6.5))
        c.restoreState()


_AT_ORIGIN = "BT 1 0 0 1 0 0 Tm "  # how every text object begins (``beginText()`` at 0, 0)


class ReportCanvas:
    """A canvas for reports laid out line by line (the dispensing log): starts each page with
    the frame and knows where the body's free space begins and ends."""

    def __init__(self, out: BinaryIO, *, page: str, frame: PageFrame) -> None:
        self.width, self.height = PAGE_SIZES[page]
        self.canvas = TotalPagesCanvas(out, pagesize=(self.width, self.height))
        self.canvas.setTitle(f"{frame.title} {frame.subtitle}")
        self.canvas.setAuthor(frame.clinic)
        self.frame = frame
        self.left = MARGIN
        self.right = MARGIN + TEXT_WIDTH
        self.top = self.height - MARGIN - HEADER_HEIGHT
        self.bottom = MARGIN + FOOTER_HEIGHT
        self.pages = 1
        self._written: dict[tuple[str, str, float], str] = {}
        self._origins: dict[tuple[float, float], str] = {}
        # For a new text of printable ASCII (``_ascii_operators``): the operators around its
        # string, by font and size, and by font the characters reportlab wrote as themselves.
        self._around: dict[tuple[str, float], tuple[str, str]] = {}
        self._as_is: dict[str, set[str]] = {}
        self.frame.draw(self.canvas, self.pages)
        self.y = self.top

    def room(self, height: float) -> bool:
        return self.y - height >= self.bottom

    def next_page(self) -> None:
        self.canvas.showPage()
        self.pages += 1
        self.frame.draw(self.canvas, self.pages)
        self.y = self.top

    def ensure(self, height: float) -> bool:
        """Start a new page unless ``height`` fits; True when a page was started."""
        if self.room(height):
            return False
        self.next_page()
        return True

    def text(self, x: float, text: str, *, size: float = 8, bold: bool = False) -> None:
        """Text at ``x`` (from the left margin) on the current line's baseline: a cell of its
        own (``cells``), so a heading, a column title or a total met before costs what a table
        cell met before costs (a month's log draws about 9,000 of them, most the same column
        titles and "Day totals" lines, and ``drawString`` encoded each afresh)."""
        self.cells(((x, text, BOLD if bold else FONT, size),))

    def text_right(self, x: float, text: str, *, size: float = 8, bold: bool = False) -> None:
        """Text ending at ``x`` (from the left margin)."""
        font = BOLD if bold else FONT
        self.cells(((x - text_width(text, font, size), text, font, size),))

    def cells(self, cells: Iterable[tuple[float, str, str, float]]) -> None:
        """Texts ``(x from the left margin, text, font, size)`` on the current line's baseline,
        each already made to fit its column (fitted, or one line of a wrapped text): a line of a
        table's row. Each cell is its own PDF text object, as
        ``drawString`` writes it (text extractors, pypdf's layout mode among them, space the
        columns by these objects), without what ``drawString`` adds per call: measuring the
        text again and setting the font on the canvas. Each run of a text (body font, CJK
        font) starts where the previous one's width ends, as ``draw_text`` places them.

        A cell of one run met before costs two dictionary lookups: its operators and its place
        are kept, and appended to the page's code as ``Canvas.drawText`` appends a text
        object's (``_code``, which ``showPage`` renews), with no text object built for it."""
        written, y = self._written, self.y
        code = self.canvas._code  # what ``Canvas.drawText`` appends a text object's code to
        for x, cell, font, size in cells:
            rest = written.get((cell, font, size))
            if rest is None:
                pieces = runs(cell, font)
                if not pieces:
                    continue
                if len(pieces) > 1:
                    self._runs(self.left + x, pieces, size)
                    continue
                # One run: its operators written by reportlab once, then kept.
                piece, name = pieces[0]
                rest = self._ascii_operators(piece, name, size)
                if rest is None:
                    rest = self._operators(piece, name, size)
                written[(cell, font, size)] = rest
            at = self._origins.get((x, y))
            if at is None:  # the columns' places on the page's lines: a few hundred
                at = self._origins[(x, y)] = f"{_AT_ORIGIN}1 0 0 1 {fp_str(self.left + x, y)} Tm "
            code.append(at + rest)

    def _runs(self, at: float, pieces: list[tuple[str, str]], size: float) -> None:
        """A cell of several runs (a name in two scripts), drawn by reportlab run by run."""
        text = self.canvas.beginText()
        for n, (piece, name) in enumerate(pieces, 1):
            text.setFont(name, size)
            text.setTextOrigin(at, self.y)
            text.textLine(piece)  # the cursor's move to the next line is never used
            if n < len(pieces):
                at += stringWidth(piece, name, size)
        self.canvas.drawText(text)

    def _ascii_operators(self, piece: str, font: str, size: float) -> str | None:
        """A new text's operators without a reportlab text object, when that gives the same
        bytes: every character of the text is one reportlab already wrote in this font as
        itself (an ASCII character keeps its code in the font's first subset, and its glyph is
        then embedded), and reportlab wrote a text of this font and size as ``(text) Tj``
        between operators that do not depend on the text. The string is the text escaped by
        reportlab's own ``escapePDF``, as ``_formatText`` escapes a subset's string. A month's
        15,000 dose numbers are texts met once; through reportlab's text object they were
        about 10 % of the PDF's time. Anything else is None, for ``_operators`` to write.
        ``test_report_canvas`` compares the bytes with reportlab's own."""
        around = self._around.get((font, size))
        if around is None or not self._as_is[font].issuperset(piece):
            return None
        escaped = escapePDF(piece.encode("ascii"))  # as reportlab escapes a subset's string
        return around[0] + escaped + around[1]

    def _operators(self, piece: str, font: str, size: float) -> str:
        """The PDF operators reportlab writes for ``piece`` in one text object, after the
        position: byte for byte what ``beginText`` / ``setFont`` / ``setTextOrigin`` /
        ``textLine`` write (a test compares them), without redoing per cell what depends only on
        the text. A month's log draws about 140,000 cells, most of them texts met before (the
        same MRNs, names, codes and amounts): encoding a text into the font's subsets and
        escaping it was half the time of the PDF. What follows the position is kept per
        document (``cells``), as reportlab wrote it the first time: a character's code in a
        subset, once given, never changes within a document."""
        text = self.canvas.beginText()
        text.setFont(font, size)
        text.textLine(piece)
        code = text.getCode().removeprefix(_AT_ORIGIN)
        if piece.isascii() and piece.isprintable():  # learnt for ``_ascii_operators``
            escaped = escapePDF(piece.encode("ascii"))  # as reportlab escapes a subset's string
            head, found, tail = code.partition(f"({escaped}) Tj")
            if found and escaped not in head + tail:  # reportlab wrote the text as itself
                self._as_is.setdefault(font, set()).update(piece)
                self._around.setdefault((font, size), (head + "(", ") Tj" + tail))
        return code

    def shade(self, height: float) -> None:
        """A grey band behind the line about to be written (survives black-and-white print)."""
        self.canvas.setFillColor(SHADE)
        self.canvas.rect(self.left, self.y - 2.5, TEXT_WIDTH, height, stroke=0, fill=1)
        self.canvas.setFillColor(black)

    def rule(self, width: float = 0.4) -> None:
        self.canvas.setLineWidth(width)
        self.canvas.line(self.left, self.y, self.right, self.y)

    def finish(self) -> None:
        self.canvas.showPage()
        self.canvas.save()
