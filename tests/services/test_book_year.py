"""services.book_year: the Python book year against its SQL twin as PostgreSQL evaluates it (one SELECT per
example), with a deliberately wrong twin as negative control, and against SPEC.md's examples."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Date, Integer, cast, extract, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.book_year import book_year_of, year_start_sql

TWIN = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DAYS = st.dates(min_value=date(1999, 1, 1), max_value=date(2101, 12, 31))
MONTHS = st.integers(min_value=1, max_value=12)


async def sql_start(session: AsyncSession, day: date, start_month: int) -> date | None:
    return await session.scalar(select(year_start_sql(literal(day, Date), literal(start_month, Integer))))


class TestYearStart:
    @TWIN
    @given(day=DAYS, start_month=MONTHS)
    @example(day=date(2026, 3, 31), start_month=4)
    @example(day=date(2026, 4, 1), start_month=4)
    @example(day=date(2026, 12, 31), start_month=1)
    @example(day=date(2024, 2, 29), start_month=3)
    async def test_the_sql_twin_agrees(self, session: AsyncSession, day: date, start_month: int) -> None:
        assert await sql_start(session, day, start_month) == book_year_of(day, start_month).start

    async def test_spec_examples(self, session: AsyncSession) -> None:
        # book years from April: 31 March 2026 is in the one from 1 April 2025, 1 April 2026 starts the next
        assert book_year_of(date(2026, 3, 31), 4).start == date(2025, 4, 1)
        assert await sql_start(session, date(2026, 3, 31), 4) == date(2025, 4, 1)
        assert await sql_start(session, date(2026, 4, 1), 4) == date(2026, 4, 1)

    async def test_a_wrong_twin_is_caught(self, session: AsyncSession) -> None:
        """Negative control: a twin that forgets the year before the start month disagrees on a day before it."""
        day = literal(date(2026, 3, 31), Date)
        wrong = func.make_date(cast(extract("year", day), Integer), 4, 1)
        assert await session.scalar(select(wrong)) != book_year_of(date(2026, 3, 31), 4).start
