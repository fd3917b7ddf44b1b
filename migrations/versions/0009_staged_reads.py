"""audit_staged_reads: reads of the record audited without the chain's lock (issue 10)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

A read is inserted here, unchained, by the reading request, and moved into audit_events (in id
order, with its original instant) by sealing (mat.audit.staging). The table is never updated,
and deleted from only by sealing: PostgreSQL's trigger lets a DELETE through only while the
transaction-local setting mat.sealing is 'on'; SQLite's only while the connection's
mat_sealing() function (registered by the app on every connection) answers 1.
"""
from alembic import op
import sqlalchemy as sa

import mat.database

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLE = "audit_staged_reads"
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION mat_seal_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('mat.sealing', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'staged_reads: % on % is refused; staged reads leave only by sealing',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    op.create_table(TABLE,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=True),
    sa.Column('roles', sa.String(length=80), nullable=False),
    sa.Column('client_addr', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=True),
    sa.Column('entity_id', sa.String(length=40), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_staged_reads'))
    )
    # Not named *_no_delete: the app role must DELETE here (sealing), so mat.db_roles grants it
    # SELECT, INSERT, DELETE on this table (found by this trigger's function).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(
            f"CREATE TRIGGER {TABLE}_seal_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION mat_seal_only()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION mat_seal_only()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} BEGIN "
            f"SELECT RAISE(ABORT, 'staged_reads: UPDATE on {TABLE} is refused'); END"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_seal_only BEFORE DELETE ON {TABLE} "
            "WHEN mat_sealing() IS NOT 1 BEGIN "
            f"SELECT RAISE(ABORT, 'staged_reads: DELETE on {TABLE} is refused outside sealing'); "
            "END"
        )


def downgrade():
    bind = op.get_bind()
    # Staged reads are audit events not yet chained: dropping them would lose them.
    if bind.execute(sa.text(f"SELECT 1 FROM {TABLE} LIMIT 1")).first():
        raise RuntimeError(
            "Reads are still staged: run `flask --app mat audit seal` before downgrading past "
            "0009."
        )
    op.drop_table(TABLE)  # its triggers go with it
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS mat_seal_only()")
