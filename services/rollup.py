"""The report rollups (SPEC 9): per day and per month, employee, debtor, case, activity and status.

Every write keeps both in its own transaction through `apply`; reports read whole months from the monthly one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import ARRAY, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import TimeEntry, TimeRollup, TimeRollupMonth


class Key(NamedTuple):
    work_date: date
    employee_id: int
    debtor_id: int
    case_id: int  # 0 for entries without a case
    activity_id: int
    status: str


class Contribution(NamedTuple):
    key: Key
    minutes: int
    amount: Decimal


def of(entry: TimeEntry) -> Contribution:
    """What an entry, as it is now, adds to the rollup."""
    key = Key(
        entry.work_date,
        entry.employee_id,
        entry.debtor_id,
        entry.case_id or 0,
        entry.activity_id,
        str(entry.status),
    )
    return Contribution(key, entry.minutes, entry.amount)


async def apply(
    session: AsyncSession, *, removed: Iterable[Contribution] = (), added: Iterable[Contribution] = ()
) -> None:
    """Move contributions in one statement, rows upserted in key order so concurrent writers cannot deadlock."""
    minutes: dict[Key, int] = defaultdict(int)
    amounts: dict[Key, Decimal] = defaultdict(Decimal)
    counts: dict[Key, int] = defaultdict(int)
    for sign, contributions in ((-1, removed), (1, added)):
        for key, entry_minutes, entry_amount in contributions:
            minutes[key] += sign * entry_minutes
            amounts[key] += sign * entry_amount
            counts[key] += sign
    values = [
        {**key._asdict(), "minutes": minutes[key], "amount": amounts[key], "entries": counts[key]}
        for key in sorted(minutes)
        if minutes[key] or amounts[key] or counts[key]
    ]
    if not values:
        return
    months: dict[tuple[Any, ...], dict[str, Any]] = {}
    for value in values:
        month_key = (value["work_date"].replace(day=1), *(value[k] for k in Key._fields[1:]))
        month = months.get(month_key)
        if month is None:
            months[month_key] = {**value, "work_date": month_key[0]}
        else:
            month["minutes"] += value["minutes"]
            month["amount"] += value["amount"]
            month["entries"] += value["entries"]
    month_values = [
        {"month": m.pop("work_date"), **m}
        for _, m in sorted(months.items())
        if m["minutes"] or m["amount"] or m["entries"]
    ]
    # day rows first, then month rows, each in key order: every writer takes their locks in one order
    await _upsert(session, TimeRollup, values, "work_date")
    if month_values:
        await _upsert(session, TimeRollupMonth, month_values, "month")


def _upsert_statement(table: type[TimeRollup | TimeRollupMonth], first: str) -> Any:
    """`INSERT … ON CONFLICT` adding each row given as arrays (one per column, unnested in step) to `table`: one
    statement built once for any number of rows, so a write never builds or compiles it again."""
    columns = [first, *Key._fields[1:], "minutes", "amount", "entries"]
    # the table, not the mapped class: the ORM would take the arrays for rows to insert
    rows = cast(Table, table.__table__)
    unnested = select(*(func.unnest(bindparam(name, type_=ARRAY(rows.c[name].type))).label(name) for name in columns))
    stmt = insert(rows).from_select(columns, unnested)
    return stmt.on_conflict_do_update(
        index_elements=[first, *Key._fields[1:]],
        set_={
            "minutes": rows.c.minutes + stmt.excluded.minutes,
            "amount": rows.c.amount + stmt.excluded.amount,
            "entries": rows.c.entries + stmt.excluded.entries,
        },
    )


_UPSERTS = {
    TimeRollup: _upsert_statement(TimeRollup, "work_date"),
    TimeRollupMonth: _upsert_statement(TimeRollupMonth, "month"),
}


async def _upsert(
    session: AsyncSession, table: type[TimeRollup | TimeRollupMonth], values: list[dict[str, Any]], first: str
) -> None:
    """The rows `values` (in the order given: the key order every writer locks in) added to `table`."""
    columns = [first, *Key._fields[1:], "minutes", "amount", "entries"]
    await session.execute(_UPSERTS[table], {name: [value[name] for value in values] for name in columns})
