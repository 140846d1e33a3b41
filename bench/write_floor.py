"""The floor of a capped PER_DATE write: bare Starlette + asyncpg answering `createTimeEntry` as the app does.

`uvicorn bench.write_floor:app` with DATABASE_URL set. It reads the JSON body's `variables` (the query text is not
parsed: every body is taken for bench/time_bench.py's WRITE_MUTATION, `mode` PER_DATE), looks the bearer token up as
the app does, then writes in ONE transaction with raw SQL:

1. `TOKEN_SQL` (bench/floor.py), outside the transaction, as the app's authentication runs.
2. BEGIN.
3. With an `idempotencyKey` only: `EXPIRE_KEYS_SQL` (the writer's keys older than 24 hours) and `CLAIM_KEY_SQL`
   (insert the key, nothing on conflict); a repeat answers the stored entries (`STORED_SQL`) and writes nothing.
4. `LOCK_SQL`: the case's book-year totals row FOR UPDATE, read with what the decision needs of the case (cap kind,
   basis, limit, invoicing, debtor) and the rate: the first of case adjusted, debtor adjusted, the employee's
   activity rate, employee default, activity default (SPEC 4: the same order as services/rates.py). When the row
   does not exist yet (a new book year) `NEW_TOTALS_SQL` creates it and the lock is taken again.
5. The decision in Python, as services/time_entries.py's `_hold_to_cap` and services/cap.py make it: status the
   case's invoicing (the body gives none), cut to the space left, the excess on an L line, or the entry itself L
   when no whole minute fits; amounts `round_half_up(minutes * rate / 60, 2)` in Decimal.
6. `WRITE_SQL`: one statement of data-modifying CTEs: insert the entry, its L line (`over_limit_of_id` the entry),
   add both to the totals row, raise the case's `time_entry_count`, upsert the day and the month rollups, and (with
   a key) record the written ids and warnings on the idempotency key.
7. COMMIT.

Assumptions of the bench's data: the writer writes for themself (no `employeeId`), the case exists, is not blocked
and is active on the date, time tracking and the case column are on; none of it is checked (the app reads the
settings, employee, case, debtor and activity to check it). The book year's first month is read once at startup
(company_settings, January without a row). Every statement goes through asyncpg's statement cache (prepared once
per connection); the pool sends nothing when a connection goes back to it (`_keep`). `statements` (a list) receives
each statement's text when given, to count them.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from bench.floor import TOKEN_SQL, PoolFloor, bearer_digest, global_id, json_response, unauthenticated

CENT = Decimal("0.01")
STATUS = {"J": "BILLABLE", "F": "INVOICED", "N": "NON_BILLABLE", "L": "OVER_LIMIT"}
COUNTED = {"BILLABLE": ("J", "F"), "NON_BILLABLE": ("N",)}
KEEP_KEYS = datetime.timedelta(hours=24)

START_MONTH_SQL = "SELECT book_year_start_month FROM company_settings WHERE id = 1"
EXPIRE_KEYS_SQL = "DELETE FROM idempotency_keys WHERE employee_id = $1 AND created_at < now() - $2::interval"
CLAIM_KEY_SQL = """
INSERT INTO idempotency_keys (employee_id, key, request_hash, warnings) VALUES ($1, $2, $3, '[]'::jsonb)
ON CONFLICT DO NOTHING RETURNING key
"""
STORED_SQL = """
SELECT k.request_hash, k.warnings, e.id AS entry_id, e.minutes, e.status, k.over_limit_entry_id
FROM idempotency_keys AS k LEFT JOIN time_entries AS e ON e.id = k.time_entry_id
WHERE k.employee_id = $1 AND k.key = $2
"""
LOCK_SQL = """
SELECT t.j_minutes, t.f_minutes, t.n_minutes, t.j_amount, t.f_amount, t.n_amount,
       c.debtor_id, c.invoicing, c.max_per_book_year AS cap, c.max_based_on AS basis,
       c.max_minutes, c.max_amount,
       coalesce(c.adjusted_rate, d.adjusted_rate,
                (SELECT r.rate FROM employee_rates AS r WHERE r.employee_id = $3 AND r.activity_id = $4),
                e.default_rate, a.default_rate) AS rate
