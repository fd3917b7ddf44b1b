"""A real gunicorn serving mat on a free local port, with the README's config file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    database_url: str, port: int, *, workers: int = 1, log: Path, extra: tuple[str, ...] = ()
) -> subprocess.Popen:
    """gunicorn -c python:mat.gunicorn_conf on 127.0.0.1:port; output appended to ``log``;
    ``extra``: more gunicorn options (they override the config file's)."""
    env = {
        **os.environ,
        "MAT_DATABASE_URL": database_url,
        "MAT_SECRET_KEY": os.environ.get("MAT_SECRET_KEY", "test-secret-key-not-for-production"),
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            [sys.executable, "-m", "gunicorn", "-c", "python:mat.gunicorn_conf",
             "--workers", str(workers), "--bind", f"127.0.0.1:{port}", *extra,
             "mat:create_app()"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    wait_ready(port, process)
    return process


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    """TERM the master (it stops its workers), KILL what is left after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
