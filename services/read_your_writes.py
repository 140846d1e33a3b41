"""Read your writes beside a read replica (SPEC 12): reports and lists read the replica of DATABASE_READ_URL, which
replays the primary's changes a little later; a viewer who just wrote must still see what they wrote.

The rule: a mutation first records, on the primary, when its viewer began writing (`recent_writes`, read back with
the viewer on every request at no extra statement). For the next READ_YOUR_WRITES_SECONDS at least, and at most
twice that, that viewer's queries read the primary; everyone else's, and theirs afterwards, read the replica. The
mark is rewritten only once it is older than the window, so a busy writer costs one statement per window, not per
write. Nothing is recorded without a replica. The setting must exceed the replica's worst replay lag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert

from db.driver import Prebuilt, Reader
from models import RecentWrite
from services.auth import Viewer


@dataclass(frozen=True, slots=True)
class ReadYourWrites:
    """The window of READ_YOUR_WRITES_SECONDS; 0 sends every query to the replica."""

    seconds: int

    def reads_primary(self, viewer: Viewer | None) -> bool:
        """Whether this viewer's queries must read the primary now: they began a write less than twice the window
        ago (the mark is at most one window older than their last write)."""
        if viewer is None or viewer.since_write_ms is None or self.seconds == 0:
            return False
        return viewer.since_write_ms < 2 * self.seconds * 1000

    def needs_mark(self, viewer: Viewer | None) -> TypeGuard[Viewer]:
        """Whether a mutation of this viewer must record its start: no mark yet, or one a window old."""
        if viewer is None or self.seconds == 0:
            return False
        return viewer.since_write_ms is None or viewer.since_write_ms >= self.seconds * 1000


_MARKED = (
    insert(RecentWrite)
    .values(employee_id=bindparam("employee_id"))
    .on_conflict_do_update(index_elements=[RecentWrite.employee_id], set_={"at": func.now()})
    .returning(RecentWrite.employee_id)
    .cte("marked")
)
_MARK = Prebuilt(select(func.count()).select_from(_MARKED), locks=True)


async def mark(reader: Reader, employee_id: int) -> None:
    """Record on the primary, in its own autocommit statement before the mutation runs, that the employee writes."""
    await _MARK.first(reader, {"employee_id": employee_id})