FROM case_year_totals AS t
JOIN cases AS c ON c.id = t.case_id
JOIN debtors AS d ON d.id = c.debtor_id
JOIN employees AS e ON e.id = $3
JOIN activities AS a ON a.id = $4
WHERE t.case_id = $1 AND t.year_start = $2
FOR UPDATE OF t
"""
NEW_TOTALS_SQL = "INSERT INTO case_year_totals (case_id, year_start) VALUES ($1, $2) ON CONFLICT DO NOTHING"

# $1 employee, $2 debtor, $3 case, $4 activity, $5 date, $6 rate, $7 description, $8 tags,
# $9 entry status, $10 entry minutes, $11 entry amount, $12 line minutes (0: none), $13 line amount,
# $14..$21 totals deltas (j, f, n, l minutes; j, f, n, l amounts), $22 year start, $23 entries added
_WRITE = """
WITH entry AS (
  INSERT INTO time_entries (employee_id, debtor_id, case_id, activity_id, work_date, minutes, status, rate, amount,
                            description, tags, source, created_by_id, updated_by_id, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $10, $9::text, $6, $11, $7, $8, 'PER_DATE', $1, $1, now(), now())
  RETURNING id
), line AS (
  INSERT INTO time_entries (employee_id, debtor_id, case_id, activity_id, work_date, minutes, status, rate, amount,
                            description, tags, source, created_by_id, updated_by_id, created_at, updated_at,
                            over_limit_of_id)
  SELECT $1, $2, $3, $4, $5, $12, 'L', $6, $13, $7, $8, 'PER_DATE', $1, $1, now(), now(), entry.id
  FROM entry WHERE $12::int > 0
  RETURNING id
), totals AS (
  UPDATE case_year_totals SET j_minutes = j_minutes + $14, f_minutes = f_minutes + $15,
         n_minutes = n_minutes + $16, l_minutes = l_minutes + $17, j_amount = j_amount + $18,
         f_amount = f_amount + $19, n_amount = n_amount + $20, l_amount = l_amount + $21
  WHERE case_id = $3 AND year_start = $22
), counted AS (
  UPDATE cases SET time_entry_count = time_entry_count + $23 WHERE id = $3
), parts AS (
  SELECT $9::text AS status, $10::int AS minutes, $11::numeric AS amount
  UNION ALL SELECT 'L', $12::int, $13::numeric WHERE $12::int > 0
), day AS (
  INSERT INTO time_rollup AS r (work_date, employee_id, debtor_id, case_id, activity_id, status, minutes, amount,
                                entries)
  SELECT $5, $1, $2, $3, $4, status, minutes, amount, 1 FROM parts ORDER BY status
  ON CONFLICT (work_date, employee_id, debtor_id, case_id, activity_id, status) DO UPDATE SET
    minutes = r.minutes + excluded.minutes, amount = r.amount + excluded.amount, entries = r.entries + excluded.entries
), month AS (
  INSERT INTO time_rollup_month AS r (month, employee_id, debtor_id, case_id, activity_id, status, minutes, amount,
                                      entries)
  SELECT date_trunc('month', $5::date)::date, $1, $2, $3, $4, status, minutes, amount, 1 FROM parts ORDER BY status
  ON CONFLICT (month, employee_id, debtor_id, case_id, activity_id, status) DO UPDATE SET
    minutes = r.minutes + excluded.minutes, amount = r.amount + excluded.amount, entries = r.entries + excluded.entries
){key_part}
SELECT (SELECT id FROM entry) AS entry_id, (SELECT id FROM line) AS line_id
"""
WRITE_SQL = _WRITE.format(key_part="")
# $24 the key, $25 the warnings (JSON)
WRITE_KEYED_SQL = _WRITE.format(
    key_part=""",
