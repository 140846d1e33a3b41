"""Writing and reading time (SPEC 6, 7): each mutation is one transaction."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.time_entry.types import (
    SYNC_CURSOR,
    DeletePayload,
    EntryBuilder,
    StartTimerInput,
    TimeEntriesPayload,
    TimeEntry,
    TimeEntryChanges,
    TimeEntryFilter,
    TimeEntryInput,
    TimeEntryPayload,
    TimeListChange,
    Timer,
    TimerPayload,
    Warning,
    timer_of,
)
from graph import ids
from graph.compiler import Source
from graph.context import Info
from graph.loaders import forget
from graph.pagination import After, Connection, First, connection, decode_cursor, encode_cursor, page_size
from graph.permissions import USER
from graph.write import Refused, nothing, read_back, write
from models import EntryMode
from services import delta_sync, time_entries, time_queries, timers, validation
from services.paging import AnyRow, Window
from services.time_entries import ListChange, Writer, WriteResult

ExpectedVersion = Annotated[
    int | None,
    strawberry.argument(
        description="The `version` the client saw; a stale one is VERSION_CONFLICT. Left out, the last writer wins."
    ),
]


def _writer(info: Info) -> Writer:
    return Writer(info.context.me, info.context.visibility)


async def entry_rows(session: AsyncSession, entry_ids: list[int]) -> list[AnyRow]:
    """Written entries with everything a row shows (one statement), for `read_back`."""
    return [row for row in await time_queries.rows_by_ids(session, entry_ids) if row is not None]


def written_entries(info: Info, rows: list[AnyRow]) -> list[TimeEntry]:
    forget(info.context.loaders.time_entry_by_id, [row.id for row in rows])
    builder = EntryBuilder(info.context)
    return [builder.build(row) for row in rows]


def _ids(result: WriteResult[Any]) -> list[int]:
    return [e.id for e in (result.entry, result.over_limit_entry) if e is not None]


async def _rows(session: AsyncSession, result: WriteResult[Any]) -> list[AnyRow]:
    if result.shown is not None:  # a new entry's write returns its rows
        return list(result.shown)
    return await entry_rows(session, _ids(result))


async def _many_rows(session: AsyncSession, results: list[WriteResult[Any]]) -> list[AnyRow]:
    return await entry_rows(session, [i for r in results for i in _ids(r)])


def _payload(info: Info, outcome: tuple[WriteResult[Any], list[AnyRow]]) -> TimeEntryPayload:
    result, rows = outcome
    written = written_entries(info, rows)
    return TimeEntryPayload(
        time_entry=written[0] if written else None,
        over_limit_entry=written[1] if len(written) > 1 else None,
        warnings=[Warning.of(w) for w in result.warnings],
    )


async def create_time_entry(
    info: Info,
    input: Annotated[TimeEntryInput, strawberry.argument(description="The entry to write.")],
    mode: Annotated[
        EntryMode | None, strawberry.argument(description="PER_DATE (the default) runs the cap check; PER_DEBTOR not.")
    ] = EntryMode.PER_DATE,
    idempotency_key: Annotated[
        str | None,
        strawberry.argument(
            description="1 to 200 characters the client chooses, so a retry writes nothing twice: the same key and "
            "input within 24 hours returns the first result; the same key with another input is VALIDATION."
        ),
    ] = None,
) -> TimeEntryPayload:
    outcome = await write(
        info,
        input.to_data,
        read_back(
            lambda session, data: time_entries.create_once(
                session,
                _writer(info),
                data,
                mode=mode or EntryMode.PER_DATE,
                idempotency_key=idempotency_key,
            ),
            _rows,
        ),
    )
    if isinstance(outcome, Refused):
        return TimeEntryPayload(user_errors=outcome.errors)
    return _payload(info, outcome)


async def update_time_entry(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The entry to change.")],
    input: Annotated[TimeEntryInput, strawberry.argument(description="The fields to change; those left out stay.")],
    expected_version: ExpectedVersion = None,
    mode: Annotated[
        EntryMode | None, strawberry.argument(description="PER_DATE (the default) runs the cap check; PER_DEBTOR not.")
    ] = EntryMode.PER_DATE,
) -> TimeEntryPayload:
    outcome = await write(
        info,
        lambda: (ids.require(id, "TimeEntry", "id"), input.to_data()),
        read_back(
            lambda session, given: time_entries.update(
                session,
                _writer(info),
                *given,
                expected_version=expected_version,
                mode=mode or EntryMode.PER_DATE,
            ),
            _rows,
        ),
    )
    if isinstance(outcome, Refused):
        return TimeEntryPayload(user_errors=outcome.errors)
    return _payload(info, outcome)


async def delete_time_entry(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The entry to delete.")],
    expected_version: ExpectedVersion = None,
) -> DeletePayload:
    outcome = await write(
        info,
        lambda: ids.require(id, "TimeEntry", "id"),
        lambda session, entry_id: time_entries.delete(
            session, _writer(info), entry_id, expected_version=expected_version
        ),
    )
    if isinstance(outcome, Refused):
        return DeletePayload(user_errors=outcome.errors)
    return DeletePayload(deleted_id=id)


def _many(info: Info, outcome: tuple[list[WriteResult[Any]], list[AnyRow]]) -> TimeEntriesPayload:
    results, rows = outcome
    warnings = [Warning.of(w) for r in results for w in r.warnings]
    return TimeEntriesPayload(time_entries=written_entries(info, rows), warnings=warnings)


async def copy_time_entries(
    info: Info,
    ids_: Annotated[list[strawberry.ID], strawberry.argument(name="ids", description="1 to 500 entries to copy.")],
    to_date: Annotated[date, strawberry.argument(description="The work date of the copies.")],
) -> TimeEntriesPayload:
    outcome = await write(
        info,
        lambda: [ids.require(i, "TimeEntry", "ids") for i in ids_],
        read_back(lambda session, entry_ids: time_entries.copy(session, _writer(info), entry_ids, to_date), _many_rows),
    )
    if isinstance(outcome, Refused):
        return TimeEntriesPayload(user_errors=outcome.errors)
    return _many(info, outcome)


async def save_case_time_list(
    info: Info,
    case_id: Annotated[strawberry.ID, strawberry.argument(description="The case whose list is saved.")],
    changes: Annotated[
        list[TimeListChange], strawberry.argument(description="At most 500 changes, applied in this order.")
    ],
) -> TimeEntriesPayload:
    def to_change(change: TimeListChange) -> ListChange:
        return ListChange(
            entry_id=ids.require(change.id, "TimeEntry", "id") if change.id is not None else None,
            expected_version=change.expected_version,
            delete=bool(change.delete),
            data=change.entry.to_data() if change.entry else {},
        )

    def to_changes() -> list[ListChange]:
        """Each change decoded; an ID that does not decode is named by its change's path, as the service names rules."""
        problems = validation.Problems()
        decoded = [problems.within("changes", str(i)).check(to_change, c) for i, c in enumerate(changes)]
        problems.raise_if_any()
        return [c for c in decoded if c is not None]

    outcome = await write(
        info,
        lambda: (ids.require(case_id, "Case", "caseId"), to_changes()),
        read_back(lambda session, given: time_entries.save_case_list(session, _writer(info), *given), _many_rows),
    )
    if isinstance(outcome, Refused):
        return TimeEntriesPayload(user_errors=outcome.errors)
    return _many(info, outcome)


