"""The audit trail's JSON export streams: 100,000 events go out in bounded memory, and the
streamed document is the one the schema describes."""

from __future__ import annotations

import gc
import json
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from mat.audit.models import AuditEvent
from mat.extensions import db
from tests.conftest import TODAY

# Streaming holds one batch (1,000 events) and its text; the whole answer built as one list of
# dicts, then one string, needed several hundred MB for 100,000 events.
PEAK_BOUND = 40 * 1024 * 1024
EVENTS = 100_000


def insert_events(count: int, first: datetime) -> None:
    """``count`` events with core ``insert()`` (the table is append-only: INSERT is allowed).
    Their hashes are placeholders: this measures the export, not the chain."""
    rows = [
        {"at": first + timedelta(seconds=n), "user_id": 1, "username": "nurse.test",
         "roles": "nurse", "client_addr": "127.0.0.1", "action": "dose.record",
         "entity_type": "dose", "entity_id": str(n), "patient_id": 1 + n % 300,
         "outcome": "done", "rules": "", "detail": json.dumps({"amount_mg": "60", "n": n}),
         "scheme": "test", "prev_hash": f"p{n:063x}", "hash": f"h{n:063x}"}
        for n in range(count)
    ]  # fmt: skip
    for start in range(0, count, 10_000):
        db.session.execute(insert(AuditEvent), rows[start : start + 10_000])
    db.session.commit()


@pytest.mark.slow
def test_100000_events_stream_as_json_in_bounded_memory(api, staff) -> None:
    first = datetime.combine(TODAY - timedelta(days=3), datetime.min.time(), tzinfo=UTC)
    insert_events(EVENTS, first)
    query = f"from={TODAY - timedelta(days=5)}&to={TODAY}"
    response = api("get", f"/api/v1/audit?{query}", as_=staff["auditor"], buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/json"
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        size = 0
        for chunk in response.response:
            size += len(chunk)
            del chunk
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
        response.close()
    assert size > 20 * 1024 * 1024
    assert peak < PEAK_BOUND, f"peak {peak / 2**20:.1f} MB while streaming"


def test_streamed_json_is_the_schema_document(api, staff, patient) -> None:
    """A small trail read back whole: every field of every event, in id order, and the export
    itself recorded after the events it answers."""
    api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"])
    response = api("get", f"/api/v1/audit?from={TODAY}&to={TODAY}", as_=staff["auditor"])
    assert response.status_code == 200
    events = json.loads(response.get_data(as_text=True))["events"]
    assert events, "the patient read is in the trail"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert set(events[0]) == {
        "id", "at", "user_id", "username", "roles", "client_addr", "action", "entity_type",
        "entity_id", "patient_id", "outcome", "rules", "detail", "prev_hash", "hash",
    }  # fmt: skip
    assert isinstance(events[0]["roles"], list) and isinstance(events[0]["detail"], dict)
    assert any(e["patient_id"] == patient.id for e in events)
    assert not any(e["action"] == "audit.export" for e in events)
    again = json.loads(
        api("get", f"/api/v1/audit?from={TODAY}&to={TODAY}", as_=staff["auditor"]).get_data()
    )["events"]
    exports = [e for e in again if e["action"] == "audit.export"]
    assert len(exports) == 1 and exports[0]["detail"]["through_id"] == events[-1]["id"]


def test_each_streamed_event_is_the_schemas_dump_byte_for_byte(api, staff, patient, client):
    """The export writes each event itself (mat.audit.export.event_json), not through the
    schema: the document must be the schema's own, byte for byte, over events of every shape
    (no user, several roles and rules, text outside ASCII in the detail, nulls)."""
    from sqlalchemy import select

    from mat.audit.schemas import AuditEventOut

    client.post("/api/v1/tokens", json={"username": "nobody-here", "password": "x" * 12})
    api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"])
    api("post", f"/api/v1/patients/{patient.id}/holds", as_=staff["nurse"],
        json={"reason": "Somnolent à la fenêtre — 眠い, ждать"})  # fmt: skip
    api(
        "post", f"/api/v1/patients/{patient.id}/doses", as_=staff["nurse"], json={"amount_mg": 35}
    )  # fmt: skip  (refused: on hold, and no order)
    response = api("get", f"/api/v1/audit?from={TODAY}&to={TODAY}", as_=staff["auditor"])
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    through = json.loads(text)["events"][-1]["id"]
    stored = db.session.scalars(select(AuditEvent).where(AuditEvent.id <= through)).all()
    assert any(e.user_id is None for e in stored)
    assert any("," in e.rules for e in stored)
    assert any(not e.detail.isascii() or "\\u" in e.detail for e in stored)
    whole = {"events": [AuditEventOut().dump(e) for e in sorted(stored, key=lambda e: e.id)]}
    assert text == json.dumps(whole, separators=(",", ":")) + "\n"
