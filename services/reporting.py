"""Time reports (SPEC 9), answered from the rollup so they stay fast at millions of entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from models import Case, TimeRollup, TimeStatus
from services.errors import invalid
from services.time_queries import EntryFilter
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
BILLABLE = ("J", "F")


@dataclass(frozen=True, slots=True)
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


def _period(dimension: Dimension, start_month: int) -> ColumnElement[str]:
    """Labels: DAY 2026-11-23, WEEK 2026-W48 (ISO), MONTH 2026-11, BOOK_YEAR its first day 2026-04-01."""
    day = TimeRollup.work_date
    if dimension is Dimension.DAY:
        return func.to_char(day, "YYYY-MM-DD")
    if dimension is Dimension.WEEK:
        return func.to_char(day, 'IYYY-"W"IW')
    if dimension is Dimension.MONTH:
        return func.to_char(day, "YYYY-MM")
    year = cast(func.extract("year", day), Integer) - case((func.extract("month", day) < start_month, 1), else_=0)
    return func.to_char(func.make_date(year, start_month, 1), "YYYY-MM-DD")


def _where(visibility: Visibility, f: EntryFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.start is not None:
        conditions.append(TimeRollup.work_date >= f.start)
    if f.end is not None:
        conditions.append(TimeRollup.work_date <= f.end)
    if f.employee_ids is not None:
        conditions.append(TimeRollup.employee_id.in_([i for i in f.employee_ids if visibility.can_see(i)]))
    if f.debtor_ids is not None:
        conditions.append(TimeRollup.debtor_id.in_(f.debtor_ids))
    if f.case_ids is not None:
        conditions.append(TimeRollup.case_id.in_(f.case_ids))
    if f.activity_ids is not None:
        conditions.append(TimeRollup.activity_id.in_(f.activity_ids))
    if f.statuses is not None:
        conditions.append(TimeRollup.status.in_([s.value for s in f.statuses]))
    if f.active_cases_only:
        active = select(Case.id).where(Case.blocked.is_(False))
        if f.end is not None:
            active = active.where(or_(Case.active_from.is_(None), Case.active_from <= f.end))
        if f.start is not None:
            active = active.where(or_(Case.active_until.is_(None), Case.active_until >= f.start))
        conditions.append(TimeRollup.case_id.in_(active))
    return conditions


async def time_report(
    session: AsyncSession,
    visibility: Visibility,
    f: EntryFilter,
    group_by: Sequence[Dimension],
    *,
    start_month: int,
) -> Report:
    """Group the filtered time by any dimensions; hidden employees fold into one row per group (SPEC 5, 9)."""
    dimensions = list(dict.fromkeys(group_by))
    if len([d for d in dimensions if d in PERIODS]) > 1:
        raise invalid("group by at most one period (DAY, WEEK, MONTH or BOOK_YEAR)", "groupBy")
    visible = visibility.condition(TimeRollup.employee_id)
    keys: dict[str, Any] = {}  # label -> grouping expression
    for dimension in dimensions:
        if dimension is Dimension.DEBTOR:
            keys["debtor_id"] = TimeRollup.debtor_id
        elif dimension is Dimension.CASE:
            keys["case_id"] = func.nullif(TimeRollup.case_id, 0)
        elif dimension is Dimension.EMPLOYEE:
            keys["employee_id"] = (
                TimeRollup.employee_id if visible is None else case((visible, TimeRollup.employee_id), else_=None)
            )
            keys["employee_hidden"] = literal(False) if visible is None else ~visible
        elif dimension is Dimension.ACTIVITY:
            keys["activity_id"] = TimeRollup.activity_id
        elif dimension is Dimension.STATUS:
            keys["status"] = TimeRollup.status
        else:
            keys["period"] = _period(dimension, start_month)
    billable = TimeRollup.status.in_(BILLABLE)
    stmt = (
        select(
            *(expression.label(name) for name, expression in keys.items()),
            func.sum(TimeRollup.minutes).label("minutes"),
            func.sum(TimeRollup.amount).label("amount"),
            func.coalesce(func.sum(TimeRollup.minutes).filter(billable), 0).label("billable_minutes"),
            func.coalesce(func.sum(TimeRollup.minutes).filter(TimeRollup.status == "N"), 0).label("non_billable"),
            func.coalesce(func.sum(TimeRollup.amount).filter(billable), 0).label("billable_amount"),
            func.sum(TimeRollup.entries).label("entries"),
        )
        .where(and_(true(), *_where(visibility, f)))
        .having(func.sum(TimeRollup.entries) > 0)
    )
    if keys:
        stmt = stmt.group_by(*keys.values()).order_by(*keys.values())
    rows = [
        ReportRow(
            debtor_id=getattr(row, "debtor_id", None),
            case_id=getattr(row, "case_id", None),
            employee_id=getattr(row, "employee_id", None),
            employee_hidden=bool(getattr(row, "employee_hidden", False)),
            activity_id=getattr(row, "activity_id", None),
            status=TimeStatus(row.status) if "status" in keys else None,
            period=getattr(row, "period", None),
            minutes=int(row.minutes),
            amount=Decimal(row.amount),
            billable_minutes=int(row.billable_minutes),
            non_billable_minutes=int(row.non_billable),
            billable_amount=Decimal(row.billable_amount),
            entry_count=int(row.entries),
        )
        for row in await session.execute(stmt)
    ]
    return Report(
        rows=rows,
        total_minutes=sum(r.minutes for r in rows),
        total_amount=sum((r.amount for r in rows), Decimal(0)),
    )
