"""The rules of services.policy: each Python predicate against its SQL twin as PostgreSQL evaluates it (one SELECT
per example), with a deliberately wrong twin as negative control, and each rule against the examples of SPEC.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Date, Integer, String, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from models import EmployeeVisibility, TimeStatus
from services import policy
from services.auth import Viewer
from services.errors import ErrorCode
from services.time_entries import Writer
from services.visibility import EVERYONE, Visibility

J, F, N, L = TimeStatus.BILLABLE, TimeStatus.INVOICED, TimeStatus.NON_BILLABLE, TimeStatus.OVER_LIMIT
TWIN = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# a few days only, so that equal bounds and a day on a bound are drawn often
DAYS = st.dates(min_value=date(2026, 3, 1), max_value=date(2026, 3, 6))
BOUNDS = st.none() | DAYS
MARCH_1, MARCH_3, MARCH_31 = date(2026, 3, 1), date(2026, 3, 3), date(2026, 3, 31)
ME, OTHER = 1, 2


async def agrees(session: AsyncSession, expected: bool, twin: ColumnElement[bool]) -> bool:
    """Whether PostgreSQL evaluates `twin` to `expected`; an unknown (NULL) agrees with neither."""
    return await session.scalar(select(twin)) is expected


def a_day(value: date | None) -> ColumnElement[date]:
    return literal(value, Date)


@dataclass(frozen=True)
class CaseRow:
    blocked: bool
    active_from: date | None
    active_until: date | None


class TestStatusSetsAgreeWithTheirSql:
    """Every status, not a sample: there are four."""

    @pytest.mark.parametrize("status", list(TimeStatus))
    @pytest.mark.parametrize(
        ("predicate", "twin"),
        [
            (policy.is_billable, policy.billable_sql),
            (policy.is_non_billable, policy.non_billable_sql),
            (policy.status_editable, policy.status_editable_sql),
        ],
        ids=["billable", "non_billable", "editable"],
    )
    async def test_on_every_status(
        self,
        session: AsyncSession,
        status: TimeStatus,
        predicate: Callable[[TimeStatus], bool],
        twin: Callable[[Any], ColumnElement[bool]],
    ) -> None:
        assert await agrees(session, predicate(status), twin(literal(status.value, String)))


class TestCasePeriodsAgreeWithTheirSql:
    @TWIN
    @given(active_from=BOUNDS, active_until=BOUNDS, day=DAYS)
    @example(active_from=None, active_until=None, day=MARCH_1)
    @example(active_from=MARCH_1, active_until=MARCH_1, day=MARCH_1)
    @example(active_from=MARCH_3, active_until=None, day=MARCH_1)
    @example(active_from=None, active_until=MARCH_1, day=MARCH_3)
    async def test_active_on(
        self, session: AsyncSession, active_from: date | None, active_until: date | None, day: date
    ) -> None:
        twin = policy.case_active_on_sql(a_day(active_from), a_day(active_until), day)
        assert await agrees(session, policy.case_active_on(active_from, active_until, day), twin)

    @TWIN
    @given(active_from=BOUNDS, active_until=BOUNDS, start=BOUNDS, end=BOUNDS)
    @example(active_from=None, active_until=None, start=None, end=None)
    @example(active_from=MARCH_3, active_until=None, start=None, end=MARCH_3)  # the wrong twin's miss, below
    @example(active_from=None, active_until=MARCH_3, start=MARCH_3, end=None)
    @example(active_from=MARCH_3, active_until=MARCH_3, start=MARCH_1, end=MARCH_1)
    async def test_overlaps(
        self,
        session: AsyncSession,
        active_from: date | None,
        active_until: date | None,
        start: date | None,
        end: date | None,
    ) -> None:
        twin = policy.case_overlaps_sql(a_day(active_from), a_day(active_until), start, end)
        assert await agrees(session, policy.case_overlaps(active_from, active_until, start, end), twin)

    @TWIN
    @given(blocked=st.booleans(), active_from=BOUNDS, active_until=BOUNDS, day=DAYS)
    @example(blocked=True, active_from=None, active_until=None, day=MARCH_1)
    @example(blocked=False, active_from=MARCH_1, active_until=MARCH_1, day=MARCH_1)
    async def test_may_take_time(
        self, session: AsyncSession, blocked: bool, active_from: date | None, active_until: date | None, day: date
    ) -> None:
        twin = policy.may_take_time_sql(literal(blocked, Boolean), a_day(active_from), a_day(active_until), day)
        assert await agrees(session, policy.may_take_time(CaseRow(blocked, active_from, active_until), day), twin)

    @TWIN
    @given(blocked=st.booleans(), active_from=BOUNDS, active_until=BOUNDS, start=BOUNDS, end=BOUNDS)
    @example(blocked=True, active_from=None, active_until=None, start=None, end=None)
    @example(blocked=False, active_from=MARCH_3, active_until=MARCH_3, start=MARCH_3, end=MARCH_3)
    async def test_active_in(
        self,
        session: AsyncSession,
        blocked: bool,
        active_from: date | None,
        active_until: date | None,
        start: date | None,
        end: date | None,
    ) -> None:
        twin = policy.case_active_in_sql(literal(blocked, Boolean), a_day(active_from), a_day(active_until), start, end)
        expected = policy.case_active_in(CaseRow(blocked, active_from, active_until), start, end)
        assert await agrees(session, expected, twin)


def a_writer(*, administrator: bool, for_others: bool, visible_ids: frozenset[int] | None) -> Writer:
    viewer = Viewer(
        employee_id=ME,
        role_id=1,
        is_administrator=administrator,
        can_enter_time_for_others=for_others,
        can_invoice=False,
        visibility=EmployeeVisibility.ALL if visible_ids is None else EmployeeVisibility.SELECTED_ROLES,
    )
    return Writer(viewer, Visibility(visible_ids))


def editable_sql(
    writer: Writer,
    status: TimeStatus,
    employee_id: int,
    twin: Callable[..., ColumnElement[bool]] = policy.entry_editable_sql,
) -> ColumnElement[bool]:
    """The twin as the case time list's statement has it: visibility's own SQL, the writer as parameters."""
    employee = literal(employee_id, Integer)
    return twin(
        literal(status.value, String),
        employee,
        writer_id=literal(writer.viewer.employee_id, Integer),
        writes=literal(int(policy.writes_for(writer.viewer)), Integer),
        employee_visible=writer.visibility.condition(employee) if not writer.visibility.sees_all else true(),
    )


VIEWER_KINDS = {
    "administrator": a_writer(administrator=True, for_others=False, visible_ids=None),
    "writer for visible, employee seen": a_writer(administrator=False, for_others=True, visible_ids=frozenset({2})),
    "writer for visible, employee hidden": a_writer(administrator=False, for_others=True, visible_ids=frozenset({3})),
    "writer for visible, all seen": a_writer(administrator=False, for_others=True, visible_ids=None),
    "plain employee": a_writer(administrator=False, for_others=False, visible_ids=None),
}


class TestEditableAgreesWithItsSql:
    @TWIN
    @given(
        status=st.sampled_from(TimeStatus),
        employee_id=st.sampled_from([ME, OTHER, 3]),
        administrator=st.booleans(),
        for_others=st.booleans(),
        visible_ids=st.none() | st.frozensets(st.sampled_from([ME, OTHER, 3])),
    )
    async def test_for_any_viewer(
        self,
        session: AsyncSession,
        status: TimeStatus,
        employee_id: int,
        administrator: bool,
        for_others: bool,
        visible_ids: frozenset[int] | None,
    ) -> None:
        writer = a_writer(administrator=administrator, for_others=for_others, visible_ids=visible_ids)
        assert await agrees(session, writer.may_edit(status, employee_id), editable_sql(writer, status, employee_id))

    @pytest.mark.parametrize("kind", list(VIEWER_KINDS))
    @pytest.mark.parametrize("status", list(TimeStatus))
    @pytest.mark.parametrize("employee_id", [ME, OTHER], ids=["own entry", "another's entry"])
    async def test_for_every_viewer_kind_and_status(
        self, session: AsyncSession, kind: str, status: TimeStatus, employee_id: int
    ) -> None:
        writer = VIEWER_KINDS[kind]
        assert await agrees(session, writer.may_edit(status, employee_id), editable_sql(writer, status, employee_id))


class TestAWrongTwinIsCaught:
    """Negative controls: a plausible slip in a twin disagrees at an example the properties above always run."""

    async def test_an_overlap_that_leaves_out_the_last_day(self, session: AsyncSession) -> None:
        def wrong(active_from: ColumnElement[date], end: date) -> ColumnElement[bool]:
            return or_(active_from.is_(None), active_from < end)  # a period starting the day a filter ends

        expected = policy.case_overlaps(MARCH_3, None, None, MARCH_3)  # an example of `test_overlaps`
        assert await agrees(session, expected, policy.case_overlaps_sql(a_day(MARCH_3), a_day(None), None, MARCH_3))
        assert not await agrees(session, expected, wrong(a_day(MARCH_3), MARCH_3))

    async def test_an_editable_that_forgets_the_invoice(self, session: AsyncSession) -> None:
        def wrong(status: Any, employee_id: Any, **writer: ColumnElement[Any]) -> ColumnElement[bool]:
            return policy.may_write_for_sql(
                writer["writer_id"], writer["writes"], employee_id, writer["employee_visible"]
            )

        writer = VIEWER_KINDS["administrator"]  # an example of `test_for_every_viewer_kind_and_status`
        assert await agrees(session, writer.may_edit(F, OTHER), editable_sql(writer, F, OTHER))
        assert not await agrees(session, writer.may_edit(F, OTHER), editable_sql(writer, F, OTHER, twin=wrong))


class TestSpecExamples:
    def test_billable_is_j_and_f_non_billable_n_and_l_neither(self) -> None:
        # SPEC 9: billableMinutes over J and F, nonBillableMinutes over N (L counts in neither split)
        assert [s for s in TimeStatus if policy.is_billable(s)] == [J, F]
        assert [s for s in TimeStatus if policy.is_non_billable(s)] == [N]
        assert not policy.is_billable(L)
        assert not policy.is_non_billable(L)

    def test_a_writer_sets_j_or_n_only(self) -> None:
        # SPEC 5a: a writer may set status J or N only (F and L come from the system)
        assert [s for s in TimeStatus if policy.is_writable(s)] == [J, N]

    def test_only_invoiced_time_is_locked(self) -> None:
        # SPEC 6: an invoiced (F) entry edited or deleted is INVOICED_LOCKED; L may be edited (released, re-cut)
        assert [s for s in TimeStatus if not policy.status_editable(s)] == [F]

    @pytest.mark.parametrize(
        ("day", "active"),
        [
            (date(2026, 2, 28), False),
            (MARCH_1, True),
            (MARCH_31, True),
            (date(2026, 4, 1), False),
        ],
    )
    def test_a_period_includes_both_days(self, day: date, active: bool) -> None:
        # SPEC 2: activeFrom / activeUntil, both days included
        assert policy.case_active_on(MARCH_1, MARCH_31, day) is active

    def test_either_bound_may_be_open(self) -> None:
        assert policy.case_active_on(None, MARCH_31, date(2000, 1, 1))
        assert policy.case_active_on(MARCH_1, None, date(2100, 12, 31))
        assert policy.case_active_on(None, None, MARCH_1)

    @pytest.mark.parametrize(
        ("case", "day", "refused"),
        [
            (CaseRow(True, None, None), MARCH_1, ErrorCode.CASE_BLOCKED),
            (CaseRow(True, MARCH_3, None), MARCH_1, ErrorCode.CASE_BLOCKED),  # blocked is said first
            (CaseRow(False, MARCH_3, None), MARCH_1, ErrorCode.CASE_NOT_ACTIVE),
            (CaseRow(False, None, MARCH_1), MARCH_3, ErrorCode.CASE_NOT_ACTIVE),
            (CaseRow(False, MARCH_1, MARCH_31), MARCH_31, None),
        ],
    )
    def test_time_on_a_blocked_or_inactive_case_is_refused(
        self, case: CaseRow, day: date, refused: ErrorCode | None
    ) -> None:
        # SPEC 6: a blocked case (CASE_BLOCKED), a case not active on the work date (CASE_NOT_ACTIVE)
        refusal = policy.time_refusal(case, day)
        assert (refusal.code if refusal else None) is refused
        assert policy.may_take_time(case, day) is (refused is None)

    @pytest.mark.parametrize(
        ("case", "start", "end", "kept"),
        [
            (CaseRow(False, MARCH_1, MARCH_31), MARCH_31, date(2026, 4, 30), True),
            (CaseRow(False, MARCH_1, MARCH_31), date(2026, 4, 1), date(2026, 4, 30), False),
            (CaseRow(False, None, None), date(2026, 4, 1), date(2026, 4, 30), True),
            (CaseRow(False, MARCH_1, MARCH_31), None, None, True),
            (CaseRow(True, None, None), None, None, False),
        ],
    )
    def test_active_cases_only(self, case: CaseRow, start: date | None, end: date | None, kept: bool) -> None:
        # SPEC 9: only cases that are not blocked and whose period, if any, overlaps the filter's period
        assert policy.case_active_in(case, start, end) is kept

    def test_who_may_edit_whose_time(self) -> None:
        # SPEC 5a: everyone their own; canEnterTimeForOthers also employees their role sees; administrators all
        plain = a_writer(administrator=False, for_others=False, visible_ids=None)
        for_seen = a_writer(administrator=False, for_others=True, visible_ids=frozenset({ME, OTHER}))
        for_hidden = a_writer(administrator=False, for_others=True, visible_ids=frozenset({ME}))
        administrator = a_writer(administrator=True, for_others=False, visible_ids=None)
        assert [w.may_edit(J, ME) for w in (plain, for_seen, for_hidden, administrator)] == [True] * 4
        assert [w.may_edit(J, OTHER) for w in (plain, for_seen, for_hidden, administrator)] == [
            False,
            True,
            False,
            True,
        ]
        # SPEC 6: TimeEntry.editable is false for F, whoever views it
        assert not any(w.may_edit(F, ME) for w in (plain, for_seen, for_hidden, administrator))
        assert Writer(administrator.viewer, EVERYONE).may_write_for(OTHER)
