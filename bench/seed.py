"""The bench database: `casetime_bench` on the embedded server, recreated, migrated and filled with SQL."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]

import cli
from db import embedded
from services.passwords import Passwords
from settings import PROJECT_ROOT

DATABASE = "casetime_bench"
PASSWORD = "bench-password"
ADMIN_EMAIL = "e0001@bench.test"
ROLE_NAME = "Administrator"
EMPLOYEES = 500
DEBTORS = 50
CASES_PER_DEBTOR = 40


def recreate(server: Any) -> str:
    """Drop and create the bench database, apply the migrations, return its URL."""
    if "(1 row)" in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';"):
        server.psql(f'DROP DATABASE "{DATABASE}" WITH (FORCE);')
    server.psql(f'CREATE DATABASE "{DATABASE}";')
    url = embedded.url_of(server, DATABASE)
    cli.migrate(url)
    return url


def start_server() -> Any:
    return embedded.start(PROJECT_ROOT / ".pgdata")


async def fill(url: str) -> None:
    """One admin role, 500 employees sharing one cheap argon2 hash, 50 debtors with 40 cases each."""
    password_hash = Passwords(time_cost=1, memory_kib=8).hash_now(PASSWORD)
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            role_id = await connection.fetchval(
                "INSERT INTO roles (name, is_administrator, can_enter_time_for_others, can_invoice,"
                " employee_visibility) VALUES ($1, true, true, true, 'ALL') RETURNING id",
                ROLE_NAME,
            )
            # names deliberately out of id order so the keyset (name, id) is not the primary key order
            await connection.execute(
                "INSERT INTO employees (name, email, password_hash, role_id, default_rate)"
                " SELECT format('%s Employee %s', chr(65 + (g * 7) % 26), lpad(g::text, 4, '0')),"
                "        format('e%s@bench.test', lpad(g::text, 4, '0')), $1, $2,"
                "        CASE WHEN g % 3 = 0 THEN NULL ELSE 50 + g % 50 END"
                " FROM generate_series(1, $3::int) AS g",
                password_hash,
                role_id,
                EMPLOYEES,
            )
            await connection.execute(
                "INSERT INTO debtors (code, name)"
                " SELECT format('D%s', lpad(g::text, 3, '0')), format('Debtor %s Ltd', g)"
                " FROM generate_series(1, $1::int) AS g",
                DEBTORS,
            )
            # every fourth case has a TIME cap and every fourth (offset) an AMOUNT cap, the rest none
            await connection.execute(
                "INSERT INTO cases (debtor_id, code, description, max_per_book_year, max_minutes, max_amount)"
                " SELECT d.id, format('C%s-%s', lpad(c::text, 3, '0'), d.code),"
                "        format('Case %s of %s: ongoing advice and support', c, d.name),"
                "        CASE c % 4 WHEN 1 THEN 'TIME' WHEN 2 THEN 'AMOUNT' ELSE 'NONE' END,"
                "        CASE WHEN c % 4 = 1 THEN 6000 END,"
                "        CASE WHEN c % 4 = 2 THEN 10000.00 END"
                " FROM debtors AS d CROSS JOIN generate_series(1, $1::int) AS c",
                CASES_PER_DEBTOR,
            )
        # vacuumed now rather than by autovacuum in the middle of a round; the visibility map it sets
        # lets the counts use index-only scans, as they would on a settled database
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def prepare() -> tuple[Any, str]:
    """Start (or adopt) the embedded server, rebuild and fill the bench database; (server, url)."""
    server = start_server()
    url = recreate(server)
    asyncio.run(fill(url))
    return server, url
