"""Helpers of the concurrency tests: run writers at once, each in its own committed transaction, and audit the books.

A writer here behaves as `graph.write.write` does: a serialization failure or deadlock is retried (and
counted), a lock timeout (55P03) is BUSY, a `DomainError` is a refusal; anything else escapes and fails the test.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import trouble
from models import Case, TimeEntry, TimeStatus
from services import books
from services.errors import DomainError

T = TypeVar("T")
Maker = async_sessionmaker[AsyncSession]

ATTEMPTS = 3


@dataclass
class Outcome(Generic[T]):
    """What one writer got: a value, a refusal code, or BUSY."""

    value: T | None = None
    refused: str | None = None
    busy: bool = False
    retried: list[str] = field(default_factory=list)  # the SQLSTATE of each retried attempt

    @property
    def ok(self) -> bool:
        return not self.busy and self.refused is None


async def write(
    maker: Maker, work: Callable[[AsyncSession], Awaitable[T]], start: asyncio.Barrier | None = None
) -> Outcome[T]:
    """Run `work` in one transaction of its own session; `start` lines the writers up once they hold a connection."""
    retried: list[str] = []
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with maker() as session, session.begin():
                if start is not None:
                    await _line_up(session, start)
                    start = None
                value = await work(session)
            return Outcome(value=value, retried=retried)
        except DomainError as error:
            return Outcome(refused=error.code.value, retried=retried)
        except DBAPIError as error:
            state = trouble.sqlstate(error)
            if state in trouble.RETRYABLE and attempt < ATTEMPTS:
                retried.append(state)
                continue
            if state in trouble.BUSY:
                return Outcome(busy=True, retried=retried)
            raise
    raise AssertionError("unreachable")


async def _line_up(session: AsyncSession, start: asyncio.Barrier) -> None:
    try:
        await session.connection()
    except BaseException:
        await start.abort()  # the others would wait for this writer forever
        raise
    await start.wait()


async def all_at_once(writers: Iterable[Awaitable[T]]) -> list[T]:
    """Await every writer together; any exception that escaped one fails the test once all have finished."""
    results = await asyncio.gather(*writers, return_exceptions=True)
    escaped = [r for r in results if isinstance(r, BaseException)]
    assert not escaped, f"{len(escaped)} writers raised: {escaped[:3]!r}"
    return [r for r in results if not isinstance(r, BaseException)]


def tally(outcomes: Iterable[Outcome[Any]]) -> Counter[str]:
    """How the writers ended: ok, busy, or the code they were refused with."""
    return Counter("busy" if outcome.busy else outcome.refused or "ok" for outcome in outcomes)


def retries(outcomes: Iterable[Outcome[Any]]) -> Counter[str]:
    """The SQLSTATEs of the attempts that were retried (40P01 deadlock, 40001 serialization failure)."""
    return Counter(state for outcome in outcomes for state in outcome.retried)


@dataclass
class CaseBooks:
    """One case as its entries say it is, beside what the kept totals and counter say."""

    entries: int = 0
    kept_count: int = 0
    minutes: Counter[TimeStatus] = field(default_factory=Counter)
    amounts: dict[TimeStatus, Decimal] = field(default_factory=dict)

    def counted_minutes(self) -> int:
        return self.minutes[TimeStatus.BILLABLE] + self.minutes[TimeStatus.INVOICED]

    def counted_amount(self) -> Decimal:
        return self.amounts.get(TimeStatus.BILLABLE, Decimal(0)) + self.amounts.get(TimeStatus.INVOICED, Decimal(0))


async def books_of(maker: Maker, case_id: int) -> CaseBooks:
    """The case's entries summed per status, read in a fresh transaction after the writers committed."""
    async with maker() as session:
        books = CaseBooks(kept_count=await session.scalar(select(Case.time_entry_count).where(Case.id == case_id)) or 0)
        rows = await session.execute(
            select(TimeEntry.status, func.count(), func.sum(TimeEntry.minutes), func.sum(TimeEntry.amount))
            .where(TimeEntry.case_id == case_id)
            .group_by(TimeEntry.status)
        )
        for status, count, minutes, amount in rows:
            books.entries += count
            books.minutes[status] = int(minutes)
            books.amounts[status] = amount
    return books


async def audit(maker: Maker) -> list[str]:
    """Every way the kept figures differ from what the entries say (empty when exact), read after the writers."""
    async with maker() as session:
        return await books.audit(session)
