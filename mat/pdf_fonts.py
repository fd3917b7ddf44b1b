"""The fonts every PDF prints with, how text is drawn in them, and which text they can print.

A dispensing log, a label or a history that shows a patient's name as black boxes, or as letters
in the wrong order, is a wrong legal record. So:

- **Latin, Greek, Cyrillic** (and many symbols) print in DejaVu Sans (Debian's
  ``fonts-dejavu-core``), embedded.
- **Chinese, Japanese and Korean** print in WenQuanYi Zen Hei (``fonts-wqy-zenhei``), a
  TrueType collection reportlab can embed (Noto CJK is CFF-outlined, which reportlab cannot).
  Text is drawn in runs: each character in DejaVu if it has the glyph, else in the CJK font
  (``runs``); widths, cut-offs and paragraphs use the same runs.
- **Everything else is refused at the door** (``unprintable``, used by every input field that
  stores text, ``mat.schema_fields.clinic_text``): a character that no installed font has, and
  characters that need a layout reportlab does not do: right-to-left scripts (Arabic, Hebrew...;
  reportlab would print the letters left to right, unjoined) and combining marks left after NFC
  normalisation (Devanagari, Thai and other scripts whose vowel signs must be shaped). The
  person registering is asked for the name as it should appear on the dispensing log, in a
  script the reports print. That is a choice: a name the records cannot print correctly is
  worse than a name asked for in another script.

Without the fonts (a machine where the Makefile could not install them), PDFs fall back to
Helvetica, which prints Latin-1 only, and the same check then refuses what Helvetica cannot
print: never a box in a record.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from html import escape
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily, stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

log = logging.getLogger(__name__)

FONT_FOLDERS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu
    Path("/usr/share/fonts/dejavu"),  # Fedora, Alpine
    Path("/usr/share/fonts/TTF"),  # Arch
)
CJK_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # Debian, Ubuntu: fonts-wqy-zenhei
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),  # Fedora
)
CJK_FONT = "WenQuanYiZenHei"
# Right-to-left bidirectional classes: letters reportlab would lay out in the wrong order.
RIGHT_TO_LEFT = {"R", "AL", "AN"}
# Marks that must be shaped onto the letter before them; NFC has already composed the ones
# that have a precomposed form (é, ễ, が).
COMBINING = {"Mn", "Mc", "Me"}
_PRINTABLE_ASCII = range(0x20, 0x7F)
# Whitespace the layout handles (a reason's line breaks print as spaces in a table cell).
LAYOUT_WHITESPACE = {"\n", "\t", "\r"}


@dataclass(frozen=True)
class Fonts:
    """The body fonts, registered at import (small), and the CJK font, registered the first time a
    character outside the body fonts is met: its collection costs every process (each gunicorn
    worker, each CLI command) about 37 MB and 0.1 s, and most clinics never print a CJK name."""

    regular: str
    bold: str
    covered: dict[str, frozenset[int]]  # body font name -> code points it has a glyph for
    cjk_file: Path | None

    @cached_property
    def fallback(self) -> str | None:
        """The CJK font's name, registered on first use; None when it is not installed."""
        if self.cjk_file is None:
            return None
        pdfmetrics.registerFont(TTFont(CJK_FONT, str(self.cjk_file), subfontIndex=0))
        registerFontFamily(CJK_FONT, normal=CJK_FONT, bold=CJK_FONT, italic=CJK_FONT,
                           boldItalic=CJK_FONT)  # fmt: skip
        return CJK_FONT

    @cached_property
    def _cjk_covered(self) -> frozenset[int]:
        return _coverage(self.fallback) if self.fallback else frozenset()

    def prints(self, char: str, font: str) -> bool:
        if font == CJK_FONT:
            return ord(char) in self._cjk_covered
        return ord(char) in self.covered[font]

    @cached_property
    def _prints_ascii(self) -> dict[str, bool]:
        return {name: set(_PRINTABLE_ASCII) <= codes for name, codes in self.covered.items()}

    def prints_ascii(self, font: str) -> bool:
        """Whether ``font`` (a body font) has every printable ASCII character."""
        return self._prints_ascii.get(font, False)

    def font_for(self, char: str, font: str) -> str:
        if self.prints(char, font) or char.isspace():
            return font
        fallback = self.fallback
        return fallback if fallback is not None and self.prints(char, fallback) else font


