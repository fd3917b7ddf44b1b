"""Migration 0008 goes back down while only mat's own records exist (SQLite rebuilds the marked
tables with foreign keys checked afterwards), and refuses once anything was imported: without
the imports table, imported doses would read as rows of mat's own dispensing log."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from mat.extensions import db
from tests.support.migrating import app_on, empty_database_fixture
from tests.test_migration_0006 import _upgrade_with_old_records

empty_database = empty_database_fixture("mat_m08")


def test_downgrade_keeps_the_records_mat_wrote_itself(empty_database: str) -> None:
    from flask_migrate import downgrade, upgrade

    _upgrade_with_old_records(empty_database)
    app = app_on(empty_database)
    with app.app_context():
        downgrade(revision="0007")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, patient_id FROM orders")).all() == [(1, 1)]
            assert conn.execute(text("SELECT count(*) FROM take_home_authorizations")).scalar()
            columns = [c["name"] for c in inspect(conn).get_columns("orders")]
            assert "import_id" not in columns and "prescribed_by_text" not in columns
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT import_id FROM orders")).all() == [(None,)]
        db.engine.dispose()


def test_downgrade_is_refused_once_something_was_imported(empty_database: str) -> None:
    from flask_migrate import downgrade

    _upgrade_with_old_records(empty_database)
    app = app_on(empty_database)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO imports (id, source, by_id, at) "
                    "VALUES (1, 'Old system', 1, '2026-11-17 08:00:00+00:00')"
                )
            )
        with db.engine.connect() as conn:
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        with pytest.raises(SystemExit):  # flask-migrate logs the RuntimeError and exits 1
            downgrade(revision="0007")
        with db.engine.connect() as conn:
            # PostgreSQL runs the whole downgrade in one transaction: the steps from the head
            # down to 0008 before the refusal are rolled back with it. SQLite's DDL is not
            # transactional: those steps stay done.
            expected = head if conn.dialect.name == "postgresql" else "0008"
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert version == expected
            assert conn.execute(text("SELECT count(*) FROM imports")).scalar() == 1
        db.engine.dispose()
