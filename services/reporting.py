"""Time reports (SPEC 9), answered from the rollups so they stay fast at millions of entries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    Select,
    Subquery,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from models import TimeEntry, TimeRollup, TimeRollupMonth, TimeStatus
from services import policy
from services.errors import invalid
from services.time_queries import EntryFilter, active_case_ids, conditions
from services.validation import MAX_DATE
from services.visibility import Visibility


class Dimension(StrEnum):
    DEBTOR = "DEBTOR"
    CASE = "CASE"
    EMPLOYEE = "EMPLOYEE"
    ACTIVITY = "ACTIVITY"
    STATUS = "STATUS"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    BOOK_YEAR = "BOOK_YEAR"


PERIODS = frozenset({Dimension.DAY, Dimension.WEEK, Dimension.MONTH, Dimension.BOOK_YEAR})


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__, slower
class ReportRow:
    debtor_id: int | None
    case_id: int | None
    employee_id: int | None
    employee_hidden: bool
    activity_id: int | None
    status: TimeStatus | None
    period: str | None
    minutes: int
    amount: Decimal
    billable_minutes: int
    non_billable_minutes: int
    billable_amount: Decimal
    entry_count: int


@dataclass(frozen=True, slots=True)
class Report:
    rows: list[ReportRow]
    total_minutes: int
    total_amount: Decimal


def _month_of(day: ColumnElement[date]) -> ColumnElement[date]:
    return cast(func.date_trunc("month", cast(day, DateTime)), Date)


def _period_key(dimension: Dimension, day: ColumnElement[date], start_month: int, *, monthly: bool) -> Any:
    """The date a row's period is keyed by (its label is formatted once per group, `_label`).

    DAY the day, WEEK its ISO week's Monday, MONTH the month's first day, BOOK_YEAR the book year's first day.
    `monthly`: `day` is already a month's first day.
    """
    if dimension is Dimension.DAY:
        return day
    if dimension is Dimension.WEEK:
        return cast(func.date_trunc("week", cast(day, DateTime)), Date)
    if dimension is Dimension.MONTH:
        return day if monthly else _month_of(day)
    year = cast(func.extract("year", day), Integer) - case((func.extract("month", day) < start_month, 1), else_=0)
    return func.make_date(year, start_month, 1)


def _label(dimension: Dimension, key: date) -> str:
    """Labels: DAY 2026-11-23, WEEK 2026-W48 (ISO), MONTH 2026-11, BOOK_YEAR its first day 2026-04-01."""
    if dimension is Dimension.WEEK:
        year, week, _ = key.isocalendar()
        return f"{year}-W{week:02d}"
    if dimension is Dimension.MONTH:
        return f"{key.year}-{key.month:02d}"
    return key.isoformat()


# the SQL twin of `_label`: the to_char pattern of each period's label
_LABEL_FORMATS = {
    Dimension.DAY: "YYYY-MM-DD",
    Dimension.WEEK: 'IYYY-"W"IW',
    Dimension.MONTH: "YYYY-MM",
    Dimension.BOOK_YEAR: "YYYY-MM-DD",
}


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# No entry lies after validation.MAX_DATE, so a later bound of a filter means what this day means, and the months
# around it stay within the calendar (year 9999 has no month after December)
_BEYOND_ENTRIES = MAX_DATE + timedelta(days=1)


def _split(f: EntryFilter) -> tuple[tuple[date | None, date | None] | None, list[tuple[date | None, date | None]]]:
    """The filter's period as whole months (first days of the first month and of the month after the last) and the
    day ranges (both days included) at its edges; no whole month: None and the period itself."""
    start = None if f.start is None else min(f.start, _BEYOND_ENTRIES)
    end = None if f.end is None else min(f.end, _BEYOND_ENTRIES)
    first = start if start is None or start.day == 1 else _first_of_next_month(start)
    after = None if end is None else _first_of_next_month(end)
    if after is not None and end is not None and after - timedelta(days=1) != end:
        after = end.replace(day=1)
    if first is not None and after is not None and first >= after:
        return None, [(start, end)]
    edges: list[tuple[date | None, date | None]] = []
    if start is not None and first is not None and start < first:
        edges.append((start, first - timedelta(days=1)))
    if end is not None and after is not None and after <= end:
        edges.append((after, end))
    return (first, after), edges


def _where(
    visibility: Visibility, f: EntryFilter, table: type[TimeRollup | TimeRollupMonth]
) -> list[ColumnElement[bool]]:
    """The filter's conditions except its period."""
    conditions: list[ColumnElement[bool]] = []
    if f.employee_ids is not None:
        conditions.append(table.employee_id.in_([i for i in f.employee_ids if visibility.can_see(i)]))
    if f.debtor_ids is not None:
        conditions.append(table.debtor_id.in_(f.debtor_ids))
    if f.case_ids is not None:
        conditions.append(table.case_id.in_(f.case_ids))
    if f.activity_ids is not None:
        conditions.append(table.activity_id.in_(f.activity_ids))
    if f.statuses is not None:
        conditions.append(table.status.in_([s.value for s in f.statuses]))
    if f.active_cases_only:
        conditions.append(table.case_id.in_(active_case_ids(f)))
    return conditions


