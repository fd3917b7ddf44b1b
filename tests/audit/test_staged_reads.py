"""Reads of the record are staged unchained, without the chain lock, and sealed into the chain in
order by the next write, a reader of the trail or ``flask audit seal`` (``mat.audit.staging``)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import time
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DatabaseError

from mat.audit.models import AuditEvent, StagedRead
from mat.audit.service import ADVISORY_LOCK_KEY
from mat.audit.staging import stage
from mat.audit.verify import verify_chain
from mat.extensions import db
from tests.audit.test_api import ALL_TIME, audit_events, csv_rows
from tests.conftest import TODAY
from tests.support import pg
from tests.support.checks import count
from tests.support.sealing import sealed

NEW_PATIENT = {
    "mrn": "W-1", "given_name": "Wren", "family_name": "Writer", "date_of_birth": "1980-01-01",
    "admitted_on": "2026-11-16", "level_of_care": "outpatient",
}  # fmt: skip


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def read(api: Any, user: Any, patient: Any) -> None:
    assert api("get", f"/api/v1/patients/{patient.id}", as_=user).status_code == 200


def test_a_read_is_staged_and_chained_only_when_sealed(api, staff, patient) -> None:
    before = count(AuditEvent)
    read(api, staff["nurse"], patient)
    assert count(AuditEvent) == before and count(StagedRead) == 1
    staged = db.session.scalars(select(StagedRead)).one()
    assert (staged.action, staged.patient_id, staged.username) == (
        "patient.read",
        patient.id,
        staff["nurse"].username,
    )
    assert sealed() == 1
    assert count(StagedRead) == 0 and actions()[-1] == "patient.read"
    assert sealed() == 0  # nothing left: a second seal writes nothing
    assert verify_chain().ok


def test_sealing_keeps_the_order_and_the_instants(api, staff, patient, factory, clock) -> None:
    other = factory.patient(mrn="B-2", family_name="Second")
    for minute, (user, who) in enumerate(
        [(staff["nurse"], patient), (staff["prescriber"], other), (staff["nurse"], other)]
    ):
        clock.set(TODAY, time(9, minute))
        read(api, user, who)
    staged = db.session.execute(
        select(StagedRead.at, StagedRead.patient_id, StagedRead.username).order_by(StagedRead.id)
    ).all()
    assert sealed() == 3
    chained = db.session.execute(
        select(AuditEvent.at, AuditEvent.patient_id, AuditEvent.username)
        .where(AuditEvent.action == "patient.read")
        .order_by(AuditEvent.id)
    ).all()
    assert chained == staged
    assert [at.minute for at, _, _ in chained] == [0, 1, 2]
    assert verify_chain().ok


def test_a_write_seals_the_pending_reads_before_its_own_event(api, staff, patient) -> None:
    read(api, staff["nurse"], patient)
    created = api("post", "/api/v1/patients", as_=staff["admin"], json=NEW_PATIENT)
    assert created.status_code == 201
    assert count(StagedRead) == 0
    assert actions()[-2:] == ["patient.read", "patient.create"]
    assert verify_chain().ok


def test_the_readers_of_the_trail_see_the_reads(api, staff, patient) -> None:
    read(api, staff["nurse"], patient)
    assert "patient.read" in [e["action"] for e in audit_events(api, staff["auditor"])]
    read(api, staff["nurse"], patient)
    exported = api("get", f"/api/v1/audit?{ALL_TIME}&format=csv", as_=staff["auditor"])
    _, rows = csv_rows(exported)
    assert [r["action"] for r in rows].count("patient.read") == 2
    read(api, staff["nurse"], patient)
    verified = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()
    assert verified["ok"] and count(StagedRead) == 0
    assert actions().count("patient.read") == 3


def test_the_audit_pages_seal_before_they_list(api, staff, patient, client) -> None:
    from tests.auth.test_pages import sign_in

    sign_in(client, staff["auditor"].username)  # a write: it would seal what is staged
    read(api, staff["nurse"], patient)
    assert count(StagedRead) == 1
    page = client.get(f"/audit?patient_id={patient.id}&from=2000-01-01&to=2099-12-31")
    assert page.status_code == 200
    assert "opened a patient" in page.get_data(as_text=True)  # the staged read, shown
    assert count(StagedRead) == 0 and "patient.read" in actions()


def test_the_seal_command(app, api, staff, patient) -> None:
    read(api, staff["nurse"], patient)
    read(api, staff["nurse"], patient)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 0 and result.output == "sealed 2 reads\n", result.output
    assert runner.invoke(args=["audit", "seal"]).output == "sealed 0 reads\n"
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and verified.output.startswith("ok "), verified.output


def test_the_seal_command_vacuums_the_staged_reads(app, api, staff, patient) -> None:
    """The staged reads' table is a queue: the rows a write's seal deletes leave their pages
    for every later seal to scan until a VACUUM, which autovacuum may do late or, turned off,
    never. The timer's command vacuums it: the emptied table gives its pages back."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's; SQLite reuses a deleted row's pages")
    read(api, staff["nurse"], patient)
    row = db.session.execute(select(StagedRead.__table__)).mappings().one()
    stage(db.session, [{k: v for k, v in row.items() if k != "id"}] * 1000)
    db.session.commit()
    pages = text("SELECT pg_relation_size('audit_staged_reads') / 8192")
    assert sealed() == 1001  # as a write seals: the rows are deleted, their pages stay
    assert db.session.scalar(pages) > 0
    db.session.commit()  # the size's lock released: a VACUUM gives pages back only unlocked
    result = app.test_cli_runner().invoke(args=["audit", "seal"])  # as the owner (superuser)
    assert result.exit_code == 0 and result.output == "sealed 0 reads\n", result.output
    assert db.session.scalar(pages) == 0
    assert verify_chain().ok


