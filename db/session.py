"""One request, one database connection at most, used by one task at a time (STYLE §2.1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from db.driver import LINK, Link, LinkedSession, Reader
from db.lock_budget import LockBudget

log = logging.getLogger("casetime")


class RequestDb:
    """The database of one request, on one pooled connection at most.

    A query's request reads in autocommit: its prebuilt statements run on a `Link` (`reader`) until something needs
    SQLAlchemy (`read`); the link's connection then goes back to the pool and the session, made then, serves the rest
    of the request.

    A mutation's request reads its viewer on the link in autocommit too, and writes in the transactions of a
    `LinkedSession` on the link's connection: its prebuilt statements begin the transaction on the link, and only a
    write that needs SQLAlchemy makes the session join it there.
    """

    def __init__(self, maker: async_sessionmaker[AsyncSession], *, query: bool = False) -> None:
        self._maker = maker
        self._query = query
        bind = maker.kw.get("bind")
        self._link = Link(bind) if isinstance(bind, AsyncEngine | AsyncConnection) else None
        self._session: AsyncSession | None = None
        self._gate = asyncio.Lock()

    async def _the_session(self) -> AsyncSession:
        if self._session is None:
            if self._link is None:
                self._session = self._maker()
            elif self._query:
                # the link's connection goes back first, so that the request never holds two: a session bound to it
                # (through a Connection made around it) cost more than its checkout saves
                await self._link.close()
                self._session = self._maker()
            elif self._link.owned:
                self._session = self._maker(sync_session_class=LinkedSession, info={LINK: self._link})
            else:  # bound to one connection (tests): the session's transactions are savepoints in that connection's
                self._session = self._maker()
        return self._session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Reader]:
        """What prebuilt statements run on: the link until the request needs a session, and again once a mutation's
        session ended its transaction (the reads after a write need none), else the session."""
        async with self._gate:
            session = self._session
            if self._link is not None and (
                session is None or (session.info.get(LINK) is self._link and not session.in_transaction())
            ):
                yield self._link
            else:
                yield await self._the_session()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._gate:
            yield await self._the_session()

    @asynccontextmanager
    async def write(self, budget: LockBudget | None = None) -> AsyncIterator[AsyncSession]:
        """The transaction of one mutation: committed on success, rolled back on any exception; its lock waits
        counted against `budget`."""
        async with self._gate:
            session = await self._the_session()
            link = self._link if self._link is not None and self._link.owned else None
            with budget.watching(await self._info(session, link)) if budget is not None else nullcontext():
                try:
                    yield session
                except BaseException:
                    if link is None or session.in_transaction():
                        await session.rollback()
                    if link is not None:  # begun by a prebuilt statement, never joined by the session
                        await link.end(commit=False)
                    raise
                if link is None or session.in_transaction():
                    await session.commit()
                else:
                    await link.end(commit=True)

    @staticmethod
    async def _info(session: AsyncSession, link: Link | None) -> dict[Any, Any]:
        """The `info` of the connection the write runs on."""
        if link is None:
            return (await session.connection()).sync_connection.info  # type: ignore[union-attr]
        await link.adapted()
        return link.info

    async def close(self) -> None:
        """Never fails the answer already computed.

        When one root field fails, graphql-core cancels its siblings; a sibling cancelled while its SQL runs leaves
        the connection closed, and the rollback on close then raises. That connection is dropped from the pool."""
        try:
            # a session that never began a transaction and holds nothing has nothing to close
            if self._session is not None and (self._session.in_transaction() or len(self._session.identity_map)):
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