def _entry_source(visibility: Visibility, f: EntryFilter, period: Dimension | None, start_month: int) -> Select[Any]:
    """The filtered entries themselves, named as `_source`'s rollup rows: for a filter the rollups cannot answer."""
    columns: list[Any] = [
        TimeEntry.employee_id,
        TimeEntry.debtor_id,
        func.coalesce(TimeEntry.case_id, 0).label("case_id"),
        TimeEntry.activity_id,
        type_coerce(TimeEntry.status, Text).label("status"),
        TimeEntry.minutes,
        TimeEntry.amount,
        literal(1, BigInteger).label("entries"),
    ]
    if period is not None:
        columns.append(
            _period_key(period, TimeEntry.work_date.expression, start_month, monthly=False).label("period_key")
        )
    return conditions(visibility, f).applied(select(*columns).where(true()))


def _source(
    visibility: Visibility,
    f: EntryFilter,
    period: Dimension | None,
    start_month: int,
    table: type[TimeRollup | TimeRollupMonth],
    bounds: tuple[date | None, date | None],
) -> Select[Any]:
    """The rollup rows of one table within `bounds` (days both included; months: first, after), uniformly named."""
    monthly = table is TimeRollupMonth
    day: Any = TimeRollupMonth.month if monthly else TimeRollup.work_date
    low, high = bounds
    conditions = _where(visibility, f, table)
    if low is not None:
        conditions.append(day >= low)
    if high is not None:
        conditions.append(day < high if monthly else day <= high)
    columns: list[Any] = [
        table.employee_id,
        table.debtor_id,
        table.case_id,
        table.activity_id,
        table.status,
        table.minutes,
        table.amount,
        table.entries,
    ]
    if period is not None:
        columns.append(_period_key(period, day, start_month, monthly=monthly).label("period_key"))
    return select(*columns).where(and_(true(), *conditions))


@dataclass(frozen=True, slots=True)
class Grouped:
    """The groups of a report, one row each, its columns named and ordered as `ReportRow`'s fields (`period`: the
    period's key date, `non_billable`, `entries`), not yet ordered; `keys` the grouping expressions by label."""

    stmt: Select[Any]
    keys: dict[str, Any]
    period: Dimension | None

    def rows(self) -> GroupRows:
        """The groups as a subquery for a statement that writes them itself, `period_label` beside the key."""
        label = null() if self.period is None else func.to_char(self.keys["period"], _LABEL_FORMATS[self.period])
        g = self.stmt.add_columns(label.label("period_label")).subquery("g")
        return GroupRows(
            g,
            order=[g.c[name] for name in self.keys],
            null_columns=(_DIMENSION_COLUMNS - self.keys.keys()) | ({"period_label"} if self.period is None else set()),
            totals=[
                cast(func.coalesce(func.sum(g.c.minutes), 0), BigInteger),
                func.coalesce(func.sum(g.c.amount), 0),
                cast(func.coalesce(func.sum(g.c.entries), 0), BigInteger),
            ],
        )


_DIMENSION_COLUMNS = frozenset({"debtor_id", "case_id", "employee_id", "activity_id", "status"})


@dataclass(frozen=True, slots=True)
class GroupRows:
    """`Grouped.rows`: the subquery `g` of the groups (`period_label` the period's label as `_label` writes it), the
    columns of `g` ordering them as `time_report` does, those NULL in every row (the dimensions not grouped by), and
    the totals of minutes, amount and entries over every group: none is negative, so the totals bound every count."""

    g: Subquery
    order: list[Any]
    null_columns: frozenset[str]
    totals: list[ColumnElement[Any]]


