"""The event feed: every event (SPEC 13) after a position, in an order no later commit can break.

Events are read by transaction (xid) and id, and only from transactions older than every one still running
(`pg_snapshot_xmin`): an event is never passed over because its transaction, begun earlier, commits later. A reader
keeps its `Position` and asks again; a transaction left open holds everyone back, it is never skipped. Subscriptions
(one reader a worker) and webhook deliveries (one reader for the deployment) follow this feed; delta sync reads the
same order through its own per-employee index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PAST_ANY_ID = 2**62  # an event id greater than any: (horizon - 1, it) orders just before the horizon's first event

HORIZON = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
# the feed's one rule, delta sync's too: after the position (:xid, :after), and only from transactions older than
# every one still running
AFTER_POSITION = (
    "(xid, id) > (CAST(CAST(:xid AS text) AS xid8), :after) AND xid < pg_snapshot_xmin(pg_current_snapshot())"
)
_AFTER = text(
    f"""
    SELECT xid::text::bigint AS xid, id, at, type, record_type, record_id, action, by_id, employee_id,
           left_employee_id, case_id, changes, data
    FROM events
    WHERE {AFTER_POSITION}
    ORDER BY xid, id
    LIMIT :limit
    """
)


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Just after the event of transaction `xid` with id `id`."""

    xid: int
    id: int


@dataclass(frozen=True, slots=True)
class FedEvent:
    position: Position
    id: int
    at: datetime
    type: str
    record_type: str
    record_id: int
    action: str | None
    by_id: int | None
    employee_id: int | None
    left_employee_id: int | None
    case_id: int | None
    changes: dict[str, Any]
    data: dict[str, Any]


async def now(session: AsyncSession) -> Position:
    """The position before the first event of any transaction still running: what committed before is behind it."""
    horizon = int(await session.scalar(HORIZON) or 0)
    return Position(horizon - 1, PAST_ANY_ID)


async def after(session: AsyncSession, position: Position, *, limit: int) -> Sequence[FedEvent]:
    """At most `limit` events after `position`, in feed order; fewer only when no more can be read yet."""
    # xid8 is sent as text: asyncpg has no codec for it
    rows = await session.execute(_AFTER, {"xid": str(position.xid), "after": position.id, "limit": limit})
    return [of_row(row) for row in rows]


def of_row(row: Any, changes: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> FedEvent:
    """The event of a row of the `events` table (`xid` as a bigint); `changes` and `data` when read otherwise."""
    return FedEvent(
        Position(row.xid, row.id),
        row.id,
        row.at,
        row.type,
        row.record_type,
        row.record_id,
        row.action,
        row.by_id,
        row.employee_id,
        row.left_employee_id,
        row.case_id,
        row.changes if changes is None else changes,
        row.data if data is None else data,
    )
