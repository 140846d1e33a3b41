"""graph.strawberry_internals.plan_inputs: every input type of the schema is built from its plan exactly as
Strawberry's own conversion builds it, for values graphql-core could hand over (fields omitted, null, lists, nested
inputs), with a deliberately wrong plan as negative control."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.types.arguments import InputContext, convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from edge.schema import schema
from graph.strawberry_internals import _Plan, graphql_schema, strawberry_definition

INPUTS = sorted(
    (t for t in graphql_schema(schema).type_map.values() if isinstance(t, GraphQLInputObjectType)),
    key=lambda t: t.name,
)
PLANNED = [t for t in INPUTS if isinstance(strawberry_definition(t).from_input, _Plan)]


class Leaf:
    """A scalar's value as graphql-core parsed it: both conversions must take it as it is."""

    def __init__(self, name: str, n: int) -> None:
        self.name, self.n = name, n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Leaf) and (self.name, self.n) == (other.name, other.n)

    def __hash__(self) -> int:
        return hash((self.name, self.n))


def _value(draw: st.DrawFn, type_: GraphQLInputType, depth: int) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return _value(draw, type_.of_type, depth)
    if draw(st.integers(0, 5)) == 0:
        return None
    return _given(draw, type_, depth)


def _given(draw: st.DrawFn, type_: Any, depth: int) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return _given(draw, type_.of_type, depth)
    if isinstance(type_, GraphQLList):
        return [_value(draw, type_.of_type, depth) for _ in range(draw(st.integers(0, 2 if depth < 3 else 0)))]
    if isinstance(type_, GraphQLEnumType):
        return draw(st.sampled_from([v.value for v in type_.values.values()]))
    if isinstance(type_, GraphQLScalarType):
        return Leaf(type_.name, draw(st.integers(0, 3)))
    assert isinstance(type_, GraphQLInputObjectType)
    value: dict[str, Any] = {}
    for name, field in type_.fields.items():
        required = isinstance(field.type, GraphQLNonNull)
        if required or draw(st.booleans()):
            value[name] = _value(draw, field.type, depth + 1)
    return value


@st.composite
def inputs(draw: st.DrawFn) -> tuple[GraphQLInputObjectType, dict[str, Any]]:
    type_ = draw(st.sampled_from(PLANNED))
    return type_, _given(draw, type_, 0)


def _context() -> InputContext:
    return InputContext(
        info=None, config=schema.config, scalar_registry=schema.schema_converter.scalar_registry, path=()
    )


@contextmanager
def _strawberry_only() -> Iterator[None]:
    """Strawberry's own conversion: every plan taken away for the block."""
    definitions = [strawberry_definition(t) for t in PLANNED]
    plans = [d.from_input for d in definitions]
    for definition in definitions:
        definition.from_input = None
    try:
        yield
    finally:
        for definition, plan in zip(definitions, plans, strict=True):
            definition.from_input = plan


def _build(type_: GraphQLInputObjectType, value: dict[str, Any]) -> Any:
    definition: StrawberryObjectDefinition = strawberry_definition(type_)
    return convert_argument(value, definition.origin, schema.schema_converter.scalar_registry, schema.config)


def test_every_input_type_without_a_maybe_field_is_planned() -> None:
    assert len(PLANNED) == len(INPUTS) > 10
    assert "TimeEntryInput" in {t.name for t in PLANNED}


@settings(max_examples=300, deadline=None)
@given(case=inputs())
def test_a_plan_builds_what_strawberry_builds(case: tuple[GraphQLInputObjectType, dict[str, Any]]) -> None:
    type_, value = case
    planned = _build(type_, value)
    with _strawberry_only():
        expected = _build(type_, value)
    assert planned == expected
    assert type(planned) is type(expected)


def test_a_list_is_the_value_s_own_copy() -> None:
    (type_,) = [t for t in PLANNED if t.name == "TimeEntryInput"]
    tags = ["a", "b"]
    built = _build(type_, {"caseId": "x", "activityId": "y", "workDate": Leaf("Date", 0), "minutes": 1, "tags": tags})
    assert built.tags == tags
    assert built.tags is not tags


class _TakesEverythingAsItIs(_Plan):
    """A wrong plan: every field taken as graphql-core gave it, nested inputs and lists included."""

    def _planned(self, registry: Any) -> list[tuple[str, str, Any]]:
        return [(graphql_name, python_name, None) for graphql_name, python_name, _ in super()._planned(registry)]


def test_negative_control_a_plan_that_converts_nothing_differs() -> None:
    (type_,) = [t for t in PLANNED if t.name == "TimeListChange"]
    value = {"entry": {"caseId": "x", "activityId": "y", "workDate": Leaf("Date", 0), "minutes": 1}}
    with _strawberry_only():
        expected = _build(type_, value)
    definition = strawberry_definition(type_)
    plan = definition.from_input
    definition.from_input = _TakesEverythingAsItIs(definition, plan._graphql_names)
    try:
        assert _build(type_, value) != expected
    finally:
        definition.from_input = plan
