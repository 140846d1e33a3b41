"""The domain events of SPEC 13: appended by the database's triggers (migration 0008) in the transaction of each
change, so every write path records its events whether it goes through a prebuilt statement, the ORM or a bulk move.

What a trigger cannot read off the row it sees is who did it, where the row does not name them: a deleted entry, a
voided invoice, a changed role; nor whether L time turning J or N is a release. The write path says so first with
`act_as`, for its transaction only.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

# every type of event the triggers append, in SPEC 13's order
TYPES = (
    "timeEntry.created",
    "timeEntry.updated",
    "timeEntry.deleted",
    "timer.changed",
    "cap.threshold",
    "invoice.created",
    "invoice.voided",
    "role.changed",
)


async def act_as(session: AsyncSession, employee_id: int, *, releasing: bool = False) -> None:
    """Name the employee this transaction's events are by, where the changed rows do not, and whether it releases
    L time (its entries' events are then RELEASED, not UPDATED); both for this transaction only."""
    settings = [func.set_config("casetime.actor", str(employee_id), True)]
    if releasing:
        settings.append(func.set_config("casetime.releasing", "on", True))
    await session.execute(select(*settings))
