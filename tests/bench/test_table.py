"""The README's benchmark table is rendered by ``bench.table`` from a results file."""

import json
import subprocess
import sys
from pathlib import Path

from bench.table import render


def _results() -> dict:
    return {
        "scale": "small",
        "engine": "postgresql",
        "cli": {
            "log_pdf_month": {"seconds": 3.0, "rows": 500, "peak_rss_mb": 90.0},
            "raw_reportlab_pdf_month": {"seconds": 1.5, "peak_rss_mb": 20.0},
            "raw_reportlab_pdf_month_embedded": {"seconds": 2.0, "peak_rss_mb": 30.0},
        },
    }


def test_the_pdf_row_gives_both_raw_ratios() -> None:
    table = render(_results())
    assert "1.50x raw in the same embedded font" in table
    assert "2.00x raw in Helvetica" in table


def test_a_results_file_without_the_embedded_baseline_says_not_measured() -> None:
    results = _results()
    del results["cli"]["raw_reportlab_pdf_month_embedded"]
    table = render(results)
    assert "2.00x raw in Helvetica" in table
    assert "not measured" in table


def test_the_command_line_renders_a_results_file(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_results()))
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "bench.table", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert "| dispensing log PDF, 1 month (CLI) |" in done.stdout


def test_the_seal_of_the_staged_reads_is_a_row_of_its_own() -> None:
    results = _results()
    results["seal_after_reads"] = {"reads": 15042, "seconds": 1.234}
    assert "15,042 reads in 1.23 s" in render(results)
    assert "not measured reads in not measured" in render(_results())


def test_the_run_details_count_the_generated_corrections() -> None:
    results = _results()
    results["clinic"] = {"patients": 200, "service_doses": 330, "corrections": 3}
    assert "330 recorded doses with 3 voids and spills," in render(results)
    del results["clinic"]["corrections"]  # a results file from before the generator corrected
    assert "330 recorded doses," in render(results)
