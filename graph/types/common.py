from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import EnumMeta
from typing import Any, Protocol, TypeVar

import strawberry
from sqlalchemy import Row

from graph import ids
from graph.strawberry_internals import (
    SelectedField,
    Selection,
    StrawberryField,
    base_resolver,
    field_nodes,
    has_enum_definition,
)
from services.json_sql import Attribute, Constant, EncodedId

T = TypeVar("T")
E = TypeVar("E", bound=EnumMeta)


def described_enum(cls: E, *, name: str, description: str, values: Mapping[str, str]) -> E:
    """`strawberry.enum` with a description for each member named in `values`: the domain declares its enums without
    Strawberry, so `strawberry.enum_value` is not open to them. The definition Strawberry made already, when an
    annotation naming the enum was read first, is described in place: every field using the enum shares it."""
    target: object = cls
    if not has_enum_definition(target):
        strawberry.enum(cls, name=name)
    assert has_enum_definition(target)
    definition = target.__strawberry_definition__
    definition.name, definition.description = name, description
    for value in definition.values:
        value.description = values.get(value.name)
    return cls


def user_errors_field(
    description: str = "What the user must fix, each with its code; when any, nothing was written.",
) -> Any:
    """A payload's `userErrors`, empty unless refused."""
    return strawberry.field(default_factory=list, description=description)


def described_field(description: str) -> StrawberryField:
    """`@strawberry.field(description=...)` over a resolver method: Strawberry types that call as `Any`, a decorator
    mypy --strict refuses."""
    decorator: StrawberryField = strawberry.field(description=description)
    return decorator


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


def row_view(cls: type[T], derived: Mapping[str, Callable[[Any], Any]]) -> Callable[[Fields, Any], T]:
    """A subclass of the Strawberry type `cls` whose instances read their fields from a row when asked.

    A page builds dozens of objects of a dozen or more fields each, and a query selects a few of them: building every
    field was ~10% of a page's CPU. `derived` computes fields from the view (its row `_f`, and `_shared`: the objects
    the rows of one answer share); every other field without a resolver is the row's column of the same name.
    """

    def __init__(self: Any, f: Fields, shared: Any) -> None:  # the dataclass fields are the properties below
        self._f, self._shared = f, shared

    namespace: dict[str, Any] = {"__init__": __init__, "__doc__": f"A {cls.__name__} read from its row when asked."}
    for name, read in derived.items():
        namespace[name] = property(read)
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name not in derived and base_resolver(field) is None:  # resolvers stay methods
            namespace[field.name] = _column(field.name)
    view: Callable[[Fields, Any], T] = type(f"{cls.__name__}Row", (cls,), namespace)
    return view


def _column(key: str) -> property:
    return property(lambda view: view._f[key])


def plain_fields(selections: list[Selection]) -> list[tuple[str, SelectedField]] | None:
    """(key, field) of a selection of plain fields, each key once; None for fragments, directives or arguments.

    For answers the database writes whole (`json_projection`s): anything else is answered from objects."""
    found: list[tuple[str, SelectedField]] = []
    for selection in selections:
        if not isinstance(selection, SelectedField) or selection.directives or selection.arguments:
            return None
        found.append((selection.alias or selection.name, selection))
    return found if len({key for key, _ in found}) == len(found) else None


def named_members(
    selections: list[Selection], type_name: str, columns: frozenset[str]
) -> tuple[tuple[str, Attribute], ...] | None:
    """The members of a row the database writes (`services.json_sql.row_object`): its `__typename`, `id` and the
    fields among `columns` (their GraphQL and column names are alike); None for anything else."""
    fields = plain_fields(selections)
    if fields is None:
        return None
    members: list[tuple[str, Attribute]] = []
    for key, field in fields:
        if field.name == "__typename":
            members.append((key, Constant(type_name)))
        elif field.name == "id":
            members.append((key, EncodedId(ids.prefix(type_name))))
        elif field.name in columns:
            members.append((key, field.name))
        else:
            return None
    return tuple(members)


_BY_FIELD: dict[tuple[int, ...], tuple[tuple[object, ...], Any]] = {}
_BY_FIELD_MAX = 1024


def per_field(info: Any, compute: Callable[[Any], T]) -> T:
    """`compute(info)` once per field of a parsed document (parsed documents are cached and reused): for what follows
    from the query's text alone, never from variables. `info.selected_fields` builds its objects anew each time."""
    nodes = tuple(field_nodes(info))
    key = (id(compute), *map(id, nodes))
    found = _BY_FIELD.get(key)
    if found is not None and all(a is b for a, b in zip(found[0], nodes, strict=True)):  # ids of live nodes
        value: T = found[1]
        return value
    if len(_BY_FIELD) >= _BY_FIELD_MAX:
        _BY_FIELD.clear()
    value = compute(info)
    _BY_FIELD[key] = (nodes, value)
    return value