def grouped(visibility: Visibility, f: EntryFilter, group_by: Sequence[Dimension], *, start_month: int) -> Grouped:
    """Group the filtered time by any dimensions; hidden employees fold into one row per group (SPEC 5, 9).

    Whole months come from the monthly rollup (unless grouped by DAY or WEEK), the days at the period's edges
    from the day rollup; with tags to filter by, the entries are read instead.
    """
    dimensions = list(dict.fromkeys(group_by))
    periods = [d for d in dimensions if d in PERIODS]
    if len(periods) > 1:
        raise invalid("group by at most one period (DAY, WEEK, MONTH or BOOK_YEAR)", "groupBy")
    period = periods[0] if periods else None
    if f.tags is not None:  # the rollups keep no tags
        months, edges = None, []
    elif period in (Dimension.DAY, Dimension.WEEK):
        months, edges = None, [(f.start, f.end)]
    else:
        months, edges = _split(f)
    parts = [_source(visibility, f, period, start_month, TimeRollup, edge) for edge in edges]
    if months is not None:
        parts.append(_source(visibility, f, period, start_month, TimeRollupMonth, months))
    if not parts:
        parts.append(_entry_source(visibility, f, period, start_month))
    r = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("r")
    visible = visibility.condition(r.c.employee_id)
    keys: dict[str, Any] = {}  # label -> grouping expression
    for dimension in dimensions:
        if dimension is Dimension.DEBTOR:
            keys["debtor_id"] = r.c.debtor_id
        elif dimension is Dimension.CASE:
            keys["case_id"] = func.nullif(r.c.case_id, 0)
        elif dimension is Dimension.EMPLOYEE:
            keys["employee_id"] = r.c.employee_id if visible is None else case((visible, r.c.employee_id), else_=None)
            keys["employee_hidden"] = literal(False) if visible is None else ~visible
        elif dimension is Dimension.ACTIVITY:
            keys["activity_id"] = r.c.activity_id
        elif dimension is Dimension.STATUS:
            keys["status"] = r.c.status
        else:
            keys["period"] = r.c.period_key
    billable, non_billable = policy.billable_sql(r.c.status), policy.non_billable_sql(r.c.status)
    # every column of a ReportRow in its order, null where not grouped by: a row is built from the result row as it is
    nothing: dict[str, Any] = {"employee_hidden": literal(False)}
    columns = [
        keys.get(name, nothing.get(name, null())).label(name)
        for name in ("debtor_id", "case_id", "employee_id", "employee_hidden", "activity_id", "status", "period")
    ]
    stmt = select(
        *columns,
        # sums of bigint are numeric: counted back to bigint so the driver does not build a Decimal for each
        cast(func.sum(r.c.minutes), BigInteger).label("minutes"),
        func.sum(r.c.amount).label("amount"),
        cast(func.coalesce(func.sum(r.c.minutes).filter(billable), 0), BigInteger).label("billable_minutes"),
        cast(func.coalesce(func.sum(r.c.minutes).filter(non_billable), 0), BigInteger).label("non_billable"),
        func.coalesce(func.sum(r.c.amount).filter(billable), 0).label("billable_amount"),
        cast(func.sum(r.c.entries), BigInteger).label("entries"),
    ).having(func.sum(r.c.entries) > 0)
    grouping = [k for k in keys.values() if not isinstance(k, BindParameter)]  # a constant groups nothing
    if grouping:
        stmt = stmt.group_by(*grouping)
    return Grouped(stmt, keys, period)


async def time_report(
    session: AsyncSession,
    visibility: Visibility,
    f: EntryFilter,
    group_by: Sequence[Dimension],
    *,
    start_month: int,
) -> Report:
    """The report's groups as rows, ordered by the dimensions in the order given (`grouped`)."""
    groups = grouped(visibility, f, group_by, start_month=start_month)
    stmt, period = groups.stmt.order_by(*groups.keys.values()), groups.period
    result: Iterable[Sequence[Any]] = await (await session.connection()).execute(stmt)
    # the sums arrive as int and Decimal already; only a status and a period key need turning into their types
    if "status" in groups.keys or period is not None:

        def status(value: Any) -> TimeStatus | None:
            return None if value is None else TimeStatus(value)

        def label(key: Any) -> str | None:
            return None if period is None else _label(period, key)

        rows = [
            ReportRow(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                status(row[5]),
                label(row[6]),
                row[7],
                row[8],
                row[9],
                row[10],
                row[11],
                row[12],
            )
            for row in result
        ]
    else:
        rows = [ReportRow(*row) for row in result]
    return Report(
        rows=rows,
        total_minutes=sum(r.minutes for r in rows),
        total_amount=sum((r.amount for r in rows), Decimal(0)),
    )
