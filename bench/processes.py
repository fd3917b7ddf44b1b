"""Child processes of the bench: commands measured alone, gunicorn servers, wrk runs.

A command runs through bench/measure.py (its own peak RSS, not the runner's); a server is
gunicorn with mat's settings file and 2 sync workers, whose CPU time and memory are read from
/proc; a wrk run prints one JSON line (bench/lua/report.lua) read back here.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
THREADS, CONNECTIONS = 2, 4
WRK = shutil.which("wrk") or "wrk"
SECRET = "bench-only-secret-key-not-for-production-0123456789"  # noqa: S105 (a scratch server)
FLASK = (sys.executable, "-m", "flask", "--app", "mat")


def app_env(url: str) -> dict[str, str]:
    """The environment of the bench's mat processes (servers, commands) on the database
    ``url``: this one's, with the bench's secret key and the bench importable from anywhere."""
    return {
        **os.environ,
        "MAT_DATABASE_URL": url,
        "MAT_SECRET_KEY": SECRET,
        "PYTHONPATH": str(ROOT),
    }


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


def compile_bytecode() -> bool:
    """mat's modules and the bench's compiled to bytecode before anything is measured, as a
    clinic's install has them: Python writes them on a module's first import, unless
    ``PYTHONDONTWRITEBYTECODE`` is set, as it is on the machines this bench has run on. There,
    every ``flask`` command the bench times compiled the ~160 modules it imports from source
    again: 0.93 G of the 4.50 G instructions of ``mat.create_app()`` (callgrind), which the raw
    reportlab floor, imported from the installed (compiled) reportlab, never paid. Whether it
    compiled everything (a file it cannot write is said in the output)."""
    import compileall

    return all(compileall.compile_dir(ROOT / name, quiet=1) for name in ("mat", "bench"))


def flask(env: dict[str, str], *args: str) -> dict[str, Any]:
    return child(env, *FLASK, *args)


def log_args(first: str, last: str, fmt: str, output: Path) -> list[str]:
    """``flask --app mat``'s arguments for the dispensing log of ``first`` to ``last``."""
    return [
        "report", "dispensing-log", "--from", first, "--to", last,
        "--format", fmt, "--output", str(output),
    ]  # fmt: skip


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


def wrk_median(server: Server, script: str, seconds: float, **env: str) -> dict[str, Any]:
    """Three runs of ``wrk``, back to back: each figure is the median of the three (the issue's
    figures are medians of three). On two cores shared by wrk, the workers and the database, one
    run's p99 can be a few slow requests behind a checkpoint or the other core's work; the
    median keeps one such run from being the number. Each run's figures are kept in ``runs``."""
    return median_of([wrk(server, script, seconds, **env) for _ in range(3)])


def wrk_interleaved(
    drives: list[tuple[Server, dict[str, str]]], script: str, seconds: float
) -> list[dict[str, Any]]:
    """``wrk_median`` of each (server, its wrk environment) of ``drives``, their runs taken in
    turn (first, second, first, second...) rather than three of one and then three of the
    other: a comparison of two servers then meets the machine's slow minutes on both sides.
    On the shared machines the bench runs on, ``mat``'s requests moved by a third between runs
    a minute apart, which three runs of one clinic and then three of another turned into a
    ratio between the clinics (the history ratio read 0.82x to 1.73x for the same code)."""
    rounds = [[wrk(server, script, seconds, **env) for server, env in drives] for _ in range(3)]
    return [median_of([round_[n] for round_ in rounds]) for n in range(len(drives))]


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Three runs' figures as one: each figure the median of the three, the run of the median
    p99 for the rest, and each run's figures in ``runs``."""
    found = dict(sorted(runs, key=lambda run: run["p99_us"])[1])
    for key in ("p99_ms", "p50_ms", "req_per_s", "cpu_ms_per_request"):
        found[key] = sorted(run[key] for run in runs)[1]
    found["runs"] = [
        {key: run[key] for key in ("p99_ms", "p50_ms", "req_per_s", "cpu_ms_per_request")}
        for run in runs
    ]
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
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        # a worker killed mid-stream cuts a chunked answer short: http.client's IncompleteRead
        return 0, size
