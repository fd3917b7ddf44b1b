"""The requests bench/plan_instructions.py counts under valgrind are real answers of the app: a
dose plan, ``/me`` and a recorded dose (one a patient due today, with its own key), and a
refusal stops the count instead of being counted; the trivial app's bare insert, the dose's
baseline, writes its row; the plan's floor (``bench.plan_floor``) sends the plan's own statements
and answers its JSON. The count itself needs valgrind and PostgreSQL and a minute, so it is
the bench's, not the suite's."""

from __future__ import annotations

import importlib
import sys

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from bench.generate import PASSWORD, SIZES, generate
from bench.inprocess import due_today
from bench.plan_floor import floor_app, floor_in_mat, plan_statements
from bench.plan_instructions import PATHS, requests
from mat.audit.models import StagedRead
from mat.dosing.models import Dose
from mat.extensions import db

pytestmark = pytest.mark.slow


def _token(client: FlaskClient) -> str:
    answer = client.post("/api/v1/tokens", json={"username": "bench-nurse", "password": PASSWORD})
    assert answer.status_code == 201
    return str(answer.get_json()["token"])


def _doses() -> int:
    return db.session.scalar(select(func.count()).select_from(Dose)) or 0


def test_the_counted_requests_are_answered_and_doses_recorded(
    app: Flask, client: FlaskClient
) -> None:
    generate(app, SIZES["tiny"])
    token = _token(client)
    due = due_today(client, token, SIZES["tiny"].patients)
    assert due, "the tiny clinic leaves today undosed"
    requests(client, token, "plan", due * 2)
    requests(client, token, "me", due)
    before = _doses()
    requests(client, token, "dose", due[:1])
    assert _doses() == before + 1
    assert due_today(client, token, SIZES["tiny"].patients) == due[1:]


def test_a_refused_request_stops_the_count(app: Flask, client: FlaskClient) -> None:
    generate(app, SIZES["tiny"])
    token = _token(client)
    (patient, amount), (other, _) = due_today(client, token, SIZES["tiny"].patients)[:2]
    before = _doses()
    with pytest.raises(SystemExit, match="422"):  # not the amount the order plans
        requests(client, token, "dose", [(other, "999")])
    with pytest.raises(SystemExit, match="401"):
        requests(client, "not-a-token", "plan", [(patient, amount)])
    assert _doses() == before


def test_the_counted_inserts_are_the_trivial_apps_rows(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAT_DATABASE_URL", database_url)
    name = "bench.trivial_app"  # its engine is made on import, from MAT_DATABASE_URL
    trivial = (
        importlib.reload(sys.modules[name])
        if name in sys.modules
        else importlib.import_module(name)
    )
    trivial.metadata.create_all(trivial.engine)
    try:
        requests(trivial.app.test_client(), "", "insert", [(1, "0"), (2, "0"), (1, "0")])
        with trivial.engine.connect() as conn:
            rows = conn.execute(text("SELECT patient_id FROM bench_trivial_events")).scalars()
            assert sorted(rows) == [1, 1, 2]
    finally:
        trivial.engine.dispose()


@pytest.mark.parametrize("what", ["floor-core", "floor-driver", "floor-mat"])
def test_the_plans_floor_sends_the_plans_own_statements(
    app: Flask, client: FlaskClient, what: str
) -> None:
    inside = floor_in_mat(app) if what == "floor-mat" else None  # before its first request
    generate(app, SIZES["tiny"])
    token = _token(client)
    patient, amount = due_today(client, token, SIZES["tiny"].patients)[0]
    statements, answer = plan_statements(app, client, token, patient)
    assert answer["status"] == "due" and answer["dose_mg"] is not None
    sent = " ".join(statement for statement, _ in statements)
    for table in ("api_tokens", "orders", "audit_staged_reads"):  # the token, orders, the read
        assert table in sent
    if inside is not None:
        inside.statements, inside.answer = statements, answer
        floor = client
    else:
        floor = floor_app(app, statements, answer, driver=what == "floor-driver").test_client()
    staged = db.session.scalar(select(func.count()).select_from(StagedRead))
    requests(floor, token, what, [(patient, amount)] * 3)
    db.session.rollback()  # a fresh look at what the floor's own connection committed
    # Each request sent the plan's statements again, its staged read included, and committed.
    assert db.session.scalar(select(func.count()).select_from(StagedRead)) == staged + 3
    replayed = floor.get(PATHS[what].format(patient=patient))
    assert replayed.get_json() == answer
    # Inside mat, mat's hooks ran around the floor's route (the security headers are theirs).
    assert ("frame-ancestors" in replayed.headers.get("Content-Security-Policy", "")) == (
        inside is not None
    )
