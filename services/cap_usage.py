"""How much of a case's book-year maximum is used (SPEC 9), read from the totals rows: no SUM over entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapBasis, CapKind, CaseYearTotals
from services import company, totals, validation
from services.book_year import book_year_of


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


class CapSettings(Protocol):
    """The cap fields of a case, as a model or a read row carries them."""

    @property
    def max_per_book_year(self) -> CapKind: ...
    @property
    def max_based_on(self) -> CapBasis: ...
    @property
    def max_minutes(self) -> int | None: ...
    @property
    def max_amount(self) -> Decimal | None: ...


async def of_case(session: AsyncSession, case_id: int, case: CapSettings, on: date | None = None) -> CapUsage | None:
    """Limit, used and available for the book year holding `on` (today in the company's zone); None without a cap."""
    validation.day(on, "date")
    if case.max_per_book_year is CapKind.NONE:
        return None
    settings = await company.get(session)
    year = book_year_of(on or company.today(settings), settings.book_year_start_month)
    row = await session.scalar(
        select(CaseYearTotals).where(CaseYearTotals.case_id == case_id, CaseYearTotals.year_start == year.start)
    )
    used_minutes, used_amount = totals.counted(row, case.max_based_on) if row else (0, Decimal(0))
    by_time = case.max_per_book_year is CapKind.TIME
    return CapUsage(
        kind=case.max_per_book_year,
        basis=case.max_based_on,
        book_year_start=year.start,
        book_year_end=year.last_day,
        limit_minutes=case.max_minutes if by_time else None,
        limit_amount=None if by_time else case.max_amount,
        used_minutes=used_minutes,
        used_amount=used_amount,
        available_minutes=max((case.max_minutes or 0) - used_minutes, 0) if by_time else None,
        available_amount=None if by_time else max((case.max_amount or Decimal(0)) - used_amount, Decimal(0)),
    )
