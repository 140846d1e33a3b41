"""The outbox (SPEC 13, migration 0008): every write path appends its events in the transaction of its change, so a
rolled-back write leaves none; each event says who did what to which record, and an entry's events, applied in
order from nothing, rebuild the entry as it is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import EntryMode, Event, TimeStatus
from services import invoicing, roles, time_entries, timers
from services.time_entries import ListChange
from tests.factories import Factory
from tests.services.time_support import Desk, make_desk

DAY = date(2026, 11, 2)


@pytest.fixture
async def desk(session: AsyncSession, factory: Factory) -> Desk:
    return await make_desk(session, factory)


async def events_since(session: AsyncSession, last: int) -> list[Event]:
    await session.flush()
    found = await session.scalars(select(Event).where(Event.id > last).order_by(Event.id))
    return list(found.all())


async def last_event(session: AsyncSession) -> int:
    await session.flush()
    return int(await session.scalar(text("SELECT coalesce(max(id), 0) FROM events")) or 0)


def told(found: list[Event]) -> list[tuple[str, str | None, int | None]]:
    return [(event.type, event.action, event.by_id) for event in found]


async def test_a_create_tells_every_field_it_set(session: AsyncSession, desk: Desk) -> None:
    last = await last_event(session)
    written = await time_entries.create(session, desk.writer, desk.entry(desk.open, 30, description="Call"))
    [event] = await events_since(session, last)
    assert (event.type, event.record_type, event.record_id, event.action) == (
        "timeEntry.created",
        "TimeEntry",
        written.entry.id,
        "CREATED",
    )
    assert (event.by_id, event.employee_id, event.case_id) == (desk.admin.id, desk.admin.id, desk.open.id)
    assert event.changes == {
        "employee_id": [None, desk.admin.id],
        "debtor_id": [None, desk.open.debtor_id],
        "case_id": [None, desk.open.id],
        "activity_id": [None, desk.activity_id],
        "work_date": [None, "2026-11-02"],
        "minutes": [None, 30],
        "status": [None, "J"],
        "rate": [None, 60.0],
        "amount": [None, 30.0],
        "description": [None, "Call"],
        "tags": [None, []],
    }


async def test_an_edit_tells_only_what_changed_and_a_delete_who_deleted(
    session: AsyncSession, factory: Factory, desk: Desk
) -> None:
    entry = (await time_entries.create(session, desk.writer, desk.entry(desk.open, 30))).entry
    last = await last_event(session)
    await time_entries.update(session, desk.writer, entry.id, {"minutes": 45})
    await time_entries.update(session, desk.writer, entry.id, {"minutes": 45})  # no change: no event
    await time_entries.delete(session, desk.writer, entry.id)
    updated, deleted = await events_since(session, last)
    assert (updated.type, updated.action, updated.changes) == (
        "timeEntry.updated",
        "UPDATED",
        {"minutes": [30, 45], "amount": [30.0, 45.0]},
    )
    assert (deleted.type, deleted.action, deleted.by_id, deleted.record_id) == (
        "timeEntry.deleted",
        "DELETED",
        desk.admin.id,
        entry.id,
    )
    assert deleted.changes["minutes"] == [45, None]


async def test_invoicing_voiding_and_releasing_tell_each_entry(session: AsyncSession, desk: Desk) -> None:
    split = await time_entries.create(session, desk.writer, desk.entry(desk.capped, 90))  # 60 fit, 30 to L
    assert split.over_limit_entry is not None
    last = await last_event(session)
    invoice = await invoicing.create(session, desk.writer.viewer, debtor_id=desk.capped.debtor_id)
    await invoicing.void(session, desk.writer.viewer, invoice.id)
    await invoicing.release_over_limit(session, desk.writer.viewer, [split.over_limit_entry.id], TimeStatus.BILLABLE)
    found = await events_since(session, last)
    assert told(found) == [
        ("invoice.created", "CREATED", desk.admin.id),
        ("timeEntry.updated", "INVOICED", desk.admin.id),
        ("timeEntry.updated", "VOIDED", desk.admin.id),
        ("invoice.voided", "VOIDED", desk.admin.id),
        ("timeEntry.updated", "RELEASED", desk.admin.id),  # from 100% to 150%: no threshold crossed
    ]
    invoiced = found[1]
    assert invoiced.changes == {"status": ["J", "F"], "invoice_id": [None, invoice.id]}


async def test_a_cap_crossing_is_told_once_per_threshold(session: AsyncSession, desk: Desk) -> None:
    last = await last_event(session)
    await time_entries.create(session, desk.writer, desk.entry(desk.capped, 20))  # 33%
    await time_entries.create(session, desk.writer, desk.entry(desk.capped, 15))  # 58%: 50 crossed
    await time_entries.create(session, desk.writer, desk.entry(desk.capped, 40))  # 100%, 15 to L: 80 and 100
    await time_entries.create(session, desk.writer, desk.entry(desk.capped, 5))  # all L: nothing crossed
    crossed = [e for e in await events_since(session, last) if e.type == "cap.threshold"]
    assert [(e.record_id, e.data["percent"], e.data["yearStart"]) for e in crossed] == [
        (desk.capped.id, 50, "2026-01-01"),
        (desk.capped.id, 80, "2026-01-01"),
        (desk.capped.id, 100, "2026-01-01"),
    ]


async def test_timers_copies_and_list_saves_tell_their_entries(session: AsyncSession, desk: Desk) -> None:
    last = await last_event(session)
    timer = {"debtor_id": desk.open.debtor_id, "case_id": desk.open.id, "activity_id": desk.activity_id}
    await timers.start(session, desk.writer, timer)  # type: ignore[arg-type]
    stopped = await timers.stop(session, desk.writer, now=datetime.now(UTC) + timedelta(minutes=5))
    copied = await time_entries.copy(session, desk.writer, [stopped.entry.id], date(2026, 11, 3))
    await time_entries.save_case_list(
        session,
        desk.writer,
        desk.open.id,
        [ListChange(entry_id=copied[0].entry.id, expected_version=None, delete=True, data={})],
    )
    assert told(await events_since(session, last)) == [
        ("timer.changed", None, desk.admin.id),  # started
        ("timeEntry.created", "CREATED", desk.admin.id),  # stopped: its entry written, then the timer gone
        ("timer.changed", None, desk.admin.id),
        ("timeEntry.created", "CREATED", desk.admin.id),  # the copy
        ("timeEntry.deleted", "DELETED", desk.admin.id),
    ]


async def test_a_role_change_is_told_with_who_made_it(session: AsyncSession, factory: Factory, desk: Desk) -> None:
    role = await factory.role()
    last = await last_event(session)
    await roles.update(session, role.id, {"name": "Renamed"}, by=desk.admin.id)
    [event] = await events_since(session, last)
    assert (event.type, event.record_id, event.by_id) == ("role.changed", role.id, desk.admin.id)
    assert event.changes["name"][1] == "Renamed"


WritePath = Callable[[AsyncSession, Desk], Awaitable[object]]


async def _create(session: AsyncSession, desk: Desk) -> object:
    return await time_entries.create(session, desk.writer, desk.entry(desk.capped, 90))


async def _invoice(session: AsyncSession, desk: Desk) -> object:
    await time_entries.create(session, desk.writer, desk.entry(desk.open, 10), mode=EntryMode.PER_DEBTOR)
    return await invoicing.create(session, desk.writer.viewer, debtor_id=desk.open.debtor_id)


async def _timer(session: AsyncSession, desk: Desk) -> object:
    return await timers.start(session, desk.writer, {"debtor_id": desk.open.debtor_id, "activity_id": desk.activity_id})


@pytest.mark.parametrize("path", [_create, _invoice, _timer], ids=["create", "invoice", "timer"])
async def test_a_write_rolled_back_leaves_no_event(session: AsyncSession, desk: Desk, path: WritePath) -> None:
    last = await last_event(session)
    savepoint = await session.begin_nested()
    await path(session, desk)
    assert await events_since(session, last)  # written in the transaction...
    await savepoint.rollback()
    assert await events_since(session, last) == []  # ...and gone with it
    await path(session, desk)
    assert await events_since(session, last) != []  # the same write, kept, keeps them


# what a description may hold: any text but NUL (refused as VALIDATION) and lone surrogates (no UTF-8 for them)
DESCRIBED = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
# an entry's edits as the history's property test draws them: minutes, description, or a move to another day
EDITS = st.lists(
    st.one_of(
        st.builds(lambda m: {"minutes": m}, st.integers(1, 600)),
        st.builds(lambda d: {"description": d}, st.one_of(st.none(), st.text(DESCRIBED, max_size=8))),
        st.builds(lambda d: {"work_date": DAY + timedelta(days=d)}, st.integers(0, 40)),
    ),
    max_size=6,
)
_FIELDS = ("minutes", "description", "work_date", "status", "rate", "amount", "invoice_id")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS, invoice_it=st.booleans())
async def test_an_entrys_history_replayed_from_nothing_is_the_entry(
    session: AsyncSession, desk: Desk, edits: list[dict[str, Any]], invoice_it: bool
) -> None:
    savepoint = await session.begin_nested()  # each example's writes undone
    try:
        await _replay_matches(session, desk, edits, invoice_it)
    finally:
        await savepoint.rollback()


async def _replay_matches(session: AsyncSession, desk: Desk, edits: list[dict[str, Any]], invoice_it: bool) -> None:
    entry = (await time_entries.create(session, desk.writer, desk.entry(desk.open, 30))).entry
    for edit in edits:
        await time_entries.update(session, desk.writer, entry.id, edit)  # type: ignore[arg-type]
    if invoice_it:
        await invoicing.create(session, desk.writer.viewer, debtor_id=desk.open.debtor_id)
    await session.flush()
    replayed: dict[str, Any] = {}
    history = await session.scalars(
        select(Event).where(Event.record_type == "TimeEntry", Event.record_id == entry.id).order_by(Event.id)
    )
    for event in history:
        for column, (before, after) in event.changes.items():
            assert replayed.get(column) == before, (column, replayed, event.changes)
            replayed[column] = after
    stored = text("SELECT to_jsonb(e) AS row FROM time_entries e WHERE id = :id")
    row = (await session.execute(stored, {"id": entry.id})).one()
    assert {c: replayed.get(c) for c in _FIELDS} == {c: row.row[c] for c in _FIELDS}
