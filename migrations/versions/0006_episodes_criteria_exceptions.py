"""the 2024 federal rule: episodes, take-home criteria, exceptions, loss reports

Episodes of care, the 2024 take-home criteria, SMA-168 exceptions, take-home loss reports and
other prescribed substances.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14

- patient_episodes, episode_discharges (append-only): every admission and discharge. Each
  patient registered before gets episode 1 from patients.admitted_on; a patient already
  discharged gets a discharge row with no date and no user (neither was recorded before).
- take_home_authorizations: the 2024 criteria (no_active_use_or_risk, safe_transport_and_storage)
  and the rationale come in as new columns, and the old list's own criteria (no_recent_misuse,
  stable_home, safe_storage) become nullable: no row is updated, so every authorization signed
  before keeps its answers as recorded. A check constraint keeps each row one whole form (the
  2024 one, or the old one). The table is append-only: on SQLite the column changes rebuild the
  table (a copy, then a rename), which drops its triggers, so the triggers are dropped before
  and created again after, on both engines alike, inside this migration's transaction.
- take_home_exceptions (append-only) and doses.take_home_exception_id: the exception that let a
  take-home pass the ceiling. Adding a nullable column updates no row.
- take_home_losses, take_home_loss_reviews (append-only).
- patients.other_prescribed: screen-panel substances prescribed elsewhere, '[]' for everyone.
"""
from alembic import op
import sqlalchemy as sa

import mat.database
from mat.append_only import drop_append_only, make_append_only

NEW_APPEND_ONLY = ("patient_episodes", "episode_discharges", "take_home_exceptions",
                   "take_home_losses", "take_home_loss_reviews")
