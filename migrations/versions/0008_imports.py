"""imports: patients brought in with their history from another program

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

- imports (append-only): one row per import, written before its records (they point at it);
  its counts go into the import's audit event, so the row is never updated.
- orders.import_id, orders.prescribed_by_text, doses.import_id, drug_screens.import_id: nullable
  columns (adding them updates no row). An imported order names its prescriber as free text; an
  imported dose is not a row of mat's dispensing log.
"""
from alembic import op
import sqlalchemy as sa

import mat.database
from mat.append_only import drop_append_only, make_append_only

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

MARKED = ("orders", "doses", "drug_screens")


def upgrade():
    op.create_table('imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_imports_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    # Not in batch mode: a batch would rebuild these tables on SQLite and drop their append-only
    # triggers. SQLite adds a column's foreign key inline (REFERENCES); PostgreSQL by name.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in MARKED:
        name = op.f(f"fk_{table}_import_id_imports")
        if sqlite:
            op.execute(f"ALTER TABLE {table} ADD COLUMN import_id INTEGER "
                       f"CONSTRAINT {name} REFERENCES imports (id)")
        else:
            op.add_column(table, sa.Column('import_id', sa.Integer(), nullable=True))
            op.create_foreign_key(name, table, "imports", ["import_id"], ["id"])
    op.add_column('orders', sa.Column('prescribed_by_text', sa.String(length=160), nullable=True))
    make_append_only("imports")


def downgrade():
    bind = op.get_bind()
    # Without the imports table, imported doses would read as mat's own (dispensing log).
    if bind.execute(sa.text("SELECT 1 FROM imports LIMIT 1")).first():
        raise RuntimeError(
            "This database holds imported records; downgrading past 0008 would lose which "
            "rows were imported. Restore a backup taken before the upgrade instead."
        )
    if bind.dialect.name == "sqlite":
        # Dropping a column with a foreign key rebuilds the table on SQLite. With foreign keys
        # enforced, dropping the old table trips every row that points at it (as in 0007), so
        # the rebuild runs with enforcement off (SQLite's own procedure for a table rebuild),
        # then foreign_key_check proves nothing dangles. SQLite ignores the pragma inside a
        # transaction: then a table holding rows is refused as before.
        enforced = bind.exec_driver_sql("PRAGMA foreign_keys").scalar()
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
        if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
            for table in MARKED:
                if bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first():
                    raise RuntimeError(
                        f"This SQLite database holds {table}; downgrading past 0008 would "
                        "rebuild it. Restore a backup taken before the upgrade instead."
                    )
        for table in MARKED:
            drop_append_only(table)
            with op.batch_alter_table(table, recreate="always") as batch_op:
                batch_op.drop_column("import_id")
                if table == "orders":
                    batch_op.drop_column("prescribed_by_text")
            make_append_only(table)
        dangling = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if dangling:
            raise RuntimeError(f"The rebuild left rows pointing nowhere: {dangling[:5]}")
        if enforced:
            bind.exec_driver_sql("PRAGMA foreign_keys=ON")
    else:
        for table in MARKED:
            op.drop_constraint(op.f(f"fk_{table}_import_id_imports"), table, type_="foreignkey")
            op.drop_column(table, "import_id")
        op.drop_column("orders", "prescribed_by_text")
    drop_append_only("imports")
    op.drop_table('imports')
