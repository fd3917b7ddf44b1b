"""The keyed chain: any clinic time zone, no re-forging without the key, no cutting the end off
unnoticed (signed checkpoints), and the clinical rows each event records."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from mat import create_app
from mat.audit.chain import canonical, event_hash
from mat.audit.checkpoints import checkpoint_now
from mat.audit.keys import audit_keys, build_keys
from mat.audit.models import GENESIS, AuditCheckpoint, AuditEvent
from mat.audit.service import record
from mat.audit.verify import verify_chain
from mat.config import ConfigError, load_settings
from mat.dosing.models import Dose
from mat.extensions import db
from tests.audit.tampering import tamper, tamper_table
from tests.conftest import TODAY, Clock, RequestIsolatingClient
from tests.support.checks import assert_error

OTHER_KEY = b"an attacker's own key, not the clinic's one"


def _events(n: int, **kwargs) -> list[AuditEvent]:
    for i in range(n):
        record("test.event", entity_type="thing", entity_id=i, detail={"n": i}, **kwargs)
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _rechain_from(first_id: int, key: bytes, scheme: str, edit: str = "") -> None:
    """What an attacker with the database owner's rights would do: change an event, then
    recompute every hash after it so the links hold again (with a key that is not the clinic's)."""
    rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    statements = [edit] if edit else []
    prev = next((r.hash for r in reversed(rows) if r.id < first_id), GENESIS)
    if edit:
        tamper(edit)
        db.session.expire_all()
        rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    statements = []
    for row in rows:
        if row.id < first_id:
            continue
        fields = {name: getattr(row, name) for name in (
            "at", "user_id", "username", "roles", "client_addr", "action", "entity_type",
            "entity_id", "patient_id", "outcome", "rules", "detail", "records")}  # fmt: skip
        digest = event_hash(key, prev, fields)
        statements.append(
            f"UPDATE audit_events SET prev_hash = '{prev}', hash = 'tmp{row.id}', "
            f"scheme = '{scheme}' WHERE id = {row.id}"
        )
        statements.append(f"UPDATE audit_events SET hash = '{digest}' WHERE id = {row.id}")
        prev = digest
    tamper(*statements)
    db.session.expire_all()


# ---- time zones -------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/New_York", "America/Chicago", "Asia/Kolkata", "UTC"])
def test_an_untouched_trail_verifies_in_any_clinic_time_zone(database_url, zone) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAT_CLINIC_TZ": zone,
            "MAT_CLOCK": Clock(zone),
        }
    )
    with app.app_context():
        _events(3)
        stored = db.session.scalars(select(AuditEvent.at)).all()
        assert all(at.tzinfo is not None and at.utcoffset() == timedelta(0) for at in stored)
        report = verify_chain()
        assert (report.ok, report.events, report.first_bad) == (True, 3, None), report
        db.session.remove()
        db.engine.dispose()


# ---- keyed: no re-forging --------------------------------------------------------------------


def test_an_edit_with_every_later_hash_recomputed_is_caught_without_the_key(app) -> None:
    events = _events(5)
    target = events[2]
    _rechain_from(
        target.id,
        OTHER_KEY,
        audit_keys().scheme,  # even claiming the clinic's key id
        edit=f"UPDATE audit_events SET username = 'someone-else' WHERE id = {target.id}",
    )
    report = verify_chain()
    assert (report.ok, report.first_bad) == (False, target.id)
    assert "content does not match" in report.reason


def test_recomputing_with_the_old_unkeyed_scheme_is_caught(app) -> None:
    events = _events(4)
    # The old scheme needs no key: an attacker could recompute with it, so it is refused after
    # the first keyed event.
    tamper(f"UPDATE audit_events SET scheme = 'sha256' WHERE id = {events[3].id}")
    db.session.expire_all()
    report = verify_chain()
    assert (report.ok, report.first_bad) == (False, events[3].id)
    assert "old unkeyed scheme" in report.reason


def test_the_same_edit_recomputed_with_the_clinic_key_would_pass(app) -> None:
    """The control: what protects the chain is the key, not the rechaining code of the test."""
    events = _events(4)
    _rechain_from(events[1].id, audit_keys().current, audit_keys().scheme)
    assert verify_chain().ok


