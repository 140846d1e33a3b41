"""Keyset pages: `WHERE (sort key) > (cursor key) ORDER BY sort key LIMIT n + 1`, never OFFSET."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import (
    ARRAY,
    Date,
    Integer,
    Row,
    String,
    any_,
    bindparam,
    tuple_,
)
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
    # the row read past the page (a page reads one more than its size, to know whether the list goes on), None when
    # there was none: a column every row holds alike (a compiled list's total) is read from it on a page of size 0
    beyond: T | None = None


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
class _Variant:
    ordered: AnySelect
    prebuilt: Prebuilt | None = None
    tried: bool = False  # whether the driver was asked to prebuild it (it may refuse: `Prebuilt`'s fallback)


def _order(stmt: AnySelect, keyset: Keyset, *, after: bool, before: bool, backwards: bool) -> AnySelect:
    """`stmt` with the keyset's bounds as bind parameters, its order and a literal LIMIT."""
    key = tuple_(*keyset.columns)
    if after:
        bound = tuple_(*(bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(keyset.columns)))
        stmt = stmt.where(key < bound if keyset.descending else key > bound)
    if before:
        bound = tuple_(*(bindparam(f"before_{i}", type_=c.type) for i, c in enumerate(keyset.columns)))
        stmt = stmt.where(key > bound if keyset.descending else key < bound)
    ascending = keyset.descending == backwards
    order = [column.asc() if ascending else column.desc() for column in keyset.columns]
    # LIMIT as a literal: with LIMIT $n PostgreSQL never adopts a generic plan and re-plans the joins every time
    return stmt.order_by(*order).limit(bindparam("page_limit", type_=Integer, literal_execute=True))


@dataclass(slots=True)
class Ordered:
    """A list's statement in a keyset's order, its pages' variants (after, before, backwards) built and prebuilt for
    the driver when first asked for. Keep one where the statement is declared (a module, a compiled document): a
    statement built once keeps its SQL cache key, and rebuilding the order and bounds per request costs ~0.2 ms."""

    stmt: AnySelect
    keyset: Keyset
    prebuild: bool = True  # false for a statement made for one request: through SQLAlchemy's Core
    _variants: dict[tuple[bool, bool, bool], _Variant] = field(default_factory=dict)

    def variant(self, *, after: bool, before: bool, backwards: bool, prebuilt: bool = True) -> _Variant:
        key = (after, before, backwards)
        found = self._variants.get(key)
        if found is None:
            found = self._variants[key] = _Variant(
                _order(self.stmt, self.keyset, after=after, before=before, backwards=backwards)
            )
        if prebuilt and not found.tried:
            found.tried = True
            found.prebuilt = _prebuilt(found.ordered)
        return found

    async def page(
        self, reader: Reader, window: Window, *, params: dict[str, Any] | None = None, by_position: bool = False
    ) -> Page[AnyRow]:
        """The page `window` names; `params` fills the statement's own parameters. `by_position`: the rows are read
        by position only (`Prebuilt.records`), for columns that need no conversion."""
        w = window
        variant = self.variant(
            after=w.after is not None, before=w.before is not None, backwards=w.backwards, prebuilt=self.prebuild
        )
        return await _fetch(reader, variant, w, params, by_position)


@dataclass(frozen=True, slots=True)
class Total:
    """A `count(*)` statement, prebuilt for the driver unless it cannot take it (an expanding IN): then through
    SQLAlchemy's Core on the same connection."""

    stmt: AnySelect
    prebuilt: Prebuilt | None

    @classmethod
    def of(cls, stmt: AnySelect) -> Total:
        return cls(stmt, _prebuilt(stmt))

    async def __call__(self, reader: Reader, params: Mapping[str, Any] | None = None) -> int:
        if self.prebuilt is not None:
            return int(await self.prebuilt.scalar(reader, params) or 0)
        connection = await reader.connection()
        return int(await connection.scalar(self.stmt, dict(params or {})) or 0)


def _prebuilt(stmt: AnySelect) -> Prebuilt | None:
    try:
        return Prebuilt(stmt)
    except (TypeError, ValueError):  # a bind parameter or column the driver cannot take as it is
        return None


async def _fetch(
    reader: Reader, variant: _Variant, window: Window, params: dict[str, Any] | None, by_position: bool
) -> Page[AnyRow]:
    first, after, before = window.first, window.after, window.before
    values: dict[str, Any] = {**params} if params else {}
    values["page_limit"] = first + 1
    if after is not None:
        values.update((f"after_{i}", v) for i, v in enumerate(after))
    if before is not None:
        values.update((f"before_{i}", v) for i, v in enumerate(before))
    rows: list[AnyRow]
    prebuilt = variant.prebuilt
    if prebuilt is not None:
        rows = list(await (prebuilt.records(reader, values) if by_position else prebuilt.fetch(reader, values)))
    else:  # through SQLAlchemy's Core, on the same connection
        connection = await reader.connection()
        rows = list((await connection.execute(variant.ordered, values)).all())
    more = len(rows) > first
    beyond = rows[first] if more else None
    rows = rows[:first]
    if window.backwards:
        rows.reverse()
        return Page(rows=rows, has_next=before is not None, has_previous=more, beyond=beyond)
    return Page(rows=rows, has_next=more, has_previous=after is not None, beyond=beyond)


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
    """A `count(*)` statement a service declares (one for each combination of a list's filters), prebuilt for the
    driver unless it cannot take it (an expanding IN): then through SQLAlchemy's Core on the same connection."""

    stmt: AnySelect
    prebuilt: Prebuilt | None

    @classmethod
    def of(cls, stmt: AnySelect) -> Count:
        return cls(stmt, _prebuilt(stmt))

    async def __call__(self, reader: Reader, params: Mapping[str, Any] | None = None) -> int:
        if self.prebuilt is not None:
            return int(await self.prebuilt.scalar(reader, params) or 0)
        connection = await reader.connection()  # Core on the request's connection: no ORM execution layer
        return int(await connection.scalar(self.stmt, dict(params or {})) or 0)


def like_pattern(search: str) -> str:
    """A case-insensitive substring pattern with the user's own wildcards escaped."""
    escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
