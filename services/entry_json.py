"""A page of a case's time list written as JSON by the database: each edge one text, no Python object per entry.

Building a page of 50 entries as objects (decoding ~40 columns a row, a dict, an entry, its employee and activity,
then walking them and writing their cursors and IDs) cost the app ~80 µs an entry, more than the whole SQL. When
a query selects plain fields of the entries and the ids, names and codes of their employee and activity, PostgreSQL
writes each edge's JSON in the page's own statement instead. The page, its order and its bounds are
`time_queries.case_page`'s, so both ways answer alike; the rules (whose names show, what one may edit) are the same
conditions written in SQL, and tests compare the two ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias

from sqlalchemy import (
    ARRAY,
    Date,
    Integer,
    Text,
    any_,
    bindparam,
    case,
    cast,
    func,
    select,
    true,
)
from sqlalchemy.sql import ColumnElement

from db.driver import Reader
from models import Activity, Employee, EntrySource, TimeEntry, TimeStatus
from services import policy, time_queries
from services.json_sql import (
    FALSE,
    NULL,
    TRUE,
    Attribute,
    Constant,
    Joined,
    base64url,
    digits,
    encoded_id,
    json_bool,
    json_constant,
    json_object,
    json_text,
    row_object,
    sql_text,
    utf8,
)
from services.paging import AnySelect, Keyset, Window
from services.time_entries import Writer
from services.visibility import Visibility


class EntryField(StrEnum):
    """A plain field of an entry, by its column (or the rule that derives it)."""

    ID = "id"
    WORK_DATE = "work_date"
    MINUTES = "minutes"
    STATUS = "status"
    BILLABLE = "billable"
    RATE = "rate"
    AMOUNT = "amount"
    DESCRIPTION = "description"
    SOURCE = "source"
    VERSION = "version"
    EMPLOYEE_HIDDEN = "employee_hidden"
    EDITABLE = "editable"


class Related(StrEnum):
    EMPLOYEE = "Employee"
    ACTIVITY = "Activity"


# the columns an entry's employee or activity may show as JSON; anything else is answered from objects
ATTRIBUTES: dict[Related, frozenset[str]] = {
    Related.EMPLOYEE: frozenset({"name", "email", "active"}),
    Related.ACTIVITY: frozenset({"code", "name"}),
}


@dataclass(frozen=True, slots=True)
class Named:
    """The entry's employee (null when hidden) or activity, as an object of `members`."""

    related: Related
    members: tuple[tuple[str, Attribute], ...]


@dataclass(frozen=True, slots=True)
class Cursor:
    """The edge's cursor, as `graph.pagination.encode_cursor` writes the keyset's key."""


@dataclass(frozen=True, slots=True)
class EntryObject:
    members: tuple[tuple[str, EntryField | Constant | Named], ...]


EdgeProjection: TypeAlias = tuple[tuple[str, Cursor | Constant | EntryObject], ...]  # an edge's members in order


@dataclass(frozen=True, slots=True)
class JsonPage:
    edges: bytes  # a JSON array of the edges, UTF-8
    has_next: bool
    has_previous: bool
    first_key: list[Any] | None  # the keyset's key of the first and last entries, for the page's cursors
    last_key: list[Any] | None


_VISIBLE = bindparam("visible_ids", type_=ARRAY(Integer))
_ISO_DATE = sql_text("YYYY-MM-DD")


def _names(column: Any, enum: type[StrEnum]) -> ColumnElement[str]:
    """An enum column's member name (the API's value) for its stored value."""
    return case(*((column == sql_text(m.value), json_constant(m.name)) for m in enum), else_=NULL)


def _money(column: Any) -> ColumnElement[str]:
    # NUMERIC(12,2) prints with its two decimals, as the API's Decimal does
    return Joined([sql_text('"'), cast(column, Text), sql_text('"')])


def _cursor(keyset: Keyset) -> ColumnElement[str]:
    parts: list[ColumnElement[str]] = []
    most: int | None = 1  # the JSON text's bytes while every key's length is bounded: "]", then each key and "[" or ","
    for column in keyset.columns:
        parts.append(sql_text("[" if not parts else ","))
        if isinstance(column.type, Date):  # `encode_cursor` tags dates: {"d": "2026-11-23"}
            parts += [sql_text('{"d":"'), func.to_char(column, _ISO_DATE), sql_text('"}')]
            most = None if most is None else most + 1 + len('{"d":"2026-11-23"}')
        elif isinstance(column.type, Integer):
            parts.append(cast(column, Text))
            most = None if most is None else most + 1 + digits(column.type)
        else:  # a text key would need JSON's quoting and escapes
            raise TypeError(f"{column}: only dates and integers are written into cursors by SQL")
    text = Joined([*parts, sql_text("]")])
    return Joined([sql_text('"'), base64url(text, padded=True, most_bytes=most), sql_text('"')])


