"""Alembic environment: the URL comes from the caller (cli.py or the tests), never from alembic.ini.

Migrations run under a PostgreSQL advisory lock, so workers and containers starting together on one empty
database migrate it once: the first applies, the others wait for it and then find the database current.
The revisions applied are left in `config.attributes["applied"]` for the caller to report.
"""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

import models
from db.engine import create_engine

target_metadata = models.Base.metadata

MIGRATION_LOCK = 0x63617374696D65  # "casetime": arbitrary, fixed, the same for every process


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    applied: list[str] = context.config.attributes.setdefault("applied", [])

    def record(*, step: Any, **_: Any) -> None:
        applied.append(step.up_revision_id)

    context.configure(connection=connection, target_metadata=target_metadata, on_version_apply=record)
    with context.begin_transaction():
        wait_for_lock(connection)
        context.run_migrations()  # reads the current revision only now, so a waiter sees what the first one did


def wait_for_lock(connection: Connection) -> None:
    """Take the migration lock for this transaction. A request's timeouts do not fit here: waiting for another
    process's migrations, or building an index on a large table, may take longer. The lock timeout comes back
    for the migrations themselves, so DDL stuck behind live traffic fails (and is retried) rather than queues it."""
    connection.execute(text("SET LOCAL statement_timeout = 0"))
    connection.execute(text("SET LOCAL lock_timeout = 0"))
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    connection.execute(text("RESET lock_timeout"))


async def run_async_migrations() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "", pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(do_run_migrations)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (given := context.config.attributes.get("connection")) is not None:
    # called from inside a running event loop via AsyncConnection.run_sync (tests)
    do_run_migrations(given)
else:
    asyncio.run(run_async_migrations())
