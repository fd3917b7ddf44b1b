"""How the texts of a take-home label fit its box: each text's size, its lines and their baselines.

A label is what a nurse, the patient and an inspector read to know whose bottle it is and what
is in it, so no text on it is ever cut. A text too wide for its place is printed smaller, down to
a floor (three quarters of its size, and never below the smallest type the label's printer
prints legibly); past the floor it goes on over further lines (broken at spaces, after a hyphen,
inside a word only when it must: ``mat.reports.pdf_page.wrap``) and the texts below it move down.
Whether the moved texts still clear the rest of the label is for ``mat.stock.labels`` to check:
a label they would overprint is refused, never printed wrong.

Pure layout: reportlab's font metrics, no canvas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import getAscentDescent

from mat.pdf_fonts import BOLD, FONT, text_width
from mat.reports.pdf_page import wrap

SHRINK_FLOOR = 0.75  # a text is printed no smaller than this share of its size before it wraps
LEADING = 1.15  # from a wrapped text's baseline to its next, in sizes


@dataclass(frozen=True)
class Text:
    """A text of the label at its nominal size; ``before`` is the space between the baseline above
    and this text's first baseline besides its own size (negative: the line sits higher)."""

    text: str
    size: float
    bold: bool = False
    before: float = 0.0
    what: str = ""  # what it is, for a refusal ("the patient's name")

    @property
    def font(self) -> str:
        return BOLD if self.bold else FONT


@dataclass(frozen=True)
class Placed:
    """A text as it is printed: its size, its lines and their baselines, from the top."""

    text: Text
    size: float
    lines: tuple[str, ...]
    baselines: tuple[float, ...]

    @property
    def wrapped(self) -> bool:
        return len(self.lines) > 1

    @property
    def top(self) -> float:
        return self.baselines[0] + getAscentDescent(self.text.font, self.size)[0]

    @property
    def bottom(self) -> float:
        return self.baselines[-1] + getAscentDescent(self.text.font, self.size)[1]


def fitted(
    text: str, font: str, size: float, width: float, smallest: float
) -> tuple[float, list[str]]:
    """The size ``text`` is printed at within ``width`` points and its lines: ``size`` when it
    fits, else the largest size down to the floor at which it fits on one line, else the floor
    and as many lines as it needs."""
    wide = text_width(text, font, size)
    if wide <= width:
        return size, [text]
    floor = max(size * SHRINK_FLOOR, smallest)
    # A text's width is proportional to its size; rounded down to a tenth of a point.
    shrunk = math.floor(size * width / wide * 10) / 10
    if shrunk >= floor:
        return shrunk, [text]
    return floor, wrap(text, width, font, floor)


def stack(texts: Iterable[Text], baseline: float, width: float, smallest: float) -> list[Placed]:
    """``texts`` one below the other under the ``baseline`` above them, each fitted to ``width``
    points; an empty text (a clinic without a phone number) takes no line."""
    placed: list[Placed] = []
    for text in texts:
        if not text.text:
            continue
        size, lines = fitted(text.text, text.font, text.size, width, smallest)
        first = baseline - text.before - size
        baselines = tuple(first - n * size * LEADING for n in range(len(lines)))
        placed.append(Placed(text, size, tuple(lines), baselines))
        baseline = baselines[-1]
    return placed


def stack_up(texts: Iterable[Text], baseline: float, width: float, leading: float) -> list[Placed]:
    """``texts`` wrapped to ``width`` at their size, one below the other, the last line's baseline
    on ``baseline``: the warnings across the bottom of a label, which are never shrunk. Each line's
    baseline is ``leading`` sizes below the one above it."""
    placed: list[Placed] = []
    below: float | None = None  # the first baseline of the text under this one
    for text in reversed(list(texts)):
        lines = wrap(text.text, width, text.font, text.size)
        step = text.size * leading
        last = baseline if below is None else below + step
        baselines = tuple(last + (len(lines) - 1 - n) * step for n in range(len(lines)))
        placed.insert(0, Placed(text, text.size, tuple(lines), baselines))
        below = baselines[0]
    return placed
