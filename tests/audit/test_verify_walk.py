"""How ``verify`` reads the trail (``mat.audit.walk_rows``): on PostgreSQL as COPY text, a chunk
of batches per COPY, with the recorded rows looked up once a chunk is read. The content it
hashes is the content the writer hashed, for any value and instant; and a walk of small
chunks names the same first bad event, with the same counts, as a walk checking one batch at
a time, wherever the tampering sits against the chunks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from mat.audit import walk_rows
from mat.audit.chain import KEYED_FIELDS, ChainReport, event_hash, keyed_content
from mat.audit.keys import audit_keys
from mat.audit.models import AuditEvent
from mat.audit.service import record
from mat.audit.verify import verify_chain
from mat.extensions import db
from mat.formulary.models import Medication
from tests.audit.tampering import tamper
from tests.audit.test_keyed_chain import tamper_checkpoints, tamper_table
from tests.conftest import ENGINE

postgres_only = pytest.mark.skipif(ENGINE != "postgresql", reason="COPY is PostgreSQL's")

TRICKY_TEXT = [
    "plain",
    "tab\there, newline\nthere, return\r, form feed\f, backspace\b, vertical tab\v",
    "back\\slash, \\N, \\\\N, \\t written out, a quote \" and an apostrophe '",
    "accents é ü, CJK 漢字, an emoji 💊 (astral), a control \x01 and \x7f",
    "",
]
CHICAGO = ZoneInfo("America/Chicago")
TRICKY_INSTANTS = [
    datetime(1, 1, 1, tzinfo=UTC),  # year 1: four digits both ways
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),  # before the epoch
    datetime(2024, 2, 29, 12, 0, 0, 0, tzinfo=UTC),  # microsecond 0: still 6 digits
    datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO),  # the hour that happens twice, first
    datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO),  # ...and second
    datetime(2026, 3, 8, 3, 0, 0, 500000, tzinfo=CHICAGO),  # just after the skipped hour
    datetime(2026, 6, 1, 5, 45, 30, 10, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def _append(fields: dict[str, Any]) -> None:
    """One event chained after the head with the writer's own hash, as a row the app could
    have written (the way bench/generate.py writes its bulk)."""
    keys = audit_keys()
    head = db.session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev = head or "0" * 64
    row = {"prev_hash": prev, "hash": event_hash(keys.current, prev, fields), **fields}
    db.session.execute(insert(AuditEvent), [{**row, "scheme": keys.scheme}])
    db.session.commit()


def _fields(at: datetime, value: str, number: int | None) -> dict[str, Any]:
    return {
        "at": at, "user_id": number, "username": value or None, "roles": value[:80],
        "client_addr": value[:64] or None, "action": "test.tricky",
        "entity_type": value[:40] or None, "entity_id": value[:40] or None,
        "patient_id": number, "outcome": "done", "rules": value,
        "detail": json.dumps({"v": value}), "records": "",
    }  # fmt: skip


def _tricky_trail() -> None:
    numbers = [0, -1, 2**31 - 1, None, 7]
    for n, value in enumerate(TRICKY_TEXT):
        _append(_fields(datetime(2026, 12, 1, 9, n, tzinfo=UTC), value, numbers[n]))
    for at in TRICKY_INSTANTS:
        _append(_fields(at, "instant", 1))


def test_tricky_values_and_instants_verify(app) -> None:
    _tricky_trail()
    report = verify_chain()
    assert report == ChainReport(True, len(TRICKY_TEXT) + len(TRICKY_INSTANTS), None)


@postgres_only
def test_the_copy_text_gives_the_content_the_writer_hashed(app) -> None:
    _tricky_trail()
    stored = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    expected = [keyed_content({n: getattr(e, n) for n in KEYED_FIELDS}) for e in stored]
    raw = db.session.connection().connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(walk_rows.copy_statement(0, 1000)) as copy:
        lines = [str(data, raw.info.encoding)[:-1] for data in copy]
    rows = walk_rows.rows_from_copy(lines)
    assert [row[4] for row in rows] == expected
    assert [row[0] for row in rows] == [e.id for e in stored]
    # Both ways of reading a line are exercised: the direct one and the one with escapes.
    assert any(row[6] is None for row in rows) and any(row[6] is not None for row in rows)


@postgres_only
def test_an_infinite_instant_is_named_not_a_crash(app) -> None:
    ids = _events(4)
    tamper(f"UPDATE audit_events SET at = 'infinity' WHERE id = {ids[2]}")
    report = verify_chain()
    assert (report.ok, report.first_bad, report.events) == (False, ids[2], 3)
    assert "content does not match" in report.reason


# ---- chunks -----------------------------------------------------------------------------------


def _events(n: int, recording: set[int] = frozenset()) -> list[int]:
    """``n`` events, the ones at the 0-based positions in ``recording`` recording the
    formulary row of methadone concentrate; their ids."""
    medication = db.session.scalars(select(Medication).where(Medication.code == METHADONE)).one()
    for i in range(n):
        records = [medication] if i in recording else []
        record("test.event", entity_type="thing", entity_id=i, detail={"n": i}, records=records)
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


METHADONE = "METH-10MGML"


def _walks(monkeypatch) -> tuple[ChainReport, ChainReport]:
    """The report of a walk of batches of 2 events, 3 batches a COPY, and of the reference
    walk: one batch a COPY, each batch's rows looked up before the next batch is read."""
    db.session.expire_all()
    monkeypatch.setattr(walk_rows, "WALK_BATCH", 2)
    monkeypatch.setattr(walk_rows, "CHUNK", 6)
    chunked = verify_chain()
    db.session.rollback()
    monkeypatch.setattr(walk_rows, "CHUNK", 2)
    reference = verify_chain()
    db.session.rollback()
    return chunked, reference


