"""Which database the per-request loaders read: `Loaders.replica` reads `read_db` (a report's rows, built by
`api.report.types.report_rows`), the others `db`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.driver import Reader
from db.session import RequestDb
from graph.loaders import Loaders
from tests.factories import Factory


class CountedDb(RequestDb):
    """A request's database that counts how often it is opened."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(maker, query=True)
        self.opened = 0

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Reader]:
        self.opened += 1
        async with super().reader() as reader:
            yield reader

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        async with super().read() as session:
            yield session


async def test_the_replica_loaders_read_the_read_database(
    sessionmaker: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    # given: a request whose reports read another database than its writes
    case = await factory.case()
    activity = await factory.activity()
    db, read_db = CountedDb(sessionmaker), CountedDb(sessionmaker)
    loaders = Loaders(db, read_db)
    try:
        # when
        [case_row] = await loaders.replica.case_by_id.load_many([case.id])
        [activity_row] = await loaders.replica.activity_by_id.load_many([activity.id])
        # then
        assert (case_row is not None and case_row.id, activity_row and activity_row.id) == (case.id, activity.id)
        assert (db.opened, read_db.opened) == (0, 2)
        assert loaders.replica is loaders.replica  # one set of caches per request
        await loaders.case_by_id.load(case.id)
        assert (db.opened, read_db.opened) == (1, 2)
    finally:
        await db.close()
        await read_db.close()


def test_without_a_read_database_the_replica_loaders_are_the_loaders(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    db = RequestDb(sessionmaker)
    alone, same = Loaders(db), Loaders(db, db)
    assert alone.replica is alone
    assert same.replica is same
