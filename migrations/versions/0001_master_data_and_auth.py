"""master data and auth

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('default_status', sa.Enum('J', 'F', 'N', 'L', name='activity_default_status', native_enum=False, create_constraint=True), server_default='J', nullable=False),
    sa.Column('default_rate', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("default_status IN ('J', 'N')", name=op.f('ck_activities_default_status_writable')),
    sa.CheckConstraint('char_length(code) BETWEEN 1 AND 200 AND code = btrim(code)', name=op.f('ck_activities_code_trimmed')),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 200', name=op.f('ck_activities_name_length')),
    sa.CheckConstraint('default_rate >= 0', name=op.f('ck_activities_default_rate_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    op.create_index('uq_activities_code_ci', 'activities', [sa.literal_column('lower(code)')], unique=True)
    op.create_table('company_settings',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('time_tracking_enabled', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('use_case_column', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('require_case', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('book_year_start_month', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('static_list_threshold', sa.Integer(), server_default='9500', nullable=False),
    sa.Column('time_zone', sa.Text(), server_default='UTC', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('book_year_start_month BETWEEN 1 AND 12', name=op.f('ck_company_settings_book_year_start_month')),
    sa.CheckConstraint('id = 1', name=op.f('ck_company_settings_single_row')),
    sa.CheckConstraint('static_list_threshold >= 1', name=op.f('ck_company_settings_static_list_threshold')),
    sa.CheckConstraint('use_case_column OR NOT require_case', name=op.f('ck_company_settings_require_case_needs_column')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_settings'))
    )
    op.create_table('debtors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('adjusted_rate', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('adjusted_rate >= 0', name=op.f('ck_debtors_adjusted_rate_not_negative')),
    sa.CheckConstraint('char_length(code) BETWEEN 1 AND 200 AND code = btrim(code)', name=op.f('ck_debtors_code_trimmed')),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 200', name=op.f('ck_debtors_name_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debtors'))
    )
    op.create_index('uq_debtors_code_ci', 'debtors', [sa.literal_column('lower(code)')], unique=True)
    op.create_table('roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('is_administrator', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('can_enter_time_for_others', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('can_invoice', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('employee_visibility', sa.Enum('ALL', 'OWN', 'OWN_AND_SUBORDINATES', 'SELECTED_ROLES', name='employee_visibility', native_enum=False, create_constraint=True), server_default='ALL', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 200', name=op.f('ck_roles_name_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roles'))
    )
    op.create_index('uq_roles_name_ci', 'roles', [sa.literal_column('lower(name)')], unique=True)
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('invoicing', sa.Enum('J', 'F', 'N', 'L', name='case_invoicing', native_enum=False, create_constraint=True), server_default='J', nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('active_from', sa.Date(), nullable=True),
    sa.Column('active_until', sa.Date(), nullable=True),
    sa.Column('adjusted_rate', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('blocked', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('max_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('max_minutes', sa.Integer(), nullable=True),
    sa.Column('max_per_book_year', sa.Enum('NONE', 'TIME', 'AMOUNT', name='cap_kind', native_enum=False, create_constraint=True), server_default='NONE', nullable=False),
    sa.Column('max_based_on', sa.Enum('BILLABLE', 'NON_BILLABLE', name='cap_basis', native_enum=False, create_constraint=True), server_default='BILLABLE', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("invoicing IN ('J', 'N')", name=op.f('ck_cases_invoicing_writable')),
    sa.CheckConstraint("max_per_book_year <> 'AMOUNT' OR max_amount IS NOT NULL", name=op.f('ck_cases_amount_cap_has_amount')),
    sa.CheckConstraint("max_per_book_year <> 'TIME' OR max_minutes IS NOT NULL", name=op.f('ck_cases_time_cap_has_minutes')),
    sa.CheckConstraint("max_per_book_year = 'NONE' OR (active_from IS NULL AND active_until IS NULL)", name=op.f('ck_cases_no_period_with_cap')),
    sa.CheckConstraint('active_until >= active_from', name=op.f('ck_cases_period_in_order')),
    sa.CheckConstraint('adjusted_rate >= 0', name=op.f('ck_cases_adjusted_rate_not_negative')),
    sa.CheckConstraint('char_length(code) BETWEEN 1 AND 200 AND code = btrim(code)', name=op.f('ck_cases_code_trimmed')),
    sa.CheckConstraint('char_length(description) <= 4000', name=op.f('ck_cases_description_length')),
    sa.CheckConstraint('max_amount >= 0', name=op.f('ck_cases_max_amount_not_negative')),
    sa.CheckConstraint('max_minutes >= 0', name=op.f('ck_cases_max_minutes_not_negative')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_cases_debtor_id_debtors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    op.create_index('ix_cases_code_id', 'cases', ['code', 'id'], unique=False)
    op.create_index('uq_cases_debtor_code_ci', 'cases', ['debtor_id', sa.literal_column('lower(code)')], unique=True)
    op.create_table('employees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('default_rate', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 200', name=op.f('ck_employees_name_length')),
    sa.CheckConstraint('default_rate >= 0', name=op.f('ck_employees_default_rate_not_negative')),
    sa.CheckConstraint('supervisor_id <> id', name=op.f('ck_employees_not_own_supervisor')),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_employees_role_id_roles')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['employees.id'], name=op.f('fk_employees_supervisor_id_employees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employees'))
    )
    op.create_index('ix_employees_name_id', 'employees', ['name', 'id'], unique=False)
    op.create_index(op.f('ix_employees_role_id'), 'employees', ['role_id'], unique=False)
    op.create_index(op.f('ix_employees_supervisor_id'), 'employees', ['supervisor_id'], unique=False)
    op.create_index('uq_employees_email_ci', 'employees', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('role_visible_roles',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('visible_role_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_role_visible_roles_role_id_roles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visible_role_id'], ['roles.id'], name=op.f('fk_role_visible_roles_visible_role_id_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'visible_role_id', name=op.f('pk_role_visible_roles'))
    )
    op.create_index(op.f('ix_role_visible_roles_visible_role_id'), 'role_visible_roles', ['visible_role_id'], unique=False)
    op.create_table('auth_tokens',
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_auth_tokens_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_auth_tokens'))
    )
    op.create_index(op.f('ix_auth_tokens_employee_id'), 'auth_tokens', ['employee_id'], unique=False)
    op.create_index(op.f('ix_auth_tokens_expires_at'), 'auth_tokens', ['expires_at'], unique=False)
    op.create_table('employee_rates',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.CheckConstraint('rate >= 0', name=op.f('ck_employee_rates_rate_not_negative')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_employee_rates_activity_id_activities')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_employee_rates_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', 'activity_id', name=op.f('pk_employee_rates'))
    )
    op.create_index(op.f('ix_employee_rates_activity_id'), 'employee_rates', ['activity_id'], unique=False)
    op.execute("INSERT INTO company_settings (id) VALUES (1)")


def downgrade() -> None:
    op.drop_index(op.f('ix_employee_rates_activity_id'), table_name='employee_rates')
    op.drop_table('employee_rates')
    op.drop_index(op.f('ix_auth_tokens_expires_at'), table_name='auth_tokens')
    op.drop_index(op.f('ix_auth_tokens_employee_id'), table_name='auth_tokens')
    op.drop_table('auth_tokens')
    op.drop_index(op.f('ix_role_visible_roles_visible_role_id'), table_name='role_visible_roles')
    op.drop_table('role_visible_roles')
    op.drop_index('uq_employees_email_ci', table_name='employees')
    op.drop_index(op.f('ix_employees_supervisor_id'), table_name='employees')
    op.drop_index(op.f('ix_employees_role_id'), table_name='employees')
    op.drop_index('ix_employees_name_id', table_name='employees')
    op.drop_table('employees')
    op.drop_index('uq_cases_debtor_code_ci', table_name='cases')
    op.drop_index('ix_cases_code_id', table_name='cases')
    op.drop_table('cases')
    op.drop_index('uq_roles_name_ci', table_name='roles')
    op.drop_table('roles')
    op.drop_index('uq_debtors_code_ci', table_name='debtors')
    op.drop_table('debtors')
    op.drop_table('company_settings')
    op.drop_index('uq_activities_code_ci', table_name='activities')
    op.drop_table('activities')
