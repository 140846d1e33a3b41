"""webhooks: endpoints that are POSTed the events of their chosen types, and each delivery's attempts

Revision ID: 0010
Revises: 0009

`webhook_feed` is one row: how far the event feed (services/event_feed.py) has been turned into deliveries. It starts
at the feed's beginning; the feeder skips ahead to the oldest active webhook's own starting position
(`webhooks.from_xid`, `from_event_id`), so no event from before a webhook existed is read for it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('event_types', sa.ARRAY(sa.Text()), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('from_xid', sa.BigInteger(), nullable=False),
        sa.Column('from_event_id', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('char_length(url) BETWEEN 1 AND 2000', name=op.f('ck_webhooks_url_length')),
        sa.CheckConstraint('cardinality(event_types) >= 1', name=op.f('ck_webhooks_event_types_given')),
        sa.CheckConstraint('char_length(secret) BETWEEN 16 AND 200', name=op.f('ck_webhooks_secret_length')),
        sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_webhooks_created_by_id_employees')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['employees.id'], name=op.f('fk_webhooks_updated_by_id_employees')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks')),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('event_type', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=9), server_default='PENDING', nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('attempt_limit', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('PENDING', 'DELIVERED', 'FAILED')", name=op.f('ck_webhook_deliveries_delivery_status')
        ),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_webhook_deliveries_event_id_events')),
        sa.ForeignKeyConstraint(
            ['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    )
    op.create_index(
        'uq_webhook_deliveries_webhook_event', 'webhook_deliveries', ['webhook_id', 'event_id'], unique=True
    )
    op.create_index('ix_webhook_deliveries_webhook_id', 'webhook_deliveries', ['webhook_id', 'id'])
    op.create_index(
        'ix_webhook_deliveries_due',
        'webhook_deliveries',
        ['next_attempt_at', 'id'],
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_table(
        'webhook_feed',
        sa.Column('id', sa.SmallInteger(), nullable=False),
        sa.Column('xid', sa.BigInteger(), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_webhook_feed_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_feed')),
    )
    op.execute("INSERT INTO webhook_feed (id, xid, event_id) VALUES (1, 0, 0)")


def downgrade() -> None:
    op.drop_table('webhook_feed')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_webhook_id', table_name='webhook_deliveries')
    op.drop_index('uq_webhook_deliveries_webhook_event', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
