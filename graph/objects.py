"""Helpers to declare the API's Strawberry types, and the objects they answer with, read from rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import EnumMeta
from typing import Any, Protocol, TypeVar

import strawberry
from sqlalchemy import Row

from graph.codecs import Codec
from graph.declarations import DECLARATIONS, Column, Derived, Python, Seeing, ToOne
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


class Prefixed:
    """A joined row's columns that carry `prefix`, by their own names (`id` is `<prefix>id`)."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Fields, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getitem__(self, name: str) -> Any:
        return self._row[self._prefix + name]


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
    return property(_read(key))


def _snake(graphql_name: str) -> str:
    """The Python name of a field Strawberry camel-cases (`timeEntryCount`: `time_entry_count`)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in graphql_name)


def _read(key: str) -> Callable[[Any], Any]:
    return lambda view: view._f[key]


def _encoded(key: str, codec: Codec) -> Callable[[Any], Any]:
    return lambda view: codec.python(view._f[key])


def _derived(field: Derived) -> Callable[[Any], Any]:
    twin = field.python
    return lambda view: twin(view._f, view._shared.seeing)


def shown_key(view: Any, relation: ToOne, seeing: Seeing | None = None) -> Any:
    """The key of the row `relation` names, None when there is none or its `shown` rule hides it from the viewer
    (`seeing`, by default the view's shared object's); `view` is an object of `declared_view`."""
    key = view._f[relation.key]
    if key is None:
        return None
    if relation.shown is not None and not relation.shown.python(view._f, seeing or view._shared.seeing):
        return None
    return key


def _related(field: ToOne, build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda view: None if shown_key(view, field) is None else build(view)


def declared_view(
    cls: type[T], relations: Mapping[str, Callable[[Any], Any]] | None = None
) -> Callable[[Fields, Any], T]:
    """`row_view` of the Strawberry type `cls` whose fields come from its declaration (`graph.declarations`), as the
    compiled statement's do: a column read from the row (an ID through its codec's Python twin, `db_id` the row's
    id), an expression through its Python twin, a relation to one row through `relations[name]` (the view's builder
    of the related object) when its key is set and its `shown` rule's Python twin holds. The twins read the viewer
    from the view's shared object's `seeing` (`graph.declarations.Seeing`). A field declared `Python` is its
    resolver; a declared field the class answers by attribute with nothing to read it from fails here, at import."""
    declaration = DECLARATIONS[cls.__name__]  # the API's types are named as their classes
    attributes = {field.name: field for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    derived: dict[str, Callable[[Any], Any]] = {}
    if "db_id" in attributes:
        derived["db_id"] = lambda view: view._f["id"]
    for name, field in declaration.fields.items():
        attribute = attributes.get(_snake(name))
        if attribute is None or base_resolver(attribute) is not None or isinstance(field, Python):
            continue  # a resolver answers it
        if isinstance(field, Column):
            if field.codec.on_objects:
                derived[attribute.name] = _encoded(field.name, field.codec)
            elif field.name != attribute.name:
                derived[attribute.name] = _read(field.name)
        elif isinstance(field, Derived):
            derived[attribute.name] = _derived(field)
        elif isinstance(field, ToOne):
            build = (relations or {}).get(attribute.name)
            if build is None:
                raise TypeError(f"{cls.__name__}.{attribute.name}: a relation read by attribute needs its builder")
            derived[attribute.name] = _related(field, build)
    return row_view(cls, derived)
