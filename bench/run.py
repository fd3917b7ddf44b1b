"""``make bench``: mat beside a trivial Flask app, on one scratch database, in one run.

    python -m bench.run [--scale small|full|tiny] [--engine postgresql|sqlite] [--seconds 6]

Steps: a scratch database (PostgreSQL on 127.0.0.1:5432 when it answers, else SQLite; override
with MAT_BENCH_PG), migrated by ``flask db upgrade``; the clinic written by ``bench.generate``;
statements per request counted in-process (an engine event, as the tests count them) and, on
PostgreSQL, the EXPLAIN (ANALYZE) of the hot queries kept in bench/explain/; then gunicorn (2 sync
workers, ``-c python:mat.gunicorn_conf``) serving mat and, beside it, the trivial app
(bench/trivial_app.py), both driven by ``wrk`` (bench/lua/; each read figure is the median of
three runs); CPU per request is the workers' CPU time (``/proc/<pid>/stat``) before and after,
divided by the requests. The command-line exports
and ``audit verify`` run as child processes measured alone (``os.wait4``: time, peak RSS).
Writes bench/results/<date>.json and prints the table (``bench.table``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.inprocess import in_process
from bench.processes import (
    BENCH,
    CONNECTIONS,
    ROOT,
    SECRET,
    THREADS,
    Server,
    app_env,
    child,
    compile_bytecode,
    fetch,
    flask,
    log_args,
    wrk,
    wrk_interleaved,
    wrk_median,
)

PG = os.environ.get("MAT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
MAT_PORT, TRIVIAL_PORT = 18461, 18462
PLAN_PATH = "/api/v1/patients/%d/dose-plan"


# --------------------------------------------------------------------------------------------
# the scratch database


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def scratch_database(engine: str, folder: Path, suffix: str = "") -> tuple[str, Any]:
    """The database URL and a function that drops it."""
    if engine == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None
    import psycopg

    name = f"mat_bench_{os.getpid()}{suffix}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return f"{PG.replace('postgresql://', 'postgresql+psycopg://')}/{name}", drop


# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "small"))
    parser.add_argument("--engine", choices=("postgresql", "sqlite"), default=None)
    parser.add_argument("--seconds", type=float, default=6.0, help="Each read run of wrk.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (Debian)")
    engine = args.engine or ("postgresql" if pg_available() else "sqlite")
    if args.scale == "full" and engine != "postgresql":
        sys.exit("the full scale needs PostgreSQL")
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "engine": engine,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "load": {
            "tool": "wrk",
            "threads": THREADS,
            "connections": CONNECTIONS,
            "seconds": args.seconds,
        },
    }
    # Other work on the machine skews every number: the load averages say how busy it was.
    results["machine"]["load_before"] = [round(x, 2) for x in os.getloadavg()]
    results["machine"]["bytecode_compiled"] = compile_bytecode()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url, drop = scratch_database(engine, folder)
        env = app_env(url)
        os.environ.update(MAT_DATABASE_URL=url, MAT_SECRET_KEY=SECRET)
        try:
            run(results, env, folder, args.scale, engine, args.seconds)
        finally:
            if not args.keep:
                drop()
    results["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    out = BENCH / "results" / f"{datetime.now(UTC).date().isoformat()}-{args.scale}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    from bench.table import render

    print(render(results))
    print(f"\nwritten: {out.relative_to(ROOT)}")


def run(
    results: dict[str, Any],
    env: dict[str, str],
    folder: Path,
    scale: str,
    engine: str,
    seconds: float,
) -> None:
    sys.path.insert(0, str(ROOT))
    found = in_process(scale, engine, explain=engine == "postgresql")
    tokens, due = found.pop("tokens"), found.pop("due")
    results.update(found)
    settle(env["MAT_DATABASE_URL"])
    patients = results["clinic"]["patients"]
    compare = comparison_clinic(engine, folder, scale) if scale != "tiny" else None
    from sqlalchemy import create_engine

    from bench import trivial_app

    trivial_app.metadata.create_all(create_engine(env["MAT_DATABASE_URL"]))
    mat = Server(env, "mat:create_app()", MAT_PORT, folder / "mat.log")
    trivial = Server(env, "bench.trivial_app:app", TRIVIAL_PORT, folder / "trivial.log")
    servers = [mat, trivial]
    load: dict[str, Any] = {}
    try:
        mat.warm("/login")
        trivial.warm("/health")
        nurse = tokens["nurse"]
        plans = {"BENCH_TOKEN": nurse, "BENCH_PATH": PLAN_PATH, "BENCH_PATIENTS": str(patients)}
        if compare is None:
            load["mat_dose_plan"] = wrk_median(mat, "get.lua", seconds, **plans)
        else:
            # The history ratio: both clinics' plans in turn (wrk_interleaved says why).
            log = compare.folder / "mat.log"
            other = Server(compare.env, "mat:create_app()", MAT_PORT + 2, log)
            servers.append(other)
            other.warm("/login")
            load["mat_dose_plan"], compare.plans = wrk_interleaved(
                [(mat, plans), (other, compare.wrk_env)], "get.lua", seconds
            )
        load["trivial_query"] = wrk_median(
            trivial, "get.lua", seconds, BENCH_PATH="/patients/%d", BENCH_PATIENTS=str(patients)
        )
        load["mat_login_page"] = wrk_median(mat, "get.lua", seconds / 2, BENCH_PATH="/login")
        load["mat_me"] = wrk_median(
            mat, "get.lua", seconds / 2, BENCH_TOKEN=nurse, BENCH_PATH="/api/v1/me"
        )
        load["trivial_health"] = wrk_median(trivial, "get.lua", seconds / 2, BENCH_PATH="/health")
        doses_file = folder / "doses.txt"
        doses_file.write_text("".join(f"{pid} {amount}\n" for pid, amount in due))
        # One connection a thread: a thread stops when its share of the patients is dosed
        # with nothing in flight. The rate comes from the database: the rows' own instants.
        posting = max(3.0, len(due) / 25 + 2)
        url = env["MAT_DATABASE_URL"]
        # The read runs above staged every dose plan they read (about 15,000 at full scale).
        # A clinic seals on a timer (`flask audit seal`, README) long before so many pile up;
        # left staged, the first dose of the run sealed them all under the chain's lock (1 s,
        # the dose run's p99). Sealed here as the timer would, and timed apart.
        results["seal_after_reads"] = seal_backlog(env)
        doses_before, events_before = max_id(url, "doses"), max_id(url, "bench_trivial_events")
        load["mat_record_dose"] = wrk(
            mat, "post_dose.lua", posting, THREADS, BENCH_TOKEN=nurse, BENCH_DOSES=str(doses_file)
        )
        load["mat_record_dose"]["patients_asked"] = len(due)
        load["mat_record_dose"].update(insert_rate(url, "doses", "dispensed_at", doses_before))
        load["trivial_insert"] = wrk(
            trivial,
            "post_dose.lua",
            posting,
            THREADS,
            BENCH_TOKEN="-",  # noqa: S106 (the trivial app asks for none)
            BENCH_DOSES=str(doses_file),
            BENCH_PATH="/events/%d",
        )
        load["trivial_insert"].update(insert_rate(url, "bench_trivial_events", "at", events_before))
        results["double_doses"] = double_doses(env["MAT_DATABASE_URL"])
        # audit export, a year as JSON: the worker's peak RSS growth
        today = datetime.now(UTC).date()
        year = f"from={(today - timedelta(days=365)).isoformat()}&to={today.isoformat()}"
        before = mat.memory_mb("VmRSS")
        started = time.perf_counter()
        status, size = fetch(f"http://127.0.0.1:{MAT_PORT}/api/v1/audit?{year}", tokens["auditor"])
        after = mat.memory_mb("VmHWM")
        results["audit_export_json_year"] = {
            "status": status,
            "mb": round(size / 1e6, 1),
            "seconds": round(time.perf_counter() - started, 2),
            # the worker that answered: the one whose peak grew most past its size before
            "worker_growth_mb": round(max(after[p] - before.get(p, after[p]) for p in after), 1),
        }
        # audit verify through the API (a worker's timeout is 30 s: the 500)
        started = time.perf_counter()
        status, size = fetch(f"http://127.0.0.1:{MAT_PORT}/api/v1/audit/verify", tokens["auditor"])
        results["audit_verify_api"] = {
            "status": status,
            "seconds": round(time.perf_counter() - started, 2),
        }
    finally:
        for server in servers:
            server.stop()
        if compare is not None:
            compare.drop()
    results["load"]["runs"] = load
    results["cli"] = cli_measures(env, folder)
    if compare is not None:
        results["history_ratio"] = compare.ratio(load["mat_dose_plan"])


def settle(url: str) -> None:
    """PostgreSQL: VACUUM ANALYZE the freshly generated clinic, then CHECKPOINT, before it is
    served. A clinic in use has long been vacuumed and analysed; right after a bulk load of a
    million rows, autovacuum and autoanalyze run on the other core during the measured runs
    (the full scale's dose plan p99 was 1.56x the small clinic's, whose few rows need no
    vacuum). The vacuum itself writes every page it freezes: without the checkpoint, the
    checkpointer flushed those pages during the measured runs and every commit's fsync waited
    behind it (p99 56 ms against a p50 of 7.6 ms)."""
    if not url.startswith("postgresql"):
        return
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


@dataclass
class Comparison:
    """The clinic the history ratio compares the main one with: its database, its server's
    environment, and the dose plans measured on it (``wrk_interleaved``)."""

    folder: Path
    env: dict[str, str]
    drop: Callable[[], None]
    found: dict[str, Any]
    plans: dict[str, Any] = field(default_factory=dict)

    @property
    def wrk_env(self) -> dict[str, str]:
        patients = str(self.found["clinic"]["patients"])
        return {
            "BENCH_TOKEN": self.found["tokens"]["nurse"],
            "BENCH_PATH": PLAN_PATH,
            "BENCH_PATIENTS": patients,
        }

    def ratio(self, big: dict[str, Any]) -> dict[str, Any]:
        """The main clinic's dose plan p99 over this one's: what the size of the tables costs."""
        clinic = self.found["clinic"]
        return {
            "compare_clinic": clinic,
            "compare_dose_rows": clinic["imported_doses"] + clinic["service_doses"],
            "compare_p99_ms": self.plans["p99_ms"],
            "main_p99_ms": big["p99_ms"],
            "ratio": round(big["p99_ms"] / self.plans["p99_ms"], 2)
            if self.plans["p99_ms"]
            else None,
            "compare_runs": self.plans["runs"],
        }


def comparison_clinic(engine: str, folder: Path, scale: str) -> Comparison:
    """A clinic of about 10,000 dose rows whose patients have the same length of history as the
    main clinic's (fewer of them), so only the number of rows differs; generated and settled
    before anything is measured, and served beside the main one."""
    from bench.generate import SIZES, Size

    main = SIZES[scale]
    size = Size(max(3, 10_000 // main.days), main.days, 2, 5_000)
    saved = os.environ["MAT_DATABASE_URL"]
    other = folder / "compare"
    other.mkdir()
    url, drop = scratch_database(engine, other, suffix="cmp")
    os.environ["MAT_DATABASE_URL"] = url
    try:
        found = in_process(size, engine, explain=False, only_tokens=True)
        settle(url)
    except BaseException:
        drop()
        raise
    finally:
        os.environ["MAT_DATABASE_URL"] = saved
    return Comparison(other, app_env(url), drop, found)


def max_id(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as conn:
        return int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one())  # noqa: S608


def insert_rate(url: str, table: str, column: str, after_id: int) -> dict[str, Any]:
    """The rows written by a run (ids past ``after_id``) and their rate between the first and
    the last one's own instant."""
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as conn:
        instants = sorted(
            conn.execute(
                text(f"SELECT {column} FROM {table} WHERE id > :after"),  # noqa: S608
                {"after": after_id},
            ).scalars()
        )
    # SQLite answers a raw query's timestamps as text
    instants = sorted(datetime.fromisoformat(x) if isinstance(x, str) else x for x in instants)
    if len(instants) < 2:
        return {"rows": len(instants), "rows_per_s": None}
    span = (instants[-1] - instants[0]).total_seconds()
    rate = (len(instants) - 1) / span if span > 0 else None
    return {"rows": len(instants), "rows_per_s": None if rate is None else round(rate, 1)}