ONE_WHOLE_FORM = (
    "(no_active_use_or_risk IS NOT NULL AND safe_transport_and_storage IS NOT NULL "
    "AND rationale IS NOT NULL) OR (no_recent_misuse IS NOT NULL AND stable_home IS "
    "NOT NULL AND safe_storage IS NOT NULL)"
)

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('other_prescribed', sa.Text(), server_default='[]', nullable=False))

    op.create_table('patient_episodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('admitted_on', sa.Date(), nullable=False),
    sa.Column('level_of_care', sa.String(length=24), nullable=False),
    sa.Column('admitted_by_id', sa.Integer(), nullable=True),
    sa.Column('admitted_at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admitted_by_id'], ['users.id'], name=op.f('fk_patient_episodes_admitted_by_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_episodes_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_episodes')),
    sa.UniqueConstraint('patient_id', 'number', name='one_episode_number_per_patient')
    )
    with op.batch_alter_table('patient_episodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_episodes_patient_id'), ['patient_id'], unique=False)

    op.create_table('episode_discharges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('discharged_on', sa.Date(), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_episode_discharges_by_id_users')),
    sa.ForeignKeyConstraint(['episode_id'], ['patient_episodes.id'], name=op.f('fk_episode_discharges_episode_id_patient_episodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_episode_discharges')),
    sa.UniqueConstraint('episode_id', name=op.f('uq_episode_discharges_episode_id'))
    )
    # Episode 1 of every patient registered before episodes were recorded.
    op.execute(
        "INSERT INTO patient_episodes (patient_id, number, admitted_on, level_of_care, "
        "admitted_by_id, admitted_at) "
        "SELECT id, 1, admitted_on, level_of_care, NULL, created_at FROM patients"
    )
    op.execute(
        "INSERT INTO episode_discharges (episode_id, discharged_on, by_id, at) "
        "SELECT e.id, NULL, NULL, p.updated_at FROM patient_episodes e "
        "JOIN patients p ON p.id = e.patient_id WHERE p.status = 'discharged'"
    )

    op.create_table('take_home_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('approved_by', sa.String(length=160), nullable=False),
    sa.Column('approved_on', sa.Date(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_take_home_exceptions_ends_after_start')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_take_home_exceptions_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_take_home_exceptions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_take_home_exceptions')),
    sa.UniqueConstraint('patient_id', 'number', name='one_exception_number_per_patient')
    )
    with op.batch_alter_table('take_home_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_take_home_exceptions_patient_id'), ['patient_id'], unique=False)

    # Not in batch mode: a batch would rebuild doses on SQLite (and drop its triggers); adding a
    # nullable column changes no row. SQLite adds a foreign key only inline with the column.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE doses ADD COLUMN take_home_exception_id INTEGER '
                   'REFERENCES take_home_exceptions (id)')
    else:
        op.add_column('doses', sa.Column('take_home_exception_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_doses_take_home_exception_id_take_home_exceptions'),
                              'doses', 'take_home_exceptions', ['take_home_exception_id'], ['id'])

    op.create_table('take_home_losses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dose_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('reported_at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('lost', 'stolen', 'spilled')", name=op.f('ck_take_home_losses_known_kind')),
    sa.ForeignKeyConstraint(['dose_id'], ['doses.id'], name=op.f('fk_take_home_losses_dose_id_doses')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_take_home_losses_patient_id_patients')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_take_home_losses_reported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_take_home_losses')),
    sa.UniqueConstraint('dose_id', name=op.f('uq_take_home_losses_dose_id'))
    )
    with op.batch_alter_table('take_home_losses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_take_home_losses_patient_id'), ['patient_id'], unique=False)

    op.create_table('take_home_loss_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loss_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', mat.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('replace', 'no_replacement')", name=op.f('ck_take_home_loss_reviews_known_decision')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_take_home_loss_reviews_by_id_users')),
    sa.ForeignKeyConstraint(['loss_id'], ['take_home_losses.id'], name=op.f('fk_take_home_loss_reviews_loss_id_take_home_losses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_take_home_loss_reviews')),
    sa.UniqueConstraint('loss_id', name=op.f('uq_take_home_loss_reviews_loss_id'))
    )

    # The 2024 criteria beside the old ones; no row is updated (see the docstring).
    drop_append_only('take_home_authorizations')
    with op.batch_alter_table('take_home_authorizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_active_use_or_risk', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('safe_transport_and_storage', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('rationale', sa.Text(), nullable=True))
        batch_op.alter_column('no_recent_misuse', existing_type=sa.Boolean(), nullable=True)
        batch_op.alter_column('stable_home', existing_type=sa.Boolean(), nullable=True)
        batch_op.alter_column('safe_storage', existing_type=sa.Boolean(), nullable=True)
        batch_op.create_check_constraint(op.f('ck_take_home_authorizations_one_whole_form'), ONE_WHOLE_FORM)
    make_append_only('take_home_authorizations')

    for table in NEW_APPEND_ONLY:
        make_append_only(table)


def downgrade():
    bind = op.get_bind()
    signed_2024 = bind.execute(
        sa.text("SELECT count(*) FROM take_home_authorizations WHERE rationale IS NOT NULL")
    ).scalar_one()
    if signed_2024:
        # The old schema has no place for the 2024 answers: going back would lose them.
        raise RuntimeError(
            f"{signed_2024} take-home authorizations answer the 2024 criteria; the schema "
            "before 0006 cannot hold them, so this downgrade would lose records. Refused."
        )
    if bind.dialect.name == 'sqlite' and bind.execute(sa.text("SELECT 1 FROM doses LIMIT 1")).first():
        # Dropping doses.take_home_exception_id rebuilds doses on SQLite, which its foreign keys
        # (corrections point at doses) refuse part-way, without a transaction to undo the rest.
        raise RuntimeError(
            "This SQLite database holds doses; downgrading past 0006 would rebuild the doses "
            "table. Refused: restore the backup taken before the upgrade instead."
        )
    for table in NEW_APPEND_ONLY:
        drop_append_only(table)
    drop_append_only('take_home_authorizations')
    with op.batch_alter_table('take_home_authorizations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_take_home_authorizations_one_whole_form'), type_='check')
        batch_op.alter_column('safe_storage', existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column('stable_home', existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column('no_recent_misuse', existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_column('rationale')
        batch_op.drop_column('safe_transport_and_storage')
        batch_op.drop_column('no_active_use_or_risk')
    make_append_only('take_home_authorizations')

    op.drop_table('take_home_loss_reviews')
    with op.batch_alter_table('take_home_losses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_take_home_losses_patient_id'))
    op.drop_table('take_home_losses')
    # Dropping a column rebuilds doses on SQLite: its triggers go with it and come back after.
    drop_append_only('doses')
    with op.batch_alter_table('doses', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':  # SQLite's inline reference has no name
            batch_op.drop_constraint(batch_op.f('fk_doses_take_home_exception_id_take_home_exceptions'), type_='foreignkey')
        batch_op.drop_column('take_home_exception_id')
    make_append_only('doses')
    with op.batch_alter_table('take_home_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_take_home_exceptions_patient_id'))
    op.drop_table('take_home_exceptions')
    op.drop_table('episode_discharges')
    with op.batch_alter_table('patient_episodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_episodes_patient_id'))
    op.drop_table('patient_episodes')
    # Natively, not in batch: rebuilding patients on SQLite would trip every foreign key to it.
    op.drop_column('patients', 'other_prescribed')
