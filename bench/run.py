"""``make bench``: mat beside a trivial Flask app, on one scratch database, in one run.

    python -m bench.run [--scale small|full|tiny] [--engine postgresql|sqlite] [--seconds 8]

Steps: a scratch database (PostgreSQL on 127.0.0.1:5432 when it answers, else SQLite; override
with MAT_BENCH_PG), migrated by ``flask db upgrade``; the clinic written by ``bench.generate``;
statements per request counted in-process (an engine event, as the tests count them) and, on
PostgreSQL, the EXPLAIN (ANALYZE) of the hot queries kept in bench/explain/; then gunicorn (2 sync
workers, ``-c python:mat.gunicorn_conf``) serving mat and, beside it, the trivial app
(bench/trivial_app.py), both driven by ``wrk`` (bench/lua/); CPU per request is the workers' CPU
time (``/proc/<pid>/stat``) before and after, divided by the requests. The command-line exports
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
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG = os.environ.get("MAT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
SECRET = "bench-only-secret-key-not-for-production-0123456789"  # noqa: S105 (a scratch server)
THREADS, CONNECTIONS = 2, 4
MAT_PORT, TRIVIAL_PORT = 18461, 18462
WRK = shutil.which("wrk") or "wrk"


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


def child(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run a command alone (through bench/measure.py): wall time, peak RSS (MB), exit code and
    the end of its output."""
    with tempfile.TemporaryFile() as out:
        subprocess.run(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "bench.measure", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            check=False,
        )
        out.seek(0)
        text = out.read().decode(errors="replace")
    lines = text.strip().splitlines()
    found: dict[str, Any] = json.loads(lines[-1]) if lines else {"exit": None}
    found["output"] = "\n".join(lines[:-1])[-2000:]
    return found


def flask(env: dict[str, str], *args: str) -> dict[str, Any]:
    return child(env, sys.executable, "-m", "flask", "--app", "mat", *args)


# --------------------------------------------------------------------------------------------
# gunicorn and wrk


