"""Every field of a declared type has its declaration (graph.declarations), and each declaration names what the
schema and the tables hold: a type that gains a field fails here until the field is declared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Integer, Numeric, String, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.time_entry.types import _entry_of_row as _entry_view
from edge.schema import schema
from graph import ids
from graph.declarations import DECLARATIONS, Column, Declaration, Derived, Seeing, ToOne, Viewing
from models import EmployeeVisibility, TimeStatus
from services import reporting
from services.auth import Viewer
from services.reporting import Dimension
from services.time_queries import EntryFilter
from services.visibility import EVERYONE, Visibility

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


# --- both renderers from one declaration: each expression and each relation's rule, SQL twin against Python twin


@dataclass(frozen=True)
class _Sample:
    """One row's columns, as the compiled statement reads them (`sql`: literals) and as objects do (`python`)."""

    values: dict[str, Any]

    @property
    def python(self) -> dict[str, Any]:
        return self.values

    @property
    def sql(self) -> Any:
        return SimpleNamespace(**{name: _literal(value) for name, value in self.values.items()})


def _literal(value: Any) -> Any:
    if isinstance(value, TimeStatus):
        return literal(value.value, String)
    if isinstance(value, bool):
        return literal(value, Boolean)
    if isinstance(value, Decimal):
        return literal(value, Numeric(12, 2))
    return literal(value, Integer)


PEOPLE = st.integers(min_value=1, max_value=4)
ROWS = st.builds(
    lambda status, employee, created, updated, supervisor, hidden, amount, billable_amount, invoice: _Sample(
        {
            "status": status,
            "employee_id": employee,
            "created_by_id": created,
            "updated_by_id": updated,
            "supervisor_id": supervisor,
            "employee_hidden": hidden,
            "amount": amount,
            "billable_amount": billable_amount,
            "invoice_id": invoice,
        }
    ),
    st.sampled_from(TimeStatus),
    PEOPLE,
    PEOPLE,
    PEOPLE,
    PEOPLE,
    st.booleans(),
    st.decimals(min_value=0, max_value=10_000, places=2),
    st.decimals(min_value=0, max_value=10_000, places=2),
    st.integers(min_value=1, max_value=9),
)
VIEWERS = st.builds(
    lambda me, admin, others, invoices: Viewer(
        employee_id=me,
        role_id=1,
        is_administrator=admin,
        can_enter_time_for_others=others,
        can_invoice=invoices,
        visibility=EmployeeVisibility.ALL,
    ),
    PEOPLE,
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
VISIBILITIES = st.none() | st.frozensets(PEOPLE)
# every expression and every rule of a relation, of every declaration: one added later is tested here too
TWINS = [
    (f"{d.type_name}.{name}", field)
    for d in DECLARATIONS.values()
    for name, field in d.fields.items()
    if isinstance(field, Derived) or (isinstance(field, ToOne) and field.shown is not None)
]


def _twins(field: Derived | ToOne) -> tuple[Callable[[Any, Viewing], Any], Callable[[Any, Seeing], Any]]:
    if isinstance(field, Derived):
        return field.expression, field.python
    assert field.shown is not None
    return field.shown.sql, field.shown.python


@pytest.mark.parametrize(("name", "field"), TWINS, ids=[name for name, _ in TWINS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=ROWS, viewer=st.none() | VIEWERS, visible=VISIBILITIES, editing=st.booleans())
async def test_each_expression_and_rule_has_equal_twins(
    session: AsyncSession,
    name: str,
    field: Derived | ToOne,
    row: _Sample,
    viewer: Viewer | None,
    visible: frozenset[int] | None,
    editing: bool,
) -> None:
    visibility = Visibility(visible)
    sql, python = _twins(field)
    parameters = Viewing.parameters(visibility, viewer, editing=editing)
    answered = await session.scalar(select(sql(row.sql, Viewing.of(visibility))), parameters)
    assert answered == python(row.python, Seeing(visibility, viewer, editing=editing)), name


def test_a_wrong_twin_is_caught() -> None:
    """Negative control: a Python twin that forgets the viewer's visibility differs from its SQL twin."""
    field = DECLARATIONS["TimeEntry"].fields["employeeHidden"]
    assert isinstance(field, Derived)
    row = _Sample({"employee_id": 2})
    hidden_two = Seeing(Visibility(frozenset({1})), None)
    wrong = Derived(field.expression, lambda row, seeing: False, field.codec)
    assert field.python(row.python, hidden_two) is True
    assert wrong.python(row.python, hidden_two) is not field.python(row.python, hidden_two)


def test_objects_answer_as_the_declaration_says() -> None:
    """An object built by `declared_view` reads its ID through the codec, its expressions through their twins."""
    from api.time_entry.types import EntryBuilder

    builder = SimpleNamespace(seeing=Seeing(Visibility(frozenset({1})), None, editing=False))
    entry = EntryBuilder.__new__(EntryBuilder)
    entry.seeing = builder.seeing
    row = {
        "id": 7,
        "status": TimeStatus.INVOICED,
        "employee_id": 2,
        "invoice_id": 3,
        "created_by_id": 1,
        "updated_by_id": 2,
    }
    view = _entry_view(row, entry)
    assert view.id == ids.encode("TimeEntry", 7)
    assert view.db_id == 7
    assert view.billable is True
    assert view.employee_hidden is True
    assert view.employee is None  # hidden: the relation's rule, before its builder is asked
    assert view.editable is False
