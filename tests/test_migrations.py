"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from mat.extensions import db
from tests.support import pg
from tests.support.sealing import sealed


def _upgrade_and_compare(url: str) -> list:
    from flask_migrate import upgrade

    from mat import create_app
    from mat.db_cli import bind_migrations

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    bind_migrations(app)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    return diff


def test_sqlite_migrations_match_the_models(tmp_path) -> None:
    assert _upgrade_and_compare(f"sqlite:///{tmp_path / 'empty.sqlite3'}") == []


@pytest.mark.postgres
def test_postgresql_migrations_match_the_models() -> None:
    pg.require()
    name = pg.create_database(f"mat_migr_{os.getpid()}")
    try:
        assert _upgrade_and_compare(pg.url(name)) == []
    finally:
        pg.drop_database(name)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET outcome = 'done'",
        "DELETE FROM audit_events",
    ],
)
def test_the_audit_trail_refuses_update_and_delete_in_the_database(
    app, api, staff, patient, statement
) -> None:
    api("get", f"/api/v1/patients/{patient.id}", as_=staff["nurse"])
    assert sealed() == 1  # the read, staged, now in the chain
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with pytest.raises(DatabaseError, match="append_only"), engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced_on_both_engines(app, staff) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO holds (patient_id, reason, set_by_id, set_at) "
                "VALUES (424242, 'nobody', 1, '2026-11-16 09:00:00+00:00')"
            )
        )
