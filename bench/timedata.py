"""Bulk time for the time and report benchmarks: written with SQL, never through the API.

Entries written with SQL bypass the services, so `add_kept` also fills what the services keep for
every write: `cases.time_entry_count`, `case_year_totals` (per case, book year and status) and
`time_rollup` (per day, employee, debtor, case, activity and status, with entry counts) and
`time_rollup_month` (the same per month), each with one INSERT … SELECT … GROUP BY over the entries added
since a given id (a fresh monthly rollup from the day rollup).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import asyncpg  # type: ignore[import-untyped]

import cli
from bench import seed
from db import embedded

ACTIVITIES = 20
NON_BILLABLE_FROM = 17  # activities 17..20 default to N

ENTRY_COLUMNS = (
    "employee_id, debtor_id, case_id, activity_id, work_date, minutes, status, rate, amount,"
    " description, source, created_by_id, updated_by_id"
)

# indexes not backing a constraint: dropped before a bulk load and rebuilt from their own definitions after
SECONDARY_INDEXES = """
SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
WHERE i.indrelid = $1::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname
"""

# the first day of the book year holding work_date, book years starting on the first of month {m}
_YEAR_START = (
    "(date_trunc('year', work_date - make_interval(months => {m} - 1)) + make_interval(months => {m} - 1))::date"
)

_TOTALS = """
INSERT INTO case_year_totals AS t (case_id, year_start, j_minutes, f_minutes, n_minutes, l_minutes,
                                    j_amount, f_amount, n_amount, l_amount)
SELECT case_id, {year_start},
       coalesce(sum(minutes) FILTER (WHERE status = 'J'), 0), coalesce(sum(minutes) FILTER (WHERE status = 'F'), 0),
       coalesce(sum(minutes) FILTER (WHERE status = 'N'), 0), coalesce(sum(minutes) FILTER (WHERE status = 'L'), 0),
       coalesce(sum(amount) FILTER (WHERE status = 'J'), 0), coalesce(sum(amount) FILTER (WHERE status = 'F'), 0),
       coalesce(sum(amount) FILTER (WHERE status = 'N'), 0), coalesce(sum(amount) FILTER (WHERE status = 'L'), 0)
FROM time_entries WHERE id > $1 AND case_id IS NOT NULL
GROUP BY 1, 2
ON CONFLICT (case_id, year_start) DO UPDATE SET
  j_minutes = t.j_minutes + excluded.j_minutes, f_minutes = t.f_minutes + excluded.f_minutes,
  n_minutes = t.n_minutes + excluded.n_minutes, l_minutes = t.l_minutes + excluded.l_minutes,
  j_amount = t.j_amount + excluded.j_amount, f_amount = t.f_amount + excluded.f_amount,
  n_amount = t.n_amount + excluded.n_amount, l_amount = t.l_amount + excluded.l_amount
"""

# ordered by key so the rollup lies on disk by day, as rows created while time is written do
_ROLLUP = """
INSERT INTO time_rollup AS r (work_date, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries)
SELECT work_date, employee_id, debtor_id, coalesce(case_id, 0), activity_id, status, sum(minutes), sum(amount), count(*)
FROM time_entries WHERE id > $1
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6
"""
_ROLLUP_ADD = """
ON CONFLICT (work_date, employee_id, debtor_id, case_id, activity_id, status) DO UPDATE SET
  minutes = r.minutes + excluded.minutes, amount = r.amount + excluded.amount, entries = r.entries + excluded.entries
"""

# the monthly rollup: from the day rollup on a fresh load, from the new entries otherwise
_MONTH_FROM_DAYS = """
INSERT INTO time_rollup_month (month, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries)
SELECT date_trunc('month', work_date)::date, employee_id, debtor_id, case_id, activity_id, status,
       sum(minutes), sum(amount), sum(entries)
FROM time_rollup
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6
"""
_MONTH_ADD = """
INSERT INTO time_rollup_month AS r
       (month, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries)
SELECT date_trunc('month', work_date)::date, employee_id, debtor_id, coalesce(case_id, 0), activity_id, status,
       sum(minutes), sum(amount), count(*)
