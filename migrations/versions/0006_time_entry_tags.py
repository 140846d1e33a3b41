"""time entry tags, with the function and index the tags filter compares them by, ignoring case

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a constant default: PostgreSQL adds the column without rewriting the table
    op.add_column('time_entries', sa.Column('tags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False))
    op.create_check_constraint(op.f('ck_time_entries_tags_count'), 'time_entries', 'cardinality(tags) <= 10')
    op.create_check_constraint(op.f('ck_time_entries_tags_no_null'), 'time_entries', 'array_position(tags, NULL) IS NULL')
    # IMMUTABLE, so an index may hold its value
    op.execute(
        "CREATE FUNCTION tag_keys(tags text[]) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE"
        " RETURN ARRAY(SELECT lower(tag) FROM unnest(tags) AS tag)"
    )
    op.create_index('ix_time_entries_tag_keys', 'time_entries', [sa.text('tag_keys(tags)')], unique=False, postgresql_using='gin')


def downgrade() -> None:
    op.drop_index('ix_time_entries_tag_keys', table_name='time_entries', postgresql_using='gin')
    op.execute("DROP FUNCTION tag_keys(text[])")
    op.drop_constraint(op.f('ck_time_entries_tags_no_null'), 'time_entries', type_='check')
    op.drop_constraint(op.f('ck_time_entries_tags_count'), 'time_entries', type_='check')
    op.drop_column('time_entries', 'tags')
