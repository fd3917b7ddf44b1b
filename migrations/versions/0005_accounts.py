"""accounts: server-side sessions, token revocation, per-account lockout, password reset codes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

None of these are clinical records: sessions end, tokens are revoked, reset codes are used, and
expired sessions may be deleted. The audit trail keeps who signed in, out, was locked or reset.
"""
from alembic import op
import sqlalchemy as sa

import mat.database


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', mat.database.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('revoked_at', mat.database.UTCDateTime(timezone=True), nullable=True))
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', mat.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('sid_hash', name=op.f('uq_user_sessions_sid_hash'))
    )
    with op.batch_alter_table('user_sessions') as batch:
        batch.create_index(batch.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
        batch.create_index(batch.f('ix_user_sessions_last_seen_at'), ['last_seen_at'], unique=False)
    op.create_table('password_resets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', mat.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_password_resets_issued_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_resets_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_password_resets_code_hash'))
    )
    with op.batch_alter_table('password_resets') as batch:
        batch.create_index(batch.f('ix_password_resets_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('password_resets')
    op.drop_table('user_sessions')
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it): a batch rebuild would drop and
    # recreate users, which every clinical table references, and foreign keys are enforced.
    op.drop_column('api_tokens', 'revoked_at')
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_logins')
