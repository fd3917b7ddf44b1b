"""GET /api/v1/audit/verify: the chain checked through the API, whole or in signed parts, and
every check itself on record (split from test_api.py, which covers the trail's export)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mat.audit import verify_cursor
from tests.audit.events import events_by, stored
from tests.audit.tampering import tamper
from tests.support.checks import assert_error

# --- verify ----------------------------------------------------------------------------------


def test_verify_an_intact_chain(api, staff) -> None:
    events_by(staff["nurse"], 4)
    response = api("get", "/api/v1/audit/verify", as_=staff["auditor"])
    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "events": 4,
        "first_bad": None,
        "reason": None,
        "checkpoints": 1,  # the first write of a trail signs a checkpoint
        "legacy_events": 0,
        "records": 0,
        "complete": True,
        "next": None,
    }
    # The check is on record, written after the walk: it was not among the events it counted.
    (check,) = stored("audit.verify")
    assert json.loads(check.detail) == {"ok": True, "events": 4, "first_bad": None}
    assert check.id == 5 and check.username == "audit"
    again = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()
    assert (again["ok"], again["events"]) == (True, 5)


def test_verify_names_the_first_tampered_event(api, staff) -> None:
    events_by(staff["nurse"], 5)
    ids = [e.id for e in stored("test.event")]
    tamper(f"UPDATE audit_events SET entity_id = 'forged' WHERE id = {ids[2]}")
    body = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()
    assert body["ok"] is False and body["first_bad"] == ids[2] and body["events"] == 3
    assert "content" in body["reason"]
    (check,) = stored("audit.verify")
    assert json.loads(check.detail) == {"ok": False, "events": 3, "first_bad": ids[2]}


def test_verify_names_a_deleted_event_s_successor(api, staff) -> None:
    events_by(staff["nurse"], 5)
    ids = [e.id for e in stored("test.event")]
    tamper(f"DELETE FROM audit_events WHERE id = {ids[1]}")
    body = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()
    assert (body["ok"], body["first_bad"]) == (False, ids[2])
    assert "link" in body["reason"]


# --- verify in parts ---------------------------------------------------------------------------


def walk_in_parts(api: Any, auditor: Any) -> list[dict[str, Any]]:
    answers = [api("get", "/api/v1/audit/verify", as_=auditor).get_json()]
    while not answers[-1]["complete"]:
        after = answers[-1]["next"]
        answers.append(api("get", f"/api/v1/audit/verify?after={after}", as_=auditor).get_json())
        assert len(answers) < 20, "the walk does not end"
    return answers


def test_verify_goes_on_in_parts_and_counts_the_whole_walk(api, staff, monkeypatch) -> None:
    monkeypatch.setattr(verify_cursor, "EVENTS_PER_CALL", 3)
    events_by(staff["nurse"], 7)
    answers = walk_in_parts(api, staff["auditor"])
    # 7 events, and each call adds its own audit.verify event behind the walk (8 and 9): the
    # third part walks 7, 8 and 9 and finds nothing after them.
    assert [a["events"] for a in answers] == [3, 6, 9]
    assert all(a["ok"] for a in answers) and answers[-1]["next"] is None
    assert [a["complete"] for a in answers] == [False, False, True]
    details = [json.loads(e.detail) for e in stored("audit.verify")]
    assert [d["after_id"] for d in details] == [0, 3, 6]
    assert [d["complete"] for d in details] == [False, False, True]


def test_verify_in_parts_stops_at_a_tampered_event_in_a_later_part(api, staff, monkeypatch) -> None:
    monkeypatch.setattr(verify_cursor, "EVENTS_PER_CALL", 3)
    events_by(staff["nurse"], 8)
    ids = [e.id for e in stored("test.event")]
    first = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()
    assert (first["ok"], first["complete"]) == (True, False)
    tamper(f"UPDATE audit_events SET entity_id = 'forged' WHERE id = {ids[4]}")
    body = api("get", f"/api/v1/audit/verify?after={first['next']}", as_=staff["auditor"])
    body = body.get_json()
    assert (body["ok"], body["first_bad"], body["next"]) == (False, ids[4], None)
    assert body["events"] == 5 and "content" in body["reason"]


def test_verify_exactly_at_the_end_of_a_part_is_complete(api, staff, monkeypatch) -> None:
    monkeypatch.setattr(verify_cursor, "EVENTS_PER_CALL", 4)
    events_by(staff["nurse"], 4)
    body = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()
    assert (body["events"], body["complete"], body["next"]) == (4, True, None)


@pytest.mark.parametrize("cursor", ["forged", "x" * 2000, "__CHANGED__"])
def test_verify_refuses_a_cursor_it_did_not_give(api, staff, monkeypatch, cursor) -> None:
    monkeypatch.setattr(verify_cursor, "EVENTS_PER_CALL", 2)
    events_by(staff["nurse"], 5)
    given = api("get", "/api/v1/audit/verify", as_=staff["auditor"]).get_json()["next"]
    if cursor == "__CHANGED__":  # a real cursor with its state edited: the signature fails
        cursor = given[:5] + ("A" if given[5] != "A" else "B") + given[6:]
    error = assert_error(
        api("get", f"/api/v1/audit/verify?after={cursor}", as_=staff["auditor"]), 422
    )
    assert "after" in error["fields"]
    assert len(stored("audit.verify")) == 1  # the refused call verified nothing


def test_verify_refuses_an_empty_or_oversized_cursor(api, staff) -> None:
    for cursor in ["", "y" * 2001]:
        error = assert_error(
            api("get", f"/api/v1/audit/verify?after={cursor}", as_=staff["auditor"]), 422
        )
        assert "after" in error["fields"]
