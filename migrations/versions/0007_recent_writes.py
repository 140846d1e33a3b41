"""recent writes: when each employee last began a write, so their reads skip a lagging read replica for a while

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recent_writes',
        sa.Column('employee_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_recent_writes_employee_id_employees'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_recent_writes')),
    )


def downgrade() -> None:
    op.drop_table('recent_writes')
