"""``flask audit verify`` over a million audit events: issue 10's goal (under 10 s a million).

    python -m bench.verify_scale [--events 1000000] [--runs 3] [--keep] [--url URL]

Makes a scratch PostgreSQL database (``MAT_BENCH_PG``, default 127.0.0.1:5432), migrates it
(``flask db upgrade``, in-process), writes a small clinic with ``bench.generate``: ``--events``
bulk ``patient.read`` events chained with ``mat.audit.chain`` itself, then the clinic's history
through the import service and two days of doses through the dosing services, so real chained
events with recorded rows (whose digests verify checks) and signed checkpoints follow the bulk;
then ``flask audit checkpoint`` signs one at the head. Then ``flask --app mat audit verify`` runs
``--runs`` times as a child process, each measured alone by ``os.wait4``: wall time, CPU (user +
system, its worker processes included: they are waited for) and peak RSS; the CLI's start-up
(``flask --app mat --help``) is measured the same way. Prints each run and the medians as JSON.

``--keep`` keeps the scratch database and prints its URL; ``--url`` measures an existing one
(nothing is written to it), so a change to verify can be measured again without regenerating.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.processes import ROOT, SECRET, app_env, compile_bytecode


def measured(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run ``flask --app mat ARGS`` alone: wall, user and system CPU, peak RSS, exit, output."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "flask", "--app", "mat", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "user_s": round(usage.ru_utime, 3),
        "sys_s": round(usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": os.waitstatus_to_exitcode(status),
        "output": text.strip()[-500:],
    }


def build(events: int) -> str:
    """A scratch database holding ``events`` bulk events and a small clinic after them (run in
    a child process: a measured command forked from a process that loaded the app would count
    the app's memory in its peak RSS until it execs)."""
    from flask_migrate import upgrade

    from bench.generate import Size, generate
    from bench.run import scratch_database
    from mat import create_app
    from mat.db_cli import bind_migrations
    from mat.extensions import db

    url, drop = scratch_database("postgresql", Path(tempfile.gettempdir()), suffix="verify")
    os.environ.update(MAT_DATABASE_URL=url, MAT_SECRET_KEY=SECRET)
    try:
        app = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
        bind_migrations(app)
        with app.app_context():
            upgrade()
        started = time.perf_counter()
        summary = generate(app, Size(patients=20, days=30, recent_days=2, read_events=events))
        print(
            f"generated in {time.perf_counter() - started:.0f} s: {summary.__dict__}",
            file=sys.stderr,
        )
        with app.app_context():
            db.engine.dispose()
    except BaseException:
        drop()
        raise
    return url


def built(events: int) -> str:
    """The URL of a database made by ``build`` in a child process."""
    found = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "bench.verify_scale", "--build-only", "--events", str(events)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return found.stdout.strip().splitlines()[-1]


def drop(url: str) -> None:
    import psycopg

    server, _, name = url.replace("postgresql+psycopg://", "postgresql://").rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="Bulk audit events.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--url", help="Measure this database instead of making one.")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.build_only:
        print(build(args.events))
        return
    url = args.url or built(args.events)
    env = app_env(url)
    compile_bytecode()  # the commands timed as an install runs them (bench.processes says why)
    try:
        if not args.url:
            print(measured(env, "audit", "checkpoint")["output"], file=sys.stderr)
        load_before = [round(x, 2) for x in os.getloadavg()]
        startup = [measured(env, "--help") for _ in range(args.runs)]
        runs = [measured(env, "audit", "verify") for _ in range(args.runs)]
        load_after = [round(x, 2) for x in os.getloadavg()]
    finally:
        if args.keep or args.url:
            print(f"database kept: {url}", file=sys.stderr)
        else:
            drop(url)
    match = re.search(r"ok (\d+) events", runs[-1]["output"])
    verified = int(match.group(1)) if match else 0

    def median(found: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(r[key] for r in found), 3)

    result = {
        "events": verified,
        "exits": [r["exit"] for r in runs],
        "load_before": load_before,
        "load_after": load_after,
        "runs": [{k: v for k, v in r.items() if k != "output"} for r in runs],
        "verify_median": {k: median(runs, k) for k in ("wall_s", "cpu_s", "peak_rss_mb")},
        "startup_median": {k: median(startup, k) for k in ("wall_s", "cpu_s", "peak_rss_mb")},
        "output": runs[-1]["output"],
    }
    past = {
        k: round(
            (result["verify_median"][k] - result["startup_median"][k]) * 1e6 / max(verified, 1), 2
        )
        for k in ("wall_s", "cpu_s")
    }
    result["seconds_per_million_past_startup"] = past
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
