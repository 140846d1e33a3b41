"""One request, one AsyncSession, used by one task at a time (STYLE §2.1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger("casetime")


@dataclass
class RequestDb:
    session: AsyncSession
    _gate: asyncio.Lock = field(default_factory=asyncio.Lock)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._gate:
            yield self.session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """The transaction of one mutation: committed on success, rolled back on any exception."""
        async with self._gate:
            # a read earlier in the request may have opened a transaction; start the write afresh
            if self.session.in_transaction():
                await self.session.commit()
            try:
                yield self.session
            except BaseException:
                await self.session.rollback()
                raise
            await self.session.commit()


@asynccontextmanager
async def request_session(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose closing never fails the answer already computed.

    When one root field fails, graphql-core cancels its siblings; a sibling cancelled while its SQL runs leaves
    the connection closed, and the rollback on close then raises. That connection is dropped from the pool."""
    session = maker()
    try:
        yield session
    finally:
        try:
            await session.close()
        except SQLAlchemyError:
            log.warning("a request's connection was interrupted mid-statement; it is discarded", exc_info=True)
            await session.invalidate()
