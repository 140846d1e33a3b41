"""Keyset pages: `WHERE (sort key) > (cursor key) ORDER BY sort key LIMIT n + 1`, never OFFSET."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import Integer, Row, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

T = TypeVar("T")
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    has_next: bool
    has_previous: bool


@dataclass(frozen=True, slots=True)
class Keyset:
    """The sort key of a list, all ascending or all descending; a cursor holds one row's values of it."""

    columns: tuple[Any, ...]  # mapped attributes or column expressions
    descending: bool = False

    def key_of(self, row: AnyRow) -> list[Any]:
        return [row._mapping[column.key] for column in self.columns]


async def fetch_page(
    session: AsyncSession,
    stmt: AnySelect,
    keyset: Keyset,
    *,
    first: int,
    after: Sequence[Any] | None = None,
    before: Sequence[Any] | None = None,
    backwards: bool = False,
) -> Page[AnyRow]:
    """One page in the keyset's order; `backwards` reads the `first` rows before `before` (Relay's last/before)."""
    key = tuple_(*keyset.columns)
    if after is not None:
        stmt = stmt.where(key < tuple_(*after) if keyset.descending else key > tuple_(*after))
    if before is not None:
        stmt = stmt.where(key > tuple_(*before) if keyset.descending else key < tuple_(*before))
    ascending = keyset.descending == backwards
    order = [column.asc() if ascending else column.desc() for column in keyset.columns]
    # LIMIT as a literal: with LIMIT $n PostgreSQL never adopts a generic plan and re-plans the joins every time
    limit = bindparam("page_limit", first + 1, type_=Integer, literal_execute=True)
    rows = list((await session.execute(stmt.order_by(*order).limit(limit))).all())
    more = len(rows) > first
    rows = rows[:first]
    if backwards:
        rows.reverse()
        return Page(rows=rows, has_next=before is not None, has_previous=more)
    return Page(rows=rows, has_next=more, has_previous=after is not None)


async def count(session: AsyncSession, stmt: AnySelect) -> int:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(total or 0)


def like_pattern(search: str) -> str:
    """A case-insensitive substring pattern with the user's own wildcards escaped."""
    escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
