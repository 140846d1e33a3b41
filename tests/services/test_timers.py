"""services.timers (SPEC 6, Timers): one running timer per employee, stopped into a TIMER entry dated the day it
started in the company's time zone, through the PER_DATE cap check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Activity, CapKind, Case, Debtor, Employee, EntrySource, TimeEntry, Timer, TimeStatus
from services import company, timers
from services.errors import ErrorCode
from services.time_entries import WarningCode, Writer
from services.timers import TimerData, elapsed_minutes
from tests.factories import Factory
from tests.services.time_support import RATE, assert_books_match, refused_with, writer_for

STARTED = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)


@dataclass
class Scene:
    me: Employee
    writer: Writer
    debtor: Debtor
    activity: Activity

    def timer(self, case: Case | None = None, *, description: str | None = None) -> TimerData:
        return {
            "debtor_id": self.debtor.id,
            "activity_id": self.activity.id,
            "case_id": case.id if case is not None else None,
            "description": description,
        }


@pytest.fixture
async def scene(session: AsyncSession, factory: Factory) -> Scene:
    me = await factory.employee()
    return Scene(
        me, await writer_for(session, factory, me), await factory.debtor(), await factory.activity(default_rate=RATE)
    )


async def started_at(session: AsyncSession, timer: Timer, when: datetime) -> None:
    """Move a running timer's start, as if it had been started then."""
    await session.execute(text("UPDATE timers SET started_at = :at WHERE id = :id"), {"at": when, "id": timer.id})
    session.expire(timer)


async def running_timers(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Timer)) or 0)


async def stored(session: AsyncSession, entry_id: int) -> TimeEntry:
    entry = await session.get(TimeEntry, entry_id, populate_existing=True)
    assert entry is not None
    return entry


class TestElapsedMinutes:
    @pytest.mark.parametrize(
        ("seconds", "minutes"),
        [(0, 1), (1, 1), (59.5, 1), (60, 1), (61, 2), (119, 2), (120, 2), (3600, 60), (1440 * 60 + 1, 1441)],
    )
    def test_rounds_up_to_whole_minutes_at_least_one(self, seconds: float, minutes: int) -> None:
        # when
        result = elapsed_minutes(STARTED, STARTED + timedelta(seconds=seconds))
        # then
        assert result == minutes

    def test_a_clock_going_backwards_still_gives_one_minute(self) -> None:
        # when
        result = elapsed_minutes(STARTED, STARTED - timedelta(minutes=5))
        # then
        assert result == 1


