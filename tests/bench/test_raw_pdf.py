"""The bench's raw reportlab baselines (bench/raw_pdf.py) and the table line that compares the
log PDF with them: the embedded baseline prints every cell whole in DejaVu Sans, as the log does;
the Helvetica one cuts cells to 14 characters. The table reads results written before the
embedded baseline existed (its cells then say "not measured") as well as new ones."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from bench import raw_pdf
from bench.table import render
from mat.pdf_fonts import FONT

ROW = {
    "dispensed_on": "2026-11-02",
    "patient_mrn": "BENCH-000069",
    "patient_name": "Nguyễn-Featherstonehaugh, Łukasz",
    "product": "METH-10MGML",
    "mode": "observed",
    "amount_mg": "85",
    "volume_ml": "8.5",
    "dispenser_initials": "AB",
    "dose_id": "288123",
}


def _csv(folder: Path) -> Path:
    source = folder / "log.csv"
    with source.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(ROW))
        writer.writeheader()
        writer.writerow(ROW)
    return source


@pytest.mark.skipif(FONT != "DejaVuSans", reason="DejaVu Sans is not installed")
def test_the_embedded_baseline_prints_each_cell_whole(tmp_path: Path) -> None:
    raw_pdf.main(str(_csv(tmp_path)), str(tmp_path / "raw.pdf"), embedded=True)
    text = PdfReader(tmp_path / "raw.pdf").pages[0].extract_text()
    assert "Nguyễn-Featherstonehaugh, Łukasz" in text and "288123" in text


def test_the_helvetica_baseline_cuts_cells_to_14_characters(tmp_path: Path) -> None:
    raw_pdf.main(str(_csv(tmp_path)), str(tmp_path / "raw.pdf"), embedded=False)
    text = PdfReader(tmp_path / "raw.pdf").pages[0].extract_text()
    assert "BENCH-000069" in text and "Featherstonehaugh" not in text


def test_the_table_compares_the_log_pdf_with_both_baselines() -> None:
    results = json.loads(Path("bench/results/2026-12-06-small.json").read_text())
    cli = results["cli"]
    cli["log_pdf_month"]["seconds"] = 3.0
    cli["raw_reportlab_pdf_month"]["seconds"] = 1.5
    old = render(results)
    assert "not measured raw in the same embedded font, 2.00x raw in Helvetica" in old
    cli["raw_reportlab_pdf_month_embedded"] = {"seconds": 2.5, "peak_rss_mb": 40.0}
    line = next(x for x in render(results).splitlines() if "dispensing log PDF" in x)
    assert "1.20x raw in the same embedded font, 2.00x raw in Helvetica" in line
    assert "embedded DejaVu Sans: 2.50 s, 40.0 MB" in line