def _statement(edge: EdgeProjection, keyset: Keyset, sees_all: bool) -> AnySelect:
    visible = true() if sees_all else TimeEntry.employee_id == any_(_VISIBLE)
    joined: Any = TimeEntry.__table__
    tables: dict[Related, Any] = {Related.EMPLOYEE: Employee, Related.ACTIVITY: Activity}
    joins = {
        member.related
        for _, node in edge
        if isinstance(node, EntryObject)
        for _, member in node.members
        if isinstance(member, Named)
    }
    if Related.EMPLOYEE in joins:
        joined = joined.join(Employee.__table__, Employee.id == TimeEntry.employee_id)
    if Related.ACTIVITY in joins:
        joined = joined.join(Activity.__table__, Activity.id == TimeEntry.activity_id)
    editable = policy.entry_editable_sql(
        TimeEntry.status,
        TimeEntry.employee_id,
        writer_id=bindparam("me", type_=Integer),
        writes=bindparam("writes", type_=Integer),  # for whom the viewer may write: `policy.writes_for`
        employee_visible=visible,
    )
    fields: dict[EntryField, ColumnElement[str]] = {
        EntryField.ID: encoded_id("TimeEntry:", TimeEntry.id),
        EntryField.WORK_DATE: Joined([sql_text('"'), func.to_char(TimeEntry.work_date, _ISO_DATE), sql_text('"')]),
        EntryField.MINUTES: cast(TimeEntry.minutes, Text),
        EntryField.STATUS: _names(TimeEntry.status, TimeStatus),
        EntryField.BILLABLE: json_bool(policy.billable_sql(TimeEntry.status)),
        EntryField.RATE: _money(TimeEntry.rate),
        EntryField.AMOUNT: _money(TimeEntry.amount),
        EntryField.DESCRIPTION: json_text(TimeEntry.description),
        EntryField.SOURCE: _names(TimeEntry.source, EntrySource),
        EntryField.VERSION: cast(TimeEntry.version, Text),
        EntryField.EMPLOYEE_HIDDEN: case((visible, FALSE), else_=TRUE),
        EntryField.EDITABLE: json_bool(editable),
    }

    def named(member: Named) -> ColumnElement[str]:
        written = row_object(member.members, tables[member.related], ATTRIBUTES[member.related])
        return case((visible, written), else_=NULL) if member.related is Related.EMPLOYEE else written

    def node(members: EntryObject) -> ColumnElement[str]:
        values: list[tuple[str, ColumnElement[str]]] = []
        for key, member in members.members:
            if isinstance(member, Constant):
                values.append((key, json_constant(member.value)))
            elif isinstance(member, Named):
                values.append((key, named(member)))
            else:
                values.append((key, fields[member]))
        return json_object(values)

    members: list[tuple[str, ColumnElement[str]]] = []
    for key, member in edge:
        if isinstance(member, Constant):
            members.append((key, json_constant(member.value)))
        elif isinstance(member, Cursor):
            members.append((key, _cursor(keyset)))
        else:
            members.append((key, node(member)))
    written = utf8(json_object(members)).label("edge")
    keys = [column.label(f"key_{i}") for i, column in enumerate(keyset.columns)]
    return select(written, *keys).select_from(joined).where(TimeEntry.case_id == bindparam("case_id", type_=Integer))


_STATEMENTS: dict[tuple[EdgeProjection, int, bool], tuple[Keyset, AnySelect]] = {}
_STATEMENTS_MAX = 256  # one per selection a client sends, each the same for every request that sends it


def _cached(edge: EdgeProjection, keyset: Keyset, sees_all: bool) -> AnySelect:
    key = (edge, id(keyset), sees_all)
    found = _STATEMENTS.get(key)
    if found is None or found[0] is not keyset:
        if len(_STATEMENTS) >= _STATEMENTS_MAX:
            _STATEMENTS.clear()
        found = _STATEMENTS[key] = (keyset, _statement(edge, keyset, sees_all))
    return found[1]


async def case_page(
    reader: Reader,
    *,
    case_id: int,
    keyset: Keyset,
    window: Window,
    edge: EdgeProjection,
    visibility: Visibility,
    writer: Writer | None,
    static: bool,
) -> JsonPage:
    """`time_queries.case_page` with each edge written as `edge` says (entries of a STATIC list are not editable)."""
    editor = None if static else writer
    params: dict[str, Any] = {
        "me": editor.viewer.employee_id if editor else 0,  # no employee has id 0
        "writes": policy.writes_for(editor.viewer if editor else None),
    }
    if not visibility.sees_all:
        params["visible_ids"] = sorted(visibility.visible_ids or ())
    stmt = _cached(edge, keyset, visibility.sees_all)
    page = await time_queries.case_rows(
        reader, stmt, case_id=case_id, keyset=keyset, window=window, by_position=True, **params
    )
    rows: list[Any] = page.rows  # by position: the edge, then the keyset's key
    keys = [list(row[1:]) for row in (rows[:1] + rows[-1:])]
    return JsonPage(
        edges=b"[" + b",".join(row[0] for row in rows) + b"]",
        has_next=page.has_next,
        has_previous=page.has_previous,
        first_key=keys[0] if keys else None,
        last_key=keys[-1] if keys else None,
    )
