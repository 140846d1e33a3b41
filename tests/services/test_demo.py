from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Case, Employee, EmployeeVisibility, Role, TimeEntry, TimeStatus
from services import auth, demo
from services.passwords import Passwords


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