def test_events_under_a_rotated_key_verify_with_the_old_key_listed(database_url) -> None:
    old = "o" * 40
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "MAT_CLOCK": Clock()}
    app = create_app({**config, "MAT_AUDIT_KEY": old})
    with app.app_context():
        _events(2)
        db.session.remove()
        db.engine.dispose()
    rotated = create_app({**config, "MAT_AUDIT_KEY": "n" * 40, "MAT_AUDIT_OLD_KEYS": old})
    with rotated.app_context():
        _events(2)
        report = verify_chain()
        assert (report.ok, report.events) == (True, 4)
        schemes = set(db.session.scalars(select(AuditEvent.scheme)))
        assert len(schemes) == 2
        db.session.remove()
        db.engine.dispose()
    forgotten = create_app({**config, "MAT_AUDIT_KEY": "n" * 40})
    with forgotten.app_context():
        report = verify_chain()
        assert not report.ok and "key this server does not have" in report.reason
        db.session.remove()
        db.engine.dispose()


def test_the_key_is_derived_from_the_secret_key_unless_given() -> None:
    derived = build_keys(None, "", "secret-one")
    assert derived.current == build_keys(None, None, "secret-one").current
    assert derived.current != build_keys(None, None, "secret-two").current
    given = build_keys("k" * 40, "", "secret-one")
    assert given.current == b"k" * 40 and given.scheme != derived.scheme


@pytest.mark.parametrize("length, ok", [(31, False), (32, True)])
def test_a_short_audit_key_stops_start_up(tmp_path, length, ok) -> None:
    env = {"MAT_SECRET_KEY": "s" * 40, "MAT_AUDIT_KEY": "a" * length}
    if ok:
        assert load_settings(str(tmp_path), env)["MAT_AUDIT_KEY"] == "a" * length
    else:
        with pytest.raises(ConfigError, match="MAT_AUDIT_KEY is too short"):
            load_settings(str(tmp_path), env)


# ---- events from before keyed hashing --------------------------------------------------------


def _legacy_insert(n: int, prev: str, at: datetime) -> str:
    """Events as the pre-0004 code wrote them: plain SHA-256, instant in the clinic's zone."""
    statements = []
    for i in range(n):
        content = {
            "at": at.isoformat(timespec="microseconds"), "user_id": None, "username": "old",
            "roles": "", "client_addr": None, "action": "old.event", "entity_type": None,
            "entity_id": str(i), "patient_id": None, "outcome": "done", "rules": "",
            "detail": "{}",
        }  # fmt: skip
        digest = hashlib.sha256((prev + canonical(content)).encode()).hexdigest()
        statements.append(
            "INSERT INTO audit_events (at, username, roles, action, entity_id, outcome, rules, "
            "detail, records, scheme, prev_hash, hash) VALUES "
            f"('{at.astimezone(UTC).isoformat()}', "
            f"'old', '', 'old.event', '{i}', 'done', '', '{{}}', '', 'sha256', '{prev}', "
            f"'{digest}')"
        )
        prev = digest
    tamper(*statements)
    return prev


def test_a_trail_that_starts_before_keyed_hashing_still_verifies(app) -> None:
    _legacy_insert(3, GENESIS, datetime(2026, 11, 1, 9, 30, tzinfo=UTC))
    db.session.expire_all()
    _events(2)
    report = verify_chain()
    assert (report.ok, report.events, report.legacy_events) == (True, 5, 3), report


