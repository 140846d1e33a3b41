"""How much of a case's book-year maximum is used (SPEC 9), read from the totals rows: no SUM over entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, partial

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapBasis, CapKind, CaseYearTotals
from services import company, totals, validation
from services.book_year import BookYear, book_year_of
from services.cap import CapSettings


@dataclass(frozen=True, slots=True)
class CapUsage:
    kind: CapKind
    basis: CapBasis
    book_year_start: date
    book_year_end: date
    limit_minutes: int | None
    limit_amount: Decimal | None
    used_minutes: int
    used_amount: Decimal
    available_minutes: int | None
    available_amount: Decimal | None


@dataclass(frozen=True, slots=True)
class CapQuery:
    """The usage asked of one capped case: its cap fields and the day whose book year counts (None: today in the
    company's zone). Hashable, so a loader can batch it."""

    case_id: int
    on: date | None
    kind: CapKind
    basis: CapBasis
    max_minutes: int | None
    max_amount: Decimal | None


def query(case_id: int, case: CapSettings, on: date | None = None) -> CapQuery | None:
    """What `of_cases` reads for the case, `on` checked (a DomainError out of range); None without a cap."""
    validation.day(on, "date")
    if case.max_per_book_year is CapKind.NONE:
        return None
    return CapQuery(case_id, on, case.max_per_book_year, case.max_based_on, case.max_minutes, case.max_amount)


async def of_case(session: AsyncSession, case_id: int, case: CapSettings, on: date | None = None) -> CapUsage | None:
    """Limit, used and available for the book year holding `on` (today in the company's zone); None without a cap."""
    asked = query(case_id, case, on)
    return None if asked is None else (await of_cases(session, [asked]))[0]


async def of_cases(session: AsyncSession, queries: Sequence[CapQuery]) -> list[CapUsage]:
    """The usage of each query, in order, in two statements however many: the settings, then the totals rows of
    every case and book year asked."""
    settings = await company.get(session)
    today = cache(partial(company.today, settings))  # one today for all, read only when a query has no day
    years = [(asked, book_year_of(asked.on or today(), settings.book_year_start_month)) for asked in queries]
    keys = sorted({(asked.case_id, year.start) for asked, year in years})
    found = await session.scalars(
        select(CaseYearTotals).where(tuple_(CaseYearTotals.case_id, CaseYearTotals.year_start).in_(keys))
    )
    rows = {(row.case_id, row.year_start): row for row in found}
    return [_usage(asked, year, rows.get((asked.case_id, year.start))) for asked, year in years]


def _usage(asked: CapQuery, year: BookYear, row: CaseYearTotals | None) -> CapUsage:
    used_minutes, used_amount = totals.counted(row, asked.basis) if row else (0, Decimal(0))
    by_time = asked.kind is CapKind.TIME
    return CapUsage(
        kind=asked.kind,
        basis=asked.basis,
        book_year_start=year.start,
        book_year_end=year.last_day,
        limit_minutes=asked.max_minutes if by_time else None,
        limit_amount=None if by_time else asked.max_amount,
        used_minutes=used_minutes,
        used_amount=used_amount,
        available_minutes=max((asked.max_minutes or 0) - used_minutes, 0) if by_time else None,
        available_amount=None if by_time else max((asked.max_amount or Decimal(0)) - used_amount, Decimal(0)),
    )
