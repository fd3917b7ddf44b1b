"""Benchmark: a year of history for 1,500 patients (about 500,000 doses) imported through the
command line on PostgreSQL. Not a test: it prints seconds and the import process's peak RSS.

    python bench/import_history.py [--patients 1500] [--keep]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust; override with MAT_BENCH_PG). It
creates a scratch database, migrates it, adds an admin, writes the import file (deterministic:
the same seed gives the same file), runs ``flask --app mat import history FILE --by bench-admin``
in a child process and measures that process alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import psycopg

SEED = 20261205
PG = os.environ.get("MAT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
CRITERIA = {
    "no_active_use_or_risk": True,
    "regular_attendance": True,
    "no_behavioral_problems": True,
    "no_diversion": True,
    "safe_transport_and_storage": True,
}


def _patient_rows(rng: random.Random, n: int, today: date) -> list[dict[str, Any]]:
    return [
        {
            "mrn": f"BENCH-{i:05d}",
            "given_name": "Bench",
            "family_name": f"Patient {i}",
            "date_of_birth": (date(1960, 1, 1) + timedelta(days=rng.randrange(12000))).isoformat(),
            "admitted_on": (today - timedelta(days=366 + rng.randrange(400))).isoformat(),
            "level_of_care": "maintenance",
        }
        for i in range(n)
    ]


def _orders(patient: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    admitted = date.fromisoformat(patient["admitted_on"])
    first = {
        "patient_mrn": patient["mrn"],
        "prescribed_by": "Dr. Bench (previous program)",
        "medication": "METH-10MGML",
        "kind": "maintenance",
        "start_date": admitted.isoformat(),
        "end_date": (admitted + timedelta(days=29)).isoformat(),
        "dose_mg": 30,
    }
    then = {**first, "start_date": (admitted + timedelta(days=30)).isoformat()}
    del then["end_date"]
    then["dose_mg"] = 60 + 5 * rng.randrange(13)
    if rng.random() < 0.5:
        then["take_home"] = {
            "weekdays": ["sun"],
            "criteria": CRITERIA,
            "rationale": "Stable; lock box seen.",
        }
    return [first, then]


def _write(out: TextIO, section: str, rows: Any, first_section: bool) -> None:
    out.write(("" if first_section else ",\n") + f'"{section}": [\n')
    for n, row in enumerate(rows):
        out.write(("" if n == 0 else ",\n") + json.dumps(row))
    out.write("\n]")


def write_body(path: Path, patients: int, today: date) -> int:
    """The import file; returns the number of doses in it."""
    rng = random.Random(SEED)
    rows = _patient_rows(rng, patients, today)
    orders = {p["mrn"]: _orders(p, rng) for p in rows}
    first_day = today - timedelta(days=365)
    doses = 0

    def dose_rows() -> Any:
        nonlocal doses
        for p in rows:
            mrn, maintenance = p["mrn"], orders[p["mrn"]][1]
            day = first_day
            while day < today:
                if rng.random() >= 0.08:  # about one day in twelve missed
                    home = "take_home" in maintenance and day.weekday() == 6
                    doses += 1
                    yield {
                        "patient_mrn": mrn,
                        "date": day.isoformat(),
                        "medication": "METH-10MGML",
                        "amount_mg": maintenance["dose_mg"],
                        "mode": "take_home" if home else "observed",
                    }
                day += timedelta(days=1)

    def screen_rows() -> Any:
        for p in rows:
            day = first_day + timedelta(days=rng.randrange(45))
            while day < today:
                yield {
                    "patient_mrn": p["mrn"],
                    "collected_on": day.isoformat(),
                    "results": {"methadone": "positive", "opiates": "negative"},
                }
                day += timedelta(days=45)

    with path.open("w") as out:
        out.write('{"source": "bench: a generated year of history", "dry_run": false,\n')
        _write(out, "patients", rows, True)
        _write(out, "orders", (o for p in rows for o in orders[p["mrn"]]), False)
        _write(out, "doses", dose_rows(), False)
        _write(out, "drug_screens", screen_rows(), False)
        out.write("}\n")
    return doses


def _flask(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "flask", "--app", "mat", *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=1500)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    args = parser.parse_args()
    name = f"mat_bench_import_{os.getpid()}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    env = {
        **os.environ,
        "MAT_DATABASE_URL": f"{PG.replace('postgresql://', 'postgresql+psycopg://')}/{name}",
        "MAT_SECRET_KEY": "bench-only-not-a-secret",
    }
    try:
        _flask(env, "db", "upgrade")
        _flask(env, "user", "create", "bench-admin", "--full-name", "Bench Admin",
               "--initials", "BA", "--role", "admin", "--password-stdin",
               stdin="bench-admin-password-1234\n")  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "history.json"
            doses = write_body(path, args.patients, datetime.now(UTC).date())
            size = path.stat().st_size / 1e6
            print(f"file: {args.patients} patients, {doses} doses, {size:.0f} MB")
            log = Path(folder) / "import.log"
            started = time.perf_counter()
            with log.open("w") as out:  # a file, not a pipe: thousands of warning lines
                child = subprocess.Popen(  # noqa: S603 (our own command line)
                    [sys.executable, "-m", "flask", "--app", "mat", "import", "history",
                     str(path), "--by", "bench-admin"],
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
                _pid, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
            lines = log.read_text().strip().splitlines()
        print(lines[-1] if lines else "(no output)")
        peak_mb = usage.ru_maxrss / 1024  # kB on Linux: the import process alone
        code = os.waitstatus_to_exitcode(status)
        print(f"exit {code}; {seconds:.0f} s; peak RSS {peak_mb:.0f} MB")
    finally:
        if not args.keep:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
