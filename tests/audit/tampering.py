"""Tampering with the audit trail the way only a database owner could: around the triggers."""

from __future__ import annotations

from sqlalchemy import text

from mat.extensions import db


def tamper(*statements: str) -> None:
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            for statement in statements:
                conn.execute(text(statement))
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
            return
        names = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master "
                    "WHERE type='trigger' AND tbl_name='audit_events'"
                )
            )
        ]
        sql = {
            n: conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name=:n"), {"n": n}
            ).scalar_one()
            for n in names
        }
        for name in names:
            conn.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            conn.execute(text(statement))
        for name in names:
            conn.execute(text(sql[name]))
