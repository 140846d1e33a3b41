"""Many rows bound as one parameter: a JSON array of objects, read in SQL as a typed derived table
(`json_to_recordset(…) AS name(column type, …)`).

A statement that writes any number of rows at once takes their values this way rather than as one array per column
unnested in step: asyncpg encodes each array parameter on its own, ~3 µs apiece and more for NUMERIC, and a write of
entries, totals, counts and both rollups bound 45 of them (bench/README.md). PostgreSQL reads each JSON value with the
column type's own input function, so a Decimal sent as its text arrives as that NUMERIC exactly, a date as its ISO
text, a list as an array.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, Integer, Text, bindparam, cast, column, func, select
from sqlalchemy.types import TypeEngine


def _exact(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)  # its text, never a float
    raise TypeError(f"{type(value).__name__} is not a recordset value")


class Recordset:
    """The rows bound as the parameter `name`, selected from as the derived table `name` whose columns are `columns`
    (their names the objects' keys; a key an object lacks reads as NULL)."""

    def __init__(self, name: str, columns: Sequence[tuple[str, TypeEngine[Any] | type[TypeEngine[Any]]]]) -> None:
        self.name = name
        rows = (
            func.json_to_recordset(cast(bindparam(name, type_=Text), JSON))
            .table_valued(*(column(key, type_) for key, type_ in columns))
            .render_derived(name=name, with_types=True)
        )
        # PostgreSQL plans for 100 rows of any set-returning function: told how many there are, it looks one row up
        # by its index rather than hashing whole tables
        self._count = f"{name}_count"
        limit = bindparam(self._count, type_=Integer, literal_execute=True)
        self.table = select(rows).limit(limit).subquery(name)

    @property
    def c(self) -> Any:
        """The derived table's columns."""
        return self.table.c

    def bind(self, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """The parameters that bind `rows`: their JSON, and their count."""
        listed = list(rows)
        return {self.name: orjson.dumps(listed, default=_exact).decode(), self._count: len(listed)}