async def start_timer(
    info: Info, input: Annotated[StartTimerInput, strawberry.argument(description="What the time is for.")]
) -> TimerPayload:
    outcome = await write(
        info,
        input.to_data,
        lambda session, data: timers.start(session, _writer(info), data),
    )
    if isinstance(outcome, Refused):
        return TimerPayload(user_errors=outcome.errors)
    return TimerPayload(timer=await timer_of(info, outcome))


async def stop_timer(info: Info) -> TimeEntryPayload:
    outcome = await write(info, nothing, read_back(lambda session, _: timers.stop(session, _writer(info)), _rows))
    if isinstance(outcome, Refused):
        return TimeEntryPayload(user_errors=outcome.errors)
    return _payload(info, outcome)


async def discard_timer(info: Info) -> TimerPayload:
    """Drop the viewer's running timer without writing time; the payload shows the timer that was dropped."""
    outcome = await write(info, nothing, lambda session, _: timers.discard(session, _writer(info)))
    if isinstance(outcome, Refused):
        return TimerPayload(user_errors=outcome.errors)
    return TimerPayload(timer=await timer_of(info, outcome))


async def running_timer(info: Info) -> Timer | None:
    async with info.context.db.read() as session:
        timer = await timers.running(session, employee_id=info.context.me.employee_id)
    return await timer_of(info, timer) if timer else None


async def time_entries_page(
    info: Info,
    first: First = 50,
    after: After = None,
    filter: Annotated[
        TimeEntryFilter | None, strawberry.argument(description="Which entries; every one when left out.")
    ] = None,
) -> Connection[TimeEntry]:
    """Entries matching the filter, newest first; names the viewer may not see stay hidden (SPEC 5)."""
    ctx = info.context
    size = page_size(first)
    cursor = decode_cursor(after, time_queries.NEWEST_FIRST)
    entry_filter = (filter or TimeEntryFilter()).to_filter()

    async def count_total() -> int:
        async with ctx.read_db.read() as session:
            return await time_queries.entries_total(session, ctx.visibility, entry_filter)

    compiled = ctx.compiled_edges(info)
    if compiled is not None:
        source, values = Source.matching(time_queries.conditions(ctx.visibility, entry_filter))
        return await ctx.connection(
            info, compiled, source, time_queries.NEWEST_FIRST, Window(size, cursor), params=values, db=ctx.read_db
        )
    async with ctx.read_db.reader() as reader:
        page = await time_queries.entries_page(reader, ctx.visibility, entry_filter, first=size, after=cursor)
    return connection(page, time_queries.NEWEST_FIRST, EntryBuilder(ctx).build, count_total)


