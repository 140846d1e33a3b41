"""Whose names a viewer sees (SPEC 5): decided once per request, applied everywhere a name can show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ARRAY, Integer, any_, cast, literal, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement, Select

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


async def for_viewer(session: AsyncSession, viewer: Viewer | None) -> Visibility:
    """The policy of SPEC 5 for this viewer; administrators and ALL roles cost no query."""
    if viewer is None:
        return NOBODY
    if viewer.is_administrator or viewer.visibility is EmployeeVisibility.ALL:
        return EVERYONE
    if viewer.visibility is EmployeeVisibility.OWN:
        return Visibility(frozenset({viewer.employee_id}))
    if viewer.visibility is EmployeeVisibility.OWN_AND_SUBORDINATES:
        return Visibility(frozenset(await subordinates_and_self(session, viewer.employee_id)))
    return Visibility(frozenset(await self_and_selected_roles(session, viewer)))


async def subordinates_and_self(session: AsyncSession, employee_id: int) -> list[int]:
    """Everyone below `employee_id` through the whole supervisor chain; UNION stops at cycles."""
    tree = select(literal(employee_id, Integer).label("id")).cte("tree", recursive=True)
    tree = tree.union(select(Employee.id).join(tree, Employee.supervisor_id == tree.c.id))
    return list((await session.scalars(select(tree.c.id))).all())


async def self_and_selected_roles(session: AsyncSession, viewer: Viewer) -> list[int]:
    selected = select(role_visible_roles.c.visible_role_id).where(role_visible_roles.c.role_id == viewer.role_id)
    stmt = union(
        select(literal(viewer.employee_id, Integer)),
        select(Employee.id).where(Employee.role_id.in_(selected)),
    )
    return list((await session.scalars(stmt)).all())