@pytest.mark.parametrize(
    ("tampered", "bad", "reason"),
    [
        (2, 2, "content does not match"),  # the first chunk
        (5, 5, "content does not match"),  # the last event of the first chunk
        (6, 6, "content does not match"),  # the first event of the second chunk
        (12, 12, "content does not match"),  # the third chunk
    ],
)
def test_an_edit_in_any_chunk_is_named(app, monkeypatch, tampered, bad, reason) -> None:
    ids = _events(14)
    tamper(f"UPDATE audit_events SET entity_id = 'forged' WHERE id = {ids[tampered]}")
    chunked, reference = _walks(monkeypatch)
    assert chunked == reference
    assert (chunked.ok, chunked.first_bad, chunked.events) == (False, ids[bad], bad + 1)
    assert reason in chunked.reason


@pytest.mark.parametrize(("deleted", "bad"), [(5, 6), (6, 7), (11, 12)])
def test_a_deleted_event_at_a_chunk_boundary_is_named(app, monkeypatch, deleted, bad) -> None:
    ids = _events(14)
    tamper(f"DELETE FROM audit_events WHERE id = {ids[deleted]}")
    chunked, reference = _walks(monkeypatch)
    assert chunked == reference
    assert (chunked.ok, chunked.first_bad) == (False, ids[bad])
    assert "link" in chunked.reason


def test_a_changed_row_recorded_before_a_broken_link_in_the_same_chunk_comes_first(
    app, monkeypatch
) -> None:
    """The row is looked up after the COPY of its chunk, past the broken link; the row's
    event is earlier, so it is the one named, with the counts of its batch."""
    ids = _events(14, recording={2, 9})
    tamper(f"UPDATE audit_events SET entity_id = 'forged' WHERE id = {ids[4]}")
    tamper_table(
        "medications", f"UPDATE medications SET strength_mg = 1 WHERE code = '{METHADONE}'"
    )
    chunked, reference = _walks(monkeypatch)
    assert chunked == reference
    assert (chunked.ok, chunked.first_bad, chunked.events) == (False, ids[2], 4)
    assert "medications/" in chunked.reason and chunked.records == 1


def test_a_broken_link_before_a_changed_row_in_the_same_chunk_comes_first(app, monkeypatch) -> None:
    ids = _events(14, recording={4, 9})
    tamper(f"DELETE FROM audit_events WHERE id = {ids[1]}")
    tamper_table(
        "medications", f"UPDATE medications SET strength_mg = 1 WHERE code = '{METHADONE}'"
    )
    chunked, reference = _walks(monkeypatch)
    assert chunked == reference
    assert (chunked.ok, chunked.first_bad, chunked.records) == (False, ids[2], 0)


def test_a_changed_row_recorded_in_a_later_chunk_is_named(app, monkeypatch) -> None:
    ids = _events(14, recording={8})
    tamper_table(
        "medications", f"UPDATE medications SET strength_mg = 1 WHERE code = '{METHADONE}'"
    )
    chunked, reference = _walks(monkeypatch)
    assert chunked == reference
    assert (chunked.ok, chunked.first_bad, chunked.events) == (False, ids[8], 10)


def test_checkpoints_in_later_chunks_are_matched_and_checked(app, clock, monkeypatch) -> None:
    _events(3)  # the first write signs a checkpoint (chunk 1), then one an hour at most
    clock.now += timedelta(hours=2)
    _events(6)  # through the 9th event: chunk 2
    clock.now += timedelta(hours=2)
    ids = _events(5)  # through the 14th: chunk 3
    intact, reference = _walks(monkeypatch)
    assert intact == reference == ChainReport(True, 14, None, None, 3)
    tamper(f"DELETE FROM audit_events WHERE id >= {ids[10]}")
    cut, reference = _walks(monkeypatch)
    assert cut == reference
    assert (cut.first_bad, cut.events, cut.checkpoints) == (ids[13], 10, 2)
    assert "cut off the end" in cut.reason
    tamper_checkpoints(f"UPDATE audit_checkpoints SET events = 2 WHERE through_id = {ids[8]}")
    altered, reference = _walks(monkeypatch)
    assert altered == reference
    assert (altered.first_bad, altered.events, altered.checkpoints) == (ids[8], 9, 1)
    assert "wrong signature" in altered.reason


def test_a_walk_stopped_early_leaves_the_connection_usable(api, staff, monkeypatch) -> None:
    """The rest of the COPY is read and dropped: the check itself is then on record."""
    ids = _events(14)
    tamper(f"UPDATE audit_events SET entity_id = 'forged' WHERE id = {ids[1]}")
    monkeypatch.setattr(walk_rows, "WALK_BATCH", 2)
    monkeypatch.setattr(walk_rows, "CHUNK", 6)
    body = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()
    assert (body["ok"], body["first_bad"]) == (False, ids[1])
    checks = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.verify"))
    assert [json.loads(c.detail)["first_bad"] for c in checks] == [ids[1]]
