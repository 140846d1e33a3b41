"""Helpers of the time-writing service tests: writers, the books recounted from the entries, refusals."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee
from services import auth, visibility
from services.errors import DomainError, ErrorCode
from services.time_entries import Writer
from tests.factories import Factory

RATE = Decimal("60.00")  # one currency unit per minute, so amounts read like minutes

# the book year of a work date, for any start month: shift back, truncate to the year, shift forward
_RECOUNT = text(
    """
    SELECT e.case_id,
           (date_trunc('year', e.work_date - make_interval(months => s.book_year_start_month - 1))
            + make_interval(months => s.book_year_start_month - 1))::date AS year_start,
           e.status::text AS status,
           sum(e.minutes) AS minutes,
           sum(e.amount) AS amount
    FROM time_entries e CROSS JOIN company_settings s
    WHERE e.case_id IS NOT NULL
    GROUP BY 1, 2, 3
    """
)
_STORED = text(
    "SELECT case_id, year_start, j_minutes, j_amount, f_minutes, f_amount, n_minutes, n_amount,"
    " l_minutes, l_amount FROM case_year_totals"
)
_COUNTS = text(
    """
    SELECT c.id, c.time_entry_count, count(e.id) AS counted
    FROM cases c LEFT JOIN time_entries e ON e.case_id = c.id
    GROUP BY c.id
    HAVING c.time_entry_count <> count(e.id)
    """
)
# the report rollups, per day and per month, recomputed from the entries and as kept (rows that went to zero left out)
_ROLLUP_KEY = "employee_id, debtor_id, coalesce(case_id, 0), activity_id, status::text"
_ROLLUPS = {
    "time_rollup": (
        text(
            f"SELECT work_date, {_ROLLUP_KEY}, sum(minutes), sum(amount), count(*) FROM time_entries"
            f" GROUP BY work_date, {_ROLLUP_KEY}"
        ),
        text(
            "SELECT work_date, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries"
            " FROM time_rollup WHERE minutes <> 0 OR amount <> 0 OR entries <> 0"
        ),
    ),
    "time_rollup_month": (
        text(
            f"SELECT date_trunc('month', work_date::timestamp)::date AS month, {_ROLLUP_KEY},"
            f" sum(minutes), sum(amount), count(*) FROM time_entries GROUP BY month, {_ROLLUP_KEY}"
        ),
        text(
            "SELECT month, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries"
            " FROM time_rollup_month WHERE minutes <> 0 OR amount <> 0 OR entries <> 0"
        ),
    ),
}
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
    recomputed: dict[tuple[int, date, str], tuple[int, Decimal]] = {
        (row.case_id, row.year_start, row.status): (int(row.minutes), Decimal(row.amount))
        for row in (await session.execute(_RECOUNT)).all()
    }
    stored: dict[tuple[int, date, str], tuple[int, Decimal]] = {}
    for row in (await session.execute(_STORED)).all():
        for status, minutes, amount in (
            ("J", row.j_minutes, row.j_amount),
            ("F", row.f_minutes, row.f_amount),
            ("N", row.n_minutes, row.n_amount),
            ("L", row.l_minutes, row.l_amount),
        ):
            if minutes or amount:
                stored[(row.case_id, row.year_start, status)] = (int(minutes), Decimal(amount))
    assert stored == recomputed
    assert (await session.execute(_COUNTS)).all() == []


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


async def rollup_problems(session: AsyncSession) -> list[str]:
    """Each report rollup, per day and per month, against the same sums recomputed from the entries."""
    problems = []
    for table, (from_entries, kept) in _ROLLUPS.items():
        expected = {tuple(r[:6]): (int(r[6]), Decimal(r[7]), int(r[8])) for r in await session.execute(from_entries)}
        stored = {tuple(r[:6]): (int(r[6]), Decimal(r[7]), int(r[8])) for r in await session.execute(kept)}
        problems += [
            f"{table} {key}: kept {stored.get(key)}, entries say {expected.get(key)}"
            for key in sorted(expected.keys() | stored.keys(), key=str)
            if stored.get(key) != expected.get(key)
        ]
    return problems
