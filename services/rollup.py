"""The report rollup (SPEC 9): per day, employee, debtor, case, activity and status, kept by every write."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import TimeEntry, TimeRollup


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
    stmt = insert(TimeRollup).values(values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=list(Key._fields),
            set_={
                "minutes": TimeRollup.minutes + stmt.excluded.minutes,
                "amount": TimeRollup.amount + stmt.excluded.amount,
                "entries": TimeRollup.entries + stmt.excluded.entries,
            },
        )
    )
