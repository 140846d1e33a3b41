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

import orjson
from sqlalchemy import BigInteger, LargeBinary, Text, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from models import Activity, Case, Debtor, Employee, TimeStatus
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
class Constant:
    """A member whose value is the same in every row (a type's name)."""

    value: str


@dataclass(frozen=True, slots=True)
class EncodedId:
    """The base64url (unpadded) of `prefix` followed by the named row's id: the API's ID of that row."""

    prefix: str


Attribute: TypeAlias = str | Constant | EncodedId  # str: a column of the named row, one of `ATTRIBUTES`


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
_NULL = literal("null", Text)


@dataclass(frozen=True, slots=True)
class JsonReport:
    rows: bytes  # a JSON array of the rows, UTF-8
    total_minutes: int
    total_amount: Decimal
    total_entries: int  # with total_minutes, a bound of every count in the rows: none is negative


def _text(value: str) -> ColumnElement[str]:
    return literal(value, Text)


def _json_text(value: ColumnElement[Any]) -> ColumnElement[str]:
    return func.coalesce(cast(func.to_json(value), Text), _NULL)


def _scalar_text(value: ColumnElement[Any]) -> ColumnElement[str]:
    return func.coalesce(cast(value, Text), _NULL)


class _Joined(ColumnElement[str]):
    """`a || b || ...` as one element: a chain of `||` operations costs SQLAlchemy ~15 µs a link to build, and
    PostgreSQL runs it faster than concat() or format() (~0.3 against ~0.38 of the hand-written report's time)."""

    inherit_cache = True
    type = Text()
    _traverse_internals = [("parts", InternalTraversal.dp_clauseelement_tuple)]

    def __init__(self, parts: Sequence[ColumnElement[str]]) -> None:
        self.parts = tuple(parts)


_LINKS = 32  # parts per parenthesized run: PostgreSQL recurses once per `||` of a run while it plans


@compiles(_Joined)
def _compile_joined(element: _Joined, compiler: SQLCompiler, **kw: Any) -> str:
    texts = [compiler.process(part, **kw) for part in element.parts]
    while len(texts) > _LINKS:  # runs of runs: the depth grows with the log of the parts, not with their number
        texts = ["(" + " || ".join(texts[i : i + _LINKS]) + ")" for i in range(0, len(texts), _LINKS)]
    return "(" + " || ".join(texts) + ")"


def _object(members: Sequence[tuple[str, ColumnElement[str]]]) -> ColumnElement[str]:
    """A JSON object of JSON texts, none null (a null would make the whole row null)."""
    parts: list[ColumnElement[str]] = []
    for index, (key, value) in enumerate(members):
        parts += [_text(("{" if index == 0 else ",") + orjson.dumps(key).decode() + ":"), value]
    return _Joined([*parts, _text("}")]) if parts else _text("{}")


def _base64url(text: ColumnElement[str]) -> ColumnElement[str]:
    encoded = func.encode(func.convert_to(text, "UTF8"), "base64")
    return func.rtrim(func.translate(func.replace(encoded, "\n", ""), "+/", "-_"), "=")


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
        values: list[tuple[str, ColumnElement[str]]] = []
        for key, attribute in member.members:
            if isinstance(attribute, Constant):
                values.append((key, _text(orjson.dumps(attribute.value).decode())))
            elif isinstance(attribute, EncodedId):
                encoded = _base64url(_Joined([_text(attribute.prefix), cast(table.id, Text)]))
                values.append((key, _json_text(encoded)))
            elif attribute in ATTRIBUTES[member.dimension]:
                values.append((key, _json_text(getattr(table, attribute))))
            else:
                raise ValueError(f"{member.dimension} {attribute!r} is not answered as JSON")
        # not grouped by it, hidden, or (never, with the foreign keys) gone: null
        return case((table.id.is_(None), _NULL), else_=_object(values))

    def measure(member: Measure) -> ColumnElement[str]:
        column = g.c[member.value]
        if member in (Measure.AMOUNT, Measure.BILLABLE_AMOUNT):
            # NUMERIC sums of 2-decimal amounts print as the API prints money; round() gives 0 its two decimals too
            return func.coalesce(_Joined([_text('"'), cast(func.round(column, 2), Text), _text('"')]), _NULL)
        if member is Measure.EMPLOYEE_HIDDEN:
            return case((column, _text("true")), else_=_text("false"))
        if member is Measure.STATUS:
            names = {s.value: _text(orjson.dumps(s.name).decode()) for s in TimeStatus}
            return case(names, value=column, else_=_NULL)
        if member is Measure.PERIOD:
            if groups.period is None:
                return _NULL
            return _json_text(func.to_char(column, _PERIOD_FORMATS[groups.period]))
        return _scalar_text(column)

    values: list[tuple[str, ColumnElement[str]]] = []
    for key, member in projection:
        if isinstance(member, Constant):
            values.append((key, _text(orjson.dumps(member.value).decode())))
        elif isinstance(member, Named):
            values.append((key, named(member) if member.dimension in tables else _NULL))
        else:
            values.append((key, measure(member)))
    order = [g.c[label] for label in groups.keys]
    separator = _text(",")
    rows = func.string_agg(_object(values), aggregate_order_by(separator, *order) if order else separator)
    stmt = select(
        # bytes: the answer is bytes too, so the text is neither decoded nor encoded again on the way
        func.convert_to(_Joined([_text("["), func.coalesce(rows, _text("")), _text("]")]), "UTF8", type_=LargeBinary),
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
