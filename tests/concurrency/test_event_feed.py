"""The event feed (services/event_feed.py) on committed transactions: every event after a position comes once, in
feed order, and one whose transaction began first but committed last is waited for, not passed over."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services import event_feed, time_entries
from services.event_feed import Position
from tests.concurrency.conftest import World
from tests.concurrency.late_commit import LateCommit
from tests.concurrency.support import Maker


async def _read_all(committed: Maker, position: Position) -> tuple[list[event_feed.FedEvent], Position]:
    """Every event the feed hands out after `position` now, a small page at a time, and the position after them."""
    found: list[event_feed.FedEvent] = []
    while True:
        async with committed() as reader:
            page = await event_feed.after(reader, position, limit=2)
        if not page:
            return found, position
        found.extend(page)
        position = page[-1].position


async def test_every_event_after_a_position_comes_once_in_feed_order(world: World, committed: Maker) -> None:
    # given a position taken now and five entries written after it, one transaction each
    late = await LateCommit.of(world)
    async with committed() as session:
        start = await event_feed.now(session)
    for minutes in range(1, 6):
        async with committed() as session, session.begin():
            await time_entries.create(session, late.writer, {**late.data, "minutes": minutes})
    # when the feed is read from it in pages of two
    found, end = await _read_all(committed, start)
    # then each creation comes once, in the order written, and nothing more follows the last position
    assert [(e.type, e.changes["minutes"][1]) for e in found] == [("timeEntry.created", m) for m in range(1, 6)]
    assert [e.position for e in found] == sorted(e.position for e in found)
    assert (await _read_all(committed, end))[0] == []


async def _handed_out(world: World, committed: Maker) -> tuple[int, int]:
    """The feed is read while a late commit is still running and once more after it committed: how many creations
    each read handed out."""
    late = await LateCommit.of(world)
    async with committed() as session:
        start = await event_feed.now(session)
    read: list[tuple[list[event_feed.FedEvent], Position]] = []

    async def meanwhile() -> None:
        read.append(await _read_all(committed, start))

    await late.run(committed, meanwhile)
    ((meanwhile_events, position),) = read
    after, _ = await _read_all(committed, position)
    created = "timeEntry.created"
    return sum(e.type == created for e in meanwhile_events), sum(e.type == created for e in after)


async def test_a_change_committed_after_a_later_one_is_not_passed_over(world: World, committed: Maker) -> None:
    # while the slow one runs nothing is handed out past it; once it committed, both come
    assert await _handed_out(world, committed) == (0, 2)


async def test_negative_control_without_the_horizon_the_slow_change_is_lost(
    world: World, committed: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    horizon = " AND xid < pg_snapshot_xmin(pg_current_snapshot())"
    assert horizon in str(event_feed._AFTER)
    monkeypatch.setattr(event_feed, "_AFTER", text(str(event_feed._AFTER).replace(horizon, "")))
    assert await _handed_out(world, committed) == (1, 0)  # the quick one at once, the slow one never
