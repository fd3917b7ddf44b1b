"""The raw reportlab baseline of the dispensing log PDF: the same rows (read from the log's CSV)
drawn as plain lines of text, 50 a page, with no mat code loaded. Run as a child process by
bench/run.py, which measures its time and peak RSS beside ``report dispensing-log --format pdf``.

    python -m bench.raw_pdf LOG.csv OUT.pdf
"""

from __future__ import annotations

import csv
import sys

from reportlab.lib.pagesizes import letter
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


def main(source: str, target: str) -> None:
    canvas = Canvas(target, pagesize=letter)
    _width, height = letter
    with open(source, newline="", encoding="utf-8") as rows_file:
        rows = csv.DictReader(rows_file)
        line = 0
        for row in rows:
            if line == 0:
                canvas.setFont("Helvetica-Bold", 9)
                canvas.drawString(36, height - 36, "Dispensing log")
                canvas.setFont("Helvetica", 7)
            y = height - 54 - 13 * line
            for n, name in enumerate(COLUMNS):
                canvas.drawString(36 + n * 60, y, (row.get(name) or "")[:14])
            line += 1
            if line == PER_PAGE:
                canvas.showPage()
                line = 0
    canvas.save()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
