"""A mutation's transaction as production runs it (db.session.RequestDb on an engine): its prebuilt statements begin
the transaction on the request's link, with no session transaction of their own, and whatever the session does
later joins that same transaction on that same connection; commit and rollback take all of it or none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import nullcontext

import pytest
from sqlalchemy import BigInteger, Integer, bindparam, column, func, insert, literal, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.driver import Prebuilt
from db.engine import SessionMakers, create_engine
from db.session import RequestDb

PROBE = table("mutation_probe", column("id", Integer), column("step", Integer))
WRITE = Prebuilt(
    select(literal(1).label("written")).add_cte(
        insert(PROBE).values(id=bindparam("id", type_=Integer), step=1).cte("probe_written")
    ),
    locks=True,
)
WHERE = Prebuilt(
    select(func.pg_backend_pid(type_=Integer).label("pid"), func.txid_current(type_=BigInteger).label("tx"))
)


class Boom(Exception):
    pass


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of its own with a committed probe table, dropped afterwards."""
    engine = create_engine(database_url, pool_size=3)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE mutation_probe (id int PRIMARY KEY, step int NOT NULL)"))
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE mutation_probe"))
    await engine.dispose()


async def _ids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT id FROM mutation_probe ORDER BY id"))).scalars())


async def _write_then_fail(db: RequestDb, id_: int) -> None:
    async with db.write() as session:
        await WRITE.fetch(session, {"id": id_})
        raise Boom


async def _savepoint_then_fail(session: AsyncSession, id_: int) -> None:
    async with session.begin_nested():
        await WRITE.fetch(session, {"id": id_})
        raise Boom


def _db(engine: AsyncEngine) -> RequestDb:
    return RequestDb(SessionMakers.on(engine).write)


async def test_prebuilt_statements_alone_commit_on_the_link_with_no_session_transaction(live: AsyncEngine) -> None:
    db = _db(live)
    try:
        async with db.reader() as reader:  # the viewer's read, in autocommit
            (viewer,) = await WHERE.fetch(reader)
        async with db.write() as session:
            (first,) = await WHERE.fetch(session)
            await WRITE.fetch(session, {"id": 1})
            (second,) = await WHERE.fetch(session)
            # then: the session never began a transaction of its own, yet the statements share one
            assert not session.in_transaction()
            assert first == second
            assert live.pool.checkedout() == 1  # type: ignore[attr-defined]
        assert viewer["pid"] == first["pid"]  # one connection for the whole request
        assert viewer["tx"] != first["tx"]  # the viewer's read was no part of the write
    finally:
        await db.close()
    assert await _ids(live) == [1]
    assert live.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_failure_rolls_the_link_transaction_back(live: AsyncEngine) -> None:
    db = _db(live)
    try:
        with pytest.raises(Boom):
            await _write_then_fail(db, 1)
        # and the next write of the request starts afresh
        async with db.write() as session:
            await WRITE.fetch(session, {"id": 2})
    finally:
        await db.close()
    assert await _ids(live) == [2]


@pytest.mark.parametrize("fails", [False, True], ids=["commits", "rolls back"])
async def test_the_session_joins_the_transaction_the_link_began(live: AsyncEngine, fails: bool) -> None:
    db = _db(live)
    try:
        with pytest.raises(Boom) if fails else nullcontext():
            async with db.write() as session:
                await WRITE.fetch(session, {"id": 1})
                (before,) = await WHERE.fetch(session)
                # when: a statement through SQLAlchemy, then prebuilt ones again
                await session.execute(insert(PROBE).values(id=2, step=2))
                assert session.in_transaction()
                through_sqlalchemy = (await session.execute(text("SELECT pg_backend_pid(), txid_current()"))).one()
                await WRITE.fetch(session, {"id": 3})
                (after,) = await WHERE.fetch(session)
                # then: one transaction on one connection throughout
                assert before == after
                assert tuple(through_sqlalchemy) == (before["pid"], before["tx"])
                if fails:
                    raise Boom
    finally:
        await db.close()
    assert await _ids(live) == ([] if fails else [1, 2, 3])


async def test_a_savepoint_after_the_link_began_undoes_only_its_own(live: AsyncEngine) -> None:
    db = _db(live)
    try:
        async with db.write() as session:
            await WRITE.fetch(session, {"id": 1})
            with pytest.raises(Boom):
                await _savepoint_then_fail(session, 2)
            await WRITE.fetch(session, {"id": 3})
    finally:
        await db.close()
    assert await _ids(live) == [1, 3]


async def test_reads_after_the_write_are_in_autocommit_on_the_link(live: AsyncEngine) -> None:
    db = _db(live)
    try:
        async with db.write() as session:
            await WRITE.fetch(session, {"id": 1})
            (during,) = await WHERE.fetch(session)
        # when: the payload's reads, after the commit
        async with db.reader() as reader:
            (first,) = await WHERE.fetch(reader)
            (second,) = await WHERE.fetch(reader)
        # then: on the same connection, each statement in a transaction of its own (none held open)
        assert first["pid"] == second["pid"] == during["pid"]
        assert len({during["tx"], first["tx"], second["tx"]}) == 3
    finally:
        await db.close()