FROM time_entries WHERE id > $1
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6
ON CONFLICT (month, employee_id, debtor_id, case_id, activity_id, status) DO UPDATE SET
  minutes = r.minutes + excluded.minutes, amount = r.amount + excluded.amount, entries = r.entries + excluded.entries
"""

_COUNTS = """
UPDATE cases AS c SET time_entry_count = c.time_entry_count + s.n
FROM (SELECT case_id, count(*) AS n FROM time_entries WHERE id > $1 AND case_id IS NOT NULL GROUP BY case_id) AS s
WHERE c.id = s.case_id
"""


async def connect(url: str) -> Any:
    """A seeding connection: room to sort and hash millions of rows in memory."""
    return await asyncpg.connect(url, server_settings={"work_mem": "256MB"})


def recreate(server: Any, database: str) -> str:
    """Drop and create `database` on the embedded server, apply the migrations, return its URL."""
    if "(1 row)" in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';"):
        server.psql(f'DROP DATABASE "{database}" WITH (FORCE);')
    server.psql(f'CREATE DATABASE "{database}";')
    url = embedded.url_of(server, database)
    cli.migrate(url)
    return url


async def fill_base(connection: Any, url: str) -> None:
    """bench/seed.py's roles, 500 employees, 50 debtors and 2,000 cases, plus 20 activities with rates."""
    await seed.fill(url)
    await connection.execute(
        "INSERT INTO activities (code, name, default_status, default_rate)"
        " SELECT format('A%s', lpad(g::text, 2, '0')), format('Activity %s', g),"
        "        CASE WHEN g >= $2 THEN 'N' ELSE 'J' END, 60 + 5 * g"
        " FROM generate_series(1, $1::int) AS g",
        ACTIVITIES,
        NON_BILLABLE_FROM,
    )
    for table, expected in (("employees", seed.EMPLOYEES), ("activities", ACTIVITIES)):
        low, high, n = await connection.fetchrow(f"SELECT min(id), max(id), count(*) FROM {table}")
        if (low, high, n) != (1, expected, expected):
            raise RuntimeError(f"{table}: ids {low}..{high} ({n} rows), expected 1..{expected}")


async def case_id(connection: Any, code: str) -> int:
    found = await connection.fetchval("SELECT id FROM cases WHERE code = $1", code)
    if found is None:
        raise RuntimeError(f"no case {code}")
    return int(found)


async def max_entry_id(connection: Any) -> int:
    return int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM time_entries"))


async def drop_secondary_indexes(connection: Any, table: str) -> list[Any]:
    """Drop `table`'s indexes that back no constraint; returns what `restore_indexes` needs."""
    dropped = list(await connection.fetch(SECONDARY_INDEXES, table))
    for index in dropped:
        await connection.execute(f'DROP INDEX "{index["name"]}"')
    return dropped


async def restore_indexes(connection: Any, dropped: list[Any]) -> None:
    await connection.execute("SET maintenance_work_mem = '512MB'")
    for index in dropped:
        await connection.execute(index["definition"])
    await connection.execute("RESET maintenance_work_mem")


async def insert_entries(connection: Any, select_sql: str, *args: Any, rebuild_indexes: bool = False) -> int:
    """INSERT INTO time_entries (ENTRY_COLUMNS) `select_sql`; returns the rows written.

    Foreign-key triggers are skipped (session_replication_role = replica): the SELECT only names rows
    that exist. With `rebuild_indexes` the secondary indexes are dropped first and rebuilt after, from
    their own definitions, which is much faster than keeping them up to date row by row.
    """
    dropped = await drop_secondary_indexes(connection, "time_entries") if rebuild_indexes else []
    await connection.execute("SET session_replication_role = replica")
    try:
        status = await connection.execute(f"INSERT INTO time_entries ({ENTRY_COLUMNS}) {select_sql}", *args)
    finally:
        await connection.execute("RESET session_replication_role")
    await restore_indexes(connection, dropped)
    return int(status.split()[-1])


