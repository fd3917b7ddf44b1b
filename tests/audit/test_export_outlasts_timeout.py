"""A streamed export longer than gunicorn's worker timeout is not cut while it keeps sending
(mat.progress): a real gunicorn with a 1 s timeout serves an export that takes several
seconds. Before, the sync worker was killed mid-download (issue 10's full-scale bench: a year
of the trail cut at 30 s)."""

from __future__ import annotations

import http.client
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mat import create_app
from mat.db_cli import bind_migrations
from mat.extensions import db
from tests.audit.test_export_memory import insert_events
from tests.support import gunicorn

EVENTS = 150_000  # several seconds of streaming on this machine, against a 1 s timeout


def _seed(url: str) -> str:
    from flask_migrate import upgrade

    from tests.support.factories import Factory

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    bind_migrations(app)
    with app.app_context():
        upgrade()
        token = Factory(app).token(Factory(app).user("auditor"))
        insert_events(EVENTS, datetime.now(UTC) - timedelta(days=1))
        db.session.remove()
        db.engine.dispose()
    return token


@pytest.mark.slow
def test_a_download_longer_than_the_worker_timeout_is_not_cut(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mat.db'}"
    token = _seed(url)
    port = gunicorn.free_port()
    server = gunicorn.start(url, port, log=tmp_path / "gunicorn.log", extra=("--timeout", "1"))
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.monotonic()
        connection.request(
            "GET", "/api/v1/audit?from=2000-01-01&to=2099-12-31",
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        answer = connection.getresponse()
        assert answer.status == 200
        body = answer.read()  # http.client.IncompleteRead if the worker is killed mid-stream
        took = time.monotonic() - started
    finally:
        gunicorn.stop(server)
    events = json.loads(body)["events"]
    assert len(events) >= EVENTS
    # The point of the test: the download outlasted the timeout (a faster machine would need
    # more events for the test to mean anything, and says so here).
    assert took > 2, f"the export took {took:.1f} s: raise EVENTS"
    assert "WORKER TIMEOUT" not in (tmp_path / "gunicorn.log").read_text()
