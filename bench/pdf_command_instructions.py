"""The dispensing log PDF's whole command against its floor, in instructions: ``flask --app mat
report dispensing-log --format pdf`` for a month of the clinic in ``MAT_DATABASE_URL``, and
``bench.raw_pdf --embedded`` drawing the same rows (from the month's CSV, written first), each a
whole process counted with valgrind's callgrind, both at once; then each one's start-up alone:
the command's ``--help`` (Flask, its plugins' commands, SQLAlchemy, psycopg, the models, the
report's modules) and the floor's imports (reportlab).

    python -m bench.pdf_command_instructions [--days 30]

The full bench times the same two commands (``bench.run``, "dispensing log PDF"), and on the
machines it runs on two runs of one command a minute apart have differed by half; a count does
not move with the machine. It is not the goal's measure, which is time: an instruction of
start-up (imports: unmarshalling, allocating) takes longer than one of layout, and the command
waits for PostgreSQL, whose work on the month's two statements is another process's. The
database server is not counted. Needs valgrind (``apt-get install valgrind``) and a clinic
(``bench.generate``, or the full bench's with ``--keep``); about two minutes for a month of
13,000 rows on two cores. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.callgrind import count_at_once, require_valgrind
from bench.processes import FLASK, ROOT, compile_bytecode, log_args


def commands(first: str, last: str, folder: Path) -> dict[str, list[str]]:
    """The four command lines counted, by name; ``folder`` holds the month's CSV and the PDFs."""
    return {
        "command": [*FLASK, *log_args(first, last, "pdf", folder / "log.pdf")],
        "floor": [
            sys.executable, "-m", "bench.raw_pdf",
            str(folder / "month.csv"), str(folder / "raw.pdf"), "--embedded",
        ],
        "command_start_up": [*FLASK, "report", "dispensing-log", "--help"],
        "floor_start_up": [sys.executable, "-c", "import bench.raw_pdf"],
    }  # fmt: skip


def write_month_csv(first: str, last: str, folder: Path) -> int:
    """The month's log as CSV (the floor's rows, not counted): how many rows it has."""
    out = folder / "month.csv"
    subprocess.run(  # noqa: S603 (our own command line)
        [*FLASK, *log_args(first, last, "csv", out)], cwd=ROOT, check=True, capture_output=True
    )
    return len(out.read_text(encoding="utf-8").splitlines()) - 1


def compare(counts: dict[str, int]) -> dict[str, float]:
    """The ratios read from the four counts: whole, start-up, and what follows start-up."""
    past = {name: counts[name] - counts[f"{name}_start_up"] for name in ("command", "floor")}
    return {
        "whole": round(counts["command"] / counts["floor"], 3),
        "start_up": round(counts["command_start_up"] / counts["floor_start_up"], 3),
        "past_start_up": round(past["command"] / past["floor"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    require_valgrind()
    compiled = compile_bytecode()  # as bench.run measures the commands
    today = datetime.now(UTC).date()
    first, last = (today - timedelta(days=args.days)).isoformat(), today.isoformat()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        rows = write_month_csv(first, last, folder)
        lines = commands(first, last, folder)
        names = list(lines)
        counts: dict[str, int] = {}
        for pair in (names[:2], names[2:]):  # two at a time: two cores
            counts.update(zip(pair, count_at_once([lines[name] for name in pair]), strict=True))
    found = {"rows": rows, "bytecode_compiled": compiled, "instructions": counts}
    print(json.dumps({**found, "ratios": compare(counts)}, indent=2))


if __name__ == "__main__":
    main()
