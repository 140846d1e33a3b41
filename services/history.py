"""History and the audit log (SPEC 13), read from the events the database's triggers append (services/events.py).

A record's history is its events, oldest first: when, by whom, the action, and per changed column its value before
and after as the row held it. The API names those columns and writes their values (`api/history`); this module
reads them exactly: money stays Decimal (JSON numbers are read as Decimal, never float), dates ISO text.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Text, any_, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from models import Event
from services.paging import Keyset, Page

# the actions a history shows (HistoryAction); events without one (timers, caps, roles) are no record's history
ACTIONS = ("CREATED", "UPDATED", "DELETED", "INVOICED", "VOIDED", "RELEASED")
RECORD_TYPES = ("TimeEntry", "Invoice", "Role")


@dataclass(frozen=True, slots=True)
class Recorded:
    """One event of a record: `changes` maps each changed column to (before, after), None where it had no value."""

    id: int
    record_type: str
    record_id: int
    at: datetime
    by_id: int | None
    action: str
    changes: dict[str, tuple[Any, Any]]


def changes_of(text: str) -> dict[str, tuple[Any, Any]]:
    """An event's `changes` from its JSON text, exactly: money as Decimal, never float."""
    return {column: (before, after) for column, (before, after) in json.loads(text, parse_float=Decimal).items()}


_COLUMNS = (
    Event.id,
    Event.record_type,
    Event.record_id,
    Event.at,
    Event.by_id,
    Event.action,
    cast(Event.changes, Text).label("changes"),
)
_OF_RECORDS = (
    select(*_COLUMNS)
    .where(
        Event.record_type == bindparam("record_type"),
        Event.record_id == any_(bindparam("ids", type_=ARRAY(Event.record_id.type))),
        Event.action.is_not(None),
    )
    .order_by(Event.record_id, Event.id)
)


def _recorded(row: Any) -> Recorded:
    return Recorded(row.id, row.record_type, row.record_id, row.at, row.by_id, row.action, changes_of(row.changes))


async def of_records(session: AsyncSession, record_type: str, ids: Sequence[int]) -> list[list[Recorded]]:
    """Each record's history, oldest first, in the order of `ids` (empty for a record with none)."""
    grouped: dict[int, list[Recorded]] = defaultdict(list)
    for row in await session.execute(_OF_RECORDS, {"record_type": record_type, "ids": list(ids)}):
        grouped[row.record_id].append(_recorded(row))
    return [grouped.get(record_id, []) for record_id in ids]


AUDIT_KEYSET = Keyset((Event.id,), descending=True)  # newest first


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events an administrator's audit log shows; None: no condition."""

    record_types: Sequence[str] | None = None
    by_ids: Sequence[int] | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [Event.action.is_not(None)]
        if self.record_types is not None:
            found.append(Event.record_type.in_(list(self.record_types)))
        if self.by_ids is not None:
            found.append(Event.by_id.in_(list(self.by_ids)))
        if self.since is not None:
            found.append(Event.at >= self.since)
        if self.until is not None:
            found.append(Event.at < self.until)
        return found


async def audit_page(session: AsyncSession, where: AuditFilter, *, first: int, after: int | None) -> Page[Recorded]:
    """One page of the audit log, newest first, after the event `after` (its id)."""
    conditions = where.conditions()
    if after is not None:
        conditions.append(Event.id < after)
    newest_first = select(*_COLUMNS).where(*conditions).order_by(Event.id.desc()).limit(first + 1)
    rows = (await session.execute(newest_first)).all()
    return Page([_recorded(row) for row in rows[:first]], has_next=len(rows) > first, has_previous=after is not None)


async def audit_total(session: AsyncSession, where: AuditFilter) -> int:
    return int(await session.scalar(select(func.count()).select_from(Event).where(*where.conditions())) or 0)
