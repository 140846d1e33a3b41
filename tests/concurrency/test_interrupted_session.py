"""A request's connection can die under it: graphql-core cancels the siblings of a failed root field (one
cancelled mid-statement leaves its connection closed), or the server ends the backend. Closing the request's
session must not turn an answer already computed into a 500, and the pool must not hand that connection out
again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import create_engine, create_sessionmaker
from db.session import request_session

pytestmark = pytest.mark.concurrency


@pytest.fixture
async def small_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


async def _kill_its_connection(session: AsyncSession, engine: AsyncEngine) -> None:
    """Open a transaction on `session`, then end its backend from another connection."""
    pid = await session.scalar(text("SELECT pg_backend_pid()"))
    async with engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


async def test_a_session_whose_connection_died_closes_quietly(small_engine: AsyncEngine, database_url: str) -> None:
    killer = create_engine(database_url, pool_size=1)
    try:
        # when
        async with request_session(create_sessionmaker(small_engine)) as session:
            await _kill_its_connection(session, killer)
        # then: the pool (of one) serves the next request on a sound connection
        async with request_session(create_sessionmaker(small_engine)) as session:
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await killer.dispose()


async def test_negative_control_a_plain_session_fails_to_close(small_engine: AsyncEngine, database_url: str) -> None:
    killer = create_engine(database_url, pool_size=1)
    try:
        # proof the connection above really died: closing the session the ordinary way raises
        with pytest.raises(Exception, match="closed"):
            async with create_sessionmaker(small_engine)() as session:
                await _kill_its_connection(session, killer)
    finally:
        await killer.dispose()