def double_doses(url: str) -> int:
    """Slots with more than one dose that counts (no correction) for one patient and day."""
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT d.patient_id FROM doses d "
                    "LEFT JOIN dose_corrections c ON c.dose_id = d.id WHERE c.id IS NULL "
                    "GROUP BY d.patient_id, d.service_date, d.slot HAVING count(*) > 1) x"
                )
            ).scalar_one()
        )


def dispensing_log(
    env: dict[str, str], since: str, today: date, fmt: str, output: Path
) -> dict[str, Any]:
    """``flask report dispensing-log`` from ``since`` to ``today`` into ``output``, measured."""
    return flask(env, *log_args(since, today.isoformat(), fmt, output))


def seal_backlog(env: dict[str, str]) -> dict[str, Any]:
    """``flask audit seal``: how many staged reads it chained, and how long it took."""
    sealed = flask(env, "audit", "seal")
    match = re.search(r"sealed (\d+) reads", sealed["output"])
    sealed["reads"] = int(match.group(1)) if match else None
    sealed.pop("output", None)
    return sealed


def cli_measures(env: dict[str, str], folder: Path) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    found: dict[str, Any] = {}
    verify = flask(env, "audit", "verify")
    match = re.search(r"ok (\d+) events", verify["output"])
    events = int(match.group(1)) if match else 0
    verify["events"] = events
    verify["seconds_per_million"] = round(verify["seconds"] * 1e6 / max(events, 1), 1)
    found["audit_verify"] = verify
    found["cli_startup"] = flask(env, "--help")
    startup = found["cli_startup"]["seconds"]
    verify["seconds_per_million_past_startup"] = round(
        max(verify["seconds"] - startup, 0) * 1e6 / max(events, 1), 1
    )
    month = (today - timedelta(days=30)).isoformat()
    year = (today - timedelta(days=365)).isoformat()
    pdf = folder / "log.pdf"
    found["log_pdf_month"] = dispensing_log(env, month, today, "pdf", pdf)
    csv_file = folder / "log.csv"
    found["log_csv_year"] = dispensing_log(env, year, today, "csv", csv_file)
    month_csv = folder / "month.csv"
    dispensing_log(env, month, today, "csv", month_csv)
    rows = max(len(month_csv.read_text().splitlines()) - 1, 0) if month_csv.exists() else 0
    found["log_pdf_month"]["rows"] = rows
    found["raw_reportlab_pdf_month"] = child(
        env, sys.executable, "-m", "bench.raw_pdf", str(month_csv), str(folder / "raw.pdf")
    )
    embedded = str(folder / "raw_embedded.pdf")
    found["raw_reportlab_pdf_month_embedded"] = child(
        env, sys.executable, "-m", "bench.raw_pdf", str(month_csv), embedded, "--embedded"
    )
    for value in found.values():
        value.pop("output", None)
    return found


if __name__ == "__main__":
    main()
