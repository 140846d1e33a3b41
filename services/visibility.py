"""Whose names a viewer sees (SPEC 5): decided once per request, applied everywhere a name can show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ARRAY, Integer, any_, bindparam, cast, literal, select, union
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement, Select

from db.driver import Prebuilt, Reader
from models import Employee, EmployeeVisibility, role_visible_roles
from services.auth import Viewer

S = TypeVar("S", bound=Select)  # type: ignore[type-arg]


@dataclass(frozen=True, slots=True)
class Visibility:
    """`visible_ids` None means every employee is visible."""

    visible_ids: frozenset[int] | None

    @property
    def sees_all(self) -> bool:
        return self.visible_ids is None

    def can_see(self, employee_id: int | None) -> bool:
        return employee_id is not None and (self.visible_ids is None or employee_id in self.visible_ids)

    def condition(self, column: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool] | None:
        if self.visible_ids is None:
            return None
        # cast: an empty array written out as a literal (`ARRAY[]`) has no type of its own
        return column == any_(cast(literal(sorted(self.visible_ids), ARRAY(Integer)), ARRAY(Integer)))

    def where(self, stmt: S, column: ColumnElement[int] | InstrumentedAttribute[int]) -> S:
        condition = self.condition(column)
        return stmt if condition is None else stmt.where(condition)


EVERYONE = Visibility(None)
NOBODY = Visibility(frozenset())


async def for_viewer(reader: Reader, viewer: Viewer | None) -> Visibility:
    """The policy of SPEC 5 for this viewer; administrators and ALL roles cost no query."""
    if viewer is None:
        return NOBODY
    if viewer.is_administrator or viewer.visibility is EmployeeVisibility.ALL:
        return EVERYONE
    if viewer.visibility is EmployeeVisibility.OWN:
        return Visibility(frozenset({viewer.employee_id}))
    if viewer.visibility is EmployeeVisibility.OWN_AND_SUBORDINATES:
        return Visibility(frozenset(await subordinates_and_self(reader, viewer.employee_id)))
    return Visibility(frozenset(await self_and_selected_roles(reader, viewer)))


def _subordinates_and_self() -> Select[tuple[int]]:
    """Everyone below `employee_id` through the whole supervisor chain; UNION stops at cycles."""
    tree = select(bindparam("employee_id", type_=Integer).label("id")).cte("tree", recursive=True)
    tree = tree.union(select(Employee.id).join(tree, Employee.supervisor_id == tree.c.id))
    return select(tree.c.id)


def _self_and_selected_roles() -> Select[tuple[int]]:
    """The viewer and everyone whose role is among those the viewer's role may see."""
    selected = select(role_visible_roles.c.visible_role_id).where(
        role_visible_roles.c.role_id == bindparam("role_id", type_=Integer)
    )
    found = union(
        select(bindparam("employee_id", type_=Integer).label("id")),
        select(Employee.id).where(Employee.role_id.in_(selected)),
    ).subquery()
    return select(found.c.id)


_SUBORDINATES_AND_SELF = Prebuilt(_subordinates_and_self())
_SELF_AND_SELECTED_ROLES = Prebuilt(_self_and_selected_roles())


async def subordinates_and_self(reader: Reader, employee_id: int) -> list[int]:
    return [row["id"] for row in await _SUBORDINATES_AND_SELF.fetch(reader, {"employee_id": employee_id})]


async def self_and_selected_roles(reader: Reader, viewer: Viewer) -> list[int]:
    params = {"employee_id": viewer.employee_id, "role_id": viewer.role_id}
    return [row["id"] for row in await _SELF_AND_SELECTED_ROLES.fetch(reader, params)]
