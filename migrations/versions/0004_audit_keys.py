"""audit keys: keyed hash scheme per event, row digests, unbounded rule lists, signed checkpoints

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Events already stored keep their plain SHA-256 hashes: the new ``scheme`` column says so
("sha256") and ``verify`` accepts them only as the oldest part of the trail. New events are
keyed ("hmac-sha256:<key id>") and carry the digests of the clinical rows they record
(``records``). ``rules`` becomes unbounded text (a refusal may name many rules).
Checkpoints are append-only like the events.
"""
from alembic import op
import sqlalchemy as sa

import mat.database
from mat.append_only import drop_append_only, make_append_only


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _change_events(add: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the table is rebuilt, so its triggers go with it and are made again after
        drop_append_only("audit_events")
    with op.batch_alter_table('audit_events', recreate="always" if sqlite else "auto") as batch:
        if add:
            batch.add_column(sa.Column('records', sa.Text(), nullable=False, server_default=''))
            batch.add_column(
                sa.Column('scheme', sa.String(length=40), nullable=False, server_default='sha256')
            )
            batch.alter_column('rules', type_=sa.Text(), existing_type=sa.String(length=400))
        else:
            batch.drop_column('records')
            batch.drop_column('scheme')
            batch.alter_column('rules', type_=sa.String(length=400), existing_type=sa.Text())
    if sqlite:
        make_append_only("audit_events")


def upgrade():
    _change_events(add=True)
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('through_id', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('scheme', sa.String(length=40), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    sa.UniqueConstraint('through_id', name=op.f('uq_audit_checkpoints_through_id'))
    )
    make_append_only("audit_checkpoints")


def downgrade():
    drop_append_only("audit_checkpoints")
    op.drop_table('audit_checkpoints')
    _change_events(add=False)
