"""Whole-table snapshots in SQL, to prove that a refused request wrote nothing."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TABLES = frozenset(
    {
        "activities",
        "auth_tokens",
        "cases",
        "company_settings",
        "debtors",
        "employee_rates",
        "employees",
        "role_visible_roles",
        "roles",
        "time_entries",
        "timers",
        "invoices",
        "webhooks",
        "webhook_deliveries",
    }
)


async def rows_of(session: AsyncSession, table: str) -> list[str]:
    """Every row of `table` as text, in a stable order: equal snapshots mean equal contents and count."""
    assert table in TABLES, table  # names are interpolated, so only known tables
    result = await session.execute(text(f"SELECT t::text FROM {table} AS t ORDER BY 1"))
    return [row[0] for row in result]


async def count_of(session: AsyncSession, table: str) -> int:
    return len(await rows_of(session, table))