def test_an_unkeyed_event_after_keyed_ones_is_refused(app) -> None:
    events = _events(2)
    _legacy_insert(1, events[-1].hash, datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
    db.session.expire_all()
    report = verify_chain()
    assert not report.ok and report.first_bad == events[-1].id + 1
    assert "old unkeyed scheme" in report.reason


# ---- checkpoints -------------------------------------------------------------------------------


def test_the_first_write_signs_a_checkpoint_and_then_one_an_hour_at_most(app, clock) -> None:
    _events(3)
    (first,) = db.session.scalars(select(AuditCheckpoint)).all()
    assert (first.events, first.through_id) == (3, 3)
    clock.now += timedelta(minutes=59)
    _events(2)
    assert len(db.session.scalars(select(AuditCheckpoint)).all()) == 1
    clock.now += timedelta(minutes=1)
    events = _events(1)
    latest = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()[-1]
    assert (latest.events, latest.through_id, latest.head_hash) == (6, 6, events[-1].hash)
    assert verify_chain().checkpoints == 2


def test_cutting_the_newest_events_off_is_caught_by_a_checkpoint(app, clock) -> None:
    ids = [e.id for e in _events(5)]
    clock.now += timedelta(hours=2)
    checkpoint_now(db.session, audit_keys(), clock())
    db.session.commit()
    tamper(f"DELETE FROM audit_events WHERE id >= {ids[3]}")
    report = verify_chain()
    assert not report.ok and report.first_bad == ids[-1]
    assert "cut off the end" in report.reason


def test_a_checkpoint_must_not_be_altered(app, clock) -> None:
    _events(3)
    tamper_checkpoints("UPDATE audit_checkpoints SET events = 2")
    report = verify_chain()
    assert not report.ok and "wrong signature" in report.reason


def test_an_exported_checkpoint_catches_a_cut_even_when_the_database_s_are_gone(
    app, clock, tmp_path: Path
) -> None:
    ids = [e.id for e in _events(4)]
    runner = app.test_cli_runner()
    exported = tmp_path / "checkpoints.json"
    out = runner.invoke(args=["audit", "checkpoints", "--output", str(exported)])
    assert out.exit_code == 0, out.output
    assert json.loads(exported.read_text())["checkpoints"][0]["through_id"] == ids[3]
    tamper_checkpoints("DELETE FROM audit_checkpoints")
    tamper(f"DELETE FROM audit_events WHERE id >= {ids[2]}")
    # From the database alone the shorter trail looks whole ...
    plain = runner.invoke(args=["audit", "verify"])
    assert plain.exit_code == 0 and plain.stdout.strip() == "ok 2 events"
    # ... the auditor's copy kept elsewhere says otherwise.
    checked = runner.invoke(args=["audit", "verify", "--checkpoints", str(exported)])
    assert checked.exit_code == 1
    assert f"bad event {ids[3]}" in checked.output and "cut off" in checked.output


def test_checkpoints_are_exported_to_auditors_only_and_the_export_is_audited(api, staff) -> None:
    assert_error(api("get", "/api/v1/audit/checkpoints", as_=staff["nurse"]), 403)
    body = api("get", "/api/v1/audit/checkpoints", as_=staff["auditor"]).get_json()
    assert len(body["checkpoints"]) == 1
    assert set(body["checkpoints"][0]) == {
        "through_id", "events", "head_hash", "at", "scheme", "signature",
    }  # fmt: skip
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "audit.checkpoints" in actions


def tamper_checkpoints(*statements: str) -> None:
    tamper_table("audit_checkpoints", *statements, triggers="USER")


def test_tampering_leaves_the_append_only_triggers_in_force(
    api, staff, patient, sign_order, give
) -> None:
    """The helpers lift a table's triggers for the tampering only (SQLite drops and recreates
    them): what the test does next runs under them again."""
    sign_order(patient)
    dose = give(patient, 40).get_json()
    tamper_table("doses", f"UPDATE doses SET amount_mg = 41 WHERE id = {dose['id']}")
    tamper_checkpoints("SELECT 1")
    for statement in (
        f"UPDATE doses SET amount_mg = 42 WHERE id = {dose['id']}",
        f"DELETE FROM doses WHERE id = {dose['id']}",
        "DELETE FROM audit_checkpoints",
    ):
        with pytest.raises(DBAPIError), db.engine.begin() as conn:
            conn.execute(text(statement))
    assert db.session.get(Dose, dose["id"]).amount_mg == 41


# ---- the clinical rows each event records ----------------------------------------------------


def test_a_dose_edited_around_the_triggers_is_caught(api, staff, patient, sign_order, give) -> None:
    sign_order(patient)
    dose = give(patient, 40).get_json()
    assert verify_chain().ok
    tamper_table("doses", f"UPDATE doses SET amount_mg = 400 WHERE id = {dose['id']}")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dose.observed"))
    report = verify_chain()
    assert (report.ok, report.first_bad) == (False, event.id)
    assert f"doses/{dose['id']} it records was changed" in report.reason


def test_a_formulary_strength_changed_later_is_caught(api, staff, patient, sign_order) -> None:
    sign_order(patient)
    tamper_table("medications", "UPDATE medications SET strength_mg = 1 WHERE code = 'METH-10MGML'")
    report = verify_chain()
    assert not report.ok and "medications/" in report.reason


def test_a_row_changed_between_two_events_recording_it_is_caught_at_the_first(
    factory, sign_order, give
) -> None:
    """The formulary row is recorded with every dose. Changed after the first dose and before the
    second, the second records the changed row: the first's digest must still be checked (it
    was not when both fell in one batch of the walk, and the walk said the trail held)."""
    first, second = factory.patient(), factory.patient()
    sign_order(first)
    sign_order(second)
    assert give(first, 40).status_code == 201
    tamper_table("medications", "UPDATE medications SET name = 'X' WHERE code = 'METH-10MGML'")
    assert give(second, 40).status_code == 201
    recording = db.session.scalars(
        select(AuditEvent.id)
        .where(AuditEvent.records.contains('"medications/'))
        .order_by(AuditEvent.id)
    ).all()
    assert len(recording) >= 2
    report = verify_chain()
    assert (report.ok, report.first_bad) == (False, recording[0]), report
    assert "medications/" in (report.reason or "") and "was changed" in (report.reason or "")


@pytest.mark.parametrize("table", ["orders", "drug_screens", "doses"])
def test_a_deleted_clinical_row_is_caught(api, staff, patient, sign_order, give, table) -> None:
    sign_order(patient)
    give(patient, 40)
    api(
        "post",
        f"/api/v1/patients/{patient.id}/drug-screens",
        as_=staff["nurse"],
        json={"collected_on": TODAY.isoformat(), "results": {"fentanyl": "negative"}},
    )
    assert verify_chain().records >= 4
    # Foreign keys point at orders from doses: delete the dependent rows' links out of the way.
    statements = {
        "orders": ["PRAGMA foreign_keys = OFF", "DELETE FROM orders"],
        "drug_screens": ["DELETE FROM drug_screens"],
        "doses": ["DELETE FROM doses"],
    }[table]
    tamper_table(table, *statements)
    report = verify_chain()
    assert not report.ok and f"{table}/" in report.reason and "is gone" in report.reason


def test_take_homes_for_27_dates_fit_the_trail(
    factory, api, staff, sign_order, take_home_criteria
) -> None:
    """27 dates (or 7 once dose ids have 5 digits) overflowed the event's 40-character
    entity_id on PostgreSQL: the hand-out was a 500."""
    patient = factory.patient(admitted_on=TODAY - timedelta(days=60))
    dates = [(TODAY + timedelta(days=n)).isoformat() for n in range(1, 28)]
    sign_order(patient, take_home={"dates": dates, "criteria": take_home_criteria})
    api(
        "post",
        f"/api/v1/patients/{patient.id}/drug-screens",
        as_=staff["nurse"],
        json={"collected_on": TODAY.isoformat(), "results": {"fentanyl": "negative"}},
    )
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/take-homes",
        as_=staff["nurse"],
        json={"dates": dates},
    )
    assert response.status_code == 201, response.get_json()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dose.take_home"))
    ids = [d["id"] for d in response.get_json()["doses"]]
    assert json.loads(event.detail)["dose_ids"] == ids and event.entity_id == str(patient.id)
    assert len(json.loads(event.records)) == 27 + 1  # every dose and the formulary row
    assert verify_chain().ok


def test_a_refusal_on_a_very_long_path_is_still_audited(api, staff) -> None:
    response = api("get", "/api/v1/" + "x" * 300, as_=staff["nurse"])
    assert response.status_code == 404
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.outcome == "refused"))
    assert event is not None and len(event.action) == 80 and event.action.endswith("\u2026")


def test_clock_helper_is_aware() -> None:
    # The clinic clock of the tests puts 09:00 in the zone it is given.
    assert Clock("America/Chicago")().time() == time(9, 0)
    assert RequestIsolatingClient is not None
