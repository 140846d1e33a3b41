"""services.time_entries on a real PostgreSQL: create, update, delete, copy, the case list's Save and idempotent
creates (SPEC 3, 4, 5a, 6, 7). After every scenario the totals rows and entry counts are recomputed from the
entries themselves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    CapBasis,
    CapKind,
    Case,
    CaseYearTotals,
    Debtor,
    Employee,
    EmployeeVisibility,
    EntryMode,
    EntrySource,
    TimeEntry,
    TimeStatus,
)
from services import activities, cases, company, employees, time_entries
from services.errors import ErrorCode
from services.time_entries import EntryData, ListChange, WarningCode, Writer
from tests.factories import Factory
from tests.services.time_support import (
    RATE,
    admin_writer,
    assert_books_match,
    mark_invoiced,
    refused_with,
    snapshot,
    writer_for,
)

J, F, N, L = TimeStatus.BILLABLE, TimeStatus.INVOICED, TimeStatus.NON_BILLABLE, TimeStatus.OVER_LIMIT
DAY = date(2026, 11, 2)
YEAR_2026 = date(2026, 1, 1)
UNKNOWN_ID = 2_000_000_000


@dataclass
class Scene:
    """An ordinary employee writing their own time for one debtor, on an activity of 60.00 an hour."""

    me: Employee
    writer: Writer
    debtor: Debtor
    activity: Activity

    def data(self, case: Case | None = None, *, minutes: int, day: date = DAY, **extra: Any) -> EntryData:
        fields: dict[str, Any] = {"activity_id": self.activity.id, "work_date": day, "minutes": minutes}
        if case is None:
            fields["debtor_id"] = self.debtor.id
        else:
            fields["case_id"] = case.id
        return cast(EntryData, {**fields, **extra})


@pytest.fixture
async def scene(session: AsyncSession, factory: Factory) -> Scene:
    me = await factory.employee()
    return Scene(
        me, await writer_for(session, factory, me), await factory.debtor(), await factory.activity(default_rate=RATE)
    )


async def capped(factory: Factory, scene: Scene, minutes: int = 100, **fields: Any) -> Case:
    return await factory.case(debtor=scene.debtor, max_per_book_year=CapKind.TIME, max_minutes=minutes, **fields)


async def stored(session: AsyncSession, entry_id: int) -> TimeEntry:
    """The entry as the database holds it now."""
    entry = await session.get(TimeEntry, entry_id, populate_existing=True)
    assert entry is not None
    return entry


async def line_of(session: AsyncSession, entry_id: int) -> TimeEntry | None:
    return await session.scalar(
        select(TimeEntry).where(TimeEntry.over_limit_of_id == entry_id).execution_options(populate_existing=True)
    )


async def entry_count(session: AsyncSession, case_id: int) -> int:
    return int(await session.scalar(select(Case.time_entry_count).where(Case.id == case_id)) or 0)


async def entries_on(session: AsyncSession, case_id: int) -> list[tuple[int, TimeStatus]]:
    rows = await session.execute(
        select(TimeEntry.minutes, TimeEntry.status).where(TimeEntry.case_id == case_id).order_by(TimeEntry.id)
    )
    return [(row.minutes, row.status) for row in rows]


async def totals_of(session: AsyncSession, case_id: int, year_start: date = YEAR_2026) -> CaseYearTotals:
    row = await session.get(CaseYearTotals, (case_id, year_start), populate_existing=True)
    assert row is not None
    return row


async def all_entries(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(TimeEntry)) or 0)


class TestCreate:
    async def test_an_entry_that_fits_is_written_whole(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=80, description=" call "))
        # then
        entry = await stored(session, result.entry.id)
        assert (entry.minutes, entry.status, entry.rate, entry.amount) == (80, J, RATE, Decimal("80.00"))
        assert (entry.employee_id, entry.debtor_id, entry.case_id) == (scene.me.id, scene.debtor.id, case.id)
        assert (entry.source, entry.description, entry.version) == (EntrySource.PER_DATE, "call", 1)
        assert (entry.created_by_id, entry.updated_by_id) == (scene.me.id, scene.me.id)
        assert result.over_limit_entry is None
        assert result.warnings == []
        assert await line_of(session, entry.id) is None
        assert await entry_count(session, case.id) == 1
        assert (await totals_of(session, case.id)).j_minutes == 80
        await assert_books_match(session)

    async def test_an_overflowing_entry_is_split_with_a_linked_over_limit_line(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=70))
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=50))
        # then
        entry = await stored(session, result.entry.id)
        assert (entry.minutes, entry.status, entry.amount) == (30, J, Decimal("30.00"))
        assert result.over_limit_entry is not None
        line = await stored(session, result.over_limit_entry.id)
        assert (line.minutes, line.status, line.amount, line.rate) == (20, L, Decimal("20.00"), RATE)
        assert line.over_limit_of_id == entry.id
        assert (line.case_id, line.work_date, line.activity_id, line.employee_id) == (
            case.id,
            DAY,
            scene.activity.id,
            scene.me.id,
        )
        [warning] = result.warnings
        assert warning.code is WarningCode.CAP_EXCEEDED
        assert "100 minutes" in warning.message  # the maximum
        assert "70 minutes" in warning.message  # what was used
        assert "20 minutes" in warning.message  # what went to L
        totals = await totals_of(session, case.id)
        assert (totals.j_minutes, totals.l_minutes) == (100, 20)
        assert await entry_count(session, case.id) == 3
        await assert_books_match(session)

    async def test_when_no_minute_fits_the_entry_itself_is_over_limit(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=100))
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        # then
        entry = await stored(session, result.entry.id)
        assert (entry.minutes, entry.status, entry.amount, entry.over_limit_of_id) == (30, L, Decimal("30.00"), None)
        assert result.over_limit_entry is None
        assert await line_of(session, entry.id) is None
        assert [w.code for w in result.warnings] == [WarningCode.CAP_EXCEEDED]
        assert "30 minutes" in result.warnings[0].message
        assert await entries_on(session, case.id) == [(100, J), (30, L)]
        assert await entry_count(session, case.id) == 2
        await assert_books_match(session)

    async def test_an_amount_cap_fits_floor_of_space_times_60_over_rate(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: 70.00 an hour; 60 minutes use 70.00 of 100.00, leaving room for floor(30 x 60 / 70) = 25 minutes
        activity = await factory.activity(default_rate=Decimal("70.00"))
        case = await factory.case(debtor=scene.debtor, max_per_book_year=CapKind.AMOUNT, max_amount=Decimal("100.00"))
        await time_entries.create(session, scene.writer, scene.data(case, minutes=60, activity_id=activity.id))
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=60, activity_id=activity.id))
        # then
        entry = await stored(session, result.entry.id)
        assert (entry.minutes, entry.amount) == (25, Decimal("29.17"))
        assert result.over_limit_entry is not None
        line = await stored(session, result.over_limit_entry.id)
        assert (line.minutes, line.status, line.amount) == (35, L, Decimal("40.83"))
        message = result.warnings[0].message
        assert "100.00" in message
        assert "70.00" in message
        assert "35 minutes" in message
        totals = await totals_of(session, case.id)
        assert totals.j_amount == Decimal("99.17")
        assert totals.j_amount <= Decimal("100.00")
        await assert_books_match(session)

    async def test_a_non_billable_basis_counts_only_non_billable_time(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 60, max_based_on=CapBasis.NON_BILLABLE)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=100, status=J))
        await time_entries.create(session, scene.writer, scene.data(case, minutes=50, status=N))
        # when
        split = await time_entries.create(session, scene.writer, scene.data(case, minutes=20, billable=False))
        billable = await time_entries.create(session, scene.writer, scene.data(case, minutes=200, billable=True))
        # then
        assert (split.entry.minutes, split.entry.status) == (10, N)
        assert split.over_limit_entry is not None
        assert split.over_limit_entry.minutes == 10
        assert (billable.entry.minutes, billable.entry.status, billable.over_limit_entry) == (200, J, None)
        assert billable.warnings == []
        totals = await totals_of(session, case.id)
        assert (totals.j_minutes, totals.n_minutes, totals.l_minutes) == (300, 60, 10)
        await assert_books_match(session)

    async def test_a_billable_basis_ignores_non_billable_time(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 60)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=60))
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=500, status=N))
        # then
        assert (result.entry.minutes, result.entry.status, result.over_limit_entry, result.warnings) == (
            500,
            N,
            None,
            [],
        )
        await assert_books_match(session)

    async def test_invoiced_time_counts_towards_a_billable_cap(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        first = await time_entries.create(session, scene.writer, scene.data(case, minutes=90))
        await mark_invoiced(session, first.entry.id)
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        # then
        assert result.entry.minutes == 10
        assert result.over_limit_entry is not None
        assert result.over_limit_entry.minutes == 20
        await assert_books_match(session)

    async def test_per_debtor_mode_does_not_check_the_cap(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=90))
        # when
        result = await time_entries.create(
            session, scene.writer, scene.data(case, minutes=150), mode=EntryMode.PER_DEBTOR
        )
        # then
        entry = await stored(session, result.entry.id)
        assert (entry.minutes, entry.status, entry.source) == (150, J, EntrySource.PER_DEBTOR)
        assert (result.over_limit_entry, result.warnings) == (None, [])
        assert (await totals_of(session, case.id)).j_minutes == 240
        assert await entry_count(session, case.id) == 2
        await assert_books_match(session)

    async def test_the_cap_holds_per_book_year_of_the_work_date(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: book years run April to March
        await company.update(session, {"book_year_start_month": 4})
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=100, day=date(2026, 3, 31)))
        # when
        next_year = await time_entries.create(
            session, scene.writer, scene.data(case, minutes=100, day=date(2026, 4, 1))
        )
        same_year = await time_entries.create(session, scene.writer, scene.data(case, minutes=10, day=date(2025, 4, 1)))
        # then
        assert (next_year.entry.minutes, next_year.entry.status, next_year.warnings) == (100, J, [])
        assert (same_year.entry.minutes, same_year.entry.status) == (10, L)
        assert (await totals_of(session, case.id, date(2025, 4, 1))).j_minutes == 100
        assert (await totals_of(session, case.id, date(2026, 4, 1))).j_minutes == 100
        await assert_books_match(session)

    async def test_time_without_a_case_touches_no_totals(self, session: AsyncSession, scene: Scene) -> None:
        # when
        result = await time_entries.create(session, scene.writer, scene.data(minutes=45))
        # then
        entry = await stored(session, result.entry.id)
        assert (entry.case_id, entry.debtor_id, entry.minutes, entry.amount) == (
            None,
            scene.debtor.id,
            45,
            Decimal("45.00"),
        )
        assert await session.scalar(select(func.count()).select_from(CaseYearTotals)) == 0
        await assert_books_match(session)

    @pytest.mark.parametrize(("invoicing", "activity_default"), [(N, J), (J, N)])
    async def test_the_case_invoicing_overrules_the_activity_default(
        self, session: AsyncSession, factory: Factory, scene: Scene, invoicing: TimeStatus, activity_default: TimeStatus
    ) -> None:
        # given
        activity = await factory.activity(default_rate=RATE, default_status=activity_default)
        case = await factory.case(debtor=scene.debtor, invoicing=invoicing)
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=30, activity_id=activity.id))
        # then
        assert (await stored(session, result.entry.id)).status is invoicing
        await assert_books_match(session)

    async def test_one_may_write_for_a_visible_employee_with_the_right_to(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        lead = await factory.employee(role=await factory.role(can_enter_time_for_others=True))
        writer = await writer_for(session, factory, lead)
        # when
        result = await time_entries.create(session, writer, scene.data(minutes=30, employee_id=scene.me.id))
        # then
        entry = await stored(session, result.entry.id)
        assert (entry.employee_id, entry.created_by_id, entry.updated_by_id) == (scene.me.id, lead.id, lead.id)


class TestCreateRefusals:
    async def test_a_disabled_feature(self, session: AsyncSession, scene: Scene) -> None:
        # given
        await company.update(session, {"time_tracking_enabled": False})
        # when / then
        await refused_with(
            session, time_entries.create(session, scene.writer, scene.data(minutes=30)), ErrorCode.FEATURE_DISABLED
        )

    async def test_a_case_while_the_case_column_is_off(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await factory.case(debtor=scene.debtor)
        await company.update(session, {"use_case_column": False})
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(case, minutes=30)),
            ErrorCode.CASES_DISABLED,
            "caseId",
        )

    async def test_no_case_while_one_is_required(self, session: AsyncSession, scene: Scene) -> None:
        # given
        await company.update(session, {"require_case": True})
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(minutes=30)),
            ErrorCode.CASE_REQUIRED,
            "caseId",
        )

    async def test_a_blocked_case(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        case = await factory.case(debtor=scene.debtor, blocked=True)
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(case, minutes=30)),
            ErrorCode.CASE_BLOCKED,
            "caseId",
        )

    @pytest.mark.parametrize("day", [date(2025, 12, 31), date(2026, 2, 1)])
    async def test_a_case_not_active_on_the_work_date(
        self, session: AsyncSession, factory: Factory, scene: Scene, day: date
    ) -> None:
        # given
        case = await factory.case(debtor=scene.debtor, active_from=date(2026, 1, 1), active_until=date(2026, 1, 31))
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(case, minutes=30, day=day)),
            ErrorCode.CASE_NOT_ACTIVE,
            "workDate",
        )

    @pytest.mark.parametrize("day", [date(2026, 1, 1), date(2026, 1, 31)])
    async def test_both_days_of_a_case_period_are_included(
        self, session: AsyncSession, factory: Factory, scene: Scene, day: date
    ) -> None:
        # given
        case = await factory.case(debtor=scene.debtor, active_from=date(2026, 1, 1), active_until=date(2026, 1, 31))
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=30, day=day))
        # then
        assert (await stored(session, result.entry.id)).work_date == day

    async def test_a_case_of_another_debtor(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        case = await factory.case()
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(case, minutes=30, debtor_id=scene.debtor.id)),
            ErrorCode.CASE_DEBTOR_MISMATCH,
            "caseId",
        )

    async def test_no_rate(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given: no rate on the case, debtor, employee or activity
        activity = await factory.activity()
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(minutes=30, activity_id=activity.id)),
            ErrorCode.NO_RATE,
        )

    async def test_writing_for_another_employee_without_the_right(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: the other employee is visible (ALL), but the role may not enter time for others
        other = await factory.employee()
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(minutes=30, employee_id=other.id)),
            ErrorCode.FORBIDDEN,
            "employeeId",
        )

    @pytest.mark.parametrize("may_write_for_others", [True, False])
    async def test_naming_an_employee_one_cannot_see(
        self, session: AsyncSession, factory: Factory, scene: Scene, may_write_for_others: bool
    ) -> None:
        # given
        role = await factory.role(visibility=EmployeeVisibility.OWN, can_enter_time_for_others=may_write_for_others)
        writer = await writer_for(session, factory, await factory.employee(role=role))
        # when / then: as if that employee did not exist
        error = await refused_with(
            session,
            time_entries.create(session, writer, scene.data(minutes=30, employee_id=scene.me.id)),
            ErrorCode.NOT_FOUND,
            "employeeId",
        )
        assert str(scene.me.id) not in error.message

    async def test_an_unknown_employee(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        _, writer = await admin_writer(session, factory)
        # when / then
        await refused_with(
            session,
            time_entries.create(session, writer, scene.data(minutes=30, employee_id=UNKNOWN_ID)),
            ErrorCode.NOT_FOUND,
            "employeeId",
        )

    async def test_an_inactive_employee(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        _, writer = await admin_writer(session, factory)
        gone = await factory.employee(active=False)
        # when / then
        await refused_with(
            session,
            time_entries.create(session, writer, scene.data(minutes=30, employee_id=gone.id)),
            ErrorCode.VALIDATION,
            "employeeId",
        )

    @pytest.mark.parametrize("minutes", [0, -5, 1441])
    async def test_minutes_out_of_range(
        self, session: AsyncSession, factory: Factory, scene: Scene, minutes: int
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(case, minutes=minutes)),
            ErrorCode.VALIDATION,
            "minutes",
        )

    @pytest.mark.parametrize("minutes", [1, 1440])
    async def test_minutes_at_the_bounds_are_written(self, session: AsyncSession, scene: Scene, minutes: int) -> None:
        # when
        result = await time_entries.create(session, scene.writer, scene.data(minutes=minutes))
        # then
        assert (await stored(session, result.entry.id)).minutes == minutes

    @pytest.mark.parametrize("day", [date(1999, 12, 31), date(2101, 1, 1)])
    async def test_a_date_out_of_range(self, session: AsyncSession, scene: Scene, day: date) -> None:
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(minutes=30, day=day)),
            ErrorCode.VALIDATION,
            "workDate",
        )

    @pytest.mark.parametrize("status", [F, L])
    async def test_a_system_status_given_by_the_writer(
        self, session: AsyncSession, scene: Scene, status: TimeStatus
    ) -> None:
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(minutes=30, status=status)),
            ErrorCode.VALIDATION,
            "status",
        )

    async def test_status_and_billable_disagreeing(self, session: AsyncSession, scene: Scene) -> None:
        # when / then
        await refused_with(
            session,
            time_entries.create(session, scene.writer, scene.data(minutes=30, status=N, billable=True)),
            ErrorCode.VALIDATION,
            "billable",
        )

    async def test_an_unknown_case(self, session: AsyncSession, scene: Scene) -> None:
        # when / then
        await refused_with(
            session,
            time_entries.create(
                session, scene.writer, cast(EntryData, {**scene.data(minutes=30), "case_id": UNKNOWN_ID})
            ),
            ErrorCode.NOT_FOUND,
            "caseId",
        )


class TestUpdate:
    async def test_an_edit_leaves_its_own_share_out(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: the entry itself holds the 50 minutes used of 100
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=50))
        # when
        result = await time_entries.update(session, scene.writer, created.entry.id, {"minutes": 60})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.minutes, entry.amount, entry.version) == (60, Decimal("60.00"), 2)
        assert (result.over_limit_entry, result.warnings) == (None, [])
        assert await line_of(session, entry.id) is None
        assert (await totals_of(session, case.id)).j_minutes == 60
        await assert_books_match(session)

    async def test_an_edit_that_no_longer_fits_parks_the_excess_on_a_new_line(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=50))
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        # when
        result = await time_entries.update(session, scene.writer, created.entry.id, {"minutes": 70})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.minutes, entry.status, entry.amount) == (50, J, Decimal("50.00"))
        assert result.over_limit_entry is not None
        line = await stored(session, result.over_limit_entry.id)
        assert (line.minutes, line.status, line.amount, line.over_limit_of_id) == (20, L, Decimal("20.00"), entry.id)
        assert [w.code for w in result.warnings] == [WarningCode.CAP_EXCEEDED]
        assert "50 minutes" in result.warnings[0].message  # used by the others, its own old share left out
        assert await entry_count(session, case.id) == 3
        await assert_books_match(session)

    async def test_a_second_overflowing_edit_adds_to_the_same_line(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: 50 + 30, the second edited to 70 (50 fit, 20 to L)
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=50))
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        first = await time_entries.update(session, scene.writer, created.entry.id, {"minutes": 70})
        assert first.over_limit_entry is not None
        line_id = first.over_limit_entry.id
        # when: edited again to 80, of which 30 do not fit
        second = await time_entries.update(session, scene.writer, created.entry.id, {"minutes": 80})
        # then
        assert second.over_limit_entry is not None
        assert second.over_limit_entry.id == line_id
        line = await stored(session, line_id)
        assert (line.minutes, line.amount, line.over_limit_of_id, line.version) == (
            50,
            Decimal("50.00"),
            created.entry.id,
            2,
        )
        assert (await stored(session, created.entry.id)).minutes == 50
        assert (
            await session.scalar(
                select(func.count()).select_from(TimeEntry).where(TimeEntry.over_limit_of_id == created.entry.id)
            )
            == 1
        )
        assert await entry_count(session, case.id) == 3
        await assert_books_match(session)

    async def test_an_edit_to_another_book_year_moves_its_totals(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=40))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"work_date": date(2027, 1, 4)})
        # then
        assert (await totals_of(session, case.id)).j_minutes == 0
        assert (await totals_of(session, case.id, date(2027, 1, 1))).j_minutes == 40
        assert await entry_count(session, case.id) == 1
        await assert_books_match(session)

    async def test_an_edit_to_another_case_moves_its_totals_and_counts(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: the new case belongs to another debtor, so the entry's debtor follows it
        old = await capped(factory, scene, 100)
        new = await factory.case(max_per_book_year=CapKind.TIME, max_minutes=100)
        created = await time_entries.create(session, scene.writer, scene.data(old, minutes=40))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"case_id": new.id})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.case_id, entry.debtor_id) == (new.id, new.debtor_id)
        assert (await entry_count(session, old.id), await entry_count(session, new.id)) == (0, 1)
        assert (await totals_of(session, old.id)).j_minutes == 0
        assert (await totals_of(session, new.id)).j_minutes == 40
        await assert_books_match(session)

    async def test_an_edit_onto_a_full_case_is_checked_against_that_case(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        full = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(full, minutes=90))
        created = await time_entries.create(session, scene.writer, scene.data(minutes=40))
        # when
        result = await time_entries.update(session, scene.writer, created.entry.id, {"case_id": full.id})
        # then
        assert (await stored(session, created.entry.id)).minutes == 10
        assert result.over_limit_entry is not None
        assert result.over_limit_entry.minutes == 30
        assert await entry_count(session, full.id) == 3
        await assert_books_match(session)

    async def test_an_edit_removing_the_case_gives_back_its_share(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=40))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"case_id": None})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.case_id, entry.debtor_id) == (None, scene.debtor.id)
        assert await entry_count(session, case.id) == 0
        await assert_books_match(session)

    async def test_a_status_change_moves_the_share_between_statuses(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=40))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"billable": False})
        # then
        totals = await totals_of(session, case.id)
        assert (totals.j_minutes, totals.n_minutes) == (0, 40)
        assert (await stored(session, created.entry.id)).status is N
        await assert_books_match(session)

    async def test_the_stored_rate_is_kept_unless_what_decides_it_changes(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: written at 60.00, then the activity's default rate goes up
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        await activities.update(session, scene.activity.id, {"default_rate": Decimal("120.00")})
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"description": "follow-up"})
        described = await stored(session, created.entry.id)
        described_rate, described_amount = described.rate, described.amount
        await time_entries.update(
            session, scene.writer, created.entry.id, {"minutes": 45, "work_date": date(2026, 11, 3)}
        )
        stretched = await stored(session, created.entry.id)
        # then
        assert (described_rate, described_amount) == (RATE, Decimal("30.00"))
        assert (stretched.rate, stretched.amount, stretched.description) == (RATE, Decimal("45.00"), "follow-up")

    async def test_a_new_activity_resolves_the_rate_afresh(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        dearer = await factory.activity(default_rate=Decimal("90.00"))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"activity_id": dearer.id})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.activity_id, entry.rate, entry.amount) == (dearer.id, Decimal("90.00"), Decimal("45.00"))

    async def test_a_new_employee_resolves_the_rate_afresh(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        _, writer = await admin_writer(session, factory)
        senior = await factory.employee(default_rate=Decimal("75.00"))
        created = await time_entries.create(session, writer, scene.data(minutes=30, employee_id=scene.me.id))
        # when
        await time_entries.update(session, writer, created.entry.id, {"employee_id": senior.id})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.employee_id, entry.rate, entry.amount) == (senior.id, Decimal("75.00"), Decimal("37.50"))

    async def test_a_new_case_resolves_the_rate_afresh(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        special = await factory.case(debtor=scene.debtor, adjusted_rate=Decimal("200.00"))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"case_id": special.id})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.rate, entry.amount) == (Decimal("200.00"), Decimal("100.00"))
        await assert_books_match(session)

    async def test_a_new_debtor_resolves_the_rate_afresh(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        special = await factory.debtor(adjusted_rate=Decimal("150.00"))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"debtor_id": special.id})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.debtor_id, entry.rate, entry.amount) == (special.id, Decimal("150.00"), Decimal("75.00"))

    async def test_each_edit_raises_the_version_by_one_and_records_who(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        lead = await factory.employee(role=await factory.role(can_enter_time_for_others=True))
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"minutes": 31}, expected_version=1)
        await time_entries.update(
            session, await writer_for(session, factory, lead), created.entry.id, {"minutes": 32}, expected_version=2
        )
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.minutes, entry.version, entry.created_by_id, entry.updated_by_id) == (32, 3, scene.me.id, lead.id)
        assert entry.updated_at >= entry.created_at

    async def test_an_edit_in_per_debtor_mode_is_not_checked(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=50))
        # when
        result = await time_entries.update(
            session, scene.writer, created.entry.id, {"minutes": 150}, mode=EntryMode.PER_DEBTOR
        )
        # then
        assert (result.entry.minutes, result.over_limit_entry, result.warnings) == (150, None, [])
        await assert_books_match(session)

    async def test_an_over_limit_line_made_billable_is_checked_and_no_longer_linked(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: 100 of 100 used and a line of 20 parked; then 30 minutes come free
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=70))
        split = await time_entries.create(session, scene.writer, scene.data(case, minutes=50))
        assert split.over_limit_entry is not None
        await time_entries.update(session, scene.writer, split.entry.id, {"minutes": 10})
        # when: the writer turns the parked line into billable time
        result = await time_entries.update(session, scene.writer, split.over_limit_entry.id, {"status": J})
        # then: it fits, and is ordinary time now
        line = await stored(session, split.over_limit_entry.id)
        assert (line.minutes, line.status, line.over_limit_of_id) == (20, J, None)
        assert result.warnings == []
        assert await line_of(session, split.entry.id) is None
        await assert_books_match(session)

    async def test_a_move_that_overflows_takes_the_existing_line_along(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: an entry with a parked line on one case, and a nearly full case
        old = await capped(factory, scene, 100)
        full = await capped(factory, scene, 100)
        split = await time_entries.create(session, scene.writer, scene.data(old, minutes=130))
        assert split.over_limit_entry is not None
        await time_entries.create(session, scene.writer, scene.data(full, minutes=60))
        # when: 100 minutes move onto 40 minutes of room
        result = await time_entries.update(session, scene.writer, split.entry.id, {"case_id": full.id})
        # then: one line, on the new case, holding the old 30 and the new 60
        assert result.over_limit_entry is not None
        assert result.over_limit_entry.id == split.over_limit_entry.id
        line = await stored(session, split.over_limit_entry.id)
        assert (line.case_id, line.minutes, line.status) == (full.id, 90, L)
        assert (await stored(session, split.entry.id)).minutes == 40
        assert await entries_on(session, old.id) == []
        assert (await entry_count(session, old.id), await entry_count(session, full.id)) == (0, 3)
        await assert_books_match(session)

    async def test_making_time_billable_on_a_full_case_is_checked(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=80))
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=50, status=N))
        # when
        result = await time_entries.update(session, scene.writer, created.entry.id, {"status": J})
        # then
        assert (result.entry.minutes, result.entry.status) == (20, J)
        assert result.over_limit_entry is not None
        assert result.over_limit_entry.minutes == 30
        assert (await totals_of(session, case.id)).j_minutes == 100
        await assert_books_match(session)


class TestUpdateRefusals:
    async def test_an_invoiced_entry(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        await mark_invoiced(session, created.entry.id)
        # when / then
        await refused_with(
            session,
            time_entries.update(session, scene.writer, created.entry.id, {"minutes": 20}),
            ErrorCode.INVOICED_LOCKED,
        )
        await assert_books_match(session)

    async def test_a_stale_version(self, session: AsyncSession, scene: Scene) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        await time_entries.update(session, scene.writer, created.entry.id, {"minutes": 40})
        # when / then
        await refused_with(
            session,
            time_entries.update(session, scene.writer, created.entry.id, {"minutes": 50}, expected_version=1),
            ErrorCode.VERSION_CONFLICT,
            "expectedVersion",
        )

    async def test_the_entry_of_another_employee_without_the_right(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        other = await factory.employee()
        created = await time_entries.create(session, await writer_for(session, factory, other), scene.data(minutes=30))
        # when / then
        await refused_with(
            session,
            time_entries.update(session, scene.writer, created.entry.id, {"minutes": 50}),
            ErrorCode.FORBIDDEN,
        )

    async def test_the_entry_of_a_hidden_employee_even_with_the_right(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        role = await factory.role(visibility=EmployeeVisibility.OWN, can_enter_time_for_others=True)
        writer = await writer_for(session, factory, await factory.employee(role=role))
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        # when / then
        await refused_with(
            session, time_entries.update(session, writer, created.entry.id, {"minutes": 50}), ErrorCode.FORBIDDEN
        )

    async def test_an_unknown_entry(self, session: AsyncSession, scene: Scene) -> None:
        # when / then
        await refused_with(
            session, time_entries.update(session, scene.writer, UNKNOWN_ID, {"minutes": 50}), ErrorCode.NOT_FOUND
        )

    @pytest.mark.parametrize("minutes", [None, 0, 1441])
    async def test_minutes_out_of_range(self, session: AsyncSession, scene: Scene, minutes: int | None) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        # when / then
        await refused_with(
            session,
            time_entries.update(session, scene.writer, created.entry.id, {"minutes": minutes}),
            ErrorCode.VALIDATION,
            "minutes",
        )

    async def test_clearing_the_debtor_of_an_entry_without_a_case(self, session: AsyncSession, scene: Scene) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        # when / then
        await refused_with(
            session,
            time_entries.update(session, scene.writer, created.entry.id, {"debtor_id": None}),
            ErrorCode.VALIDATION,
            "debtorId",
        )
        assert (await stored(session, created.entry.id)).debtor_id == scene.debtor.id

    async def test_clearing_the_debtor_of_an_entry_with_a_case_keeps_the_case_debtor(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await factory.case(debtor=scene.debtor)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        # when
        await time_entries.update(session, scene.writer, created.entry.id, {"debtor_id": None, "minutes": 40})
        # then
        entry = await stored(session, created.entry.id)
        assert (entry.case_id, entry.debtor_id, entry.minutes) == (case.id, scene.debtor.id, 40)

    async def test_moving_onto_a_blocked_case(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        blocked = await factory.case(debtor=scene.debtor, blocked=True)
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        # when / then
        await refused_with(
            session,
            time_entries.update(session, scene.writer, created.entry.id, {"case_id": blocked.id}),
            ErrorCode.CASE_BLOCKED,
        )

    async def test_moving_out_of_the_case_period(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        case = await factory.case(debtor=scene.debtor, active_from=date(2026, 11, 1), active_until=date(2026, 11, 30))
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        # when / then
        await refused_with(
            session,
            time_entries.update(session, scene.writer, created.entry.id, {"work_date": date(2026, 12, 1)}),
            ErrorCode.CASE_NOT_ACTIVE,
        )

    async def test_a_system_status(self, session: AsyncSession, scene: Scene) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        # when / then
        await refused_with(
            session,
            time_entries.update(session, scene.writer, created.entry.id, {"status": F}),
            ErrorCode.VALIDATION,
            "status",
        )

    async def test_a_line_that_would_pass_1440_minutes(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: an entry of 10 with a parked line of 1400 on a case of 10 minutes
        case = await capped(factory, scene, 10)
        split = await time_entries.create(session, scene.writer, scene.data(case, minutes=1410))
        assert split.over_limit_entry is not None
        # when / then: 50 more minutes of excess would make the line 1450
        await refused_with(
            session,
            time_entries.update(session, scene.writer, split.entry.id, {"minutes": 60}),
            ErrorCode.VALIDATION,
            "minutes",
        )
        await assert_books_match(session)


class TestDelete:
    async def test_delete_subtracts_from_the_totals_and_the_count(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        gone = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        await time_entries.create(session, scene.writer, scene.data(case, minutes=20))
        # when
        deleted = await time_entries.delete(session, scene.writer, gone.entry.id, expected_version=1)
        # then
        assert deleted == gone.entry.id
        assert await session.get(TimeEntry, gone.entry.id, populate_existing=True) is None
        assert (await totals_of(session, case.id)).j_minutes == 20
        assert await entry_count(session, case.id) == 1
        await assert_books_match(session)

    async def test_deleted_space_can_be_written_again(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        full = await time_entries.create(session, scene.writer, scene.data(case, minutes=100))
        await time_entries.delete(session, scene.writer, full.entry.id)
        # when
        result = await time_entries.create(session, scene.writer, scene.data(case, minutes=100))
        # then
        assert (result.entry.minutes, result.entry.status, result.warnings) == (100, J, [])
        await assert_books_match(session)

    async def test_deleting_a_split_entry_keeps_its_over_limit_line(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        split = await time_entries.create(session, scene.writer, scene.data(case, minutes=130))
        assert split.over_limit_entry is not None
        # when
        await time_entries.delete(session, scene.writer, split.entry.id)
        # then
        line = await stored(session, split.over_limit_entry.id)
        assert (line.minutes, line.status, line.over_limit_of_id) == (30, L, None)
        assert await entry_count(session, case.id) == 1
        await assert_books_match(session)

    async def test_deleting_an_over_limit_line_subtracts_it(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        split = await time_entries.create(session, scene.writer, scene.data(case, minutes=130))
        assert split.over_limit_entry is not None
        # when
        await time_entries.delete(session, scene.writer, split.over_limit_entry.id)
        # then
        totals = await totals_of(session, case.id)
        assert (totals.j_minutes, totals.l_minutes) == (100, 0)
        assert await entry_count(session, case.id) == 1
        await assert_books_match(session)

    async def test_an_invoiced_entry_is_refused(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        await mark_invoiced(session, created.entry.id)
        # when / then
        await refused_with(
            session, time_entries.delete(session, scene.writer, created.entry.id), ErrorCode.INVOICED_LOCKED
        )
        await assert_books_match(session)

    async def test_a_stale_version_is_refused(self, session: AsyncSession, scene: Scene) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        # when / then
        await refused_with(
            session,
            time_entries.delete(session, scene.writer, created.entry.id, expected_version=2),
            ErrorCode.VERSION_CONFLICT,
        )

    async def test_the_entry_of_another_employee_is_refused(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        other = await factory.employee()
        created = await time_entries.create(session, await writer_for(session, factory, other), scene.data(minutes=30))
        # when / then
        await refused_with(session, time_entries.delete(session, scene.writer, created.entry.id), ErrorCode.FORBIDDEN)

    async def test_an_unknown_entry_is_not_found(self, session: AsyncSession, scene: Scene) -> None:
        # when / then
        await refused_with(session, time_entries.delete(session, scene.writer, UNKNOWN_ID), ErrorCode.NOT_FOUND)


class TestFeatureDisabled:
    async def test_every_write_path_is_refused(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        case = await factory.case(debtor=scene.debtor)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        entry_id = created.entry.id
        await company.update(session, {"time_tracking_enabled": False})
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: time_entries.update(session, scene.writer, entry_id, {"minutes": 40}),
            lambda: time_entries.delete(session, scene.writer, entry_id),
            lambda: time_entries.copy(session, scene.writer, [entry_id], DAY),
            lambda: time_entries.save_case_list(session, scene.writer, case.id, [ListChange(entry_id, None, True, {})]),
            lambda: time_entries.create_once(
                session, scene.writer, scene.data(minutes=5), mode=EntryMode.PER_DATE, idempotency_key="k"
            ),
        ]
        # when / then
        for call in calls:
            await refused_with(session, call(), ErrorCode.FEATURE_DISABLED)
        assert (await stored(session, entry_id)).minutes == 30


class TestCopy:
    async def test_billable_and_invoiced_copy_as_billable_non_billable_as_non_billable(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await factory.case(debtor=scene.debtor)
        billable = await time_entries.create(session, scene.writer, scene.data(case, minutes=10, status=J))
        invoiced = await time_entries.create(session, scene.writer, scene.data(case, minutes=20, status=J))
        non_billable = await time_entries.create(session, scene.writer, scene.data(case, minutes=30, status=N))
        await mark_invoiced(session, invoiced.entry.id)
        ids = [billable.entry.id, invoiced.entry.id, non_billable.entry.id]
        # when
        results = await time_entries.copy(session, scene.writer, ids, date(2026, 12, 1))
        # then
        copies = [await stored(session, r.entry.id) for r in results]
        assert [(c.minutes, c.status, c.work_date, c.source) for c in copies] == [
            (10, J, date(2026, 12, 1), EntrySource.COPY),
            (20, J, date(2026, 12, 1), EntrySource.COPY),
            (30, N, date(2026, 12, 1), EntrySource.COPY),
        ]
        assert all(c.invoice_id is None and c.version == 1 for c in copies)
        assert await entry_count(session, case.id) == 6
        await assert_books_match(session)

    @pytest.mark.parametrize(("invoicing", "basis"), [(J, CapBasis.BILLABLE), (N, CapBasis.NON_BILLABLE)])
    async def test_over_limit_copies_as_a_new_entry_would(
        self, session: AsyncSession, factory: Factory, scene: Scene, invoicing: TimeStatus, basis: CapBasis
    ) -> None:
        # given: a full case whose new time defaults to `invoicing`, with time parked over its cap
        case = await capped(factory, scene, 60, invoicing=invoicing, max_based_on=basis)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=60))
        parked = await time_entries.create(session, scene.writer, scene.data(case, minutes=30))
        assert parked.entry.status is L
        # when
        [copied] = await time_entries.copy(session, scene.writer, [parked.entry.id], date(2026, 12, 1))
        # then
        entry = await stored(session, copied.entry.id)
        assert (entry.minutes, entry.status, entry.over_limit_of_id) == (30, invoicing, None)
        await assert_books_match(session)

    async def test_copies_get_fresh_rates(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=30))
        await activities.update(session, scene.activity.id, {"default_rate": Decimal("100.00")})
        # when
        [copied] = await time_entries.copy(session, scene.writer, [created.entry.id], date(2026, 12, 1))
        # then
        entry = await stored(session, copied.entry.id)
        assert (entry.rate, entry.amount) == (Decimal("100.00"), Decimal("50.00"))
        assert (await stored(session, created.entry.id)).rate == RATE

    async def test_copies_are_not_checked_against_the_cap(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        first = await time_entries.create(session, scene.writer, scene.data(case, minutes=60))
        second = await time_entries.create(session, scene.writer, scene.data(case, minutes=40))
        # when
        results = await time_entries.copy(session, scene.writer, [first.entry.id, second.entry.id], DAY)
        # then
        assert [(r.entry.minutes, r.entry.status, r.over_limit_entry, r.warnings) for r in results] == [
            (60, J, None, []),
            (40, J, None, []),
        ]
        assert (await totals_of(session, case.id)).j_minutes == 200
        await assert_books_match(session)

    async def test_a_blocked_case_refuses_the_whole_call(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        open_case = await factory.case(debtor=scene.debtor)
        closing = await factory.case(debtor=scene.debtor)
        fine = await time_entries.create(session, scene.writer, scene.data(open_case, minutes=10))
        doomed = await time_entries.create(session, scene.writer, scene.data(closing, minutes=20))
        await cases.update(session, closing.id, {"blocked": True})
        # when / then
        await refused_with(
            session,
            time_entries.copy(session, scene.writer, [fine.entry.id, doomed.entry.id], date(2026, 12, 1)),
            ErrorCode.CASE_BLOCKED,
        )
        assert await all_entries(session) == 2

    async def test_an_inactive_case_refuses_the_whole_call(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await factory.case(debtor=scene.debtor, active_until=date(2026, 11, 30))
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=10))
        # when / then
        await refused_with(
            session,
            time_entries.copy(session, scene.writer, [created.entry.id, created.entry.id], date(2026, 12, 1)),
            ErrorCode.CASE_NOT_ACTIVE,
        )

    async def test_an_unknown_entry_refuses_the_whole_call(self, session: AsyncSession, scene: Scene) -> None:
        # given
        created = await time_entries.create(session, scene.writer, scene.data(minutes=10))
        # when / then
        await refused_with(
            session,
            time_entries.copy(session, scene.writer, [created.entry.id, UNKNOWN_ID], date(2026, 12, 1)),
            ErrorCode.NOT_FOUND,
            "ids",
            "1",
        )


class TestSaveCaseList:
    async def test_changes_apply_in_order_each_as_a_per_date_write(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        edited = await time_entries.create(session, scene.writer, scene.data(case, minutes=10))
        removed = await time_entries.create(session, scene.writer, scene.data(case, minutes=20))
        changes = [
            ListChange(removed.entry.id, 1, True, {}),  # frees 20 before the creates are checked
            ListChange(edited.entry.id, 1, False, {"minutes": 30}),
            ListChange(None, None, False, scene.data(minutes=50)),
            ListChange(None, None, False, scene.data(minutes=40)),  # 20 fit, 20 go to L
        ]
        # when
        results = await time_entries.save_case_list(session, scene.writer, case.id, changes)
        # then
        assert [r.entry.minutes for r in results] == [30, 50, 20]
        assert results[2].over_limit_entry is not None
        assert results[2].over_limit_entry.minutes == 20
        assert results[2].entry.source is EntrySource.PER_DATE
        assert await entries_on(session, case.id) == [(30, J), (50, J), (20, J), (20, L)]
        assert await entry_count(session, case.id) == 4
        await assert_books_match(session)

    async def test_a_refusal_in_any_change_writes_nothing(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=10))
        await time_entries.update(session, scene.writer, created.entry.id, {"minutes": 15})
        changes = [
            ListChange(None, None, False, scene.data(minutes=50)),
            ListChange(created.entry.id, 1, False, {"minutes": 30}),  # saw version 1, it is at 2
        ]
        # when / then
        await refused_with(
            session,
            time_entries.save_case_list(session, scene.writer, case.id, changes),
            ErrorCode.VERSION_CONFLICT,
            "changes",
            "1",
            "expectedVersion",
        )
        await assert_books_match(session)

    async def test_a_refused_new_row_is_named_by_its_index_in_the_list(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        """New rows are written in runs, at once: a refusal the database finds names the row within the whole
        list, not within its run."""
        # given: an edit, then a run of two new rows whose second names an activity that does not exist
        case = await capped(factory, scene, 100)
        created = await time_entries.create(session, scene.writer, scene.data(case, minutes=10))
        changes = [
            ListChange(created.entry.id, 1, False, {"minutes": 15}),
            ListChange(None, None, False, scene.data(minutes=20)),
            ListChange(None, None, False, scene.data(minutes=20, activity_id=999_999)),
        ]
        # when / then: nothing of the save is written
        await refused_with(
            session,
            time_entries.save_case_list(session, scene.writer, case.id, changes),
            ErrorCode.NOT_FOUND,
            "changes",
            "2",
            "activityId",
        )
        await assert_books_match(session)

    async def test_an_entry_of_another_case_is_not_found(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await factory.case(debtor=scene.debtor)
        elsewhere = await time_entries.create(
            session, scene.writer, scene.data(await factory.case(debtor=scene.debtor), minutes=10)
        )
        # when / then
        await refused_with(
            session,
            time_entries.save_case_list(
                session, scene.writer, case.id, [ListChange(elsewhere.entry.id, None, True, {})]
            ),
            ErrorCode.NOT_FOUND,
            "changes",
            "0",
        )

    async def test_over_the_threshold_the_list_is_static(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        await company.update(session, {"static_list_threshold": 2})
        case = await factory.case(debtor=scene.debtor)
        for minutes in (10, 20, 30):
            await time_entries.create(session, scene.writer, scene.data(case, minutes=minutes))
        # when / then
        await refused_with(
            session,
            time_entries.save_case_list(
                session, scene.writer, case.id, [ListChange(None, None, False, scene.data(minutes=5))]
            ),
            ErrorCode.STATIC_LIST,
        )

    async def test_at_the_threshold_the_list_is_still_editable(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        await company.update(session, {"static_list_threshold": 2})
        case = await factory.case(debtor=scene.debtor)
        for minutes in (10, 20):
            await time_entries.create(session, scene.writer, scene.data(case, minutes=minutes))
        # when
        results = await time_entries.save_case_list(
            session, scene.writer, case.id, [ListChange(None, None, False, scene.data(minutes=5))]
        )
        # then
        assert [r.entry.minutes for r in results] == [5]
        assert await entry_count(session, case.id) == 3
        await assert_books_match(session)


class TestCreateOnce:
    async def test_a_repeat_returns_the_first_result_and_writes_nothing(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given
        case = await capped(factory, scene, 100)
        await time_entries.create(session, scene.writer, scene.data(case, minutes=70))
        first = await time_entries.create_once(
            session, scene.writer, scene.data(case, minutes=50), mode=EntryMode.PER_DATE, idempotency_key="retry-1"
        )
        before = await snapshot(session)
        # when
        again = await time_entries.create_once(
            session, scene.writer, scene.data(case, minutes=50), mode=EntryMode.PER_DATE, idempotency_key="retry-1"
        )
        # then
        assert again.entry.id == first.entry.id
        assert again.over_limit_entry is not None
        assert first.over_limit_entry is not None
        assert again.over_limit_entry.id == first.over_limit_entry.id
        assert again.warnings == first.warnings
        assert await snapshot(session) == before
        await assert_books_match(session)

    async def test_the_same_key_with_another_input_is_refused(self, session: AsyncSession, scene: Scene) -> None:
        # given
        await time_entries.create_once(
            session, scene.writer, scene.data(minutes=50), mode=EntryMode.PER_DATE, idempotency_key="retry-2"
        )
        # when / then
        await refused_with(
            session,
            time_entries.create_once(
                session, scene.writer, scene.data(minutes=51), mode=EntryMode.PER_DATE, idempotency_key="retry-2"
            ),
            ErrorCode.VALIDATION,
            "idempotencyKey",
        )

    async def test_keys_belong_to_their_writer(self, session: AsyncSession, factory: Factory, scene: Scene) -> None:
        # given
        other = await writer_for(session, factory, await factory.employee())
        mine = await time_entries.create_once(
            session, scene.writer, scene.data(minutes=50), mode=EntryMode.PER_DATE, idempotency_key="shared"
        )
        # when
        theirs = await time_entries.create_once(
            session, other, scene.data(minutes=50), mode=EntryMode.PER_DATE, idempotency_key="shared"
        )
        # then
        assert theirs.entry.id != mine.entry.id
        assert (theirs.entry.employee_id, mine.entry.employee_id) == (other.viewer.employee_id, scene.me.id)
        assert await all_entries(session) == 2

    async def test_a_refused_first_try_keeps_no_key(
        self, session: AsyncSession, factory: Factory, scene: Scene
    ) -> None:
        # given: the first try is refused, then the case is unblocked
        case = await factory.case(debtor=scene.debtor, blocked=True)
        data = scene.data(case, minutes=30)
        await refused_with(
            session,
            time_entries.create_once(session, scene.writer, data, mode=EntryMode.PER_DATE, idempotency_key="k"),
            ErrorCode.CASE_BLOCKED,
        )
        await cases.update(session, case.id, {"blocked": False})
        # when
        retried = await time_entries.create_once(
            session, scene.writer, data, mode=EntryMode.PER_DATE, idempotency_key="k"
        )
        # then
        assert (await stored(session, retried.entry.id)).minutes == 30

    async def test_without_a_key_every_call_writes(self, session: AsyncSession, scene: Scene) -> None:
        # when
        for _ in range(2):
            await time_entries.create_once(
                session, scene.writer, scene.data(minutes=50), mode=EntryMode.PER_DATE, idempotency_key=None
            )
        # then
        assert await all_entries(session) == 2

    @pytest.mark.parametrize("key", ["", "k" * 201])
    async def test_a_key_of_the_wrong_length_is_refused(self, session: AsyncSession, scene: Scene, key: str) -> None:
        # when / then
        await refused_with(
            session,
            time_entries.create_once(
                session, scene.writer, scene.data(minutes=50), mode=EntryMode.PER_DATE, idempotency_key=key
            ),
            ErrorCode.VALIDATION,
            "idempotencyKey",
        )


class TestResolveRate:
    """The rate a new entry gets (SPEC 4): each level's rate is its own, so the rate names the level that won."""

    async def test_each_level_wins_over_the_ones_below(self, session: AsyncSession, factory: Factory) -> None:
        # given: every level set, then removed from the top down
        debtor = await factory.debtor(adjusted_rate=Decimal("20.00"))
        case = await factory.case(debtor=debtor, adjusted_rate=Decimal("10.00"))
        activity = await factory.activity(default_rate=Decimal("50.00"))
        employee = await factory.employee(default_rate=Decimal("40.00"))
        writer = await writer_for(session, factory, employee)
        await employees.set_rate(session, employee_id=employee.id, activity_id=activity.id, rate=Decimal("30.00"))
        seen: list[Decimal] = []

        async def write() -> None:
            await session.flush()  # the levels changed below are read by the write's own statement
            data: EntryData = {"case_id": case.id, "activity_id": activity.id, "work_date": DAY, "minutes": 60}
            seen.append((await time_entries.create(session, writer, data)).entry.rate)

        # when
        await write()
        case.adjusted_rate = None
        await write()
        debtor.adjusted_rate = None
        await write()
        await employees.set_rate(session, employee_id=employee.id, activity_id=activity.id, rate=None)
        await write()
        employee.default_rate = None
        await write()
        # then: case, debtor, the employee's activity rate, the employee's, the activity's
        assert seen == [Decimal("10.00"), Decimal("20.00"), Decimal("30.00"), Decimal("40.00"), Decimal("50.00")]

    async def test_an_employee_rate_for_another_activity_does_not_apply(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        debtor = await factory.debtor()
        activity, other = await factory.activity(default_rate=Decimal("50.00")), await factory.activity()
        employee = await factory.employee()
        writer = await writer_for(session, factory, employee)
        await employees.set_rate(session, employee_id=employee.id, activity_id=other.id, rate=Decimal("30.00"))
        # when
        data: EntryData = {"debtor_id": debtor.id, "activity_id": activity.id, "work_date": DAY, "minutes": 60}
        written = await time_entries.create(session, writer, data)
        # then: the activity's own rate
        assert written.entry.rate == Decimal("50.00")
