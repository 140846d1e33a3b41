"""Whether a library still has the members a module of casetime relies on, in the shape it relies on: the common part
of `db.sqlalchemy_internals.check` and `graph.strawberry_internals.check`."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable
from typing import Any

# (owner, member, its kind, what the kind needs: leading parameters, dataclass fields, or the value)
Member = tuple[Any, str, str, tuple[str, ...]]


def first_missing(members: Iterable[Member]) -> str | None:
    """`Owner.member is not <shape>` for the first member that is gone or changed shape, None when all are there."""
    for owner, name, kind, expected in members:
        problem = _problem(owner, name, kind, expected)
        if problem is not None:
            return f"{owner.__name__}.{name} is not {problem}"
    return None


def _problem(owner: Any, name: str, kind: str, expected: tuple[str, ...]) -> str | None:
    """None when `owner.name` has the shape `kind` names, else that shape in words."""
    member = inspect.getattr_static(owner, name, None)
    if kind == "attribute":  # of the class, or stored by its `__init__`
        present = member is not None or name in owner.__init__.__code__.co_names
        return None if present else "an attribute"
    if kind == "slot":
        return None if inspect.ismemberdescriptor(member) else "a slot"
    if kind == "property":
        return None if isinstance(member, property) else "a property"
    if kind == "value":
        return None if getattr(owner, name, None) == expected[0] else f"{expected[0]!r}"
    if kind == "fields":  # a dataclass's fields, in order (it is called with them by position)
        fields = tuple(f.name for f in dataclasses.fields(owner))
        return None if fields[: len(expected)] == expected else f"a dataclass of the fields ({', '.join(expected)})"
    described = f"a {kind} of ({', '.join(expected)}, ...)"
    found = getattr(owner, name, None)  # bound when a classmethod: its parameters as callers pass them
    if not callable(found) or tuple(inspect.signature(found).parameters)[: len(expected)] != expected:
        return described
    return None if "coroutine" not in kind or inspect.iscoroutinefunction(found) else described
