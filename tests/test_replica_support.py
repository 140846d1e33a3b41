"""The streaming replica the read-replica tests stand on is a real one: a hot standby that replays what the primary
commits, refuses writes as PostgreSQL's replicas do, and can be made to lag on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from db import trouble
from db.engine import create_engine
from tests.replica_support import Replica, streaming_replica

READ_ONLY_SQL_TRANSACTION = "25006"


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    with streaming_replica(Path(tmp_path_factory.mktemp("replica")), "replicated") as replica:
        yield replica


@pytest.fixture(scope="module")
async def primary(replica: Replica) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(replica.primary_url, pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def standby(replica: Replica) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(replica.replica_url, pool_size=1)
    yield engine
    await engine.dispose()


async def _scalar(engine: AsyncEngine, query: str) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(text(query))).scalar_one()


async def test_the_replica_is_a_standby_in_recovery_and_the_primary_is_not(
    primary: AsyncEngine, standby: AsyncEngine
) -> None:
    assert await _scalar(standby, "SELECT pg_is_in_recovery()") is True
    assert await _scalar(primary, "SELECT pg_is_in_recovery()") is False


async def test_a_table_written_on_the_primary_is_on_the_replica_once_caught_up(
    replica: Replica, primary: AsyncEngine, standby: AsyncEngine
) -> None:
    async with primary.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)"))
        await conn.execute(text("INSERT INTO notes VALUES (1, 'written on the primary')"))
    replica.wait_caught_up()
    assert await _scalar(standby, "SELECT body FROM notes WHERE id = 1") == "written on the primary"


async def test_the_replica_refuses_a_write(standby: AsyncEngine) -> None:
    with pytest.raises(DBAPIError) as refused:
        async with standby.begin() as conn:
            await conn.execute(text("CREATE TABLE refused (id int)"))
    assert trouble.sqlstate(refused.value) == READ_ONLY_SQL_TRANSACTION


async def test_with_replay_paused_the_replica_lags_until_resumed(
    replica: Replica, primary: AsyncEngine, standby: AsyncEngine
) -> None:
    async with primary.begin() as conn:
        await conn.execute(text("CREATE TABLE lagging (id int PRIMARY KEY)"))
    replica.wait_caught_up()
    replica.pause_replay()
    try:
        async with primary.begin() as conn:
            await conn.execute(text("INSERT INTO lagging VALUES (1)"))
        with pytest.raises(TimeoutError):  # the standby must not get there
            replica.wait_caught_up(timeout=0.5)
        assert await _scalar(standby, "SELECT count(*) FROM lagging") == 0
    finally:
        replica.resume_replay()
    replica.wait_caught_up()
    assert await _scalar(standby, "SELECT count(*) FROM lagging") == 1
