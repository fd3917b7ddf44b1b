"""The commands bench/pdf_command_instructions.py counts under valgrind: the log PDF's command
and the raw floor on the same rows, and each one's start-up alone. The counts need valgrind
and minutes, so they are the bench's; here the four command lines run natively against a
clinic with a dose in it and must do their work, so that a count is never of a failed run."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bench.pdf_command_instructions import commands, compare, write_month_csv
from bench.processes import ROOT
from mat.pdf_fonts import FONT


@pytest.mark.skipif(FONT != "DejaVuSans", reason="DejaVu Sans is not installed (raw_pdf)")
def test_the_four_counted_commands_do_their_work_on_the_same_rows(
    database_url: str,
    patient: Any,
    sign_order: Any,
    give: Any,
    clock: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_order(patient)
    dose = give(patient, 40)
    assert dose.status_code == 201, dose.get_json()
    day = clock.now.date().isoformat()
    monkeypatch.setenv("MAT_DATABASE_URL", database_url)
    assert write_month_csv(day, day, tmp_path) == 1
    assert patient.mrn in (tmp_path / "month.csv").read_text(encoding="utf-8")
    lines = commands(day, day, tmp_path)
    assert list(lines) == ["command", "floor", "command_start_up", "floor_start_up"]
    printed = {}
    for name, line in lines.items():
        done = subprocess.run(  # noqa: S603 (the module's own command lines)
            line, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )  # fmt: skip
        assert done.returncode == 0, (name, done.stderr)
        printed[name] = done.stdout
    assert "--format" in printed["command_start_up"]  # the report's own help: its group loaded
    for pdf in ("log.pdf", "raw.pdf"):
        text = "".join(page.extract_text() for page in PdfReader(tmp_path / pdf).pages)
        assert patient.mrn in text, pdf


def test_the_ratios_read_the_start_up_apart() -> None:
    counts = {
        "command": 9_000,
        "floor": 11_000,
        "command_start_up": 3_000,
        "floor_start_up": 1_000,
    }
    assert compare(counts) == {"whole": 0.818, "start_up": 3.0, "past_start_up": 0.6}
