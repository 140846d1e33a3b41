"""Helpers of the time-writing service tests: writers, the books recounted from the entries, refusals."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Case, Employee
from services import auth, books, time_entries, visibility
from services.errors import DomainError, ErrorCode
from services.time_entries import Writer
from tests.factories import Factory

RATE = Decimal("60.00")  # one currency unit per minute, so amounts read like minutes

_TABLES = (
    "time_entries",
    "case_year_totals",
    "cases",
    "idempotency_keys",
    "timers",
    "time_rollup",
    "time_rollup_month",
)


async def writer_for(session: AsyncSession, factory: Factory, employee: Employee) -> Writer:
    """The Writer a request of `employee` would get: viewer from a real token, visibility from their role."""
    viewer = await auth.authenticate(session, token=await factory.token(employee))
    assert viewer is not None
    return Writer(viewer, await visibility.for_viewer(session, viewer))


async def admin_writer(session: AsyncSession, factory: Factory) -> tuple[Employee, Writer]:
    employee, _ = await factory.admin()
    return employee, await writer_for(session, factory, employee)


async def assert_books_match(session: AsyncSession) -> None:
    """Every totals row equals the sums recomputed from the entries; every case's entry count is exact."""
    await session.flush()
    assert await books.totals_problems(session) == []


async def snapshot(session: AsyncSession) -> dict[str, str]:
    """The full content of every table a time write touches."""
    await session.flush()
    return {
        table: str(
            await session.scalar(text(f"SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM {table} t"))
        )
        for table in _TABLES
    }


async def refused_with(session: AsyncSession, action: Awaitable[object], code: ErrorCode, *field: str) -> DomainError:
    """Run `action` in a savepoint as a mutation would in its transaction; it must be refused with `code`
    (and, when given, a field starting with `field`), and leave every table as it was."""
    before = await snapshot(session)
    with pytest.raises(DomainError) as caught:
        async with session.begin_nested():
            await action
    error = caught.value
    assert error.code is code, error.message
    assert error.field[: len(field)] == field
    assert await snapshot(session) == before
    return error


async def mark_invoiced(session: AsyncSession, entry_id: int) -> None:
    """Turn a J entry F behind the services' back, moving its share in the totals row too."""
    await session.flush()
    await session.execute(
        text(
            """
            WITH e AS (
                UPDATE time_entries SET status = 'F', version = version + 1 WHERE id = :id AND status = 'J'
                RETURNING case_id, work_date, minutes, amount
            )
            UPDATE case_year_totals t
            SET j_minutes = t.j_minutes - e.minutes, f_minutes = t.f_minutes + e.minutes,
                j_amount = t.j_amount - e.amount, f_amount = t.f_amount + e.amount
            FROM e, company_settings s
            WHERE t.case_id = e.case_id
              AND t.year_start = (date_trunc('year', e.work_date - make_interval(months => s.book_year_start_month - 1))
                                  + make_interval(months => s.book_year_start_month - 1))::date
            """
        ),
        {"id": entry_id},
    )


@dataclass
class Desk:
    """An administrator who writes and bills, and of one debtor a case capped at 60 minutes a book year and an open
    one, with an activity at `RATE`."""

    admin: Employee
    writer: Writer
    capped: Case
    open: Case
    activity_id: int

    def entry(self, case: Case, minutes: int, **more: Any) -> time_entries.EntryData:
        data: dict[str, Any] = {"case_id": case.id, "activity_id": self.activity_id, "work_date": date(2026, 11, 2)}
        return {**data, "minutes": minutes, **more}  # type: ignore[typeddict-item]


async def make_desk(session: AsyncSession, factory: Factory) -> Desk:
    admin, writer = await admin_writer(session, factory)
    debtor = await factory.debtor()
    capped = await factory.case(debtor=debtor, max_per_book_year="TIME", max_minutes=60)
    open_case = await factory.case(debtor=debtor)
    activity = await factory.activity(default_rate=RATE)
    return Desk(admin, writer, capped, open_case, activity.id)
