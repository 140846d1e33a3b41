"""One request, one database connection at most, used by one task at a time (STYLE §2.1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from db.driver import Link, Reader

log = logging.getLogger("casetime")


class RequestDb:
    """The database of one request.

    A mutation's request works in the transactions of its session. A query's request reads in autocommit: its
    prebuilt statements run on a `Link` (`reader`) until something needs SQLAlchemy (`read`); the link's connection
    then goes back to the pool and the session, made then, serves the rest of the request.
    """

    def __init__(self, maker: async_sessionmaker[AsyncSession], *, query: bool = False) -> None:
        self._maker = maker
        bind = maker.kw.get("bind")
        self._link = Link(bind) if query and isinstance(bind, AsyncEngine | AsyncConnection) else None
        self._session: AsyncSession | None = None
        self._gate = asyncio.Lock()

    async def _the_session(self) -> AsyncSession:
        if self._session is None:
            if self._link is not None:
                # the link's connection goes back first, so that the request never holds two: a session bound to it
                # (through a Connection made around it) cost more than its checkout saves
                await self._link.close()
            self._session = self._maker()
        return self._session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Reader]:
        """What prebuilt statements run on: the link in a query's request until it needs a session, else the
        session."""
        async with self._gate:
            if self._session is None and self._link is not None:
                yield self._link
            else:
                yield await self._the_session()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._gate:
            yield await self._the_session()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """The transaction of one mutation: committed on success, rolled back on any exception."""
        async with self._gate:
            session = await self._the_session()
            # a read earlier in the request (its authentication) may have opened a transaction: the write goes on in
            # it rather than paying a COMMIT and a BEGIN, as every statement of it reads what is committed when it
            # starts (READ COMMITTED), and its rollback undoes reads only
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    async def close(self) -> None:
        """Never fails the answer already computed.

        When one root field fails, graphql-core cancels its siblings; a sibling cancelled while its SQL runs leaves
        the connection closed, and the rollback on close then raises. That connection is dropped from the pool."""
        try:
            if self._session is not None:
                try:
                    await self._session.close()
                except SQLAlchemyError:
                    log.warning("a request's connection was interrupted mid-statement; it is discarded", exc_info=True)
                    await self._session.invalidate()
        finally:
            if self._link is not None:
                await self._link.close()


@asynccontextmanager
async def request_db(maker: async_sessionmaker[AsyncSession], *, query: bool = False) -> AsyncIterator[RequestDb]:
    db = RequestDb(maker, query=query)
    try:
        yield db
    finally:
        await db.close()
