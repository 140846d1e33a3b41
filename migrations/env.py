"""Alembic environment: the URL comes from the caller (cli.py or the tests), never from alembic.ini."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import models
from db.engine import create_engine

target_metadata = models.Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "", pool_size=1)
    async with engine.connect() as conn:
        await conn.run_sync(do_run_migrations)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (given := context.config.attributes.get("connection")) is not None:
    # called from inside a running event loop via AsyncConnection.run_sync (tests)
    do_run_migrations(given)
else:
    asyncio.run(run_async_migrations())
