from __future__ import annotations

from typing import Any, Protocol

import strawberry
from sqlalchemy import Row


def given(input_object: object) -> dict[str, object]:
    """The fields a client actually sent: patch semantics (SPEC 5b)."""
    return {k: v for k, v in vars(input_object).items() if v is not strawberry.UNSET}


class Fields(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


class _ByAttribute:
    __slots__ = ("_source",)

    def __init__(self, source: object) -> None:
        self._source = source

    def __getitem__(self, key: str) -> Any:
        return getattr(self._source, key)


def fields(source: Any) -> Fields:
    """Columns by name of a row (a dict from `db.driver` or a `Row`), an ORM object or a view. `row.name` on a Row
    takes the slow `__getattr__` fallback (an AttributeError each time, about 1-2 µs); its `_mapping` answers ~20x
    faster (bench/)."""
    if isinstance(source, dict):
        return source
    return source._mapping if isinstance(source, Row) else _ByAttribute(source)
