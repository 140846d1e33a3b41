"""A list's filters, declared once where the list is: each optional filter a named condition whose value is the bind
parameter of its name (`Filter`), the list's filters together (`Filters`).

A request's filter is a `Matching`: the combination of declared filters it uses (a `Combination`, looked up by their
names: one of at most 2^n, made when a request first uses it and kept) and their values. What is built of a
combination (a page's statement, its count, a compiled list's source) is built the first time it is asked for and
kept on the combination, by a `PerCombination` declared at import. So a request builds no condition and walks no
expression: its statements were declared, and are prebuilt once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ARRAY, ColumnElement, String, and_, any_, bindparam, or_
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import Select

from services.paging import like_pattern

T = TypeVar("T")
S = TypeVar("S", bound=Select)  # type: ignore[type-arg]

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True, eq=False)
class Filter:
    """One optional filter of a list: `condition` takes its value in the bind parameter named `name`. A condition
    without a parameter of its name (a constant, `blocked IS false`, or one written with other filters' values)
    binds none: it applies when asked for."""

    name: str
    condition: ColumnElement[bool]
    needs: frozenset[str] = field(init=False)  # the bind parameters the condition needs a value for

    def __post_init__(self) -> None:
        binds = self.condition.compile(dialect=_DIALECT).binds
        object.__setattr__(self, "needs", frozenset(key for key, bind in binds.items() if bind.required))

    @property
    def valued(self) -> bool:
        return self.name in self.needs


class Combination:
    """Some of a list's declared filters: their conditions joined (`where`, None for none), and what is built of
    them, each once (`PerCombination`)."""

    __slots__ = ("_built", "names", "where")

    def __init__(self, names: frozenset[str], where: ColumnElement[bool] | None) -> None:
        self.names = names
        self.where = where
        self._built: dict[PerCombination[Any], Any] = {}

    def narrowed(self, stmt: S) -> S:
        """`stmt` with the combination's conditions."""
        return stmt if self.where is None else stmt.where(self.where)


class PerCombination(Generic[T]):
    """What `build` makes of a combination of filters (a page's statement, its count, a compiled list's source):
    built the first time a request uses that combination, and kept on it. Declare one at import, as a module's
    constant: each is a key of every combination's table, which is so bounded by what is declared."""

    __slots__ = ("_build",)

    def __init__(self, build: Callable[[Combination], T]) -> None:
        self._build = build

    def of(self, matching: Matching) -> T:
        built = matching.combination._built
        found = built.get(self, _UNBUILT)
        if found is _UNBUILT:
            found = built[self] = self._build(matching.combination)
        return cast(T, found)


_UNBUILT = object()


@dataclass(frozen=True, slots=True)
class Matching:
    """A request's filter: the combination of declared filters it uses, and their values by bind parameter."""

    combination: Combination
    values: dict[str, Any]

    def applied(self, stmt: S) -> S:
        """`stmt` with the conditions and their values in it, for a statement built for one request (a report's,
        which runs with its values written out)."""
        return self.combination.narrowed(stmt).params(self.values)


class Filters:
    """A list's optional filters, declared once; `matching` says which of them a request uses, with their values."""

    __slots__ = ("_by_name", "_combinations", "filters")

    def __init__(self, *filters: Filter) -> None:
        self.filters = filters
        self._by_name = {declared.name: declared for declared in filters}
        if len(self._by_name) != len(filters):
            raise ValueError(f"filters share a name: {[declared.name for declared in filters]}")
        valued = {declared.name for declared in filters if declared.valued}
        for declared in filters:
            if not declared.needs <= valued:
                raise ValueError(f"{declared.name}: {sorted(declared.needs - valued)} is no filter's value")
        self._combinations: dict[frozenset[str], Combination] = {}

    @property
    def combinations(self) -> Mapping[frozenset[str], Combination]:
        """The combinations requests have used so far: at most one for each subset of the declared filters."""
        return self._combinations

    def matching(self, **given: Any) -> Matching:
        """The filters `given` asks for: one that binds its value applies unless the value is None; one that binds
        none applies when its value is True."""
        names: list[str] = []
        values: dict[str, Any] = {}
        for name, value in given.items():
            declared = self._by_name.get(name)
            if declared is None:
                raise TypeError(f"{name!r} is not a declared filter")
            if declared.valued:
                if value is None:
                    continue
                values[name] = value
            elif value is not True:
                continue
            names.append(name)
        key = frozenset(names)
        combination = self._combinations.get(key)
        if combination is None:
            combination = self._combinations[key] = self._combine(key)
        return Matching(combination, values)

    def _combine(self, names: frozenset[str]) -> Combination:
        chosen = [declared for declared in self.filters if declared.name in names]
        for declared in chosen:
            if not declared.needs <= names:
                raise ValueError(f"{declared.name} needs the filters {sorted(declared.needs - names)}")
        return Combination(names, and_(*(declared.condition for declared in chosen)) if chosen else None)


SEARCH = "search"


def searching(*columns: Any) -> Filter:
    """`search`: any of `columns` holds the text, ignoring case; its value is `search_pattern`'s."""
    pattern = bindparam(SEARCH, type_=String)
    return Filter(SEARCH, or_(*(column.ilike(pattern) for column in columns)))


def search_pattern(search: str | None) -> str | None:
    """The value of `searching`'s filter for a search text: None (no filter) when it is empty or blank."""
    return like_pattern(search) if search and search.strip() else None


def any_of(column: Any, name: str) -> ColumnElement[bool]:
    """`column = ANY(:name)`, an array bind parameter: one SQL text whatever the number of values, where an IN list
    renders one per count."""
    array = ARRAY(column.type)
    # cast: written out as a literal (a report's statement), an empty array has no type of its own
    return column == any_(sql_cast(bindparam(name, type_=array), array))  # type: ignore[no-any-return]
