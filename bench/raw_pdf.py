"""The raw reportlab baselines of the dispensing log PDF: the same rows (read from the log's CSV)
drawn as plain lines of text, 50 a page, with no mat code loaded. Run as child processes by
bench/run.py, which measures their time and peak RSS beside ``report dispensing-log --format
pdf``.

    python -m bench.raw_pdf LOG.csv OUT.pdf [--embedded]

Two baselines, both kept in the results:

- **Helvetica** (the default): nine columns cut to 14 characters in a PDF base font, which
  reportlab writes without embedding or encoding anything. The cheapest page reportlab can
  draw; it cannot print "Nguyễn" or "Łukasz" (Helvetica is Latin-1 only), so no log could be
  printed this way.
- **Embedded** (``--embedded``): the same rows in the fonts the log prints with (DejaVu Sans,
  embedded and subset, as every mat PDF), each cell whole: what any program that prints the
  names correctly must pay inside reportlab. The log's goal (at most 1.1x raw) is read against
  this one; the ratio to Helvetica is printed too.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

COLUMNS = (
    "dispensed_on",
    "patient_mrn",
    "patient_name",
    "product",
    "mode",
    "amount_mg",
    "volume_ml",
    "dispenser_initials",
    "dose_id",
)
PER_PAGE = 50
DEJAVU = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu (as mat.pdf_fonts looks)
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)


def fonts(embedded: bool) -> tuple[str, str, int | None]:
    """(body font, heading font, characters a cell keeps: None for all)."""
    if not embedded:
        return "Helvetica", "Helvetica-Bold", 14
    folder = next(f for f in DEJAVU if (f / "DejaVuSans.ttf").is_file())
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
    return "DejaVuSans", "DejaVuSans-Bold", None


def main(source: str, target: str, embedded: bool) -> None:
    body, heading, keep = fonts(embedded)
    canvas = Canvas(target, pagesize=letter)
    _width, height = letter
    with open(source, newline="", encoding="utf-8") as rows_file:
        rows = csv.DictReader(rows_file)
        line = 0
        for row in rows:
            if line == 0:
                canvas.setFont(heading, 9)
                canvas.drawString(36, height - 36, "Dispensing log")
                canvas.setFont(body, 7)
            y = height - 54 - 13 * line
            for n, name in enumerate(COLUMNS):
                canvas.drawString(36 + n * 60, y, (row.get(name) or "")[:keep])
            line += 1
            if line == PER_PAGE:
                canvas.showPage()
                line = 0
    canvas.save()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--embedded" in sys.argv[3:])
