"""The report rollups (SPEC 9): per day and per month, employee, debtor, case, activity and status.

Every write keeps both in its own transaction through `apply`; reports read whole months from the monthly one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.recordset import Recordset
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


Rows = list[dict[str, Any]]  # each row by column name, the rows in key order


def _columns(first: str) -> list[str]:
    return [first, *Key._fields[1:], "minutes", "amount", "entries"]


def changes(*, removed: Iterable[Contribution] = (), added: Iterable[Contribution] = ()) -> tuple[Rows, Rows]:
    """The day rows and the month rows that move `removed` out and `added` in, each in key order (the order every
    writer locks them in, so concurrent writers cannot deadlock); rows that net to nothing are left out."""
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
    return values, month_values


async def apply(
    session: AsyncSession, *, removed: Iterable[Contribution] = (), added: Iterable[Contribution] = ()
) -> None:
    """Move contributions, day rows first, then month rows: one statement each."""
    day_rows, month_rows = changes(removed=removed, added=added)
    if day_rows:
        await session.execute(_UPSERTS[TimeRollup], _ROWS[TimeRollup].bind(day_rows))
    if month_rows:
        await session.execute(_UPSERTS[TimeRollupMonth], _ROWS[TimeRollupMonth].bind(month_rows))


# each rollup's first key column: the day, or the month's first day
_FIRST = {TimeRollup: "work_date", TimeRollupMonth: "month"}


def _recordset(table: type[TimeRollup | TimeRollupMonth], name: str) -> Recordset:
    columns = cast(Table, table.__table__).c
    return Recordset(name, [(key, columns[key].type) for key in _columns(_FIRST[table])])


_ROWS = {TimeRollup: _recordset(TimeRollup, "day_rows"), TimeRollupMonth: _recordset(TimeRollupMonth, "month_rows")}


def bind(day_rows: Rows, month_rows: Rows) -> dict[str, Any]:
    """The parameters of `changes`' rows for the two statements of `upsert`."""
    return {**_ROWS[TimeRollup].bind(day_rows), **_ROWS[TimeRollupMonth].bind(month_rows)}


def upsert(table: type[TimeRollup | TimeRollupMonth]) -> Any:
    """`INSERT … ON CONFLICT` adding rows of `changes`, bound by `bind`, to `table`: one statement built once for any
    number of rows, so a write never builds or compiles it again."""
    first = _FIRST[table]
    columns = _columns(first)
    # the table, not the mapped class: an ORM insert would take the bound rows for its own
    rows = cast(Table, table.__table__)
    stmt = insert(rows).from_select(columns, select(*(_ROWS[table].c[name] for name in columns)))
    return stmt.on_conflict_do_update(
        index_elements=[first, *Key._fields[1:]],
        set_={
            "minutes": rows.c.minutes + stmt.excluded.minutes,
            "amount": rows.c.amount + stmt.excluded.amount,
            "entries": rows.c.entries + stmt.excluded.entries,
        },
    )


_UPSERTS = {TimeRollup: upsert(TimeRollup), TimeRollupMonth: upsert(TimeRollupMonth)}
