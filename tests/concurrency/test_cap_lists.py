"""SPEC 6 and 7 under concurrency for lists written at once (`create_many`: a saved list's new rows, a copy): lists
of entries in two book years of one capped case, some listing the later year first, written all together on separate
connections, never overshoot either year's maximum, fill each exactly, and keep totals, counts and rollups equal to
the entries. The negative control reads the totals without FOR UPDATE and shows the test would catch an overshoot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapKind, Case, TimeEntry, TimeStatus
from services import time_entries, totals
from services.time_entries import EntryData, New, WriteResult, Written
from tests.concurrency.conftest import World
from tests.concurrency.support import Maker, Outcome, all_at_once, audit, retries, tally, write

log = logging.getLogger("tests.concurrency")

LISTS = 20
MINUTES = 37
MAX_MINUTES = 300
# book years start in January: one list's entries fall in two of them
DAYS = (date(2025, 12, 30), date(2026, 1, 5))


async def _lists_at_once(world: World, maker: Maker, case: Case) -> list[Outcome[list[WriteResult[Written]]]]:
    """LISTS lists of six 37-minute entries, three in each book year; every other list starts with the later year."""
    start = asyncio.Barrier(LISTS)

    def entries(later_first: bool) -> list[New]:
        days = (DAYS[1], DAYS[0]) if later_first else DAYS
        data: list[EntryData] = [
            {"case_id": case.id, "activity_id": world.activity_id, "work_date": days[i % 2], "minutes": MINUTES}
            for i in range(6)
        ]
        return [New(d) for d in data]

    def writer(later_first: bool) -> Callable[[AsyncSession], Awaitable[list[WriteResult[Written]]]]:
        async def work(session: AsyncSession) -> list[WriteResult[Written]]:
            return await time_entries.create_many(session, world.writer, entries(later_first))

        return work

    return await all_at_once(write(maker, writer(i % 2 == 1), start) for i in range(LISTS))


async def _counted_per_year(maker: Maker, case_id: int) -> dict[date, int]:
    """The J minutes of each of the case's book years, summed from the entries."""
    async with maker() as session:
        rows = await session.execute(
            select(TimeEntry.work_date, func.sum(TimeEntry.minutes))
            .where(TimeEntry.case_id == case_id, TimeEntry.status == TimeStatus.BILLABLE)
            .group_by(TimeEntry.work_date)
        )
        return {day: int(minutes) for day, minutes in rows}


@pytest.mark.concurrency
async def test_lists_at_once_never_overshoot_either_year(world: World, wide: Maker) -> None:
    for _ in range(3):
        # given
        case = await world.case(max_per_book_year=CapKind.TIME, max_minutes=MAX_MINUTES)
        # when
        outcomes = await _lists_at_once(world, wide, case)
        # then
        counts = tally(outcomes)
        log.info("lists round: %s, retried: %s", dict(counts), dict(retries(outcomes)))
        assert counts["ok"] + counts["busy"] == LISTS, counts
        assert counts["ok"] * 3 * MINUTES > MAX_MINUTES, f"too few lists got through to reach the caps: {counts}"
        assert await _counted_per_year(wide, case.id) == {DAYS[0]: MAX_MINUTES, DAYS[1]: MAX_MINUTES}
        assert await audit(wide) == []


@pytest.mark.concurrency
async def test_negative_control_without_the_row_lock_a_year_is_overshot(
    world: World, wide: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same lists, the totals read without FOR UPDATE: some round overshoots a year's maximum."""
    monkeypatch.setattr(totals, "LOCK_ROWS", False)
    overshot = None
    for round_number in range(1, 11):
        case = await world.case(max_per_book_year=CapKind.TIME, max_minutes=MAX_MINUTES)
        await _lists_at_once(world, wide, case)
        counted = await _counted_per_year(wide, case.id)
        if max(counted.values()) > MAX_MINUTES:
            overshot = round_number
            break
    log.info("lists without the row lock: %s in round %s", counted, overshot)
    assert overshot is not None, "lists written without the row lock never overshot in 10 rounds"
