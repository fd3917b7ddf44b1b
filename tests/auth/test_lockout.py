"""Per-account lockout after wrong passwords (sign-in and witness), audited unlock, and an
unknown username answered exactly like a real one; every failure names the username tried."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.auth.credentials import LOCK_AFTER
from mat.auth.models import User
from mat.extensions import db
from tests.auth.test_pages import sign_in
from tests.support.checks import assert_error
from tests.support.factories import PASSWORD


def attempt(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/api/v1/tokens",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def refusals() -> list[dict]:
    stmt = select(AuditEvent).where(AuditEvent.outcome == "refused").order_by(AuditEvent.id)
    return [json.loads(e.detail) for e in db.session.scalars(stmt)]


def test_the_fifth_wrong_password_locks_the_account_even_for_the_right_one(client, staff):
    for _ in range(LOCK_AFTER - 1):
        assert_error(attempt(client, "nurse1", "wrong password"), 401, "bad_credentials")
    assert attempt(client, "nurse1", PASSWORD).status_code == 201  # resets the count
    for _ in range(LOCK_AFTER):
        assert_error(attempt(client, "nurse1", "wrong password"), 401, "bad_credentials")
    error = assert_error(attempt(client, "nurse1", PASSWORD), 429, "account_locked")
    assert "locked for 15 minutes" in error["message"]
    locked = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.locked")).all()
    assert [json.loads(e.detail)["username"] for e in locked] == ["nurse1"]


@pytest.mark.parametrize("wait, unlocked", [(timedelta(minutes=14, seconds=59), False),
                                            (timedelta(minutes=15), True)])  # fmt: skip
def test_a_lockout_runs_out_after_15_minutes(client, clock, staff, wait, unlocked) -> None:
    for _ in range(LOCK_AFTER):
        attempt(client, "nurse1", "wrong password")
    clock.now += wait
    assert attempt(client, "nurse1", PASSWORD).status_code == (201 if unlocked else 429)


def test_an_admin_unlocks_an_account_and_it_is_audited(api, client, staff) -> None:
    for _ in range(LOCK_AFTER):
        attempt(client, "nurse1", "wrong password")
    listed = api("get", "/api/v1/users", as_=staff["admin"]).get_json()
    assert next(u for u in listed if u["username"] == "nurse1")["locked_until"] is not None
    assert_error(api("post", f"/api/v1/users/{staff['nurse'].id}/unlock", as_=staff["nurse2"]), 403)
    response = api("post", f"/api/v1/users/{staff['nurse'].id}/unlock", as_=staff["admin"])
    assert response.status_code == 200 and response.get_json()["locked_until"] is None
    assert attempt(client, "nurse1", PASSWORD).status_code == 201
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.unlock"))
    assert event.username == "boss" and json.loads(event.detail)["was_locked_until"]


def test_an_unknown_username_gets_the_same_answers_after_the_same_tries(client, staff) -> None:
    real = [attempt(client, "nurse1", "wrong password") for _ in range(LOCK_AFTER + 1)]
    # From another address, so the per-address limit (10 a minute) is not what answers.
    ghost = [attempt(client, "ghost", "wrong password", "10.0.0.2") for _ in range(LOCK_AFTER + 1)]
    assert [r.status_code for r in real] == [r.status_code for r in ghost]
    assert [r.get_json() for r in real] == [r.get_json() for r in ghost]
    assert real[-1].status_code == 429


def test_each_failed_sign_in_names_the_username_tried(client, staff) -> None:
    attempt(client, "nurse1", "wrong password")
    attempt(client, "no-such-person", "whatever password")
    sign_in(client, "nurse2", "wrong password")  # the page
    tried = [(d.get("username"), d.get("purpose"), d["status"]) for d in refusals()]
    assert tried == [
        ("nurse1", "sign_in", 401),
        ("no-such-person", "sign_in", 401),
        ("nurse2", "sign_in", 401),
    ]
    # The password typed is never written anywhere in the trail.
    trail = " ".join(e.detail for e in db.session.scalars(select(AuditEvent)))
    assert "wrong password" not in trail and "whatever password" not in trail


def test_the_page_counts_towards_the_lockout_too(client, staff) -> None:
    for _ in range(LOCK_AFTER):
        assert sign_in(client, "nurse1", "wrong password").status_code == 401
    locked = sign_in(client, "nurse1")
    assert locked.status_code == 429 and "locked" in locked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, staff["nurse"].id).locked_until is not None


# ---- witnesses ----------------------------------------------------------------------------------


@pytest.fixture
def dose(patient, sign_order, give):
    sign_order(patient)
    return give(patient, 40).get_json()


def void(api, staff, dose_id: int, witness: str, password: str):
    return api(
        "post",
        f"/api/v1/doses/{dose_id}/corrections",
        as_=staff["nurse"],
        json={
            "kind": "void",
            "reason": "Recorded for the wrong patient",
            "witness": {"username": witness, "password": password},
        },
    )


def test_a_failed_witness_confirmation_names_the_witness(api, staff, dose) -> None:
    assert_error(void(api, staff, dose["id"], "nurse2", "wrong password"), 422, "witness_required")
    (detail,) = refusals()
    assert detail["witness"] == "nurse2" and detail["purpose"] == "witness"


def test_wrong_witness_passwords_lock_the_witness_account(api, client, staff, dose) -> None:
    for _ in range(LOCK_AFTER):
        void(api, staff, dose["id"], "nurse2", "wrong password")
    error = assert_error(void(api, staff, dose["id"], "nurse2", PASSWORD), 422, "witness_required")
    assert "locked" in error["message"]
    assert_error(attempt(client, "nurse2", PASSWORD), 429, "account_locked")
