"""The late commit that readers of events in commit order must wait for: a transaction that began first and
commits last (tests/concurrency/test_event_feed.py, test_delta_sync.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from services import auth, time_entries
from services.time_entries import Writer
from services.visibility import EVERYONE
from tests.concurrency.conftest import World
from tests.concurrency.support import Maker
from tests.factories import Factory


@dataclass(frozen=True)
class LateCommit:
    """An employee's two entries: a slow transaction writes the first and commits last; a quick one writes the second,
    on a case of its own (the slow one holds its case's totals row), and commits first."""

    employee_id: int
    writer: Writer
    data: time_entries.EntryData
    other_case: int

    @classmethod
    async def of(cls, world: World) -> LateCommit:
        async with world.maker() as session, session.begin():
            factory = Factory(session, world.passwords)
            me = await factory.employee(role=await factory.role(can_enter_time_for_others=True))
            viewer = await auth.authenticate(session, token=await factory.token(me))
        assert viewer is not None
        case, other_case = (await world.case()).id, (await world.case()).id
        data: time_entries.EntryData = {
            "case_id": case,
            "activity_id": world.activity_id,
            "work_date": date(2026, 11, 2),
            "minutes": 10,
        }
        return cls(me.id, Writer(viewer, EVERYONE), data, other_case)

    async def run(self, committed: Maker, meanwhile: Callable[[], Awaitable[None]]) -> None:
        """Both writes; `meanwhile` once the quick one committed, while the slow one still runs."""
        async with committed() as slow, slow.begin():
            await time_entries.create(slow, self.writer, self.data)
            async with committed() as quick, quick.begin():
                await time_entries.create(quick, self.writer, {**self.data, "case_id": self.other_case})
            await meanwhile()
