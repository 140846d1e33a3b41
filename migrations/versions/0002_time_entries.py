"""time entries, totals, idempotency keys and timers

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_year_totals',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('year_start', sa.Date(), nullable=False),
    sa.Column('j_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('f_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('n_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('l_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('j_amount', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('f_amount', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('n_amount', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('l_amount', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_year_totals_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', 'year_start', name=op.f('pk_case_year_totals'))
    )
    op.create_table('idempotency_keys',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('request_hash', sa.LargeBinary(), nullable=False),
    sa.Column('time_entry_id', sa.BigInteger(), nullable=True),
    sa.Column('over_limit_entry_id', sa.BigInteger(), nullable=True),
    sa.Column('warnings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_idempotency_keys_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_index(op.f('ix_idempotency_keys_created_at'), 'idempotency_keys', ['created_at'], unique=False)
    op.create_table('time_entries',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('J', 'F', 'N', 'L', name='time_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rate', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source', sa.Enum('PER_DATE', 'PER_DEBTOR', 'COPY', 'TIMER', 'IMPORT', name='entry_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=True),
    sa.Column('over_limit_of_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("over_limit_of_id IS NULL OR status = 'L'", name=op.f('ck_time_entries_over_limit_line_is_l')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_time_entries_amount_not_negative')),
    sa.CheckConstraint('char_length(description) <= 4000', name=op.f('ck_time_entries_description_length')),
    sa.CheckConstraint('minutes BETWEEN 1 AND 1440', name=op.f('ck_time_entries_minutes_range')),
    sa.CheckConstraint('rate >= 0', name=op.f('ck_time_entries_rate_not_negative')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_time_entries_activity_id_activities')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_time_entries_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_time_entries_created_by_id_employees')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_time_entries_debtor_id_debtors')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_time_entries_employee_id_employees')),
    sa.ForeignKeyConstraint(['over_limit_of_id'], ['time_entries.id'], name=op.f('fk_time_entries_over_limit_of_id_time_entries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['employees.id'], name=op.f('fk_time_entries_updated_by_id_employees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_entries')),
    sa.UniqueConstraint('over_limit_of_id', name=op.f('uq_time_entries_over_limit_of_id'))
    )
    op.create_index('ix_time_entries_activity', 'time_entries', ['activity_id'], unique=False)
    op.create_index('ix_time_entries_case_date', 'time_entries', ['case_id', sa.literal_column('work_date DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_time_entries_case_minutes', 'time_entries', ['case_id', 'minutes', 'id'], unique=False)
    op.create_index('ix_time_entries_date', 'time_entries', [sa.literal_column('work_date DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_time_entries_debtor_date', 'time_entries', ['debtor_id', 'work_date'], unique=False)
    op.create_index('ix_time_entries_employee_date', 'time_entries', ['employee_id', 'work_date'], unique=False)
    op.create_table('timers',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_timers_activity_id_activities')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_timers_case_id_cases')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_timers_debtor_id_debtors')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_timers_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timers')),
    sa.UniqueConstraint('employee_id', name=op.f('uq_timers_employee_id'))
    )
    op.add_column('cases', sa.Column('time_entry_count', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('cases', 'time_entry_count')
    op.drop_table('timers')
    op.drop_index('ix_time_entries_employee_date', table_name='time_entries')
    op.drop_index('ix_time_entries_debtor_date', table_name='time_entries')
    op.drop_index('ix_time_entries_date', table_name='time_entries')
    op.drop_index('ix_time_entries_case_minutes', table_name='time_entries')
    op.drop_index('ix_time_entries_case_date', table_name='time_entries')
    op.drop_index('ix_time_entries_activity', table_name='time_entries')
    op.drop_table('time_entries')
    op.drop_index(op.f('ix_idempotency_keys_created_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_table('case_year_totals')