recorded AS (
  UPDATE idempotency_keys SET time_entry_id = (SELECT id FROM entry), over_limit_entry_id = (SELECT id FROM line),
         warnings = $25::jsonb
  WHERE employee_id = $1 AND key = $24
)"""
)


def amount(minutes: int, rate: Decimal) -> Decimal:
    """services/rates.py's `amount`: round_half_up(minutes * rate / 60, 2) in Decimal."""
    return (Decimal(minutes) * rate / 60).quantize(CENT, rounding=ROUND_HALF_UP)


def year_start(day: datetime.date, start_month: int) -> datetime.date:
    """The first day of the book year holding `day` (services/book_year.py)."""
    year = day.year if day.month >= start_month else day.year - 1
    return datetime.date(year, start_month, 1)


def global_number(value: object, type_name: str) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except ValueError:
        return None
    found, _, number = raw.partition(":")
    return int(number) if found == type_name and number.isdigit() else None


def decide(lock: Any, minutes: int) -> tuple[str, int, int, str | None]:
    """(entry status, entry minutes, L line minutes, warning code) of a PER_DATE write against the locked totals."""
    status: str = lock["invoicing"]
    basis = COUNTED[lock["basis"]]
    if lock["cap"] == "NONE" or status not in basis:
        return status, minutes, 0, None
    used_minutes = sum(lock[f"{s.lower()}_minutes"] for s in basis)
    if lock["cap"] == "TIME":
        fits = min(minutes, max(lock["max_minutes"] - used_minutes, 0))
    else:
        used_amount = sum((lock[f"{s.lower()}_amount"] for s in basis), Decimal(0))
        space = max(lock["max_amount"] - used_amount, Decimal(0))
        rate: Decimal = lock["rate"]
        room = minutes if rate == 0 else int((space * 60 / rate).to_integral_value(rounding=ROUND_FLOOR))
        fits = min(minutes, room)
    excess = minutes - fits
    if not excess:
        return status, minutes, 0, None
    if fits == 0:
        return "L", excess, 0, "CAP_EXCEEDED"
    return status, fits, excess, "CAP_EXCEEDED"


def payload(entry: dict[str, Any] | None, line_id: int | None, warnings: list[str]) -> dict[str, Any]:
    return {
        "data": {
            "createTimeEntry": {
                "timeEntry": entry,
                "overLimitEntry": None if line_id is None else {"id": global_id("TimeEntry", line_id)},
                "warnings": [{"code": code} for code in warnings],
                "userErrors": [],
            }
        }
    }


