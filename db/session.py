"""One request, one AsyncSession, used by one task at a time (STYLE §2.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession


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
