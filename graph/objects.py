from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import EnumMeta
from typing import Any, Protocol, TypeVar

import strawberry
from sqlalchemy import Row

from graph.strawberry_internals import (
    StrawberryField,
    base_resolver,
    has_enum_definition,
)

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
