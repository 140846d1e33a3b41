"""Reading time: the filtered entry list and the case time list with its 9500 threshold (SPEC 7).

A page is one statement that joins everything a row shows (employee and role, debtor, case,
activity, the entry's L line), so its cost does not grow with what the client selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, Select, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.driver import Reader
from models import Activity, Case, CompanySettings, Debtor, Employee, Role, TimeEntry, TimeStatus, invoice_entries
from models.time_entry import tag_keys
from services import cases, employees, paging, policy
from services.filters import Filter, Filters, Matching, PerCombination, any_of
from services.paging import AnyRow, AnySelect, Count, Keyset, Ordered, Page, Window
from services.policy import Day
from services.visibility import Visibility


class TimeListOrder(StrEnum):
    WORK_DATE_DESC = "WORK_DATE_DESC"
    WORK_DATE_ASC = "WORK_DATE_ASC"
    MINUTES_DESC = "MINUTES_DESC"
    MINUTES_ASC = "MINUTES_ASC"


class TimeListMode(StrEnum):
    EDITABLE = "EDITABLE"
    STATIC = "STATIC"


NEWEST_FIRST = Keyset((TimeEntry.work_date, TimeEntry.id), descending=True)
KEYSETS = {
    TimeListOrder.WORK_DATE_DESC: NEWEST_FIRST,
    TimeListOrder.WORK_DATE_ASC: Keyset((TimeEntry.work_date, TimeEntry.id)),
    TimeListOrder.MINUTES_DESC: Keyset((TimeEntry.minutes, TimeEntry.id), descending=True),
    TimeListOrder.MINUTES_ASC: Keyset((TimeEntry.minutes, TimeEntry.id)),
}

_over_limit = aliased(TimeEntry, name="over_limit")
_ACTIVITY_COLUMNS = tuple(
    getattr(Activity, name).label(f"act_{name}")
    for name in ("id", "code", "name", "default_status", "default_rate", "version")
)
_EMPLOYEE_COLUMNS = tuple(column.label(f"emp_{column.key}") for column in employees.COLUMNS)
_PLACE_COLUMNS = (
    Debtor.code.label("debtor_code"),
    Debtor.name.label("debtor_name"),
    Debtor.adjusted_rate.label("debtor_adjusted_rate"),
    *(column.label(f"c_{column.key}") for column in cases.COLUMNS),
)
# what a row shows beside the entry's own columns and its L line: its employee (with role), activity, debtor and case;
# a write reads them before it writes, for its payload
AROUND_ENTRY = (*_EMPLOYEE_COLUMNS, *_ACTIVITY_COLUMNS, *_PLACE_COLUMNS)
# the columns of an entry in a case's list: its case and debtor are the list's own
CASE_ENTRY_COLUMNS = (
    *(column for column in TimeEntry.__table__.columns),
    _over_limit.id.label("over_limit_entry_id"),
    *_EMPLOYEE_COLUMNS,
    *_ACTIVITY_COLUMNS,
)
ENTRY_COLUMNS = (*CASE_ENTRY_COLUMNS, *_PLACE_COLUMNS)


def _rows() -> AnySelect:
    return _ROWS


def _entries(*columns: Any) -> AnySelect:
    return (
        select(*columns)
        .select_from(TimeEntry)
        .join(Employee, Employee.id == TimeEntry.employee_id)
        .join(Role, Role.id == Employee.role_id)
        .join(Activity, Activity.id == TimeEntry.activity_id)
        .outerjoin(_over_limit, _over_limit.over_limit_of_id == TimeEntry.id)
    )


# built once: a reused statement keeps its SQL cache key
# the case's debtor is the entry's debtor (CASE_DEBTOR_MISMATCH), so one debtor join serves both
_ROWS: AnySelect = (
    _entries(*ENTRY_COLUMNS)
    .join(Debtor, Debtor.id == TimeEntry.debtor_id)
    .outerjoin(Case, Case.id == TimeEntry.case_id)
)
_CASE_ROWS: AnySelect = _entries(*CASE_ENTRY_COLUMNS).where(TimeEntry.case_id == bindparam("case_id", type_=Integer))


@dataclass(frozen=True, slots=True)
class EntryFilter:
    start: date | None = None
    end: date | None = None
    employee_ids: Sequence[int] | None = None
    debtor_ids: Sequence[int] | None = None
    case_ids: Sequence[int] | None = None
    activity_ids: Sequence[int] | None = None
    statuses: Sequence[TimeStatus] | None = None
    active_cases_only: bool = False
    tags: Sequence[str] | None = None


def _cases_active_in(start: Day | None, end: Day | None) -> Select[int]:
    return select(Case.id).where(
        policy.case_active_in_sql(Case.blocked, Case.active_from, Case.active_until, start, end)
    )


def active_case_ids(f: EntryFilter) -> Select[int]:
    """The cases `activeCasesOnly` keeps (SPEC 9); time without a case is left out by `IN`."""
    return _cases_active_in(f.start, f.end)


_START, _END = bindparam("start", type_=Date), bindparam("end", type_=Date)


def _active_cases(name: str, start: Day | None, end: Day | None) -> Filter:
    return Filter(name, TimeEntry.case_id.in_(_cases_active_in(start, end)))


# activeCasesOnly: a case's period overlaps the filter's, whose bounds are conditions only when given; by whether
# the start and the end are
_ACTIVE_CASES = {
    (False, False): _active_cases("active_cases", None, None),
    (True, False): _active_cases("active_cases_from", _START, None),
    (False, True): _active_cases("active_cases_until", None, _END),
    (True, True): _active_cases("active_cases_within", _START, _END),
}
# the list's filters, on entry columns: the page, its count and a compiled list's source are each built once for each
# combination of them
FILTERS = Filters(
    Filter("start", TimeEntry.work_date >= _START),
    Filter("end", TimeEntry.work_date <= _END),
    Filter("employees", any_of(TimeEntry.employee_id, "employees")),
    Filter("debtors", any_of(TimeEntry.debtor_id, "debtors")),
    Filter("cases", any_of(TimeEntry.case_id, "cases")),
    Filter("activities", any_of(TimeEntry.activity_id, "activities")),
    Filter("statuses", TimeEntry.status.in_(bindparam("statuses", expanding=True))),
    *_ACTIVE_CASES.values(),
    # any of the tags, ignoring case: `&&` of the GIN index on tag_keys(tags); cast: a report writes its values into
    # the SQL, and `ARRAY[]` alone has no type
    Filter("tags", tag_keys(TimeEntry.tags).overlap(tag_keys(cast(bindparam("tags", type_=ARRAY(Text)), ARRAY(Text))))),
)
_PAGES = PerCombination(lambda combination: Ordered(combination.narrowed(_ROWS), NEWEST_FIRST))
_COUNTS = PerCombination(
    lambda combination: Count.of(combination.narrowed(select(func.count()).select_from(TimeEntry)))
)


def _listed(values: Sequence[Any] | None) -> list[Any] | None:
    return None if values is None else list(values)


def conditions(visibility: Visibility, f: EntryFilter) -> Matching:
    """Which of the list's filters `f` uses, with their values, shared by the page and its count."""
    given: dict[str, Any] = {
        "start": f.start,
        "end": f.end,
        # an id whose name the viewer may not see matches nothing, as if it did not exist
        "employees": None if f.employee_ids is None else [i for i in f.employee_ids if visibility.can_see(i)],
        "debtors": _listed(f.debtor_ids),
        "cases": _listed(f.case_ids),
        "activities": _listed(f.activity_ids),
        "statuses": _listed(f.statuses),
        "tags": None if f.tags is None else [tag.strip() for tag in f.tags],
    }
    if f.active_cases_only:
        given[_ACTIVE_CASES[f.start is not None, f.end is not None].name] = True
    return FILTERS.matching(**given)