def _coverage(name: str) -> frozenset[int]:
    face = getattr(pdfmetrics.getFont(name), "face", None)
    if face is not None:  # a TrueType font: its character map
        return frozenset(face.charToGlyph)
    # A PDF base font (Helvetica): WinAnsi, what reportlab can encode for it.
    return frozenset(c for c in range(0x20, 0x3000) if _winansi(chr(c)))


def _winansi(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _load() -> Fonts:
    regular, bold = "Helvetica", "Helvetica-Bold"
    for folder in FONT_FOLDERS:
        files = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if all(f.is_file() for f in files):
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(files[0])))
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(files[1])))
            regular, bold = "DejaVuSans", "DejaVuSans-Bold"
            # So that <b> in a paragraph is DejaVu Sans Bold (without it, reportlab kept the
            # regular face and a bold heading printed plain).
            registerFontFamily(regular, normal=regular, bold=bold, italic=regular, boldItalic=bold)
            break
    else:
        log.warning("DejaVu Sans not found: PDFs use Helvetica, which prints only Latin-1 names")
    cjk_file = next((path for path in CJK_FILES if path.is_file()), None)
    if cjk_file is None:
        log.warning("WenQuanYi Zen Hei not found: Chinese, Japanese and Korean names are refused")
    covered = {name: _coverage(name) for name in (regular, bold)}
    return Fonts(regular, bold, covered, cjk_file)


FONTS = _load()
FONT, BOLD = FONTS.regular, FONTS.bold


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` cut into ``(piece, font name)`` runs: ``font`` where it has the glyph, the CJK
    font where only that one has it."""
    if text and text.isascii() and text.isprintable() and FONTS.prints_ascii(font):
        # Nearly every cell of a report (MRNs, codes, amounts, times): one run, found without
        # looking at each character (a month's log has about a million of them).
        return [(text, font)]
    return list(_mixed_runs(text, font))


@lru_cache(maxsize=1024)  # the same few names, over and over
def _mixed_runs(text: str, font: str) -> tuple[tuple[str, str], ...]:
    pieces: list[tuple[str, str]] = []
    for char in text:
        chosen = FONTS.font_for(char, font)
        if pieces and pieces[-1][1] == chosen:
            pieces[-1] = (pieces[-1][0] + char, chosen)
        else:
            pieces.append((char, chosen))
    return tuple(pieces)


@lru_cache(maxsize=8192)  # a report measures the same cells (names, codes, amounts) again and again
def text_width(text: str, font: str, size: float) -> float:
    return sum(stringWidth(piece, name, size) for piece, name in runs(text, font))


def draw_text(canvas: Canvas, x: float, y: float, text: str, font: str, size: float) -> None:
    """Draw ``text`` starting at ``x``, run by run; leaves ``font`` set on the canvas."""
    pieces = runs(text, font)
    for piece, name in pieces:
        canvas.setFont(name, size)
        canvas.drawString(x, y, piece)
        x += stringWidth(piece, name, size)
    if len(pieces) != 1 or pieces[0][1] != font:
        canvas.setFont(font, size)


def paragraph_markup(text: str, font: str) -> str:
    """``text`` as escaped reportlab Paragraph markup, the CJK runs in the CJK font."""
    return "".join(
        escape(piece, quote=False)
        if name == font
        else f'<font name="{name}">{escape(piece, quote=False)}</font>'
        for piece, name in runs(text, font)
    )


def unprintable(text: str) -> list[str]:
    """The distinct characters of ``text`` that the PDFs cannot print as they should read, in
    order of appearance (empty: every character prints)."""
    bad: list[str] = []
    for char in dict.fromkeys(text):
        if char in LAYOUT_WHITESPACE:
            continue
        needs_layout = (
            unicodedata.bidirectional(char) in RIGHT_TO_LEFT
            or unicodedata.category(char) in COMBINING
        )
        if needs_layout:
            bad.append(char)
        elif not (FONTS.prints(char, FONTS.regular) and FONTS.prints(char, FONTS.bold)):
            fallback = FONTS.fallback  # loaded only now, for a character the body fonts lack
            if fallback is None or not FONTS.prints(char, fallback):
                bad.append(char)
    return bad
