"""services.demo (SPEC 11, 12): a fresh database gets logins of every kind, every kind of case, and last week's
time as a real team writes it."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Case, Employee, EmployeeVisibility, Role, TimeEntry, TimeStatus
from services import auth, company, demo
from services.passwords import Passwords

# Fridays, Saturdays, Mondays, mid-week, and the turns of a month and of the (calendar) book year
TODAYS = [
    date(2026, 12, 7),  # Monday
    date(2026, 6, 17),  # Wednesday
    date(2026, 3, 6),  # Friday: the week before is the last whole one
    date(2026, 8, 1),  # Saturday
    date(2026, 10, 4),  # Sunday
    date(2027, 1, 4),  # Monday after a week that a new book year starts in
    date(2027, 1, 11),  # Monday after the first whole week of the book year
]


async def entries(session: AsyncSession) -> list[TimeEntry]:
    return list((await session.scalars(select(TimeEntry).order_by(TimeEntry.id))).all())


async def case_id(session: AsyncSession, code: str) -> int:
    found = await session.scalar(select(Case.id).where(Case.code == code))
    assert found is not None
    return found


class TestLoad:
    async def test_fills_an_empty_database_once(self, session: AsyncSession, passwords: Passwords) -> None:
        # when
        first = await demo.load(session, passwords)
        second = await demo.load(session, passwords)
        # then
        assert (first, second) == (True, False)
        assert await session.scalar(select(func.count()).select_from(Employee)) == len(demo.DEMO_EMPLOYEES)

    async def test_has_every_visibility_kind_and_every_kind_of_case(
        self, session: AsyncSession, passwords: Passwords
    ) -> None:
        # when
        await demo.load(session, passwords)
        # then
        kinds = set((await session.scalars(select(Role.employee_visibility))).all())
        assert kinds == set(EmployeeVisibility)
        cases = (await session.scalars(select(Case))).all()
        assert {c.max_per_book_year.value for c in cases} == {"NONE", "TIME", "AMOUNT"}
        assert any(c.blocked for c in cases)
        assert any(c.active_from for c in cases)
        assert any(c.is_default for c in cases)

    async def test_time_is_written_and_one_entry_ran_over_its_cap(
        self, session: AsyncSession, passwords: Passwords
    ) -> None:
        # when
        await demo.load(session, passwords)
        # then
        statuses = (await session.scalars(select(TimeEntry.status))).all()
        assert len(statuses) > 5
        assert TimeStatus.OVER_LIMIT in statuses

    async def test_the_administrator_can_log_in(self, session: AsyncSession, passwords: Passwords) -> None:
        # given
        await demo.load(session, passwords)
        # when
        token, employee = await auth.login(
            session, passwords, email=demo.ADMIN_EMAIL, password=demo.ADMIN_PASSWORD, ttl=timedelta(hours=1)
        )
        # then
        viewer = await auth.authenticate(session, token=token)
        assert viewer is not None
        assert viewer.is_administrator
        assert employee.email == demo.ADMIN_EMAIL


class TestDemoWeek:
    @pytest.mark.parametrize(
        ("today", "monday"),
        [
            (date(2026, 12, 7), date(2026, 11, 30)),  # a Monday: last week
            (date(2026, 12, 11), date(2026, 11, 30)),  # a Friday: today is not over yet
            (date(2026, 12, 12), date(2026, 12, 7)),  # a Saturday: the week just ended
            (date(2026, 12, 13), date(2026, 12, 7)),  # a Sunday
            (date(2027, 1, 4), date(2026, 12, 21)),  # Dec 28 - Jan 1 straddles two book years: the week before
            (date(2027, 1, 11), date(2027, 1, 4)),
        ],
    )
    def test_is_the_last_whole_work_week_of_one_book_year(self, today: date, monday: date) -> None:
        # when
        week = demo.demo_week(today, book_year_start_month=1)
        # then
        assert week == [monday + timedelta(days=n) for n in range(5)]

    def test_follows_the_book_year_start_month(self) -> None:
        # when: April book years, and the week of 1 April 2027 (a Thursday)
        week = demo.demo_week(date(2027, 4, 5), book_year_start_month=4)
        # then
        assert week[0] == date(2027, 3, 22)


class TestTheWeeksTime:
    @pytest.mark.parametrize("today", [None, *TODAYS], ids=["today", *map(str, TODAYS)])
    async def test_working_days_of_last_week_at_most_a_working_day_each(
        self, session: AsyncSession, passwords: Passwords, today: date | None
    ) -> None:
        # given
        settings = await company.get(session)
        week = demo.demo_week(today or company.today(settings), book_year_start_month=settings.book_year_start_month)
        # when
        await demo.load(session, passwords, today=today)
        # then: Monday to Friday of the week before today, nothing on a Saturday or Sunday
        written = await entries(session)
        assert {e.work_date for e in written} == set(week)
        assert all(e.work_date.weekday() < 5 for e in written)
        assert week[-1] < (today or company.today(settings))
        # and no one has more than a working day (8 hours) on any day
        per_day = Counter[tuple[int, date]]()
        for entry in written:
            per_day[entry.employee_id, entry.work_date] += entry.minutes
        assert max(per_day.values()) <= demo.WORKING_DAY_MINUTES
        # and the implementation ran over its maximum: its last entry's excess waits on an L line
        [line] = [e for e in written if e.status is TimeStatus.OVER_LIMIT]
        assert line.case_id == await case_id(session, "IMPL-2026")
        assert line.over_limit_of_id == max(e.id for e in written if e.case_id == line.case_id and e != line)
        assert line.work_date == week[-1]

    async def test_is_a_plausible_mix_for_the_whole_team(self, session: AsyncSession, passwords: Passwords) -> None:
        # when
        await demo.load(session, passwords)
        # then: everyone who writes time wrote some every day, on several cases and activities, billable or not
        written = await entries(session)
        writers = {e.employee_id for e in written}
        assert len(writers) == 4
        assert len({(e.employee_id, e.work_date) for e in written}) == 4 * 5
        assert len({e.case_id for e in written}) == 5
        assert len({e.activity_id for e in written}) == 3
        assert {e.status for e in written} == {TimeStatus.BILLABLE, TimeStatus.NON_BILLABLE, TimeStatus.OVER_LIMIT}
        # nothing on the blocked case
        assert await case_id(session, "LEGACY") not in {e.case_id for e in written}
