"""Per case, book year and status totals (SPEC 6 step 2), kept by every write path.

The totals row of a case's book year is also its lock: writers take it with SELECT … FOR UPDATE,
always several at once in (case, year) order, so two writers can never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import DriverRow
from models import CapBasis, Case, CaseYearTotals, TimeEntry, TimeStatus
from services.book_year import book_year_of
from services.cap import COUNTED

Key = tuple[int, date]

# Test-only switch: tests/concurrency sets it False to prove the cap test catches a missing row lock.
# Production never changes it; with True, `lock` takes SELECT … FOR UPDATE as SPEC 6 step 1 asks.
LOCK_ROWS = True


@dataclass(frozen=True, slots=True)
class Share:
    """What one entry adds to its case's book-year totals."""

    key: Key
    status: TimeStatus
    minutes: int
    amount: Decimal


def key_of(entry: TimeEntry, start_month: int) -> Key | None:
    """The totals row the entry counts in: its case's book year; None for time without a case."""
    if entry.case_id is None:
        return None
    return entry.case_id, book_year_of(entry.work_date, start_month).start


def share_of(entry: TimeEntry, start_month: int) -> Share | None:
    """The entry's share of its case's book-year totals; None for time without a case."""
    key = key_of(entry, start_month)
    return None if key is None else Share(key, entry.status, entry.minutes, entry.amount)


_COLUMNS = {
    TimeStatus.BILLABLE: ("j_minutes", "j_amount"),
    TimeStatus.INVOICED: ("f_minutes", "f_amount"),
    TimeStatus.NON_BILLABLE: ("n_minutes", "n_amount"),
    TimeStatus.OVER_LIMIT: ("l_minutes", "l_amount"),
}
COUNT_COLUMNS = tuple(name for pair in _COLUMNS.values() for name in pair)


async def lock(session: AsyncSession, keys: Iterable[Key]) -> dict[Key, CaseYearTotals]:
    """Create missing totals rows, then lock them all in key order."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    await session.execute(
        insert(CaseYearTotals)
        .values([{"case_id": case_id, "year_start": start} for case_id, start in wanted])
        .on_conflict_do_nothing()
    )
    stmt = (
        select(CaseYearTotals)
        .where(tuple_(CaseYearTotals.case_id, CaseYearTotals.year_start).in_(wanted))
        .order_by(CaseYearTotals.case_id, CaseYearTotals.year_start)
        .execution_options(populate_existing=True)
    )
    rows = await session.scalars(stmt.with_for_update() if LOCK_ROWS else stmt)
    return {(row.case_id, row.year_start): row for row in rows}


def add(totals: CaseYearTotals, share: Share, sign: int = 1) -> None:
    minutes_column, amount_column = _COLUMNS[share.status]
    setattr(totals, minutes_column, getattr(totals, minutes_column) + sign * share.minutes)
    setattr(totals, amount_column, getattr(totals, amount_column) + sign * share.amount)


def added(shares: Iterable[tuple[TimeStatus, int, Decimal]]) -> dict[str, Any]:
    """What `shares` (status, minutes, amount) add to each of a totals row's `COUNT_COLUMNS`."""
    values: dict[str, Any] = dict.fromkeys(COUNT_COLUMNS, 0)
    for status, minutes, amount in shares:
        minutes_column, amount_column = _COLUMNS[status]
        values[minutes_column] += minutes
        values[amount_column] += amount
    return values


def counted(totals: CaseYearTotals | DriverRow, basis: CapBasis) -> tuple[int, Decimal]:
    """Minutes and amount held against a maximum of `basis`."""
    minutes, amount = 0, Decimal(0)
    for status in COUNTED[basis]:
        minutes_column, amount_column = _COLUMNS[status]
        minutes += getattr(totals, minutes_column)
        amount += getattr(totals, amount_column)
    return minutes, amount


async def count_entries(session: AsyncSession, case_id: int, delta: int) -> None:
    """Keep the case's entry count exact; callers hold the case's totals lock."""
    await session.execute(update(Case).where(Case.id == case_id).values(time_entry_count=Case.time_entry_count + delta))
