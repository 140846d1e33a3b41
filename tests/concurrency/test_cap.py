"""SPEC 6 invariant: with only PER_DATE writes, the counted sum of a case's book year never exceeds its maximum,
whatever the concurrency; and the kept totals and entry counts stay equal to what the entries say."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapKind, Case, TimeStatus
from services import time_entries, totals
from services.time_entries import EntryData, WriteResult, Written
from tests.concurrency.conftest import RATE, World
from tests.concurrency.support import Maker, Outcome, all_at_once, audit, books_of, retries, tally, write

log = logging.getLogger("tests.concurrency")

WRITERS = 50
MINUTES = 37
MAX_MINUTES = 1000
MAX_AMOUNT = Decimal("1000.00")
WORK_DATE = date(2026, 3, 2)
ONE_MINUTE = RATE / 60


async def _fifty_creates(world: World, maker: Maker, case: Case) -> list[Outcome[WriteResult[Written]]]:
    """50 PER_DATE creates of 37 minutes on `case`, lined up so that they reach the cap check together."""
    start = asyncio.Barrier(WRITERS)
    data: EntryData = {"case_id": case.id, "activity_id": world.activity_id, "work_date": WORK_DATE, "minutes": MINUTES}

    async def create(session: AsyncSession) -> WriteResult[Written]:
        return await time_entries.create(session, world.writer, data)

    return await all_at_once(write(maker, create, start) for _ in range(WRITERS))


@pytest.mark.concurrency
class TestCreateAtTheCap:
    async def test_time_cap_is_never_overshot(self, world: World, wide: Maker) -> None:
        for _ in range(20):
            # given
            case = await world.case(max_per_book_year=CapKind.TIME, max_minutes=MAX_MINUTES)
            # when
            outcomes = await _fifty_creates(world, wide, case)
            # then
            counts = tally(outcomes)
            log.info("TIME cap round: %s, retried: %s", dict(counts), dict(retries(outcomes)))
            assert counts["ok"] + counts["busy"] == WRITERS, counts
            written = MINUTES * counts["ok"]
            assert written > MAX_MINUTES, f"too few writers got through to reach the cap: {counts}"
            books = await books_of(wide, case.id)
            assert books.counted_minutes() <= MAX_MINUTES
            assert books.counted_minutes() == MAX_MINUTES  # filled exactly: nothing parked that would have fit
            assert books.counted_minutes() + books.minutes[TimeStatus.OVER_LIMIT] == written
            assert books.kept_count == books.entries
            assert await audit(wide) == []

    async def test_amount_cap_is_never_overshot(self, world: World, wide: Maker) -> None:
        for _ in range(6):
            # given
            case = await world.case(max_per_book_year=CapKind.AMOUNT, max_amount=MAX_AMOUNT)
            # when
            outcomes = await _fifty_creates(world, wide, case)
            # then
            counts = tally(outcomes)
            log.info("AMOUNT cap round: %s, retried: %s", dict(counts), dict(retries(outcomes)))
            assert counts["ok"] + counts["busy"] == WRITERS, counts
            written = MINUTES * counts["ok"]
            assert written * ONE_MINUTE > MAX_AMOUNT, f"too few writers got through to reach the cap: {counts}"
            books = await books_of(wide, case.id)
            assert books.counted_amount() <= MAX_AMOUNT
            assert MAX_AMOUNT - books.counted_amount() < ONE_MINUTE  # not even one more minute would have fit
            assert books.counted_minutes() + books.minutes[TimeStatus.OVER_LIMIT] == written
            assert books.kept_count == books.entries
            assert await audit(wide) == []


@pytest.mark.concurrency
class TestNegativeControl:
    async def test_without_the_row_lock_the_cap_is_overshot(
        self, world: World, wide: Maker, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Proves the cap test above can fail: the same writers, totals read without FOR UPDATE, overshoot."""
        # given
        monkeypatch.setattr(totals, "LOCK_ROWS", False)
        overshoot_in_round = None
        for round_number in range(1, 21):
            case = await world.case(max_per_book_year=CapKind.TIME, max_minutes=MAX_MINUTES)
            # when
            await _fifty_creates(world, wide, case)
            # then
            counted = (await books_of(wide, case.id)).counted_minutes()
            if counted > MAX_MINUTES:
                overshoot_in_round = round_number
                break
        log.info("without the row lock: %s of %s minutes counted in round %s", counted, MAX_MINUTES, overshoot_in_round)
        assert overshoot_in_round is not None, "50 unlocked writers never overshot the cap in 20 rounds"