class Server:
    """gunicorn with 2 sync workers and mat's settings file, output to a log file."""

    def __init__(self, env: dict[str, str], app: str, port: int, log: Path) -> None:
        self.port = port
        self.log = log.open("w")
        self.proc = subprocess.Popen(  # noqa: S603 (our own command line)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:mat.gunicorn_conf",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{port}",
                app,
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if len(self.workers()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start on :{port}, see {log}")

    def warm(self, path: str) -> None:
        """Until both workers have loaded the app and answered (workers load it after fork)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30):
                    break
            except OSError:
                time.sleep(0.2)
        subprocess.run(  # noqa: S603 (wrk from the PATH, as the README installs it)
            [WRK, "-t", "2", "-c", "4", "-d", "2s", f"http://127.0.0.1:{self.port}{path}"],
            capture_output=True,
            check=False,
        )

    def workers(self) -> list[int]:
        found = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in found.read_text().split()] if found.exists() else []

    def cpu_seconds(self) -> float:
        """utime + stime of the workers (the master only supervises)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / ticks

    def memory_mb(self, key: str) -> dict[int, float]:
        """``VmRSS`` or ``VmHWM`` (peak) of each worker, by pid, in MB."""
        values = {}
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    values[pid] = int(line.split()[1]) / 1024
        return values

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wrk(
    server: Server, script: str, seconds: float, connections: int = CONNECTIONS, **env: str
) -> dict[str, Any]:
    """Drive ``server`` with wrk for ``seconds``; the JSON line of bench/lua/report.lua plus
    req/s and the workers' CPU per request."""
    full_env = {**os.environ, "BENCH_LUA": str(BENCH / "lua"), "BENCH_THREADS": str(THREADS), **env}
    before = server.cpu_seconds()
    done = subprocess.run(  # noqa: S603
        [
            WRK,
            "-t",
            str(THREADS),
            "-c",
            str(connections),
            "-d",
            f"{max(round(seconds), 1)}s",
            "--timeout",
            "35s",
            "-s",
            str(BENCH / "lua" / script),
            f"http://127.0.0.1:{server.port}",
        ],
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or "BENCH " not in done.stdout:
        raise RuntimeError(f"wrk failed: {done.stdout[-500:]} {done.stderr[-1000:]}")
    cpu = server.cpu_seconds() - before
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    found: dict[str, Any] = json.loads(line[6:])
    found["stderr"] = done.stderr[-600:]
    n = max(found["requests"], 1)
    found["req_per_s"] = round(found["requests"] / (found["duration_us"] / 1e6), 1)
    found["cpu_ms_per_request"] = round(cpu * 1000 / n, 3)
    found["p99_ms"] = round(found["p99_us"] / 1000, 2)
    found["p50_ms"] = round(found["p50_us"] / 1000, 2)
    return found


def fetch(url: str, token: str) -> tuple[int, int]:
    """GET ``url`` with a bearer token, reading the answer in chunks: (status, bytes). An error
    status (a worker killed at its timeout answers 502 or drops the connection) is a result
    here, not a failure of the run: status 0 for a dropped connection."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 (loopback)
            while chunk := answer.read(1 << 16):
                size += len(chunk)
            return answer.status, size
    except urllib.error.HTTPError as err:
        return err.code, size
    except (urllib.error.URLError, OSError):
        return 0, size


# --------------------------------------------------------------------------------------------
# in-process: statements, EXPLAIN, the patients to dose


def in_process(
    size_name: str | Any, engine: str, explain: bool, only_tokens: bool = False
) -> dict[str, Any]:
    """Generate the clinic, mint tokens, count statements, list today's due doses (not with
    ``only_tokens``)."""
    from flask_migrate import upgrade
    from sqlalchemy import event

    from bench.generate import PASSWORD, SIZES, generate
    from mat import create_app
    from mat.extensions import db

    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    summary = generate(app, SIZES[size_name] if isinstance(size_name, str) else size_name)
    out: dict[str, Any] = {
        "generate_seconds": round(time.perf_counter() - started, 1),
        "clinic": summary.__dict__,
    }
    client = app.test_client()

    def token(username: str) -> str:
        answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 201, answer.get_json()
        return str(answer.get_json()["token"])

    tokens = {name: token(f"bench-{name}") for name in ("nurse", "auditor", "admin")}
    if only_tokens:
        with app.app_context():
            db.engine.dispose()
        return {**out, "tokens": tokens}
    nurse = {"Authorization": f"Bearer {tokens['nurse']}"}
    due: list[tuple[int, str]] = []
    for patient_id in range(1, summary.patients + 1):
        plan = client.get(f"/api/v1/patients/{patient_id}/dose-plan", headers=nurse).get_json()
        if plan["status"] == "due" and plan["slot"] is not None:
            due.append((patient_id, str(plan["dose_mg"])))
    probe_id, probe_amount = due.pop()  # dosed here, in-process; the rest by wrk

    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    with app.app_context():
        db_engine = db.engine
    counts: dict[str, int] = {}
    captured: dict[str, list[tuple[str, Any]]] = {}
    calls = {
        "dose_plan": lambda: client.get(f"/api/v1/patients/{probe_id}/dose-plan", headers=nurse),
        "me": lambda: client.get("/api/v1/me", headers=nurse),
        "record_dose": lambda: client.post(
            f"/api/v1/patients/{probe_id}/doses",
            data=f'{{"amount_mg": {probe_amount}}}',
            headers={**nurse, "Idempotency-Key": "bench-probe", "Content-Type": "application/json"},
        ),
    }
    for name, call in calls.items():
        seen.clear()
        event.listen(db_engine, "before_cursor_execute", note)
        try:
            answer = call()
        finally:
            event.remove(db_engine, "before_cursor_execute", note)
        assert answer.status_code in (200, 201), (name, answer.get_json())
        counts[name] = len(seen)
        captured[name] = list(seen)
    out["statements"] = counts
    if explain:
        with app.app_context():
            write_explains(db_engine, captured)
    out["tokens"] = tokens
    out["due"] = due
    return out


SCRUB = re.compile(r"[A-Za-z0-9_\-]{32,}")


def write_explains(engine: Any, captured: dict[str, list[tuple[str, Any]]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT of the hot requests, in a transaction rolled
    back; long token-like strings scrubbed."""
    folder = BENCH / "explain"
    folder.mkdir(exist_ok=True)
    for name in ("dose_plan", "record_dose"):
        parts = []
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            for n, (statement, parameters) in enumerate(captured[name], 1):
                first = statement.lstrip().split(None, 1)[0].upper()
                parts.append(f"-- statement {n}\n{statement.strip()}\n")
                if first != "SELECT":
                    parts.append("(not a SELECT: not explained)\n")
                    continue
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                parts.append(plan + "\n")
            raw.rollback()
        text = SCRUB.sub("<scrubbed>", "\n".join(parts))
        (folder / f"{name}.txt").write_text(text)


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
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url, drop = scratch_database(engine, folder)
        env = {
            **os.environ,
            "MAT_DATABASE_URL": url,
            "MAT_SECRET_KEY": SECRET,
            "PYTHONPATH": str(ROOT),
        }
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
    patients = results["clinic"]["patients"]
    from sqlalchemy import create_engine

    from bench import trivial_app

    trivial_app.metadata.create_all(create_engine(env["MAT_DATABASE_URL"]))
    mat = Server(env, "mat:create_app()", MAT_PORT, folder / "mat.log")
    trivial = Server(env, "bench.trivial_app:app", TRIVIAL_PORT, folder / "trivial.log")
    load: dict[str, Any] = {}
    try:
        mat.warm("/login")
        trivial.warm("/health")
        nurse = tokens["nurse"]
        load["mat_dose_plan"] = wrk(
            mat,
            "get.lua",
            seconds,
            BENCH_TOKEN=nurse,
            BENCH_PATH="/api/v1/patients/%d/dose-plan",
            BENCH_PATIENTS=str(patients),
        )
        load["trivial_query"] = wrk(
            trivial, "get.lua", seconds, BENCH_PATH="/patients/%d", BENCH_PATIENTS=str(patients)
        )
        load["mat_login_page"] = wrk(mat, "get.lua", seconds / 2, BENCH_PATH="/login")
        load["mat_me"] = wrk(
            mat, "get.lua", seconds / 2, BENCH_TOKEN=nurse, BENCH_PATH="/api/v1/me"
        )
        load["trivial_health"] = wrk(trivial, "get.lua", seconds / 2, BENCH_PATH="/health")
        doses_file = folder / "doses.txt"
        doses_file.write_text("".join(f"{pid} {amount}\n" for pid, amount in due))
        # One connection a thread: a thread stops when its share of the patients is dosed
        # with nothing in flight. The rate comes from the database: the rows' own instants.
        posting = max(3.0, len(due) / 25 + 2)
        url = env["MAT_DATABASE_URL"]
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
        mat.stop()
        trivial.stop()
    results["load"]["runs"] = load
    results["cli"] = cli_measures(env, folder)
    if scale != "tiny":
        results["history_ratio"] = history_ratio(results, engine, folder, seconds, scale)


def history_ratio(
    results: dict[str, Any], engine: str, folder: Path, seconds: float, scale: str
) -> dict[str, Any]:
    """Dose plan p99 of a clinic with about 10,000 dose rows, served and driven the same way
    right after the main run: the main p99 over this one says what the size of the tables
    costs. Its patients have the same length of history as the main clinic's (fewer of them),
    so only the number of rows differs."""
    from bench.generate import SIZES, Size

    main = SIZES[scale]
    compare = Size(max(3, 10_000 // main.days), main.days, 2, 5_000)
    saved = os.environ["MAT_DATABASE_URL"]
    other = folder / "compare"
    other.mkdir()
    url, drop = scratch_database(engine, other, suffix="cmp")
    os.environ["MAT_DATABASE_URL"] = url
    env = {**os.environ, "MAT_SECRET_KEY": SECRET, "PYTHONPATH": str(ROOT)}
    try:
        found = in_process(compare, engine, explain=False, only_tokens=True)
        server = Server(env, "mat:create_app()", MAT_PORT + 2, other / "mat.log")
        try:
            server.warm("/login")
            small = wrk(server, "get.lua", seconds, BENCH_TOKEN=found["tokens"]["nurse"],
                        BENCH_PATH="/api/v1/patients/%d/dose-plan",
                        BENCH_PATIENTS=str(found["clinic"]["patients"]))  # fmt: skip
        finally:
            server.stop()
    finally:
        os.environ["MAT_DATABASE_URL"] = saved
        drop()
    big = results["load"]["runs"]["mat_dose_plan"]
    rows = found["clinic"]["imported_doses"] + found["clinic"]["service_doses"]
    return {
        "compare_clinic": found["clinic"],
        "compare_dose_rows": rows,
        "compare_p99_ms": small["p99_ms"],
        "main_p99_ms": big["p99_ms"],
        "ratio": round(big["p99_ms"] / small["p99_ms"], 2) if small["p99_ms"] else None,
    }


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
    found["log_pdf_month"] = flask(
        env,
        "report",
        "dispensing-log",
        "--from",
        month,
        "--to",
        today.isoformat(),
        "--format",
        "pdf",
        "--output",
        str(pdf),
    )
    csv_file = folder / "log.csv"
    found["log_csv_year"] = flask(
        env,
        "report",
        "dispensing-log",
        "--from",
        year,
        "--to",
        today.isoformat(),
        "--format",
        "csv",
        "--output",
        str(csv_file),
    )
    month_csv = folder / "month.csv"
    flask(
        env,
        "report",
        "dispensing-log",
        "--from",
        month,
        "--to",
        today.isoformat(),
        "--format",
        "csv",
        "--output",
        str(month_csv),
    )
    rows = max(len(month_csv.read_text().splitlines()) - 1, 0) if month_csv.exists() else 0
    found["log_pdf_month"]["rows"] = rows
    found["raw_reportlab_pdf_month"] = child(
        env, sys.executable, "-m", "bench.raw_pdf", str(month_csv), str(folder / "raw.pdf")
    )
    for value in found.values():
        value.pop("output", None)
    return found


if __name__ == "__main__":
    main()
