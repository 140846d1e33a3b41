"""Keyset pages: `WHERE (sort key) > (cursor key) ORDER BY sort key LIMIT n + 1`, never OFFSET."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import Row, func, select, tuple_
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
    """The sort key of a list; a cursor holds one row's values of it."""

    columns: tuple[Any, ...]  # mapped attributes or column expressions

    def key_of(self, row: AnyRow) -> list[Any]:
        return [row._mapping[column.key] for column in self.columns]


async def fetch_page(
    session: AsyncSession, stmt: AnySelect, keyset: Keyset, *, first: int, after: Sequence[Any] | None
) -> Page[AnyRow]:
    if after is not None:
        stmt = stmt.where(tuple_(*keyset.columns) > tuple_(*after))
    rows = list((await session.execute(stmt.order_by(*keyset.columns).limit(first + 1))).all())
    return Page(rows=rows[:first], has_next=len(rows) > first, has_previous=after is not None)


async def count(session: AsyncSession, stmt: AnySelect) -> int:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(total or 0)


def like_pattern(search: str) -> str:
    """A case-insensitive substring pattern with the user's own wildcards escaped."""
    escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
