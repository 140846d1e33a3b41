"""Keyset pages: `WHERE (sort key) > (cursor key) ORDER BY sort key LIMIT n + 1`, never OFFSET."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    Integer,
    Row,
    String,
    any_,
    bindparam,
    cast,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from db.driver import DriverRow, Prebuilt, Reader
from services.validation import integer_range

T = TypeVar("T")
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyRow: TypeAlias = Row[*tuple[Any, ...]] | DriverRow


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    has_next: bool
    has_previous: bool


@dataclass(frozen=True, slots=True)
class Window:
    """Which page of a keyset list: the `first` rows after `after` (and before `before`); `backwards`: the `first`
    rows just before `before` (Relay's last/before). `after` and `before` are keys of the keyset."""

    first: int
    after: Sequence[Any] | None = None
    before: Sequence[Any] | None = None
    backwards: bool = False


@dataclass(frozen=True, slots=True)
class Keyset:
    """The sort key of a list, all ascending or all descending; a cursor holds one row's values of it."""

    columns: tuple[Any, ...]  # mapped attributes or column expressions
    descending: bool = False

    def key_of(self, row: AnyRow) -> list[Any]:
        mapping = row._mapping  # a new RowMapping on every access: take it once
        return [mapping[column.key] for column in self.columns]

    def accepts(self, key: Sequence[Any]) -> bool:
        """Whether `key` can be one row's key: a value each column can hold, so the page's statement can be sent."""
        return len(key) == len(self.columns) and all(_holds(c.type, v) for c, v in zip(self.columns, key, strict=False))


def _holds(type_: Any, value: Any) -> bool:
    if isinstance(type_, Integer):
        low, high = integer_range(type_)
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if isinstance(type_, String):
        return isinstance(value, str) and "\x00" not in value  # PostgreSQL text cannot hold U+0000
    if isinstance(type_, Date):
        return isinstance(value, date) and not isinstance(value, datetime)
    return False  # a column type no cursor holds yet: refused until it is taught here


@dataclass(slots=True)
class _Ordered:
    stmt: AnySelect
    keyset: Keyset
    ordered: AnySelect
    prebuilt: Prebuilt | None = None
    seen: bool = False  # asked for again: a statement built once (at import), not per request


_ORDERED: dict[tuple[int, int, bool, bool, bool], _Ordered] = {}
_ORDERED_MAX = 512  # statements built per request (filtered ones) pass through and are dropped in bulk


def _ordered(stmt: AnySelect, keyset: Keyset, *, after: bool, before: bool, backwards: bool) -> _Ordered:
    """`stmt` with the keyset's bounds as bind parameters, its order and a literal LIMIT; built once per statement.

    A statement built once keeps its SQL cache key: rebuilding the order and bounds per request costs ~0.2 ms. One
    asked for a second time is a statement built at import, and is prebuilt for the driver (`db.driver`); one built
    per request, with a filter's values in it, is never asked for again and runs through SQLAlchemy.
    """
    cache_key = (id(stmt), id(keyset), after, before, backwards)
    cached = _ORDERED.get(cache_key)
    if cached is not None and cached.stmt is stmt and cached.keyset is keyset:
        if not cached.seen:
            cached.seen = True
            cached.prebuilt = _prebuilt(cached.ordered)
        return cached
    key = tuple_(*keyset.columns)
    if after:
        bound = tuple_(*(bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(keyset.columns)))
        stmt_ = stmt.where(key < bound if keyset.descending else key > bound)
    else:
        stmt_ = stmt
    if before:
        bound = tuple_(*(bindparam(f"before_{i}", type_=c.type) for i, c in enumerate(keyset.columns)))
        stmt_ = stmt_.where(key > bound if keyset.descending else key < bound)
    ascending = keyset.descending == backwards
    order = [column.asc() if ascending else column.desc() for column in keyset.columns]
    # LIMIT as a literal: with LIMIT $n PostgreSQL never adopts a generic plan and re-plans the joins every time
    ordered = stmt_.order_by(*order).limit(bindparam("page_limit", type_=Integer, literal_execute=True))
    if len(_ORDERED) >= _ORDERED_MAX:
        _ORDERED.clear()
    entry = _ORDERED[cache_key] = _Ordered(stmt, keyset, ordered)
    return entry


def _prebuilt(stmt: AnySelect) -> Prebuilt | None:
    try:
        return Prebuilt(stmt)
    except (TypeError, ValueError):  # a bind parameter or column the driver cannot take as it is
        return None


async def fetch_page(
    reader: Reader,
    stmt: AnySelect,
    keyset: Keyset,
    *,
    first: int,
    after: Sequence[Any] | None = None,
    before: Sequence[Any] | None = None,
    backwards: bool = False,
    params: dict[str, Any] | None = None,
    by_position: bool = False,
) -> Page[AnyRow]:
    """One page in the keyset's order; `backwards` reads the `first` rows before `before` (Relay's last/before).

    `params` fills the bind parameters of `stmt`; it runs in Core on the request's connection (no ORM layer).
    `by_position`: the rows are read by position only (`Prebuilt.records`), for columns that need no conversion.
    """
    entry = _ordered(stmt, keyset, after=after is not None, before=before is not None, backwards=backwards)
    values: dict[str, Any] = {**params} if params else {}
    values["page_limit"] = first + 1
    if after is not None:
        values.update((f"after_{i}", v) for i, v in enumerate(after))
    if before is not None:
        values.update((f"before_{i}", v) for i, v in enumerate(before))
    rows: list[AnyRow]
    if entry.prebuilt is not None:
        prebuilt = entry.prebuilt
        rows = list(await (prebuilt.records(reader, values) if by_position else prebuilt.fetch(reader, values)))
    else:  # through SQLAlchemy's Core, on the same connection
        connection = await reader.connection()
        rows = list((await connection.execute(entry.ordered, values)).all())
    more = len(rows) > first
    rows = rows[:first]
    if backwards:
        rows.reverse()
        return Page(rows=rows, has_next=before is not None, has_previous=more)
    return Page(rows=rows, has_next=more, has_previous=after is not None)


async def fetch_window(
    reader: Reader,
    stmt: AnySelect,
    keyset: Keyset,
    window: Window,
    *,
    params: dict[str, Any] | None = None,
    by_position: bool = False,
) -> Page[AnyRow]:
    """`fetch_page` of the page `window` names."""
    w = window
    return await fetch_page(
        reader,
        stmt,
        keyset,
        first=w.first,
        after=w.after,
        before=w.before,
        backwards=w.backwards,
        params=params,
        by_position=by_position,
    )


def by_ids(stmt: AnySelect, column: Any) -> Prebuilt:
    """`stmt` for the rows whose `column` (keyed `id`) is in the array parameter `ids`, for `rows_by_ids`; build it
    once, at import.

    `= ANY(array)` keeps one SQL text (one prepared statement, one plan) for any number of ids, where an expanding IN
    renders a statement per count, compiled again on each request."""
    return Prebuilt(stmt.where(column == any_(bindparam("ids", type_=ARRAY(column.type)))))


async def rows_by_ids(reader: Reader, stmt: Prebuilt, ids: Sequence[int]) -> list[AnyRow | None]:
    """The rows of a `by_ids` statement in the order of `ids`, None where none matched."""
    found: dict[int, AnyRow] = {row["id"]: row for row in await stmt.fetch(reader, {"ids": list(ids)})}
    return [found.get(i) for i in ids]


@dataclass(frozen=True, slots=True)
class Count:
    """A `count(*)` statement built at import; unnarrowed (an administrator's list), it runs prebuilt."""

    stmt: AnySelect
    unnarrowed: Prebuilt

    @classmethod
    def of(cls, stmt: AnySelect) -> Count:
        return cls(stmt, Prebuilt(stmt))

    async def __call__(self, session: AsyncSession, conditions: Sequence[Any] = ()) -> int:
        if not conditions:
            return int(await self.unnarrowed.scalar(session) or 0)
        connection = await session.connection()  # Core on the request's connection: no ORM execution layer
        return int(await connection.scalar(self.stmt.where(*conditions)) or 0)


async def count(session: AsyncSession, stmt: AnySelect) -> int:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(total or 0)


def any_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column = ANY(array)`: one SQL text whatever the number of values, where an IN list renders one per count."""
    array = ARRAY(column.type)
    # cast: an empty array written out as a literal has no type of its own
    return column == any_(cast(literal(list(values), array), array))  # type: ignore[no-any-return]


def like_pattern(search: str) -> str:
    """A case-insensitive substring pattern with the user's own wildcards escaped."""
    escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
