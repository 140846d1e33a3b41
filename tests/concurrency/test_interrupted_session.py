"""A request's connection can die under it: graphql-core cancels the siblings of a failed root field (one
cancelled mid-statement leaves its connection closed), or the server ends the backend. Closing the request's
session must not turn an answer already computed into a 500, and the pool must not hand that connection out
again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Integer, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.driver import Prebuilt
from db.engine import SessionMakers, create_engine, create_sessionmaker
from db.session import request_db

pytestmark = pytest.mark.concurrency

_BACKEND = Prebuilt(select(func.pg_backend_pid(type_=Integer).label("pid")))


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
        async with request_db(create_sessionmaker(small_engine)) as db, db.read() as session:
            await _kill_its_connection(session, killer)
        # then: the pool (of one) serves the next request on a sound connection
        async with request_db(create_sessionmaker(small_engine)) as db, db.read() as session:
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


async def test_a_query_whose_link_died_answers_a_lost_connection_and_the_pool_recovers(
    small_engine: AsyncEngine, database_url: str
) -> None:
    killer = create_engine(database_url, pool_size=1)
    queries = SessionMakers.on(small_engine).query
    try:
        # given: a query's request whose prebuilt statements run on its link, the pool's only connection
        async with request_db(queries, query=True) as db:
            async with db.reader() as reader:
                pid = await _BACKEND.scalar(reader)
            async with killer.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
            # when
            with pytest.raises(DBAPIError) as lost:
                async with db.reader() as reader:
                    await _BACKEND.scalar(reader)
        # then: marked lost (the answer is 503), and the next request gets a sound connection
        assert lost.value.connection_invalidated
        async with request_db(queries, query=True) as db, db.reader() as reader:
            assert await _BACKEND.scalar(reader) != pid
    finally:
        await killer.dispose()


async def test_a_query_request_never_holds_two_connections(small_engine: AsyncEngine) -> None:
    queries = SessionMakers.on(small_engine).query
    # given: a pool of one; when: a request reads through its link, then through a session, then the link again
    async with request_db(queries, query=True) as db:
        async with db.reader() as reader:
            first = await _BACKEND.scalar(reader)
            # a Core statement that cannot be prebuilt goes through SQLAlchemy on the link's own connection
            by_core = await (await reader.connection()).scalar(text("SELECT pg_backend_pid()"))
        async with db.read() as session:
            by_session = await session.scalar(text("SELECT pg_backend_pid()"))
            # a transaction keeps one id for all its statements; in autocommit each statement is its own
            ids = [await session.scalar(text("SELECT pg_current_xact_id()::text")) for _ in range(2)]
        async with db.reader() as reader:
            last = await _BACKEND.scalar(reader)
        # then: never two connections at once (a second checkout would wait out the pool's timeout), in autocommit
        assert first == by_core == by_session == last  # the pool has one
        assert ids[0] != ids[1]
        assert small_engine.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    # and it is back in the pool when the request ends
    assert small_engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
