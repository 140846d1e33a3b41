"""Delta sync for an app that was offline (SPEC 13): the viewer's own entries changed since an opaque cursor, and the
ids of those gone, so that applying each answer to the app's copy gives exactly the server's list.

A first call (no cursor) pages through every own entry by id, under a horizon taken when it began: the oldest
transaction still running then (`pg_snapshot_xmin`). After that the events say what changed, read by transaction
(xid) and id but only from transactions older than every one still running: an event is never passed over because
its transaction, begun earlier, commits later. Changes during the first pages are read again from the horizon on.
An entry touched since the cursor is answered as it is now: as changed while it is the viewer's, as gone once it is
deleted or another employee's. A transaction left open holds the horizon back: the sync waits for it, it never skips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.event_feed import AFTER_POSITION, HORIZON, PAST_ANY_ID

_OWN_ENTRIES = text("SELECT id FROM time_entries WHERE employee_id = :me AND id > :after ORDER BY id LIMIT :limit")
# own entries' events, and those of entries an edit gave another employee
_EVENTS = text(
    f"""
    SELECT xid::text::bigint AS xid, id, record_id FROM events
    WHERE record_type = 'TimeEntry' AND (employee_id = :me OR left_employee_id = :me)
      AND {AFTER_POSITION}
    ORDER BY xid, id
    LIMIT :limit
    """
)
_STILL_OWN = text("SELECT id FROM time_entries WHERE id = ANY(:ids) AND employee_id = :me")


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """Where a sync stands: `listing` (the first pages: own entries after id `after`, under `horizon`) or reading
    events after (`xid`, `after`)."""

    listing: bool
    xid: int
    after: int

    def key(self) -> list[int]:
        return [int(self.listing), self.xid, self.after]

    @staticmethod
    def of_key(key: Sequence[int]) -> SyncCursor:
        listing, xid, after = key
        return SyncCursor(bool(listing), xid, after)


@dataclass(frozen=True, slots=True)
class Changes:
    changed_ids: list[int]  # the viewer's entries as they are now, in the order they were read
    deleted_ids: list[int]  # gone since, or no longer the viewer's
    cursor: SyncCursor
    has_more: bool


async def changes_since(session: AsyncSession, employee_id: int, cursor: SyncCursor | None, first: int) -> Changes:
    """One answer of the sync: at most `first` entries (listing) or `first` events' entries."""
    if cursor is None:
        horizon = int(await session.scalar(HORIZON) or 0)
        cursor = SyncCursor(listing=True, xid=horizon, after=0)
    if cursor.listing:
        ids = list(await session.scalars(_OWN_ENTRIES, {"me": employee_id, "after": cursor.after, "limit": first + 1}))
        if len(ids) > first:
            return Changes(ids[:first], [], SyncCursor(True, cursor.xid, ids[first - 1]), has_more=True)
        # listed: from now on the events of transactions from the horizon on
        return Changes(ids, [], SyncCursor(False, cursor.xid - 1, PAST_ANY_ID), has_more=False)
    window = {"xid": str(cursor.xid), "after": cursor.after, "limit": first + 1}  # xid8 is read from text
    rows = (await session.execute(_EVENTS, {"me": employee_id, **window})).all()
    page, has_more = rows[:first], len(rows) > first
    touched = list(dict.fromkeys(row.record_id for row in page))
    own = set(await session.scalars(_STILL_OWN, {"ids": touched, "me": employee_id})) if touched else set()
    last = SyncCursor(False, page[-1].xid, page[-1].id) if page else cursor
    return Changes(
        [entry for entry in touched if entry in own], [entry for entry in touched if entry not in own], last, has_more
    )
