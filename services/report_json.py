"""A time report written as JSON by the database: one statement, no Python object per group.

A quarter grouped by employee and case is ~6,000 groups. Decoding them, building a row object each and writing
them out again cost ~20 µs a group in Python, several times the rollup query itself; PostgreSQL writes the same
JSON while it groups. The caller says which members each row has (`Projection`); the groups, their order and the
folding of hidden employees are `reporting.grouped`'s, so both ways of answering agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeAlias

from sqlalchemy import BigInteger, Text, case, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from models import Activity, Case, Debtor, Employee, TimeStatus
from services.json_sql import (
    NULL,
    Attribute,
    Constant,
    Joined,
    json_bool,
    json_constant,
    json_object,
    json_text,
    row_object,
    scalar_text,
    sql_text,
    utf8,
)
from services.reporting import Dimension, grouped
from services.time_queries import EntryFilter
from services.visibility import Visibility


class Measure(StrEnum):
    """A member of a report row read from its group: the sums, and the group's status, period and folding."""

    MINUTES = "minutes"
    AMOUNT = "amount"
    BILLABLE_MINUTES = "billable_minutes"
    NON_BILLABLE_MINUTES = "non_billable"
    BILLABLE_AMOUNT = "billable_amount"
    ENTRY_COUNT = "entries"
    EMPLOYEE_HIDDEN = "employee_hidden"
    STATUS = "status"  # the TimeStatus member's name, as the API shows it
    PERIOD = "period"  # the period's label (`reporting._label`)


@dataclass(frozen=True, slots=True)
class Named:
    """The debtor, case, employee or activity a row is grouped by, as an object of `members`; null when the report
    is not grouped by it (or the employee is hidden)."""

    dimension: Dimension
    members: tuple[tuple[str, Attribute], ...]


Member: TypeAlias = Measure | Constant | Named
Projection: TypeAlias = tuple[tuple[str, Member], ...]  # a row's members in order: (key, what it shows)

_TABLES: dict[Dimension, tuple[Any, str]] = {  # the table a dimension names, and the group's column of its id
    Dimension.DEBTOR: (Debtor, "debtor_id"),
    Dimension.CASE: (Case, "case_id"),
    Dimension.EMPLOYEE: (Employee, "employee_id"),
    Dimension.ACTIVITY: (Activity, "activity_id"),
}
# the text columns a row may show of what it names; anything else is answered from objects (`reporting`)
ATTRIBUTES: dict[Dimension, frozenset[str]] = {
    Dimension.DEBTOR: frozenset({"code", "name"}),
    Dimension.CASE: frozenset({"code", "description"}),
    Dimension.EMPLOYEE: frozenset({"name"}),
    Dimension.ACTIVITY: frozenset({"code", "name"}),
}
_PERIOD_FORMATS = {  # to_char patterns of `reporting._label`
    Dimension.DAY: "YYYY-MM-DD",
    Dimension.WEEK: 'IYYY-"W"IW',
    Dimension.MONTH: "YYYY-MM",
    Dimension.BOOK_YEAR: "YYYY-MM-DD",
}


@dataclass(frozen=True, slots=True)
class JsonReport:
    rows: bytes  # a JSON array of the rows, UTF-8
    total_minutes: int
    total_amount: Decimal
    total_entries: int  # with total_minutes, a bound of every count in the rows: none is negative


async def time_report_json(
    session: AsyncSession,
    visibility: Visibility,
    f: EntryFilter,
    group_by: Sequence[Dimension],
    projection: Projection,
    *,
    start_month: int,
) -> JsonReport:
    """`reporting.time_report`'s rows as a JSON array of `projection`'s members, with the report's totals."""
    groups = grouped(visibility, f, group_by, start_month=start_month)
    g = groups.stmt.subquery("g")
    joined: Any = g
    tables: dict[Dimension, Any] = {}  # the named tables of the dimensions grouped by, joined once each
    for _, member in projection:
        if isinstance(member, Named) and member.dimension not in tables:
            table, id_column = _TABLES[member.dimension]
            if id_column in groups.keys:
                tables[member.dimension] = table
                joined = joined.outerjoin(table, table.id == g.c[id_column])

    def named(member: Named) -> ColumnElement[str]:
        table = tables[member.dimension]
        written = row_object(member.members, table, ATTRIBUTES[member.dimension])
        # not grouped by it, hidden, or (never, with the foreign keys) gone: null
        return case((table.id.is_(None), NULL), else_=written)

    def measure(member: Measure) -> ColumnElement[str]:
        column = g.c[member.value]
        if member in (Measure.AMOUNT, Measure.BILLABLE_AMOUNT):
            # NUMERIC sums of 2-decimal amounts print as the API prints money; round() gives 0 its two decimals too
            return func.coalesce(Joined([sql_text('"'), cast(func.round(column, 2), Text), sql_text('"')]), NULL)
        if member is Measure.EMPLOYEE_HIDDEN:
            return json_bool(column)
        if member is Measure.STATUS:
            names = {s.value: json_constant(s.name) for s in TimeStatus}
            return case(names, value=column, else_=NULL)
        if member is Measure.PERIOD:
            if groups.period is None:
                return NULL
            return json_text(func.to_char(column, _PERIOD_FORMATS[groups.period]))
        return scalar_text(column)

    values: list[tuple[str, ColumnElement[str]]] = []
    for key, member in projection:
        if isinstance(member, Constant):
            values.append((key, json_constant(member.value)))
        elif isinstance(member, Named):
            values.append((key, named(member) if member.dimension in tables else NULL))
        else:
            values.append((key, measure(member)))
    order = [g.c[label] for label in groups.keys]
    separator = sql_text(",")
    rows = func.string_agg(json_object(values), aggregate_order_by(separator, *order) if order else separator)
    stmt = select(
        # bytes: the answer is bytes too, so the text is neither decoded nor encoded again on the way
        utf8(Joined([sql_text("["), func.coalesce(rows, sql_text("")), sql_text("]")])),
        cast(func.coalesce(func.sum(g.c.minutes), 0), BigInteger),
        func.coalesce(func.sum(g.c.amount), 0),
        cast(func.coalesce(func.sum(g.c.entries), 0), BigInteger),
    ).select_from(joined)
    connection = await session.connection()
    # written with its values: PostgreSQL moves a prepared statement with parameters it has run five times to a
    # generic plan, which here evaluates ~30 parameters for each of thousands of rows (~1.4x the time); a statement
    # without parameters has nothing to generalise, its one plan is for its values
    sql = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    row: Any = (await connection.exec_driver_sql(str(sql))).one()
    return JsonReport(rows=row[0], total_minutes=row[1], total_amount=row[2], total_entries=row[3])
