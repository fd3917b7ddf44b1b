"""``flask user ...``: the admin flows from the command line, audited as ``cli``."""

from __future__ import annotations

import re

from sqlalchemy import select

from mat.audit.models import AuditEvent
from mat.auth.credentials import LOCK_AFTER
from mat.auth.models import User
from mat.extensions import db
from tests.support.factories import PASSWORD


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["user", *args])


def token(client, username: str, password: str = PASSWORD):
    return client.post("/api/v1/tokens", json={"username": username, "password": password})


def test_deactivate_and_activate(app, client, staff) -> None:
    result = run(app, "deactivate", "nurse1")
    assert result.exit_code == 0 and "deactivated nurse1 (nurse; deactivated)" in result.output
    assert token(client, "nurse1").status_code == 401
    assert run(app, "activate", "nurse1").exit_code == 0
    assert token(client, "nurse1").status_code == 201
    actors = db.session.scalars(
        select(AuditEvent.username).where(AuditEvent.action == "user.update")
    ).all()
    assert actors == ["cli", "cli"]


def test_roles_replaces_every_role(app, staff) -> None:
    result = run(app, "roles", "nurse1", "--role", "nurse", "--role", "prescriber")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, staff["nurse"].id).role_names == {"nurse", "prescriber"}


def test_the_last_admin_cannot_be_deactivated_from_the_cli(app, staff) -> None:
    result = run(app, "deactivate", "boss")
    assert result.exit_code != 0 and "last active administrator" in result.output


def test_unknown_user_is_an_error(app, staff) -> None:
    result = run(app, "unlock", "nobody")
    assert result.exit_code != 0 and "No user is named 'nobody'" in result.output


def test_unlock(app, client, staff) -> None:
    for _ in range(LOCK_AFTER):
        token(client, "nurse1", "wrong password")
    assert token(client, "nurse1").status_code == 429
    assert run(app, "unlock", "nurse1").exit_code == 0
    assert token(client, "nurse1").status_code == 201


def test_reset_password_prints_a_code_never_a_password(app, client, staff) -> None:
    result = run(app, "reset-password", "nurse1")
    assert result.exit_code == 0
    code = re.search(r"code for nurse1: ([A-Z0-9-]+)", result.output).group(1)
    redeemed = client.post(
        "/api/v1/password-resets/redeem",
        json={"username": "nurse1", "code": code, "new_password": "chosen by the nurse"},
    )
    assert redeemed.status_code == 204
    assert token(client, "nurse1", "chosen by the nurse").status_code == 201


def test_list_shows_every_account(app, staff) -> None:
    result = run(app, "list")
    assert result.exit_code == 0
    assert "nurse1 (nurse; active)" in result.output and "boss (admin; active)" in result.output