class WriteFloor(PoolFloor):
    def __init__(self, statements: list[str] | None = None) -> None:
        super().__init__()
        self.statements = statements
        self.start_month = 1

    def _log(self, query: Any) -> None:
        if self.statements is not None:
            self.statements.append(query.query)

    async def _setup(self, connection: Any) -> None:
        if self.statements is not None:
            connection.add_query_logger(self._log)

    @staticmethod
    async def _keep(_connection: Any) -> None:
        """The pool's reset on release: nothing. asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL;
        UNLISTEN *; RESET ALL` on every release, a round trip the app's SQLAlchemy pool does not make."""

    @asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self.pool = await asyncpg.create_pool(
            os.environ["DATABASE_URL"], min_size=2, max_size=10, setup=self._setup, reset=self._keep
        )
        try:
            start = await self.pool.fetchval(START_MONTH_SQL)
            self.start_month = int(start) if start is not None else 1
            yield
        finally:
            await self.pool.close()

    async def graphql(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        variables = (body.get("variables") or {}) if isinstance(body, dict) else {}
        data = variables.get("input") or {}
        case_id = global_number(data.get("caseId"), "Case")
        activity_id = global_number(data.get("activityId"), "Activity")
        minutes = data.get("minutes")
        if case_id is None or activity_id is None or not isinstance(minutes, int) or "workDate" not in data:
            return json_response({"errors": [{"message": "The floor answers only a PER_DATE create on a case"}]}, 400)
        day = datetime.date.fromisoformat(data["workDate"])
        key = variables.get("idempotencyKey")
        if bearer_digest(request) is None:
            return unauthenticated()
        async with self.pool.acquire() as connection:
            writer = await connection.fetchrow(TOKEN_SQL, bearer_digest(request))
            if writer is None:
                return unauthenticated()
            async with connection.transaction():
                answer = await self._write(connection, writer["id"], case_id, activity_id, day, minutes, data, key)
        return json_response(answer)

    async def _write(
        self,
        connection: Any,
        writer_id: int,
        case_id: int,
        activity_id: int,
        day: datetime.date,
        minutes: int,
        data: dict[str, Any],
        key: str | None,
    ) -> dict[str, Any]:
        if key is not None:
            digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).digest()
            await connection.execute(EXPIRE_KEYS_SQL, writer_id, KEEP_KEYS)
            if await connection.fetchval(CLAIM_KEY_SQL, writer_id, key, digest) is None:
                return await self._repeat(connection, writer_id, key, digest)
        start = year_start(day, self.start_month)
        lock = await connection.fetchrow(LOCK_SQL, case_id, start, writer_id, activity_id)
        if lock is None:
            await connection.execute(NEW_TOTALS_SQL, case_id, start)
            lock = await connection.fetchrow(LOCK_SQL, case_id, start, writer_id, activity_id)
        status, entry_minutes, line_minutes, warning = decide(lock, minutes)
        rate: Decimal = lock["rate"]
        entry_amount, line_amount = amount(entry_minutes, rate), amount(line_minutes, rate)
        deltas_minutes = dict.fromkeys("JFNL", 0)
        deltas_amount = dict.fromkeys("JFNL", Decimal(0))
        deltas_minutes[status] += entry_minutes
        deltas_amount[status] += entry_amount
        deltas_minutes["L"] += line_minutes
        deltas_amount["L"] += line_amount
        description = (data.get("description") or "").strip() or None
        tags = list(data.get("tags") or [])
        args: list[Any] = [
            writer_id,
            lock["debtor_id"],
            case_id,
            activity_id,
            day,
            rate,
            description,
            tags,
            status,
            entry_minutes,
            entry_amount,
            line_minutes,
            line_amount,
            *deltas_minutes.values(),
            *deltas_amount.values(),
            start,
            2 if line_minutes else 1,
        ]
        warnings = [warning] if warning else []
        if key is None:
            row = await connection.fetchrow(WRITE_SQL, *args)
        else:
            stored = [{"code": w, "message": w} for w in warnings]
            row = await connection.fetchrow(WRITE_KEYED_SQL, *args, key, orjson.dumps(stored).decode())
        entry = {"id": global_id("TimeEntry", row["entry_id"]), "minutes": entry_minutes, "status": STATUS[status]}
        return payload(entry, row["line_id"], warnings)

    async def _repeat(self, connection: Any, writer_id: int, key: str, digest: bytes) -> dict[str, Any]:
        stored = await connection.fetchrow(STORED_SQL, writer_id, key)
        if stored["request_hash"] != digest:
            return {"data": {"createTimeEntry": {"userErrors": [{"code": "VALIDATION"}]}}}
        entry = None
        if stored["entry_id"] is not None:
            entry = {
                "id": global_id("TimeEntry", stored["entry_id"]),
                "minutes": stored["minutes"],
                "status": STATUS[stored["status"]],
            }
        warnings = [w["code"] for w in orjson.loads(stored["warnings"])]
        return payload(entry, stored["over_limit_entry_id"], warnings)


app = WriteFloor().app()
