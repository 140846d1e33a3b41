"""What live subscriptions send (SPEC 13). Each field is read when the event is sent, for the subscriber, with the
names they may see: the event says what happened, the record is shown as it is then."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from api.case.types import CapUsage, Case, cap_usage_of
from api.time_entry.types import EntryBuilder, TimeEntry, Timer, timer_of
from graph import ids
from graph.context import Info
from graph.errors import ApiError, TopCode
from graph.objects import described_field
from services.event_feed import FedEvent


@strawberry.enum(description="What happened to an entry.")
class ChangeKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description="Written: by hand, a copy, a list save or a timer.")
    UPDATED = strawberry.enum_value(
        "UPDATED", description="Changed: edited, invoiced, voided, released, or moved to or from this case."
    )
    DELETED = strawberry.enum_value("DELETED", description="Deleted.")


_KINDS = {"timeEntry.created": ChangeKind.CREATED, "timeEntry.deleted": ChangeKind.DELETED}


@strawberry.type(description="An entry written, changed or deleted on the case subscribed to.")
class TimeEntryChange:
    kind: ChangeKind = strawberry.field(description="What happened to it.")
    time_entry_id: strawberry.ID = strawberry.field(description="The entry's global ID, also once it is deleted.")
    at: datetime = strawberry.field(description="When the change was made (the start of the transaction that made it).")
    db_id: strawberry.Private[int]

    @described_field(
        "The entry as it is now, with the names the viewer may not see left out; null once it is deleted. An entry an "
        "edit moved to another case shows that case."
    )
    async def time_entry(self, info: Info) -> TimeEntry | None:
        if self.kind is ChangeKind.DELETED:
            return None
        row = await info.context.loaders.time_entry_by_id.load(self.db_id)
        return EntryBuilder(info.context).build(row) if row else None

    @classmethod
    def of(cls, event: FedEvent) -> TimeEntryChange:
        return cls(
            kind=_KINDS.get(event.type, ChangeKind.UPDATED),
            time_entry_id=ids.encode("TimeEntry", event.record_id),
            at=event.at,
            db_id=event.record_id,
        )


@strawberry.type(description="The viewer's timer started, stopped or was discarded, on whichever device.")
class TimerEvent:
    at: datetime = strawberry.field(description="When it happened.")
    employee_id: strawberry.Private[int]

    @described_field("The viewer's timer as it runs now; null when none runs.")
    async def timer(self, info: Info) -> Timer | None:
        timer = await info.context.loaders.running_timer(self.employee_id)
        return await timer_of(info, timer) if timer else None


@strawberry.type(description="A case's counted time crossed one of its cap thresholds in a book year.")
class CapThresholdEvent:
    percent: int = strawberry.field(description="The threshold crossed, in percent of the book year's maximum.")
    at: datetime = strawberry.field(description="When the time that crossed it was written.")
    case_id: strawberry.Private[int]
    year_start: strawberry.Private[date]

    @described_field("The case.")
    async def case(self, info: Info) -> Case:
        return await self._case(info)

    @described_field("How much of the maximum that book year has used now.")
    async def usage(self, info: Info) -> CapUsage:
        case = await self._case(info)
        usage = await cap_usage_of(info, case, self.year_start)
        if usage is None:
            raise ApiError(TopCode.NOT_FOUND, "The case no longer has a maximum")
        return usage

    async def _case(self, info: Info) -> Case:
        row = await info.context.loaders.case_with_settings(self.case_id)
        if row is None:
            raise ApiError(TopCode.NOT_FOUND, "The case is gone")
        return Case.from_row(row)

    @classmethod
    def of(cls, event: FedEvent) -> CapThresholdEvent:
        return cls(
            percent=int(event.data["percent"]),
            at=event.at,
            case_id=event.record_id,
            year_start=date.fromisoformat(event.data["yearStart"]),
        )
