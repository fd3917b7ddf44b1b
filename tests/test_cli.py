from __future__ import annotations

from sqlalchemy import func, select, text

from mat.auth.models import User
from mat.dosing.models import Dose, DoseCorrection, DrugScreen, Hold
from mat.extensions import db
from mat.orders.models import Order
from mat.patients.models import Patient
from tests.support.checks import count


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_user_create_reads_the_password_from_stdin(app, client) -> None:
    result = run(
        app,
        "user",
        "create",
        "nurse.ola",
        "--full-name",
        "Ola Nurse",
        "--initials",
        "ON",
        "--role",
        "nurse",
        "--role",
        "prescriber",
        "--password-stdin",
        input="a-very-long-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created user nurse.ola (nurse, prescriber)" in result.output
    user = db.session.scalars(select(User).where(User.username == "nurse.ola")).one()
    assert user.role_names == {"nurse", "prescriber"}
    token = client.post(
        "/api/v1/tokens", json={"username": "nurse.ola", "password": "a-very-long-password"}
    )
    assert token.status_code == 201


def test_user_create_refuses_duplicates_and_short_passwords(app, staff) -> None:
    before = count(User)
    dup = run(
        app,
        "user",
        "create",
        "nurse1",
        "--full-name",
        "X",
        "--initials",
        "XX",
        "--role",
        "nurse",
        "--password-stdin",
        input="a-very-long-password\n",
    )
    assert dup.exit_code != 0 and "taken" in dup.output
    short = run(
        app,
        "user",
        "create",
        "new.one",
        "--full-name",
        "X",
        "--initials",
        "XX",
        "--role",
        "nurse",
        "--password-stdin",
        input="short\n",
    )
    assert short.exit_code != 0 and "12 characters" in short.output
    bad_role = run(
        app,
        "user",
        "create",
        "new.two",
        "--full-name",
        "X",
        "--initials",
        "XX",
        "--role",
        "janitor",
        "--password-stdin",
        input="a-very-long-password\n",
    )
    assert bad_role.exit_code != 0
    assert count(User) == before


def test_demo_seed_creates_the_demo_clinic_once(app, client) -> None:
    result = run(app, "demo", "seed")
    assert result.exit_code == 0, result.output
    assert "nurse.rivera" in result.output and "dr.okafor" in result.output
    assert count(User) == 5 and count(Patient) == 30
    token = client.post(
        "/api/v1/tokens", json={"username": "nurse.rivera", "password": "nurse-demo-pass"}
    )
    assert token.status_code == 201
    # Three weeks of history through the real services, with the cases the demo shows.
    assert count(Dose) > 300 and count(DoseCorrection) == 1 and count(Hold) == 1
    assert count(Order) == 31 and count(DrugScreen) > 0  # 30, and DEMO-1007's readmission
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    missing = db.session.scalar(select(Patient).where(Patient.mrn == "DEMO-1002"))
    plan = client.get(f"/api/v1/patients/{missing.id}/dose-plan", headers=headers).get_json()
    assert plan["status"] == "blocked" and plan["missed_days"] == 3
    assert [v["rule"] for v in plan["violations"]] == ["missed_doses_review"]
    back = db.session.scalar(select(Patient).where(Patient.mrn == "DEMO-1007"))
    record = client.get(f"/api/v1/patients/{back.id}", headers=headers).get_json()
    assert [e["number"] for e in record["episodes"]] == [1, 2] and record["status"] == "active"
    plan = client.get(f"/api/v1/patients/{back.id}/dose-plan", headers=headers).get_json()
    assert (plan["status"], plan["dose_mg"], plan["take_home_ceiling_days"]) == ("due", 30, 7)
    # Every demo dose drew from a lot received on the first day; yesterday's count is open.
    from mat.stock.counts import variances

    assert db.session.scalar(select(func.count()).where(Dose.lot_id.is_(None))) == 0
    assert [c.station.code for c in variances()] == ["window-1"]
    assert run(app, "audit", "verify").exit_code == 0
    app.config["MAT_DEMO"] = True  # the make run clinic: seeding twice is said as such
    again = run(app, "demo", "seed")
    assert again.exit_code != 0 and "already seeded" in again.output
    assert count(Patient) == 30


def test_demo_seed_refuses_a_database_with_users_outside_demo_mode(app, staff, patient) -> None:
    assert app.config["MAT_DEMO"] is False
    users, patients = count(User), count(Patient)
    result = run(app, "demo", "seed")
    assert result.exit_code != 0
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line == (
        "Error: This database already has users and mat is not in demo mode (MAT_DEMO=1): the "
        "demo's invented patients are only ever written into an empty or a demo database."
    )
    assert (count(User), count(Patient)) == (users, patients)
    assert db.session.scalar(select(User).where(User.username == "nurse.rivera")) is None


def test_in_demo_mode_the_seed_joins_a_database_that_has_other_users(app, staff) -> None:
    app.config["MAT_DEMO"] = True
    result = run(app, "demo", "seed")
    assert result.exit_code == 0, result.output
    assert count(User) == len(staff) + 5 and count(Patient) == 30


def test_audit_verify_says_ok_or_names_the_first_bad_event(app, staff, api, patient) -> None:
    api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"])
    api("get", f"/api/v1/patients/{patient.id}", as_=staff["auditor"])
    ok = run(app, "audit", "verify")
    assert ok.exit_code == 0 and ok.stdout.strip() == "ok 2 events"
    first = db.session.execute(text("SELECT min(id) FROM audit_events")).scalar_one()
    _tamper(f"UPDATE audit_events SET username = 'someone-else' WHERE id = {first}")
    bad = run(app, "audit", "verify")
    assert bad.exit_code == 1 and f"bad event {first}" in bad.output


def _tamper(statement: str) -> None:
    """Edit the trail as an attacker with the database owner's rights would: triggers off."""
    from tests.audit.tampering import tamper

    tamper(statement)
