"""Every member of Strawberry and graphql-core that casetime uses without either library documenting it, and the
check that they are all still there (`check`, run when the app is made).

The lean executor (`edge.execution`) calls Strawberry's resolvers without its wrappers and graphql-core's executor
piece by piece; the validation budget, the scalars and the types reach a little further in. After an upgrade of
either library this module is the one place to look at: `check` names what is gone, at start, rather than the first
request that needs it. What a request uses is resolved here once, at import: an unbound method, an `attrgetter` (C),
or a factory the lean executor asks for when it plans a document.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import MISSING
from importlib.metadata import version
from operator import attrgetter
from typing import Any

import strawberry
from graphql import (
    Executor,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLSchema,
    OverlappingFieldsCanBeMergedRule,
    get_argument_values,
)
from graphql.validation.rules.overlapping_fields_can_be_merged import RuleContext
from graphql.validation.validate import ValidationAbortedError
from strawberry.permission import PermissionExtension
from strawberry.relay import GlobalID
from strawberry.resolvers import is_default_resolver
from strawberry.scalars import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.arguments import InputContext, StrawberryArgument
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver
from strawberry.types.info import Info
from strawberry.types.scalar import ScalarDefinition
from strawberry.utils.await_maybe import await_maybe

from db.members import Member, first_missing

__all__ = [
    "CAST_ATTRIBUTE",
    "CamelCaseOnce",
    "DateTimeDefinition",
    "PermissionExtension",
    "ScalarDefinition",
    "StrawberryField",
    "ValidationAbortedError",
    "argument_names",
    "await_maybe",
    "base_resolver",
    "build_resolve_info",
    "check",
    "field_nodes",
    "get_argument_values",
    "graphql_schema",
    "has_enum_definition",
    "info_factory",
    "is_default_resolver",
    "plan_inputs",
    "raw_variables",
    "resolver_parameters",
    "set_merge_budget",
    "strawberry_definition",
]

_DEFINITION = "strawberry-definition"  # the extensions key of a GraphQL type's, field's or schema's Strawberry object
CAST_ATTRIBUTE = "__as_strawberry_type__"  # set on a value by `strawberry.cast`: its type, whatever its class

# graphql-core's resolve info of a field, as its executor builds it: (executor, field, nodes, parent type, path)
build_resolve_info = Executor.build_resolve_info
# the field nodes under a Strawberry `Info`
field_nodes: attrgetter[Any] = attrgetter("_raw_info.field_nodes")
# the request's variables under a Strawberry `Info` as graphql-core holds them (`get_argument_values` takes these;
# Strawberry's `variable_values` is a plain dict of them)
raw_variables: attrgetter[Any] = attrgetter("_raw_info.variable_values")


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built."""
    return schema._schema


def strawberry_definition(owner: GraphQLField | GraphQLSchema | GraphQLInputObjectType) -> Any:
    """The Strawberry object behind a graphql-core field, schema or input type (its StrawberryField, its Schema, its
    StrawberryObjectDefinition), or None."""
    return (owner.extensions or {}).get(_DEFINITION)


def base_resolver(field: Any) -> StrawberryResolver[Any] | None:
    """The resolver a StrawberryField was given, None for a field read from its object (or a plain dataclass field)."""
    return getattr(field, "base_resolver", None)


def resolver_parameters(resolver: StrawberryResolver[Any]) -> tuple[bool, tuple[str, ...], str | None]:
    """How Strawberry calls `resolver`: whether the source is `self`, the parameters named for the source (its
    `parent` and `root`), and the parameter taking the `Info`, if any."""
    sources = (resolver.parent_parameter, resolver.root_parameter)
    info = resolver.info_parameter
    info_name = info.name if info is not None else None
    return resolver.self_parameter is not None, tuple(p.name for p in sources if p is not None), info_name


def argument_names(schema: strawberry.Schema, field: StrawberryField) -> dict[str, str]:
    """GraphQL argument name -> Python parameter name of the field's arguments."""
    convert = schema.config.name_converter.from_argument
    return {convert(argument): argument.python_name for argument in field.arguments}


def info_factory(schema: strawberry.Schema) -> Callable[[Any, StrawberryField], Any]:
    """What makes a Strawberry `Info` of a graphql-core resolve info and a field: (raw info, field) -> Info."""
    factory: Callable[[Any, StrawberryField], Any] = schema.config.info_class
    return factory


class CamelCaseOnce(NameConverter):
    """Strawberry's names, each camel-cased once: converting a mutation's input asks for the name of every field of
    it on every request (`to_camel_case` was ~1% of a write's CPU, bench/README.md)."""

    def __init__(self) -> None:
        super().__init__(auto_camel_case=True)
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = super().apply_naming_config(name)
        return found


# --- input objects built from a plan ---------------------------------------------------------------------------------
# Strawberry converts an input value field by field, resolving each field's type and testing what kind of type it is
# on every request: ~5% of a write's CPU for the few fields of `TimeEntryInput` (bench/README.md). Through its
# `from_input` hook (meant for integrations that build their own input values) a plan resolves each field's type once,
# at the first value built: a scalar or an enum (optional or not) is taken as graphql-core parsed it, a list of them is
# copied, as Strawberry copies it, and any other field (a nested input, a list of them, a global ID) is converted by
# Strawberry itself (`InputContext.convert`). The class is then called with the fields, those without a default set to
# None first, as Strawberry does; `tests/graph/test_input_plans.py` holds the two to the same values for every input
# type of the schema.

# a field's conversion: None when the value is taken as it is
Convert = Callable[[Any, InputContext], Any] | None


