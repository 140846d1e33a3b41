"""monthly report rollup

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('time_rollup_month',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), server_default='0', nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('entries', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_time_rollup_month_activity_id_activities')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_time_rollup_month_debtor_id_debtors')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_time_rollup_month_employee_id_employees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_rollup_month'))
    )
    # the day rollup already holds every entry: summing it by month fills the new table exactly
    op.execute(
        "INSERT INTO time_rollup_month (month, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries) "
        "SELECT date_trunc('month', work_date)::date, employee_id, debtor_id, case_id, activity_id, status, "
        "sum(minutes), sum(amount), sum(entries) FROM time_rollup "
        "GROUP BY 1, employee_id, debtor_id, case_id, activity_id, status ORDER BY 1, 2, 3, 4, 5, 6"
    )
    op.create_index('uq_time_rollup_month_key', 'time_rollup_month', ['month', 'employee_id', 'debtor_id', 'case_id', 'activity_id', 'status'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_time_rollup_month_key', table_name='time_rollup_month')
    op.drop_table('time_rollup_month')
