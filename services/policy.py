"""The product's rules, each written once: a typed predicate for Python and, where a statement needs the same rule,
its SQL twin built from the columns and parameters it is given.

A rule written twice drifts: the list would call an entry editable that the mutation refuses, or a report would
count as active a case that the picker hides. Each pair here is held to agreement on PostgreSQL by
tests/services/test_policy.py. Status letters are written only in `models.enums`.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Any, Protocol, TypeAlias

from sqlalchemy import and_, literal_column, or_, true
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement

from models import TimeStatus
from services.auth import Viewer
from services.errors import DomainError, ErrorCode

Column: TypeAlias = ColumnElement[Any] | InstrumentedAttribute[Any]
Day: TypeAlias = date | ColumnElement[date]

# billed or to be billed (SPEC 3): reports' billable split and a cap's BILLABLE basis
BILLABLE: frozenset[TimeStatus] = frozenset({TimeStatus.BILLABLE, TimeStatus.INVOICED})
# L is in neither set: parked over a cap, it awaits billing's decision (SPEC 3)
NON_BILLABLE: frozenset[TimeStatus] = frozenset({TimeStatus.NON_BILLABLE})
# F and L come from the system, by invoicing and by the cap check (SPEC 5a)
WRITABLE: frozenset[TimeStatus] = frozenset({TimeStatus.BILLABLE, TimeStatus.NON_BILLABLE})
# an invoiced entry is held by its invoice until it is voided (SPEC 6: INVOICED_LOCKED)
EDITABLE: frozenset[TimeStatus] = frozenset({TimeStatus.BILLABLE, TimeStatus.NON_BILLABLE, TimeStatus.OVER_LIMIT})


def _status_in_sql(status: Column, statuses: frozenset[TimeStatus]) -> ColumnElement[bool]:
    # constants inlined, not bound: a prebuilt statement keeps its parameters to what varies between requests
    return or_(*(status == literal_column(f"'{member.value}'") for member in sorted(statuses)))


def is_billable(status: TimeStatus) -> bool:
    return status in BILLABLE


def billable_sql(status: Column) -> ColumnElement[bool]:
    return _status_in_sql(status, BILLABLE)


def is_non_billable(status: TimeStatus) -> bool:
    return status in NON_BILLABLE


def non_billable_sql(status: Column) -> ColumnElement[bool]:
    return _status_in_sql(status, NON_BILLABLE)


def is_writable(status: TimeStatus) -> bool:
    """A status a writer may choose; the tables' CHECK constraints hold the same for a case's and an activity's."""
    return status in WRITABLE


def status_editable(status: TimeStatus) -> bool:
    return status in EDITABLE


def status_editable_sql(status: Column) -> ColumnElement[bool]:
    return _status_in_sql(status, EDITABLE)


# A case's period: both days included, either bound may be open (SPEC 2). So may a filter's period be (SPEC 9): an
# open filter bound reaches every case on its side.


def case_overlaps(active_from: date | None, active_until: date | None, start: date | None, end: date | None) -> bool:
    return (active_from is None or end is None or active_from <= end) and (
        active_until is None or start is None or active_until >= start
    )


def case_overlaps_sql(
    active_from: Column, active_until: Column, start: Day | None, end: Day | None
) -> ColumnElement[bool]:
    """The filter's bounds are known when the statement is built: an open one adds no condition."""
    conditions = []
    if end is not None:
        conditions.append(or_(active_from.is_(None), active_from <= end))
    if start is not None:
        conditions.append(or_(active_until.is_(None), active_until >= start))
    return and_(true(), *conditions)


def case_active_on(active_from: date | None, active_until: date | None, day: date) -> bool:
    return case_overlaps(active_from, active_until, day, day)


def case_active_on_sql(active_from: Column, active_until: Column, day: Day) -> ColumnElement[bool]:
    return case_overlaps_sql(active_from, active_until, day, day)


class CaseRules(Protocol):
    """What decides whether a case takes time, as a model or a read row carries it."""

    @property
    def blocked(self) -> bool: ...
    @property
    def active_from(self) -> date | None: ...
    @property
    def active_until(self) -> date | None: ...


def time_refusal(case: CaseRules, day: date) -> DomainError | None:
    """Why `case` takes no time dated `day` (SPEC 6), None when it does; blocked is said first."""
    if case.blocked:
        return DomainError(ErrorCode.CASE_BLOCKED, "The case is blocked", ("caseId",))
    if not case_active_on(case.active_from, case.active_until, day):
        return DomainError(ErrorCode.CASE_NOT_ACTIVE, "The case is not active on the work date", ("workDate",))
    return None


def may_take_time(case: CaseRules, day: date) -> bool:
    return time_refusal(case, day) is None


def may_take_time_sql(blocked: Column, active_from: Column, active_until: Column, day: Day) -> ColumnElement[bool]:
    """The case pickers' rule (SPEC 2 `caseOptions`): what they offer, a write accepts."""
    return blocked.is_(False) & case_active_on_sql(active_from, active_until, day)


def case_active_in(case: CaseRules, start: date | None, end: date | None) -> bool:
    """`activeCasesOnly` (SPEC 9): not blocked, and its period overlaps the filter's."""
    return not case.blocked and case_overlaps(case.active_from, case.active_until, start, end)


def case_active_in_sql(
    blocked: Column, active_from: Column, active_until: Column, start: Day | None, end: Day | None
) -> ColumnElement[bool]:
    return blocked.is_(False) & case_overlaps_sql(active_from, active_until, start, end)


class WritesFor(IntEnum):
    """Whose time a writer may change besides their own (SPEC 5a). A statement takes it as a parameter, so one
    prebuilt statement serves every viewer."""

    OWN = 0
    VISIBLE = 1  # canEnterTimeForOthers: the employees their role sees
    ALL = 2  # administrators


def writes_for(viewer: Viewer | None) -> WritesFor:
    if viewer is None:
        return WritesFor.OWN
    if viewer.is_administrator:
        return WritesFor.ALL
    return WritesFor.VISIBLE if viewer.can_enter_time_for_others else WritesFor.OWN


def may_write_for(writer_id: int, writes: WritesFor, employee_id: int, employee_visible: bool) -> bool:
    return employee_id == writer_id or writes is WritesFor.ALL or (writes is WritesFor.VISIBLE and employee_visible)


def may_write_for_sql(
    writer_id: ColumnElement[int],
    writes: ColumnElement[int],
    employee_id: Column,
    employee_visible: ColumnElement[bool],
) -> ColumnElement[bool]:
    return or_(
        employee_id == writer_id,
        writes == literal_column(str(int(WritesFor.ALL))),
        (writes == literal_column(str(int(WritesFor.VISIBLE)))) & employee_visible,
    )


def entry_editable(
    status: TimeStatus, employee_id: int, *, writer_id: int, writes: WritesFor, employee_visible: bool
) -> bool:
    """`TimeEntry.editable` (SPEC 6): the viewer may change the entry, and its invoice does not hold it."""
    return status_editable(status) and may_write_for(writer_id, writes, employee_id, employee_visible)


def entry_editable_sql(
    status: Column,
    employee_id: Column,
    *,
    writer_id: ColumnElement[int],
    writes: ColumnElement[int],
    employee_visible: ColumnElement[bool],
) -> ColumnElement[bool]:
    return status_editable_sql(status) & may_write_for_sql(writer_id, writes, employee_id, employee_visible)