def _leaf(type_: Any, registry: Mapping[object, Any]) -> bool:
    """Taken as graphql-core parsed it: a scalar's or enum's value (a global ID is decoded by Strawberry)."""
    if type_ is GlobalID:
        return False
    return is_scalar(type_, registry) or isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_)


def _copied(value: list[Any], _context: InputContext) -> list[Any]:
    # graphql-core gives one default list to every request that omits the value: each gets its own
    return list(value)


def _converter(type_: Any, key: str, registry: Mapping[object, Any]) -> Convert:
    if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        inner = type_.of_type
        if _leaf(inner, registry):
            return None
    if _leaf(type_, registry):
        return None
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if isinstance(item, StrawberryOptional) and not isinstance(item, StrawberryMaybe):
            item = item.of_type
        if _leaf(item, registry):
            return _copied

    def by_strawberry(value: Any, context: InputContext) -> Any:
        return context.convert(value, type_, key)

    return by_strawberry


class _Plan:
    """How one input type's value is built."""

    def __init__(self, definition: StrawberryObjectDefinition, graphql_names: dict[str, str]) -> None:
        self._definition = definition
        self._graphql_names = graphql_names  # python name -> GraphQL name
        self._fields: list[tuple[str, str, Convert]] | None = None
        self._unset = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        }

    def _planned(self, registry: Mapping[object, Any]) -> list[tuple[str, str, Convert]]:
        if self._fields is None:
            self._fields = [
                (
                    self._graphql_names[field.python_name],
                    field.python_name,
                    _converter(
                        field.resolve_type(type_definition=self._definition),
                        self._graphql_names[field.python_name],
                        registry,
                    ),
                )
                for field in self._definition.fields
            ]
        return self._fields

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        kwargs = dict(self._unset)
        for graphql_name, python_name, convert in self._planned(context.scalar_registry):
            if graphql_name in value:
                given = value[graphql_name]
                kwargs[python_name] = given if convert is None or given is None else convert(given, context)
        return cls(**kwargs)


def plan_inputs(schema: strawberry.Schema) -> None:
    """Give every input type of `schema` its plan; a type with a `Maybe` field keeps Strawberry's conversion (the
    document rule that refuses a null for it skips types that build their own values)."""
    for graphql_type in graphql_schema(schema).type_map.values():
        if not isinstance(graphql_type, GraphQLInputObjectType):
            continue
        definition = strawberry_definition(graphql_type)
        if not isinstance(definition, StrawberryObjectDefinition) or definition.from_input is not None:
            continue
        if any(isinstance(field.type, StrawberryMaybe) for field in definition.fields):
            continue
        names = {field.python_name: schema.config.name_converter.from_field(field) for field in definition.fields}
        definition.from_input = _Plan(definition, names)


def set_merge_budget(rule: OverlappingFieldsCanBeMergedRule, budget: int) -> None:
    """The work units the field-merging rule may spend on one document before it aborts validation."""
    rule.rule_context.remaining_complexity_budget = budget


_MEMBERS: tuple[Member, ...] = (
    (GraphQLCoreConverter, "DEFINITION_BACKREF", "value", (_DEFINITION,)),
    (inspect.getmodule(strawberry.cast), "TYPE_CAST_ATTRIBUTE", "value", (CAST_ATTRIBUTE,)),
    (strawberry.Schema, "_schema", "attribute", ()),
    (StrawberryConfig, "info_class", "attribute", ()),
    (StrawberryConfig, "name_converter", "attribute", ()),
    (NameConverter, "from_argument", "method", ("self", "argument")),
    (NameConverter, "apply_naming_config", "method", ("self", "name")),
    (Info, "_raw_info", "fields", ("_raw_info", "_field")),
    (StrawberryField, "base_resolver", "property", ()),
    (StrawberryField, "arguments", "property", ()),
    (StrawberryField, "python_name", "property", ()),
    (StrawberryField, "extensions", "attribute", ()),
    (StrawberryArgument, "python_name", "attribute", ()),
    (StrawberryResolver, "self_parameter", "attribute", ()),
    (StrawberryResolver, "info_parameter", "attribute", ()),
    (StrawberryResolver, "parent_parameter", "attribute", ()),
    (StrawberryResolver, "root_parameter", "attribute", ()),
    (PermissionExtension, "permissions", "attribute", ()),
    (PermissionExtension, "fail_silently", "attribute", ()),
    (Executor, "build", "method", ("schema", "document", "root_value", "context_value", "raw_variable_values")),
    (Executor, "build_resolve_info", "method", ("self", "field_def", "field_nodes", "parent_type", "path")),
    (Executor, "variable_values", "attribute", ()),
    (Executor, "hide_suggestions", "attribute", ()),
    (Executor, "root_value", "attribute", ()),
    (
        inspect.getmodule(get_argument_values),
        "get_argument_values",
        "function",
        ("type_def", "node", "variable_values", "fragment_variable_values", "hide_suggestions"),
    ),
    (OverlappingFieldsCanBeMergedRule, "rule_context", "attribute", ()),
    (RuleContext, "remaining_complexity_budget", "attribute", ()),
    (StrawberryObjectDefinition, "from_input", "attribute", ()),
    (InputContext, "convert", "method", ("self", "value", "type_")),
    (InputContext, "scalar_registry", "fields", ("info", "config", "scalar_registry", "path")),
)


def check() -> None:
    """RuntimeError naming the first member that is gone or changed shape, with the versions installed."""
    missing = first_missing(_MEMBERS)
    if missing is not None:
        raise RuntimeError(
            f"{missing} in strawberry-graphql {version('strawberry-graphql')} (graphql-core "
            f"{version('graphql-core')}): update graph/strawberry_internals.py"
        )
