"""A dosing window through crashes: gunicorn on PostgreSQL, a worker and then the whole server
killed with SIGKILL in the middle of a stream of observed doses.

Several nurses' windows (threads) record one observed dose per patient, each with its own
Idempotency-Key, and send the same request again when the connection fails (as the window's
client must: it cannot know whether the dose was stored). Mid-stream one worker is killed, then
the master and its workers, and gunicorn is started again; the stream goes on. At the end:
every patient has exactly one dose, every answer was the dose (201, or 200 when a retry found
the first attempt stored), every dose has its ``dose.observed`` audit event and every such event
its dose, and ``flask audit verify`` passes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mat import create_app
from mat.db_cli import bind_migrations
from mat.extensions import db
from tests.support import gunicorn, pg

PATIENTS = 80
WINDOWS = 4
KILL_WORKER_AFTER, KILL_SERVER_AFTER = 20, 45
RETRY_FOR_SECONDS = 30


def _seed(url: str) -> tuple[str, list[int]]:
    """Migrate, then a nurse, a prescriber, and patients with a maintenance order from today
    (signed through the API, in process). The wall clock: gunicorn has no test clock."""
    from flask_migrate import upgrade

    from mat.clock import clinic_today
    from tests.support.factories import Factory

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    bind_migrations(app)
    with app.app_context():
        upgrade()
        factory = Factory(app)
        nurse, doctor = factory.user("nurse"), factory.user("prescriber")
        today = clinic_today()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {factory.token(doctor)}"}
        ids = []
        for _ in range(PATIENTS):
            patient = factory.patient(admitted_on=today - timedelta(days=20))
            order = {"medication": "METH-10MGML", "kind": "maintenance",
                     "start_date": today.isoformat(), "dose_mg": 40}  # fmt: skip
            response = client.post(
                f"/api/v1/patients/{patient.id}/orders", json=order, headers=headers
            )
            assert response.status_code == 201, response.get_json()
            ids.append(patient.id)
        token = factory.token(nurse)
        db.session.remove()
        db.engine.dispose()
    return token, ids


class Windows:
    """Threads that record one dose per patient, retrying connection failures with the same
    Idempotency-Key, and count what they did."""

    def __init__(self, port: int, token: str, patient_ids: list[int]) -> None:
        self.port, self.token = port, token
        self.todo: queue.Queue[int] = queue.Queue()
        for patient_id in patient_ids:
            self.todo.put(patient_id)
        self.answers: dict[int, tuple[int, Any]] = {}
        self.retries = 0
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(WINDOWS)]

    @property
    def done(self) -> int:
        with self.lock:
            return len(self.answers)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=RETRY_FOR_SECONDS * 2)

    def _run(self) -> None:
        while True:
            try:
                patient_id = self.todo.get_nowait()
            except queue.Empty:
                return
            try:
                answer = self._give(patient_id)
            except Exception as exc:  # reported by the test
                with self.lock:
                    self.errors.append(f"patient {patient_id}: {exc!r}")
                continue
            with self.lock:
                self.answers[patient_id] = answer

    def _give(self, patient_id: int) -> tuple[int, Any]:
        body = json.dumps({"amount_mg": 40})
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"fault-test-{patient_id}",
        }
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            try:
                connection.request(
                    "POST", f"/api/v1/patients/{patient_id}/doses", body=body, headers=headers
                )
                response = connection.getresponse()
                return response.status, json.loads(response.read() or b"null")
            except (OSError, http.client.HTTPException):
                # Refused, reset or cut off mid-answer: the dose may or may not be stored.
                # The same request with the same key finds out.
                if time.monotonic() > deadline:
                    raise
                with self.lock:
                    self.retries += 1
                time.sleep(0.1)
            finally:
                connection.close()


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _wait_for(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.postgres
@pytest.mark.slow
def test_doses_survive_killed_workers_and_a_killed_server(tmp_path: Path) -> None:
    pg.require()
    name = pg.create_database(f"mat_fault_{os.getpid()}")
    url = pg.url(name)
    log = tmp_path / "gunicorn.log"
    server = None
    try:
        token, patient_ids = _seed(url)
        port = gunicorn.free_port()
        server = gunicorn.start(url, port, workers=2, log=log)
        _wait_for(lambda: len(_workers(server.pid)) == 2, "two workers")
        windows = Windows(port, token, patient_ids)
        windows.start()

        _wait_for(lambda: windows.done >= KILL_WORKER_AFTER, "the first doses")
        os.kill(_workers(server.pid)[0], signal.SIGKILL)  # gunicorn starts a new worker

        _wait_for(lambda: windows.done >= KILL_SERVER_AFTER, "more doses")
        workers = _workers(server.pid)
        os.kill(server.pid, signal.SIGKILL)  # the master first, then what it left behind
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):  # it may have gone already
                os.kill(pid, signal.SIGKILL)
        server.wait(timeout=10)
        server = gunicorn.start(url, port, workers=2, log=log)

        windows.join()
        assert windows.errors == []
        assert windows.retries >= 1  # the crashes were felt
        statuses = {status for status, _ in windows.answers.values()}
        assert statuses <= {200, 201}, windows.answers
        assert sorted(windows.answers) == sorted(patient_ids)
    finally:
        if server is not None:
            gunicorn.stop(server)

    try:
        _check_the_record(name, windows)
    finally:
        pg.drop_database(name)


def _check_the_record(name: str, windows: Windows) -> None:
    with psycopg.connect(f"{pg.BASE}/{name}") as conn:
        per_patient = dict(
            conn.execute("SELECT patient_id, count(*) FROM doses GROUP BY patient_id").fetchall()
        )
        assert per_patient == dict.fromkeys(windows.answers, 1)  # no double dose, none missing
        stored = dict(conn.execute("SELECT patient_id, id FROM doses").fetchall())
        for patient_id, (_, body) in windows.answers.items():
            assert body["id"] == stored[patient_id]  # a replayed answer names the stored dose
        without_event = conn.execute(
            "SELECT d.id FROM doses d WHERE NOT EXISTS (SELECT 1 FROM audit_events e "
            "WHERE e.action = 'dose.observed' AND e.entity_id = d.id::text)"
        ).fetchall()
        assert without_event == []
        without_dose = conn.execute(
            "SELECT e.id FROM audit_events e WHERE e.action = 'dose.observed' AND NOT EXISTS "
            "(SELECT 1 FROM doses d WHERE d.id::text = e.entity_id)"
        ).fetchall()
        assert without_dose == []

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": pg.url(name)})
    try:
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("ok ")
    finally:
        with app.app_context():
            db.engine.dispose()