async def entries_page(
    reader: Reader, visibility: Visibility, f: EntryFilter, *, first: int, after: Sequence[Any] | None
) -> Page[AnyRow]:
    """Entries newest first; hidden employees' entries are listed, their names are not (SPEC 5)."""
    matching = conditions(visibility, f)
    return await _PAGES.of(matching).page(reader, Window(first, after), params=matching.values)


async def entries_total(session: AsyncSession, visibility: Visibility, f: EntryFilter) -> int:
    matching = conditions(visibility, f)
    return await _COUNTS.of(matching)(session, matching.values)


_BY_IDS = paging.by_ids(_ROWS, TimeEntry.id)


async def rows_by_ids(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    return await paging.rows_by_ids(reader, _BY_IDS, ids)


def list_mode(entry_count: int, threshold: int) -> TimeListMode:
    """At most `threshold` entries: EDITABLE; more: STATIC (SPEC 7)."""
    return TimeListMode.EDITABLE if entry_count <= threshold else TimeListMode.STATIC


def list_editable_sql(entry_count: ColumnElement[int]) -> ColumnElement[bool]:
    """`list_mode` is EDITABLE: the SQL twin, the threshold read from the company's settings."""
    threshold = select(CompanySettings.static_list_threshold).scalar_subquery()
    return entry_count <= threshold


def keyset_for(mode: TimeListMode, order: TimeListOrder) -> Keyset:
    return NEWEST_FIRST if mode is TimeListMode.STATIC else KEYSETS[order]


# a case's list in each of its orders
_CASE_PAGES = tuple((keyset, Ordered(_CASE_ROWS, keyset)) for keyset in KEYSETS.values())


async def case_page(session: AsyncSession, *, case_id: int, keyset: Keyset, window: Window) -> Page[AnyRow]:
    ordered = next((declared for k, declared in _CASE_PAGES if k is keyset), None)
    if ordered is None:  # an order not declared: built for this request
        ordered = Ordered(_CASE_ROWS, keyset, prebuild=False)
    return await ordered.page(session, window, params={"case_id": case_id})


BY_ID = Keyset((TimeEntry.id,))


def billed_by(invoice_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The entries the invoice `invoice_id` billed; `invoice_id` may be a column of a statement this condition is
    written in, at any depth (a compiled `Invoice.timeEntries`): the subquery correlates to it."""
    billed = (
        select(invoice_entries.c.time_entry_id)
        .where(invoice_entries.c.invoice_id == invoice_id)
        .correlate_except(invoice_entries)
    )
    return TimeEntry.id.in_(billed)


def of_invoice() -> ColumnElement[bool]:
    """The entries the invoice `:invoice_id` billed."""
    return billed_by(bindparam("invoice_id", type_=invoice_entries.c.invoice_id.type))


_INVOICE_ID = bindparam("invoice_id", type_=Integer)
_INVOICE_PAGE = Ordered(
    _rows()
    .join(invoice_entries, invoice_entries.c.time_entry_id == TimeEntry.id)
    .where(invoice_entries.c.invoice_id == _INVOICE_ID),
    BY_ID,
)
_INVOICE_COUNT = Count.of(
    select(func.count()).select_from(invoice_entries).where(invoice_entries.c.invoice_id == _INVOICE_ID)
)


async def invoice_page(
    session: AsyncSession, *, invoice_id: int, first: int, after: Sequence[Any] | None
) -> Page[AnyRow]:
    """The entries an invoice billed (kept after voiding), by id."""
    return await _INVOICE_PAGE.page(session, Window(first, after), params={"invoice_id": invoice_id})


async def invoice_total(session: AsyncSession, *, invoice_id: int) -> int:
    return await _INVOICE_COUNT(session, {"invoice_id": invoice_id})