async def add_kept(connection: Any, since_id: int, *, fresh: bool = False) -> None:
    """Add the entries with id > since_id to the case counts, the book-year totals and the rollup.

    `fresh`: the rollup is empty, so it is loaded without its indexes (rebuilt after) and without upserts.
    """
    month = int(await connection.fetchval("SELECT book_year_start_month FROM company_settings WHERE id = 1"))
    await connection.execute(_COUNTS, since_id)
    await connection.execute(_TOTALS.format(year_start=_YEAR_START.format(m=month)), since_id)
    if fresh:
        if await connection.fetchval("SELECT EXISTS (SELECT 1 FROM time_rollup)"):
            raise RuntimeError("add_kept(fresh=True) needs an empty rollup")
        dropped = await drop_secondary_indexes(connection, "time_rollup")
        dropped_month = await drop_secondary_indexes(connection, "time_rollup_month")
        await connection.execute(_ROLLUP, since_id)
        await connection.execute(_MONTH_FROM_DAYS)
        await restore_indexes(connection, dropped + dropped_month)
    else:
        await connection.execute(_ROLLUP + _ROLLUP_ADD, since_id)
        await connection.execute(_MONTH_ADD, since_id)


async def check_kept(connection: Any) -> None:
    """Cheap consistency checks of what the services keep against the entries."""
    entries, with_case, minutes = await connection.fetchrow(
        "SELECT count(*), count(case_id), coalesce(sum(minutes), 0) FROM time_entries"
    )
    rolled, rolled_minutes = await connection.fetchrow(
        "SELECT coalesce(sum(entries), 0), coalesce(sum(minutes), 0) FROM time_rollup"
    )
    monthly, monthly_minutes = await connection.fetchrow(
        "SELECT coalesce(sum(entries), 0), coalesce(sum(minutes), 0) FROM time_rollup_month"
    )
    counted = await connection.fetchval("SELECT coalesce(sum(time_entry_count), 0) FROM cases")
    totals = await connection.fetchval(
        "SELECT coalesce(sum(j_minutes + f_minutes + n_minutes + l_minutes), 0) FROM case_year_totals"
    )
    case_minutes = await connection.fetchval(
        "SELECT coalesce(sum(minutes), 0) FROM time_entries WHERE case_id IS NOT NULL"
    )
    problems = []
    if (rolled, rolled_minutes) != (entries, minutes):
        problems.append(f"rollup holds {rolled} entries / {rolled_minutes} min, the table {entries} / {minutes}")
    if (monthly, monthly_minutes) != (entries, minutes):
        problems.append(
            f"monthly rollup holds {monthly} entries / {monthly_minutes} min, the table {entries} / {minutes}"
        )
    if counted != with_case:
        problems.append(f"cases count {counted} entries, the table has {with_case} with a case")
    if totals != case_minutes:
        problems.append(f"book-year totals hold {totals} min, entries with a case {case_minutes}")
    if problems:
        raise RuntimeError("kept data out of step: " + "; ".join(problems))


async def vacuum_analyze(connection: Any, *tables: str) -> None:
    """What autovacuum would have done by now on a live table: visibility map, hint bits, statistics."""
    for table in tables:
        await connection.execute(f"VACUUM (ANALYZE) {table}")


class Stopwatch:
    """Named lap times, printed as the seed goes."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()
        self._first = self._last

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 2)
        self._last = now
        print(f"{self.label}: {name} {self.laps[name]:.1f} s", file=sys.stderr, flush=True)

    @property
    def total(self) -> float:
        return round(self._last - self._first, 2)


def entries_from(inner: str) -> str:
    """The SELECT for `insert_entries` over `inner`, a subquery yielding case_id, employee_id, activity_id,
    work_date, minutes and description; debtor from the case, status and rate from the activity."""
    return f"""
SELECT s.employee_id, c.debtor_id, c.id, s.activity_id, s.work_date, s.minutes,
       CASE WHEN s.activity_id >= {NON_BILLABLE_FROM} THEN 'N' ELSE 'J' END,
       60 + 5 * s.activity_id, round(s.minutes * (60 + 5 * s.activity_id) / 60.0, 2),
       s.description, 'PER_DATE', s.employee_id, s.employee_id
FROM ({inner}) AS s JOIN cases AS c ON c.id = s.case_id
"""
