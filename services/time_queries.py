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

from sqlalchemy import ColumnElement, Integer, Select, Text, bindparam, cast, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.driver import Reader
from models import Activity, Case, CompanySettings, Debtor, Employee, Role, TimeEntry, TimeStatus, invoice_entries
from models.time_entry import tag_keys
from services import cases, employees, paging, policy
from services.paging import AnyRow, AnySelect, Keyset, Page, Window, count, fetch_page, fetch_window
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
# the columns of an entry in a case's list: its case and debtor are the list's own
CASE_ENTRY_COLUMNS = (
    *(column for column in TimeEntry.__table__.columns),
    _over_limit.id.label("over_limit_entry_id"),
    *(column.label(f"emp_{column.key}") for column in employees.COLUMNS),
    *_ACTIVITY_COLUMNS,
)
ENTRY_COLUMNS = (
    *CASE_ENTRY_COLUMNS,
    Debtor.code.label("debtor_code"),
    Debtor.name.label("debtor_name"),
    Debtor.adjusted_rate.label("debtor_adjusted_rate"),
    *(column.label(f"c_{column.key}") for column in cases.COLUMNS),
)


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


def conditions(visibility: Visibility, f: EntryFilter) -> list[ColumnElement[bool]]:
    """The filter's conditions on entry columns, shared by the page and its count."""
    found: list[ColumnElement[bool]] = []
    if f.start is not None:
        found.append(TimeEntry.work_date >= f.start)
    if f.end is not None:
        found.append(TimeEntry.work_date <= f.end)
    if f.employee_ids is not None:
        # an id whose name the viewer may not see matches nothing, as if it did not exist
        found.append(paging.any_of(TimeEntry.employee_id, [i for i in f.employee_ids if visibility.can_see(i)]))
    for column, ids in (
        (TimeEntry.debtor_id, f.debtor_ids),
        (TimeEntry.case_id, f.case_ids),
        (TimeEntry.activity_id, f.activity_ids),
    ):
        if ids is not None:
            found.append(paging.any_of(column, ids))
    if f.statuses is not None:
        found.append(TimeEntry.status.in_(f.statuses))
    if f.active_cases_only:
        found.append(TimeEntry.case_id.in_(active_case_ids(f)))
    if f.tags is not None:
        # cast: a report writes its values into the SQL, and `ARRAY[]` alone has no type
        wanted = cast(literal([tag.strip() for tag in f.tags], ARRAY(Text)), ARRAY(Text))
        found.append(tag_keys(TimeEntry.tags).overlap(tag_keys(wanted)))
    return found


def _filtered(stmt: AnySelect, visibility: Visibility, f: EntryFilter) -> AnySelect:
    found = conditions(visibility, f)
    return stmt.where(*found) if found else stmt


def active_case_ids(f: EntryFilter) -> Select[int]:
    """The cases `activeCasesOnly` keeps (SPEC 9); time without a case is left out by `IN`."""
    return select(Case.id).where(
        policy.case_active_in_sql(Case.blocked, Case.active_from, Case.active_until, f.start, f.end)
    )


async def entries_page(
    reader: Reader, visibility: Visibility, f: EntryFilter, *, first: int, after: Sequence[Any] | None
) -> Page[AnyRow]:
    """Entries newest first; hidden employees' entries are listed, their names are not (SPEC 5)."""
    return await fetch_page(reader, _filtered(_rows(), visibility, f), NEWEST_FIRST, first=first, after=after)


async def entries_total(session: AsyncSession, visibility: Visibility, f: EntryFilter) -> int:
    return await count(session, _filtered(select(TimeEntry.id), visibility, f))


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


async def case_page(session: AsyncSession, *, case_id: int, keyset: Keyset, window: Window) -> Page[AnyRow]:
    return await fetch_window(session, _CASE_ROWS, keyset, window, params={"case_id": case_id})


BY_ID = Keyset((TimeEntry.id,))


def billed_by(invoice_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The entries the invoice `invoice_id` billed."""
    billed = select(invoice_entries.c.time_entry_id).where(invoice_entries.c.invoice_id == invoice_id)
    return TimeEntry.id.in_(billed)


def of_invoice() -> ColumnElement[bool]:
    """The entries the invoice `:invoice_id` billed."""
    return billed_by(bindparam("invoice_id", type_=invoice_entries.c.invoice_id.type))


async def invoice_page(
    session: AsyncSession, *, invoice_id: int, first: int, after: Sequence[Any] | None
) -> Page[AnyRow]:
    """The entries an invoice billed (kept after voiding), by id."""
    stmt = (
        _rows()
        .join(invoice_entries, invoice_entries.c.time_entry_id == TimeEntry.id)
        .where(invoice_entries.c.invoice_id == invoice_id)
    )
    return await fetch_page(session, stmt, BY_ID, first=first, after=after)


async def invoice_total(session: AsyncSession, *, invoice_id: int) -> int:
    return await count(
        session, select(invoice_entries.c.time_entry_id).where(invoice_entries.c.invoice_id == invoice_id)
    )
