"""The README's gunicorn settings file, through a real gunicorn."""

from __future__ import annotations

import http.client
import re
import time
from pathlib import Path

import pytest

from tests.support import gunicorn


@pytest.mark.slow
def test_each_worker_freezes_what_it_loaded(database_url: str, tmp_path: Path) -> None:
    """The app's long-lived objects leave the collector's sight once loaded (the dose plan's
    p99 was mostly full collections walking them), and the worker still answers."""
    log = tmp_path / "gunicorn.log"
    port = gunicorn.free_port()
    server = gunicorn.start(database_url, port, workers=2, log=log)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/login")
        assert connection.getresponse().status == 200
        connection.close()
        deadline = time.monotonic() + 30  # the second worker may still be loading the app
        while len(_frozen(log)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        gunicorn.stop(server)
    frozen = _frozen(log)
    assert len(frozen) == 2, log.read_text()
    assert all(n > 10_000 for n in frozen), frozen  # the app itself, not an empty freeze


def _frozen(log: Path) -> list[int]:
    return [int(n) for n in re.findall(r"froze (\d+) long-lived objects", log.read_text())]
