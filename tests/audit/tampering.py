"""Tampering with the record the way only a database owner could: around the triggers that
keep its tables append-only, which are back in force when the tampering is done."""

from __future__ import annotations

from sqlalchemy import text

from mat.extensions import db


def tamper(*statements: str) -> None:
    """Run ``statements`` around the audit trail's own triggers (PostgreSQL: the user triggers;
    the constraint triggers of its foreign keys stay)."""
    tamper_table("audit_events", *statements, triggers="USER")


def tamper_table(table: str, *statements: str, triggers: str = "ALL") -> None:
    """Run ``statements`` with ``table``'s triggers lifted, then put them back. PostgreSQL
    disables ``triggers`` (``ALL`` or ``USER``) and skips SQLite's ``PRAGMA`` statements; SQLite,
    which cannot disable a trigger, drops the table's triggers and creates them again as they
    were, so the rest of the test runs under them."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {triggers}"))
            for statement in statements:
                if not statement.startswith("PRAGMA"):
                    conn.execute(text(statement))
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {triggers}"))
        else:
            saved = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=:t"),
                {"t": table},
            ).all()
            for name, _ in saved:
                conn.execute(text(f"DROP TRIGGER {name}"))
            for statement in statements:
                conn.execute(text(statement))
            for _, sql in saved:
                conn.execute(text(sql))
    db.session.expire_all()
