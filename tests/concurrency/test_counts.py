"""SPEC 7: the entry count kept on the case row stays exact while entries are created and deleted at once."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapKind, TimeEntry
from services import time_entries
from services.time_entries import EntryData, WriteResult, Written
from tests.concurrency.conftest import World
from tests.concurrency.support import Maker, Outcome, all_at_once, audit, books_of, retries, tally, write

log = logging.getLogger("tests.concurrency")

YEARS = range(2011, 2021)
CREATES = 30
MINUTES = 37
CAP = 30  # per book year: every first entry of 37 minutes splits into 30 minutes and a linked L line of 7


@pytest.mark.concurrency
class TestEntryCountUnderCreatesAndDeletes:
    async def test_count_stays_exact_and_no_writer_deadlocks(self, world: World, wide: Maker) -> None:
        # given: on one case, an entry and its L line in each of 10 book years (20 entries)
        case = await world.case(max_per_book_year=CapKind.TIME, max_minutes=CAP)

        def on(year: int) -> EntryData:
            return {
                "case_id": case.id,
                "activity_id": world.activity_id,
                "work_date": date(year, 9, 7),
                "minutes": MINUTES,
            }

        for year in YEARS:
            async with world.maker() as session, session.begin():
                assert (await time_entries.create(session, world.writer, on(year))).over_limit_entry is not None
        before = await books_of(wide, case.id)
        async with wide() as session:
            doomed = list(await session.scalars(select(TimeEntry.id).where(TimeEntry.case_id == case.id)))

        def create(year: int) -> Callable[[AsyncSession], Awaitable[WriteResult[Written]]]:
            return lambda session: time_entries.create(session, world.writer, on(year))

        def delete(entry_id: int) -> Callable[[AsyncSession], Awaitable[int]]:
            return lambda session: time_entries.delete(session, world.writer, entry_id)

        # when: 30 creates (3 per book year) and the 20 deletes of every entry and its L line, all at once
        works = [create(YEARS[i % len(YEARS)]) for i in range(CREATES)] + [delete(i) for i in doomed]
        random.Random(11).shuffle(works)
        start = asyncio.Barrier(len(works))
        outcomes: list[Outcome[WriteResult[Written] | int]] = await all_at_once(
            write(wide, work, start) for work in works
        )
        # then
        counts = tally(outcomes)
        log.info("creates and deletes at once: %s, retried: %s", dict(counts), dict(retries(outcomes)))
        assert set(counts) <= {"ok", "busy"}, counts
        written = [o.value for o in outcomes if isinstance(o.value, WriteResult)]
        created = len(written) + sum(1 for result in written if result.over_limit_entry is not None)
        deleted = sum(1 for o in outcomes if isinstance(o.value, int))
        after = await books_of(wide, case.id)
        assert after.entries == before.entries + created - deleted
        assert after.kept_count == after.entries
        assert await audit(wide) == []
        assert retries(outcomes) == {}, "an entry's delete and its L line's delete waited on each other in a circle"