class TestStart:
    async def test_starts_the_viewers_timer(self, session: AsyncSession, scene: Scene) -> None:
        # given
        before = datetime.now(UTC)
        # when
        timer = await timers.start(session, scene.writer, scene.timer(description=" support call "))
        # then
        assert (timer.employee_id, timer.debtor_id, timer.activity_id) == (
            scene.me.id,
            scene.debtor.id,
            scene.activity.id,
        )
        assert timer.description == "support call"
        assert before <= timer.started_at <= datetime.now(UTC)
        assert await timers.running(session, employee_id=scene.me.id) is timer

    async def test_a_second_start_is_timer_running(self, session: AsyncSession, scene: Scene) -> None:
        # given
        await timers.start(session, scene.writer, scene.timer())
        # when / then
        await refused_with(session, timers.start(session, scene.writer, scene.timer()), ErrorCode.TIMER_RUNNING)
        assert await running_timers(session) == 1

    async def test_each_employee_has_a_timer_of_their_own(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        other = await writer_for(session, factory, await factory.employee())
        await timers.start(session, scene.writer, scene.timer())
        # when
        theirs = await timers.start(session, other, scene.timer())
        # then
        assert theirs.employee_id == other.viewer.employee_id
        assert await running_timers(session) == 2

    async def test_a_blocked_case_is_refused(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        case = await factory.case(debtor=scene.debtor, blocked=True)
        # when / then
        await refused_with(session, timers.start(session, scene.writer, scene.timer(case)), ErrorCode.CASE_BLOCKED)

    async def test_a_disabled_feature_is_refused(self, session: AsyncSession, scene: Scene) -> None:
        # given
        await company.update(session, {"time_tracking_enabled": False})
        # when / then
        await refused_with(session, timers.start(session, scene.writer, scene.timer()), ErrorCode.FEATURE_DISABLED)


class TestStop:
    async def test_without_a_timer_is_no_timer(self, session: AsyncSession, scene: Scene) -> None:
        # when / then
        await refused_with(session, timers.stop(session, scene.writer), ErrorCode.NO_TIMER)

    async def test_writes_a_timer_entry_dated_the_day_it_started_in_the_company_time_zone(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: started at 23:30 UTC on 1 March, which is 00:30 on 2 March in Amsterdam (the zone when it stops)
        case = await factory.case(debtor=scene.debtor)
        timer = await timers.start(session, scene.writer, scene.timer(case, description="on site"))
        await started_at(session, timer, STARTED)
        await company.update(session, {"time_zone": "Europe/Amsterdam"})
        # when
        result = await timers.stop(session, scene.writer, now=STARTED + timedelta(minutes=44, seconds=1))
        # then
        entry = await stored(session, result.entry.id)
        assert entry.work_date == date(2026, 3, 2)
        assert (entry.minutes, entry.source, entry.status, entry.amount) == (
            45,
            EntrySource.TIMER,
            TimeStatus.BILLABLE,
            Decimal("45.00"),
        )
        assert (entry.employee_id, entry.case_id, entry.activity_id, entry.description) == (
            scene.me.id,
            case.id,
            scene.activity.id,
            "on site",
        )
        assert result.warnings == []
        assert await running_timers(session) == 0
        await assert_books_match(session)

    async def test_in_utc_the_same_start_is_the_day_before(self, session: AsyncSession, scene: Scene) -> None:
        # given
        timer = await timers.start(session, scene.writer, scene.timer())
        await started_at(session, timer, STARTED)
        # when
        result = await timers.stop(session, scene.writer, now=STARTED + timedelta(minutes=10))
        # then
        assert (await stored(session, result.entry.id)).work_date == date(2026, 3, 1)

    async def test_past_a_day_writes_1440_minutes_and_warns(self, session: AsyncSession, scene: Scene) -> None:
        # given
        timer = await timers.start(session, scene.writer, scene.timer())
        await started_at(session, timer, STARTED)
        # when
        result = await timers.stop(session, scene.writer, now=STARTED + timedelta(hours=25))
        # then
        assert (await stored(session, result.entry.id)).minutes == 1440
        [warning] = result.warnings
        assert warning.code is WarningCode.TIMER_TRUNCATED
        assert "1500" in warning.message
        assert await running_timers(session) == 0

    async def test_exactly_a_day_is_not_truncated(self, session: AsyncSession, scene: Scene) -> None:
        # given
        timer = await timers.start(session, scene.writer, scene.timer())
        await started_at(session, timer, STARTED)
        # when
        result = await timers.stop(session, scene.writer, now=STARTED + timedelta(minutes=1440))
        # then
        assert (result.entry.minutes, result.warnings) == (1440, [])

    async def test_goes_through_the_cap_check(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given: 30 minutes left on the case's book year
        case = await factory.case(debtor=scene.debtor, max_per_book_year=CapKind.TIME, max_minutes=30)
        timer = await timers.start(session, scene.writer, scene.timer(case))
        await started_at(session, timer, STARTED)
        # when
        result = await timers.stop(session, scene.writer, now=STARTED + timedelta(minutes=45))
        # then
        assert (result.entry.minutes, result.entry.source) == (30, EntrySource.TIMER)
        assert result.over_limit_entry is not None
        line = await stored(session, result.over_limit_entry.id)
        assert (line.minutes, line.status, line.source, line.over_limit_of_id) == (
            15,
            TimeStatus.OVER_LIMIT,
            EntrySource.TIMER,
            result.entry.id,
        )
        assert [w.code for w in result.warnings] == [WarningCode.CAP_EXCEEDED]
        await assert_books_match(session)

    async def test_a_refused_stop_keeps_the_timer(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given: the case was blocked while the timer ran
        case = await factory.case(debtor=scene.debtor)
        timer = await timers.start(session, scene.writer, scene.timer(case))
        await session.execute(text("UPDATE cases SET blocked = true WHERE id = :id"), {"id": case.id})
        session.expire(case)
        # when / then
        await refused_with(session, timers.stop(session, scene.writer), ErrorCode.CASE_BLOCKED)
        still = await timers.running(session, employee_id=scene.me.id)
        assert still is not None
        assert still.id == timer.id


class TestDiscard:
    async def test_drops_the_running_timer_and_writes_no_time(self, session: AsyncSession, scene: Scene) -> None:
        # given
        started = await timers.start(session, scene.writer, scene.timer(description="wrong debtor"))
        # when
        discarded = await timers.discard(session, scene.writer)
        # then
        assert (discarded.id, discarded.description) == (started.id, "wrong debtor")
        assert await timers.running(session, employee_id=scene.me.id) is None
        assert await session.scalar(select(func.count()).select_from(TimeEntry)) == 0
        await assert_books_match(session)

    async def test_without_a_timer_is_no_timer(self, session: AsyncSession, scene: Scene) -> None:
        # when / then
        await refused_with(session, timers.discard(session, scene.writer), ErrorCode.NO_TIMER)

    async def test_a_second_discard_is_no_timer(self, session: AsyncSession, scene: Scene) -> None:
        # given
        await timers.start(session, scene.writer, scene.timer())
        await timers.discard(session, scene.writer)
        # when / then
        await refused_with(session, timers.discard(session, scene.writer), ErrorCode.NO_TIMER)

    async def test_leaves_another_employees_timer_running(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        other = await writer_for(session, factory, await factory.employee())
        theirs = await timers.start(session, other, scene.timer())
        await timers.start(session, scene.writer, scene.timer())
        # when
        await timers.discard(session, scene.writer)
        # then
        assert await timers.running(session, employee_id=other.viewer.employee_id) is theirs
        assert await running_timers(session) == 1

    async def test_works_while_time_tracking_is_off(self, session: AsyncSession, scene: Scene) -> None:
        # given: the feature was switched off while the timer ran; nothing is written, so nothing is refused
        await timers.start(session, scene.writer, scene.timer())
        await company.update(session, {"time_tracking_enabled": False})
        # when
        await timers.discard(session, scene.writer)
        # then
        assert await running_timers(session) == 0


class TestStartAgain:
    @pytest.mark.parametrize("end", [timers.stop, timers.discard], ids=["stop", "discard"])
    async def test_a_new_timer_can_start_once_the_last_one_ended(
        self, session: AsyncSession, scene: Scene, end: Callable[[AsyncSession, Writer], Awaitable[object]]
    ) -> None:
        # given
        await timers.start(session, scene.writer, scene.timer())
        await end(session, scene.writer)
        # when
        timer = await timers.start(session, scene.writer, scene.timer())
        # then
        assert timer.employee_id == scene.me.id
        assert await running_timers(session) == 1