async def time_entries_changed_since(
    info: Info,
    cursor: Annotated[
        str | None, strawberry.argument(description="From the last answer; null starts from nothing (every entry).")
    ] = None,
    first: Annotated[
        int | None, strawberry.argument(description="At most this many entries or changes (100 at most).")
    ] = 100,
) -> TimeEntryChanges:
    ctx = info.context
    size = page_size(first)
    key = decode_cursor(cursor, SYNC_CURSOR)
    async with ctx.db.read() as session:  # the primary: a replica's snapshot would not match the cursor's
        changes = await delta_sync.changes_since(
            session, ctx.me.employee_id, delta_sync.SyncCursor.of_key(key) if key else None, size
        )
    rows = await ctx.loaders.time_entry_by_id.load_many(changes.changed_ids)
    builder = EntryBuilder(ctx)
    return TimeEntryChanges(
        changed=[builder.build(row) for row in rows if row is not None],
        deleted_ids=[strawberry.ID(ids.encode("TimeEntry", entry_id)) for entry_id in changes.deleted_ids],
        cursor=encode_cursor(changes.cursor.key()),
        has_more=changes.has_more,
    )


@strawberry.type
class TimeEntryQueries:
    time_entries: Connection[TimeEntry] = strawberry.field(
        resolver=time_entries_page,
        permission_classes=USER,
        description="Time entries matching the filter, newest work date first. Every entry is listed; names the "
        "viewer may not see are not.",
    )
    running_timer: Timer | None = strawberry.field(
        resolver=running_timer,
        permission_classes=USER,
        description="The viewer's running timer; null when none runs.",
    )
    time_entries_changed_since: TimeEntryChanges = strawberry.field(
        resolver=time_entries_changed_since,
        permission_classes=USER,
        description="Delta sync: the viewer's own entries created or changed since `cursor` and the IDs of those "
        "deleted since, in the order they were committed, with the next cursor. Applying every answer to an old copy "
        "gives exactly the server's list.",
    )


@strawberry.type
class TimeEntryMutations:
    create_time_entry: TimeEntryPayload = strawberry.mutation(
        resolver=create_time_entry,
        permission_classes=USER,
        description="Write an entry. In PER_DATE mode, time beyond its case's book-year maximum goes to an over-limit "
        "(L) entry, with a CAP_EXCEEDED warning.",
    )
    update_time_entry: TimeEntryPayload = strawberry.mutation(
        resolver=update_time_entry,
        permission_classes=USER,
        description="Change an entry that is not invoiced. In PER_DATE mode the cap check runs again without the "
        "entry's old share; its rate stays unless its employee, activity, case or debtor changes.",
    )
    delete_time_entry: DeletePayload = strawberry.mutation(
        resolver=delete_time_entry,
        permission_classes=USER,
        description="Delete an entry that is not invoiced.",
    )
    copy_time_entries: TimeEntriesPayload = strawberry.mutation(
        resolver=copy_time_entries,
        permission_classes=USER,
        description="Copy entries to another date at fresh rates, without cap check: J and F copy as J, N as N, L as "
        "a new entry's status.",
    )
    save_case_time_list: TimeEntriesPayload = strawberry.mutation(
        resolver=save_case_time_list,
        permission_classes=USER,
        description="Save a case time list's changes in order, in one transaction, each as its single mutation in "
        "PER_DATE mode; any refusal writes nothing. A STATIC list is refused (STATIC_LIST).",
    )
    start_timer: TimerPayload = strawberry.mutation(
        resolver=start_timer,
        permission_classes=USER,
        description="Start the viewer's timer; one running already is TIMER_RUNNING.",
    )
    stop_timer: TimeEntryPayload = strawberry.mutation(
        resolver=stop_timer,
        permission_classes=USER,
        description="Stop the viewer's timer and write its time, rounded up to whole minutes (at least 1; past 1440, "
        "1440 with TIMER_TRUNCATED), as a TIMER entry dated the day it started, through the PER_DATE cap check. None "
        "running is NO_TIMER.",
    )
    discard_timer: TimerPayload = strawberry.mutation(
        resolver=discard_timer,
        permission_classes=USER,
        description="Drop the viewer's running timer without writing any time; none running is NO_TIMER.",
    )
