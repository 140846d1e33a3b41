"""invoices and report rollup

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('invoice_counter',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('last_number', sa.BigInteger(), server_default='0', nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_invoice_counter_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_counter'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('total', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('voided', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_invoices_created_by_id_employees')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_invoices_debtor_id_debtors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number'))
    )
    op.create_index('ix_invoices_debtor_id', 'invoices', ['debtor_id', 'id'], unique=False)
    op.create_table('time_rollup',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), server_default='0', nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('entries', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_time_rollup_activity_id_activities')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_time_rollup_debtor_id_debtors')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_time_rollup_employee_id_employees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_rollup'))
    )
    op.create_index('ix_time_rollup_debtor_date', 'time_rollup', ['debtor_id', 'work_date'], unique=False)
    op.create_index('uq_time_rollup_key', 'time_rollup', ['work_date', 'employee_id', 'debtor_id', 'case_id', 'activity_id', 'status'], unique=True)
    op.create_table('invoice_lines',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('minutes', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_invoice_lines_activity_id_activities')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_invoice_lines_case_id_cases')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines'))
    )
    op.create_index(op.f('ix_invoice_lines_invoice_id'), 'invoice_lines', ['invoice_id'], unique=False)
    op.create_table('invoice_entries',
    sa.Column('invoice_id', sa.BigInteger(), nullable=False),
    sa.Column('time_entry_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_entries_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['time_entry_id'], ['time_entries.id'], name=op.f('fk_invoice_entries_time_entry_id_time_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('invoice_id', 'time_entry_id', name=op.f('pk_invoice_entries'))
    )
    op.create_index(op.f('ix_invoice_entries_time_entry_id'), 'invoice_entries', ['time_entry_id'], unique=False)
    op.create_index(op.f('ix_time_entries_invoice_id'), 'time_entries', ['invoice_id'], unique=False)
    op.create_foreign_key(op.f('fk_time_entries_invoice_id_invoices'), 'time_entries', 'invoices', ['invoice_id'], ['id'])
    op.execute("INSERT INTO invoice_counter (id, last_number) VALUES (1, 0)")
    # entries written before the rollup existed
    op.execute(
        "INSERT INTO time_rollup (work_date, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries) "
        "SELECT work_date, employee_id, debtor_id, coalesce(case_id, 0), activity_id, status, "
        "sum(minutes), sum(amount), count(*) FROM time_entries "
        "GROUP BY work_date, employee_id, debtor_id, coalesce(case_id, 0), activity_id, status"
    )


def downgrade() -> None:
    op.drop_constraint(op.f('fk_time_entries_invoice_id_invoices'), 'time_entries', type_='foreignkey')
    op.drop_index(op.f('ix_time_entries_invoice_id'), table_name='time_entries')
    op.drop_index(op.f('ix_invoice_entries_time_entry_id'), table_name='invoice_entries')
    op.drop_table('invoice_entries')
    op.drop_index(op.f('ix_invoice_lines_invoice_id'), table_name='invoice_lines')
    op.drop_table('invoice_lines')
    op.drop_index('uq_time_rollup_key', table_name='time_rollup')
    op.drop_index('ix_time_rollup_debtor_date', table_name='time_rollup')
    op.drop_table('time_rollup')
    op.drop_index('ix_invoices_debtor_id', table_name='invoices')
    op.drop_table('invoices')
    op.drop_table('invoice_counter')
