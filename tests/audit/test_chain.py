"""The audit trail's hash chain: written on commit, verified whole, tampering detected."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from mat.audit.models import GENESIS, AuditEvent
from mat.audit.service import record
from mat.audit.verify import verify_chain
from mat.extensions import db
from tests.audit.tampering import tamper


def _events(n: int) -> list[AuditEvent]:
    for i in range(n):
        record("test.event", entity_type="thing", entity_id=i, detail={"n": i})
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_events_chain_from_the_genesis(app) -> None:
    events = _events(3)
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    report = verify_chain()
    assert (report.ok, report.events, report.first_bad) == (True, 3, None)


def test_a_rolled_back_action_leaves_no_event(app) -> None:
    record("test.event")
    db.session.rollback()
    db.session.commit()
    assert db.session.scalars(select(AuditEvent)).all() == []


@pytest.mark.parametrize("kind", ["edit", "delete", "swap", "append_forged"])
def test_each_kind_of_tampering_is_detected(app, kind) -> None:
    events = _events(5)
    a, b = events[1], events[2]
    ids = [e.id for e in events]
    statements = {
        "edit": [f"UPDATE audit_events SET detail = '{json.dumps({'n': 99})}' WHERE id = {b.id}"],
        "delete": [f"DELETE FROM audit_events WHERE id = {b.id}"],
        # Swap the content of two events (their ids and stored hashes stay where they were).
        "swap": [
            f"UPDATE audit_events SET prev_hash = 'tmp-a', hash = 'tmp-ah' WHERE id = {a.id}",
            f"UPDATE audit_events SET prev_hash = '{a.prev_hash}', hash = '{a.hash}', "
            f"entity_id = '{b.entity_id}' WHERE id = {b.id}",
            f"UPDATE audit_events SET prev_hash = '{b.prev_hash}', hash = '{b.hash}', "
            f"entity_id = '{a.entity_id}' WHERE id = {a.id}",
        ],
        "append_forged": [
            "INSERT INTO audit_events (at, roles, action, outcome, rules, detail, prev_hash, "
            f"hash) VALUES ('{events[-1].at.isoformat()}', '', 'forged', 'done', '', '{{}}', "
            f"'{'e' * 64}', '{'f' * 64}')"
        ],
    }[kind]
    tamper(*statements)
    db.session.expire_all()
    report = verify_chain()
    assert not report.ok
    expected_bad = {"edit": ids[2], "delete": ids[3], "swap": ids[1], "append_forged": ids[-1] + 1}[
        kind
    ]
    assert report.first_bad == expected_bad


def test_chain_survives_many_requests(api, staff, patient) -> None:
    for _ in range(5):
        api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"])
        api("get", "/api/v1/patients/424242", as_=staff["nurse"])
    report = verify_chain()
    assert report.ok and report.events == 10
    outcomes = db.session.execute(
        text("SELECT outcome, count(*) FROM audit_events GROUP BY outcome ORDER BY outcome")
    ).all()
    assert [tuple(r) for r in outcomes] == [("done", 5), ("refused", 5)]


def test_concurrent_writers_never_fork_the_chain(app) -> None:
    """Writers in parallel threads (each its own connection) serialize on the chain's lock."""
    import threading

    from mat.database import utcnow

    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(10):
                    record("test.concurrent", entity_id=f"{n}-{i}", detail={"at": str(utcnow())})
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chain()
    assert report.ok and report.events == 60
