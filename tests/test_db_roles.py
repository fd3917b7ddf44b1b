"""``flask --app mat db roles``: an owner that migrates, an app role that cannot rewrite history.

On PostgreSQL, in a fresh migrated database: the roles are applied through the CLI, then the
app role is shown to be refused every way of changing an append-only table (UPDATE, DELETE,
TRUNCATE, disabling or dropping a trigger, replica mode) and to do the app's normal work: the
app, configured with the app role's URL, signs an order and records a dose.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from mat import create_app
from mat.audit.staging import vacuum_staged
from mat.db_cli import bind_migrations
from mat.db_roles import RolePlan, script, statements
from mat.extensions import db
from tests.support import pg

OWNER, APP = f"mat_owner_t{os.getpid()}", f"mat_app_t{os.getpid()}"
OWNER_PASSWORD, APP_PASSWORD = "owner-password-for-tests", "app-password-for-tests-only"


def _drop_roles() -> None:
    with psycopg.connect(f"{pg.BASE}/postgres", autocommit=True) as conn:
        for role in (APP, OWNER):
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def roles_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (as the superuser), dropped with its roles."""
    pg.require()
    from flask_migrate import upgrade

    name = pg.create_database(f"mat_roles_{os.getpid()}")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": pg.url(name)})
    bind_migrations(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    try:
        yield name
    finally:
        pg.drop_database(name)
        _drop_roles()


def _cli(url: str, *args: str, input: str | None = None) -> Any:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    try:
        return app.test_cli_runner().invoke(args=["db", "roles", *args], input=input)
    finally:
        with app.app_context():
            db.engine.dispose()


def _as(role: str, password: str, name: str) -> str:
    return make_url(pg.url(name)).set(username=role, password=password).render_as_string(False)


def _connect(role: str, password: str, name: str) -> psycopg.Connection:
    url = make_url(_as(role, password, name)).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False))


# The append-only tables the rule book names; later migrations may add more (the roles follow
# the triggers, so the test does too).
APPEND_ONLY = [
    "audit_events", "clinic_closures", "dose_corrections", "doses", "drug_screens",
    "hold_releases", "holds", "order_discontinuations", "orders", "take_home_authorizations",
    "withheld_doses",
]  # fmt: skip


def _guarded(name: str) -> dict[str, str]:
    """Tables with an append-only DELETE trigger, each with its first column, read as the
    superuser."""
    with psycopg.connect(f"{pg.BASE}/{name}", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid "
            "AND a.attnum = 1) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE '%\\_no\\_delete' ORDER BY 1"
        ).fetchall()
    return dict(rows)


