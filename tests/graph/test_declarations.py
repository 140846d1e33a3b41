"""Every field of a declared type has its declaration (graph.declarations), and each declaration names what the
schema and the tables hold: a type that gains a field fails here until the field is declared."""

from __future__ import annotations

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

from edge.schema import schema
from graph.declarations import DECLARATIONS, Column, Declaration, ToOne
from services import reporting
from services.reporting import Dimension
from services.time_queries import EntryFilter
from services.visibility import EVERYONE

GRAPHQL = schema._schema
# the selectables each request gives a declaration without a model, with every column they may have
RUN_TIME_ROWS = {
    "ReportRow": reporting.grouped(
        EVERYONE, EntryFilter(), [d for d in Dimension if d not in reporting.PERIODS] + [Dimension.WEEK], start_month=1
    )
    .rows()
    .g,
}


def _object_type(name: str) -> GraphQLObjectType:
    found = GRAPHQL.get_type(name)
    assert isinstance(found, GraphQLObjectType), name
    return found


@pytest.mark.parametrize("declaration", DECLARATIONS.values(), ids=lambda d: d.type_name)
def test_every_field_is_declared(declaration: Declaration) -> None:
    assert set(declaration.fields) == set(_object_type(declaration.type_name).fields)


@pytest.mark.parametrize("declaration", DECLARATIONS.values(), ids=lambda d: d.type_name)
def test_columns_and_relations_exist(declaration: Declaration) -> None:
    graphql_type = _object_type(declaration.type_name)
    columns = (RUN_TIME_ROWS[declaration.type_name] if declaration.model is None else declaration.model.__table__).c
    for name, field in declaration.fields.items():
        if isinstance(field, Column):
            assert field.name in columns, f"{declaration.type_name}.{name}"
        elif isinstance(field, ToOne):
            assert field.key in columns, f"{declaration.type_name}.{name}"
            target = graphql_type.fields[name].type
            while isinstance(target, GraphQLNonNull | GraphQLList):
                target = target.of_type
            assert isinstance(target, GraphQLObjectType)
            assert target.name == field.type_name in DECLARATIONS, f"{declaration.type_name}.{name}"


def test_a_missing_declaration_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: a declaration without one of its type's fields fails the completeness check."""
    declaration = DECLARATIONS["TimeEntry"]
    fewer = {name: field for name, field in declaration.fields.items() if name != "minutes"}
    with pytest.raises(AssertionError):
        test_every_field_is_declared(Declaration(declaration.type_name, declaration.model, fewer))
