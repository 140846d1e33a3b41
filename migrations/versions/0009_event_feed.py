"""event feed: every event in commit-safe order, for the readers that follow all of them (subscriptions, webhooks)

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # services/event_feed.py reads every event after a (xid, id) position, below the oldest running transaction
    op.execute("CREATE INDEX ix_events_feed ON events (xid, id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_events_feed")