@pytest.mark.postgres
def test_the_app_role_cannot_change_history_but_does_its_work(roles_database, tmp_path) -> None:
    admin = pg.url(roles_database)
    guarded = _guarded(roles_database)
    assert set(APPEND_ONLY) <= set(guarded)
    printed = _cli(admin, "--owner", OWNER, "--app", APP)
    assert printed.exit_code == 0, printed.output
    assert f'GRANT SELECT, INSERT ON TABLE public."doses" TO "{APP}";' in printed.output
    assert OWNER_PASSWORD not in printed.output

    applied = _cli(
        admin, "--owner", OWNER, "--app", APP, "--apply", "--password-stdin",
        input=f"{OWNER_PASSWORD}\n{APP_PASSWORD}\n",
    )  # fmt: skip
    assert applied.exit_code == 0, applied.output
    assert f"only read and add to {len(guarded)} append-only tables" in applied.output
    # Run again (after an upgrade, say): the same result, no error.
    assert _cli(admin, "--owner", OWNER, "--app", APP, "--apply").exit_code == 0

    with psycopg.connect(f"{pg.BASE}/{roles_database}", autocommit=True) as conn:
        owners = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        assert owners == [(OWNER,)]
        function_owners = conn.execute(
            "SELECT DISTINCT pg_get_userbyid(p.proowner) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        ).fetchall()
        assert function_owners == [(OWNER,)]

    refused = [
        *(f"UPDATE {t} SET {c} = {c}" for t, c in guarded.items()),
        *(f"DELETE FROM {t}" for t in guarded),
        *(f"TRUNCATE {t}" for t in guarded),
        "ALTER TABLE doses DISABLE TRIGGER USER",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "DROP TRIGGER doses_no_update ON doses",
        "SET session_replication_role = replica",
        "CREATE TABLE sneaky (id int)",
        "UPDATE alembic_version SET version_num = version_num",
        "CREATE OR REPLACE FUNCTION mat_refuse_change() RETURNS trigger AS "
        "$$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
        # the chain's tail (migration 0010): a replaced one could hand back a forged head
        "CREATE OR REPLACE FUNCTION mat_audit_chain_tail(lock_key bigint) RETURNS TABLE "
        "(head varchar) LANGUAGE sql AS $$ SELECT 'forged'::varchar $$",
    ]
    with _connect(APP, APP_PASSWORD, roles_database) as conn:
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
        assert conn.execute("SELECT count(*) FROM doses").fetchone() == (0,)
        # Staged reads: the app adds them and seals them (DELETE), never updates them, and a
        # DELETE outside sealing is refused by the trigger.
        conn.execute(
            "INSERT INTO audit_staged_reads (at, roles, action, outcome, rules, detail) "
            "VALUES (now(), '', 'patient.read', 'done', '', '{}')"
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE audit_staged_reads SET action = action")
        conn.rollback()
        conn.execute(
            "INSERT INTO audit_staged_reads (at, roles, action, outcome, rules, detail) "
            "VALUES (now(), '', 'patient.read', 'done', '', '{}')"
        )
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute("DELETE FROM audit_staged_reads")
        conn.rollback()

    _the_app_works_as_the_app_role(_as(APP, APP_PASSWORD, roles_database))


def _the_app_works_as_the_app_role(url: str) -> None:
    from tests.conftest import Clock, RequestIsolatingClient
    from tests.support.factories import Factory

    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "MAT_CLOCK": Clock(),
         "RATELIMIT_STORAGE_URI": "memory://"}
    )  # fmt: skip
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        try:
            factory = Factory(app)
            nurse, doc = factory.user("nurse"), factory.user("prescriber", "admin")
            patient = factory.patient(admitted_on=date(2026, 11, 2))
            client = app.test_client()

            def call(method: str, path: str, user: Any, body: Any = None) -> Any:
                headers = {"Authorization": f"Bearer {factory.token(user)}"}
                return client.open(path, method=method, json=body, headers=headers)

            order = {"medication": "METH-10MGML", "kind": "maintenance",
                     "start_date": "2026-11-16", "dose_mg": 40}  # fmt: skip
            path = f"/api/v1/patients/{patient.id}"
            assert call("POST", f"{path}/orders", doc, order).status_code == 201
            assert call("POST", f"{path}/doses", nurse, {"amount_mg": 40}).status_code == 201
            again = call("POST", f"{path}/doses", nurse, {"amount_mg": 40})
            assert again.status_code == 409  # refused, and the refusal is audited
            hold = call("POST", f"{path}/holds", nurse, {"reason": "Sedated at the window"})
            assert hold.status_code == 201
            patch = call("PATCH", path, doc, {"level_of_care": "intensive_outpatient"})
            assert patch.status_code == 200, patch.get_json()  # an UPDATE the app may do
            assert call("GET", path, nurse).status_code == 200  # a read, staged
            # The timer's seal works as the app role; the vacuum is the owner's, so not asked.
            sealed = app.test_cli_runner().invoke(args=["audit", "seal"])
            assert sealed.exit_code == 0 and sealed.output == "sealed 1 reads\n", sealed.output
            assert vacuum_staged(db.engine) is False
            assert call("GET", path, nurse).status_code == 200
            verified = app.test_cli_runner().invoke(args=["audit", "verify"])
            assert verified.exit_code == 0 and verified.output.startswith("ok "), verified.output
            assert db.session.scalar(text("SELECT count(*) FROM audit_staged_reads")) == 0
        finally:
            db.session.remove()
            db.engine.dispose()


def test_the_sql_is_derived_from_the_tables_it_is_given() -> None:
    plan = RolePlan(
        "own", "app", ["alembic_version", "doses", "notes", "patients"],
        {"doses": [], "notes": ["body"]},
        {"notes": ["id", "body", "read_at"]},
    )  # fmt: skip
    sql = statements(plan)
    assert 'GRANT SELECT, INSERT ON TABLE public."doses" TO "app"' in sql
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public."patients" TO "app"' in sql
    # A partial trigger (UPDATE OF body refused) leaves the other columns open to UPDATE.
    assert 'GRANT UPDATE ("id", "read_at") ON TABLE public."notes" TO "app"' in sql
    assert 'GRANT SELECT ON TABLE public."alembic_version" TO "app"' in sql
    assert not [s for s in sql if "TRUNCATE" in s or "TRIGGER" in s.split(" ON ")[0]]
    assert script(plan).count(";") >= len([s for s in sql if not s.startswith("--")])


def test_a_sealed_table_is_read_added_to_and_deleted_from_never_updated() -> None:
    plan = RolePlan(
        "own", "app", ["audit_staged_reads", "patients"], {}, {}, ["audit_staged_reads"]
    )
    sql = statements(plan)
    assert 'GRANT SELECT, INSERT, DELETE ON TABLE public."audit_staged_reads" TO "app"' in sql
    assert 'ALTER FUNCTION public.mat_seal_only() OWNER TO "own"' in sql
    assert plan.mutable == ["patients"]


def test_role_names_are_plain_identifiers(app) -> None:
    result = app.test_cli_runner().invoke(args=["db", "roles", "--app", 'x"; DROP TABLE doses'])
    assert result.exit_code == 1
    assert "is not a plain role name" in result.output


def test_on_sqlite_it_says_so(tmp_path) -> None:
    result = _cli(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    assert result.exit_code == 1
    assert "db roles is for PostgreSQL" in result.output
