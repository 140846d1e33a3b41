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
from collections.abc import Callable
from importlib.metadata import version
from operator import attrgetter
from typing import Any

import strawberry
from graphql import Executor, GraphQLField, GraphQLSchema, OverlappingFieldsCanBeMergedRule, get_argument_values
from graphql.validation.rules.overlapping_fields_can_be_merged import RuleContext
from graphql.validation.validate import ValidationAbortedError
from strawberry.permission import PermissionExtension
from strawberry.resolvers import is_default_resolver
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.enum import has_enum_definition
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


def strawberry_definition(owner: GraphQLField | GraphQLSchema) -> Any:
    """The Strawberry object behind a graphql-core field or schema (its StrawberryField, its Schema), or None."""
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
)


def check() -> None:
    """RuntimeError naming the first member that is gone or changed shape, with the versions installed."""
    missing = first_missing(_MEMBERS)
    if missing is not None:
        raise RuntimeError(
            f"{missing} in strawberry-graphql {version('strawberry-graphql')} (graphql-core "
            f"{version('graphql-core')}): update graph/strawberry_internals.py"
        )