def test_a_refused_request_records_its_refusal_in_the_chain(api, staff) -> None:
    before = count(AuditEvent)
    assert api("get", "/api/v1/patients/999999", as_=staff["nurse"]).status_code == 404
    assert count(StagedRead) == 0 and count(AuditEvent) == before + 1
    refusal = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert refusal.outcome == "refused" and refusal.patient_id == 999999


@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM audit_staged_reads", "UPDATE audit_staged_reads SET action = 'x'"],
)
def test_the_database_refuses_changing_a_staged_read(app, api, staff, patient, statement) -> None:
    read(api, staff["nurse"], patient)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with pytest.raises(DatabaseError, match="staged_reads"), engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT action FROM audit_staged_reads")).all() == [
                ("patient.read",)
            ]
    finally:
        engine.dispose()
    if db.engine.dialect.name == "sqlite":
        # A connection that is not the app's (the sqlite3 shell) has no sealing switch at all.
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn, pytest.raises(sqlite3.Error):
            conn.execute("DELETE FROM audit_staged_reads")
    assert count(StagedRead) == 1 and sealed() == 1


def test_reads_do_not_wait_for_the_chain_lock(app, factory, staff, patient) -> None:
    """While another session holds the chain's advisory lock (a writer chaining), two readers
    still answer and stage their reads: readers no longer serialize on the chain."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the chain lock is PostgreSQL's advisory lock; SQLite has one writer")
    headers = {"Authorization": f"Bearer {factory.token(staff['nurse'])}"}
    path = f"/api/v1/patients/{patient.id}"
    name = db.engine.url.database
    statuses: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            client = FlaskClient(app, app.response_class, use_cookies=False)
            statuses.append(client.get(path, headers=headers).status_code)
        except BaseException as exc:  # reported below
            errors.append(exc)

    with psycopg.connect(f"{pg.BASE}/{name}") as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
        threads = [threading.Thread(target=reader) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert not any(t.is_alive() for t in threads), "a reader waited for the chain lock"
        assert errors == [] and statuses == [200, 200]
        assert count(StagedRead) == 2
        holder.rollback()
    assert sealed() == 2 and verify_chain().ok
