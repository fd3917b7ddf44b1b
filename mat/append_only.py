"""Database triggers that make a table append-only (clinical-rules.md, ``append_only``).

Doses, orders, screens and audit events are never updated or deleted, by anyone: not by the app,
not by an admin at a SQL prompt using the app's role. The triggers are created by migrations, so
this module's SQL is part of the schema's history: change it only together with a new migration.
"""

from __future__ import annotations

from collections.abc import Iterable

from alembic import op

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION mat_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'append_only: % on % is refused; correct a record with a new row',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""


def make_append_only(table: str, *, columns: Iterable[str] | None = None) -> None:
    """Refuse DELETE (and TRUNCATE) always, and UPDATE of ``columns`` (all columns if None)."""
    cols = list(columns) if columns is not None else None
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        of = f" OF {', '.join(cols)}" if cols else ""
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE{of} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION mat_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION mat_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION mat_refuse_change()"
        )
        return
    of = f" OF {', '.join(cols)}" if cols else ""
    op.execute(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE{of} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'append_only: UPDATE on {table} is refused'); END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'append_only: DELETE on {table} is refused'); END"
    )


def drop_append_only(table: str) -> None:
    for suffix in ("no_update", "no_delete") + (
        ("no_truncate",) if op.get_bind().dialect.name == "postgresql" else ()
    ):
        op.execute(
            f"DROP TRIGGER IF EXISTS {table}_{suffix}"
            + (f" ON {table}" if op.get_bind().dialect.name == "postgresql" else "")
        )
