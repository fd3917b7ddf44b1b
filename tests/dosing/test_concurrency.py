"""Windows pressing "give" at the same moment: exactly one dose, on SQLite and on PostgreSQL.

Each thread is its own client with its own database connection, as two gunicorn workers are;
a barrier releases them together.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from mat.audit.verify import verify_chain
from mat.dosing.models import Dose
from mat.extensions import db
from tests.support import pg
from tests.support.checks import count

WINDOWS = 4


def _race(
    app: Flask, tokens: list[str], path: str, body: dict[str, Any], key: str | None
) -> list[int]:
    start = threading.Barrier(len(tokens))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def window(token: str) -> None:
        try:
            client = FlaskClient(app, app.response_class, use_cookies=False)
            headers = {"Authorization": f"Bearer {token}"}
            if key:
                headers["Idempotency-Key"] = key
            start.wait()
            statuses.append(client.post(path, json=body, headers=headers).status_code)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=window, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return sorted(statuses)


def test_simultaneous_doses_store_exactly_one(app, factory, patient, sign_order) -> None:
    sign_order(patient)
    nurses = [factory.user("nurse", username=f"window{n}") for n in range(WINDOWS)]
    tokens = [factory.token(n) for n in nurses]
    statuses = _race(app, tokens, f"/api/v1/patients/{patient.id}/doses", {"amount_mg": 40}, None)
    assert statuses == [201] + [409] * (WINDOWS - 1)
    assert count(Dose) == 1
    assert verify_chain().ok


def test_simultaneous_retries_of_one_request_answer_the_same_dose(
    app, factory, staff, patient, sign_order
) -> None:
    sign_order(patient)
    token = factory.token(staff["nurse"])
    statuses = _race(
        app, [token] * WINDOWS, f"/api/v1/patients/{patient.id}/doses", {"amount_mg": 40}, "tap-1"
    )
    assert statuses == [200] * (WINDOWS - 1) + [201]
    assert count(Dose) == 1


def test_simultaneous_take_homes_are_handed_out_once(
    app, api, factory, staff, patient, sign_order, take_home_criteria
) -> None:
    from tests.dosing.test_take_homes_api import SATURDAY, SUNDAY

    sign_order(patient, take_home={"weekdays": ["sat", "sun"], "criteria": take_home_criteria})
    api(
        "post",
        f"/api/v1/patients/{patient.id}/drug-screens",
        as_=staff["nurse"],
        json={"collected_on": "2026-11-16", "results": {"fentanyl": "negative"}},
    )
    nurses = [factory.user("nurse", username=f"th{n}") for n in range(WINDOWS)]
    tokens = [factory.token(n) for n in nurses]
    body = {"dates": [SATURDAY.isoformat(), SUNDAY.isoformat()]}
    statuses = _race(app, tokens, f"/api/v1/patients/{patient.id}/take-homes", body, None)
    assert statuses == [201] + [409] * (WINDOWS - 1)
    assert count(Dose) == 2


def test_a_twin_that_stored_its_key_first_is_replayed_not_a_server_error(
    app, factory, patient, sign_order, staff
) -> None:
    """Another app server holds this Idempotency-Key, uncommitted, when this request stores
    its answer: when that twin commits, the key's insert here fails on the unique key, and the
    answer is the twin's (replayed), not a 500; this copy's dose is rolled back with it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a second server's open transaction; SQLite has one writer at a time")
    sign_order(patient)
    nurse = staff["nurse"]
    path, body, key = f"/api/v1/patients/{patient.id}/doses", b'{"amount_mg": 40}', "tablet-7"
    fingerprint = hashlib.sha256(b"POST\0" + path.encode() + b"\0" + body + b"\0").hexdigest()
    headers = {
        "Authorization": f"Bearer {factory.token(nurse)}",
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }
    answers: list[Any] = []

    def window() -> None:
        client = FlaskClient(app, app.response_class, use_cookies=False)
        answers.append(client.post(path, data=body, headers=headers))

    with psycopg.connect(f"{pg.BASE}/{db.engine.url.database}") as twin:
        twin.execute(
            "INSERT INTO idempotent_requests (user_id, key, fingerprint, status, body, created_at)"
            " VALUES (%s, %s, %s, 201, %s, now())",
            (nurse.id, key, fingerprint, '{"id": "the twin\'s dose"}'),
        )
        thread = threading.Thread(target=window)
        thread.start()
        _wait_until_blocked_on_a_lock(db.engine.url.database)
        twin.commit()
        thread.join(timeout=30)
    assert not thread.is_alive() and len(answers) == 1
    (answer,) = answers
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Idempotent-Replayed"] == "true"
    assert answer.get_json() == {"id": "the twin's dose"}
    db.session.rollback()
    assert count(Dose) == 0  # this copy's dose went with its failed key


def _wait_until_blocked_on_a_lock(database: str | None) -> None:
    """Until a session of this database waits on a lock (the key's insert on the twin's row).
    Asked from a connection of its own: a transaction sees one snapshot of pg_stat_activity."""
    with psycopg.connect(f"{pg.BASE}/{database}", autocommit=True) as watcher:
        for _ in range(200):
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the request never waited on the twin's key")
