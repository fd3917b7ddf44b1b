"""Migration 0009 (staged reads), on both engines: the table comes with its guard triggers, a
row staged in it joins the chain when sealed, and a downgrade that would drop reads not yet
chained is refused."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from mat.extensions import db
from tests.support import pg

STAGED = (
    "INSERT INTO audit_staged_reads (at, roles, action, entity_type, entity_id, patient_id, "
    "outcome, rules, detail) VALUES ('2026-11-16 09:00:00+00:00', 'nurse', 'patient.read', "
    "'patient', '1', 1, 'done', '', '{}')"
)


def _app(url: str):
    """An app whose in-process ``flask_migrate.upgrade()`` / ``downgrade()`` work."""
    from mat import create_app
    from mat.db_cli import bind_migrations

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    bind_migrations(app)
    return app


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
        return
    pg.require()
    name = pg.create_database(f"mat_m09_{os.getpid()}")
    try:
        yield pg.url(name)
    finally:
        pg.drop_database(name)


def test_reads_staged_in_the_new_table_join_the_chain(empty_database: str) -> None:
    from flask_migrate import upgrade

    from mat.audit.service import record, seal_staged_reads
    from mat.audit.verify import verify_chain

    app = _app(empty_database)
    with app.app_context():
        upgrade()
        record("test.before", entity_type="thing", entity_id=1)
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text(STAGED))
        assert seal_staged_reads() == 1
        db.session.commit()
        actions = db.session.scalars(text("SELECT action FROM audit_events ORDER BY id")).all()
        assert actions == ["test.before", "patient.read"]
        assert verify_chain().ok
        db.session.remove()
        db.engine.dispose()


def test_the_guards_come_with_the_table_and_a_downgrade_keeps_staged_reads(
    empty_database: str,
) -> None:
    from flask_migrate import downgrade, upgrade

    from mat.audit.service import seal_staged_reads

    app = _app(empty_database)
    with app.app_context():
        upgrade()
        engine = create_engine(empty_database)
        try:
            with engine.begin() as conn:
                conn.execute(text(STAGED))
            for statement in ("DELETE FROM audit_staged_reads", "UPDATE audit_staged_reads "
                              "SET action = 'x'"):  # fmt: skip
                with pytest.raises(DatabaseError, match="staged_reads"), engine.begin() as conn:
                    conn.execute(text(statement))
        finally:
            engine.dispose()
        with pytest.raises(SystemExit):  # flask-migrate logs the migration's reason and exits
            downgrade(revision="0008")
        assert db.session.scalar(text("SELECT count(*) FROM audit_staged_reads")) == 1
        db.session.rollback()
        assert seal_staged_reads() == 1
        db.session.commit()
        downgrade(revision="0008")  # nothing staged: the table goes
        with db.engine.connect() as conn:
            tables = conn.dialect.get_table_names(conn)
        assert "audit_staged_reads" not in tables and "audit_events" in tables
        db.session.remove()
        db.engine.dispose()
