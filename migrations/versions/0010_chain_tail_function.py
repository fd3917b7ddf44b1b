"""mat_audit_chain_tail(): the chain's lock, the seal of the staged reads and the head, one call

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

PostgreSQL only (SQLite has no functions of its own; its writers are serialized by a process
lock, mat.audit.service). A chained write took the chain's advisory lock in one statement, then
deleted the staged reads and read the chain's head in a second: the second had to be its own
statement, because a READ COMMITTED statement reads the snapshot taken when it starts, and the
head must be read after the lock is granted, or a writer that committed while this one waited
would be missed and the chain forked (refused by the unique prev_hash: a 500). A VOLATILE
function takes a new snapshot for each query it runs (PostgreSQL's "Function Volatility
Categories"), so this one takes the lock, turns the sealing setting on for the transaction, and
then, in a query that starts after the lock was granted, deletes the staged reads and reads the
head: one round trip for what was two (issue 10: at most 8 statements a recorded dose).

Its result columns are audit_staged_reads' columns after the head; a migration that changes
that table must replace this function too (RETURN QUERY refuses a mismatch at its first call).
SECURITY INVOKER (the default): it runs with the app role's rights, which already cover the
lock, the delete (the table's own trigger still checks the setting) and the read.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION mat_audit_chain_tail(lock_key bigint)
RETURNS TABLE (
    head varchar, id integer, at timestamptz, user_id integer, username varchar,
    roles varchar, client_addr varchar, action varchar, entity_type varchar,
    entity_id varchar, patient_id integer, outcome varchar, rules text, detail text
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    PERFORM set_config('mat.sealing', 'on', true);
    -- A new snapshot, taken now that the lock is held: the head is the last committed event.
    RETURN QUERY
        WITH sealed AS (DELETE FROM audit_staged_reads RETURNING *)
        SELECT (SELECT e.hash FROM audit_events AS e ORDER BY e.id DESC LIMIT 1),
               s.id, s.at, s.user_id, s.username, s.roles, s.client_addr, s.action,
               s.entity_type, s.entity_id, s.patient_id, s.outcome, s.rules, s.detail
        FROM (SELECT 1) AS one LEFT JOIN sealed AS s ON true;
END;
$$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS mat_audit_chain_tail(bigint)")
