"""Roles and whose names each role sees (SPEC 2, 5)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, cast

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import EmployeeVisibility, Role, role_visible_roles
from services import events, validation
from services.errors import not_found
from services.integrity import flush, touch

_RULES = {"uq_roles_name_ci": validation.duplicate("a role with this name", "name")}


class RoleData(TypedDict, total=False):
    name: str | None
    is_administrator: bool | None
    can_enter_time_for_others: bool | None
    can_invoice: bool | None
    employee_visibility: EmployeeVisibility | None
    visible_role_ids: list[int] | None


async def list_all(session: AsyncSession) -> Sequence[Role]:
    return (await session.scalars(select(Role).order_by(func.lower(Role.name), Role.id))).all()


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Role | None]:
    found = {r.id: r for r in (await session.scalars(select(Role).where(Role.id.in_(ids)))).all()}
    return [found.get(i) for i in ids]


async def visible_role_ids_by_role_ids(session: AsyncSession, ids: Sequence[int]) -> list[list[int]]:
    rows = await session.execute(
        select(role_visible_roles.c.role_id, role_visible_roles.c.visible_role_id)
        .where(role_visible_roles.c.role_id.in_(ids))
        .order_by(role_visible_roles.c.visible_role_id)
    )
    grouped: dict[int, list[int]] = {i: [] for i in ids}
    for role_id, visible_id in rows:
        grouped[role_id].append(visible_id)
    return [grouped[i] for i in ids]


_FIELDS = validation.Fields(
    {"name": validation.name},
    needed=("name",),
    defaulted=("is_administrator", "can_enter_time_for_others", "can_invoice", "employee_visibility"),
)


def _checked(data: RoleData, *, creating: bool) -> RoleData:
    """The given fields, each checked (SPEC 5b): every broken rule is refused at once; a flag may not be cleared."""
    fields = {key: value for key, value in data.items() if key != "visible_role_ids"}
    return cast(RoleData, _FIELDS.checked(fields, creating=creating))


async def create(session: AsyncSession, data: RoleData) -> Role:
    """Create a role; every flag not given is off and visibility defaults to ALL."""
    role = Role(**_checked(data, creating=True))
    session.add(role)
    await flush(session, _RULES)
    await _set_visible_roles(session, role, data)
    return role


async def update(session: AsyncSession, role_id: int, data: RoleData, *, by: int | None = None) -> Role:
    """Change a role; `by`, the administrator doing it, is what its `role.changed` event names (SPEC 13)."""
    checked = _checked(data, creating=False)
    if by is not None:
        await events.act_as(session, by)
    role = await session.get(Role, role_id, with_for_update=True)
    if role is None:
        raise not_found("Role", "id")
    for key, value in checked.items():
        setattr(role, key, value)
    touch(role)
    await flush(session, _RULES)
    await _set_visible_roles(session, role, data)
    return role


async def _set_visible_roles(session: AsyncSession, role: Role, data: RoleData) -> None:
    if "visible_role_ids" not in data:
        return
    wanted = sorted(set(data["visible_role_ids"] or []))
    if wanted:
        known = set((await session.scalars(select(Role.id).where(Role.id.in_(wanted)))).all())
        if len(known) != len(wanted):
            raise not_found("Visible role", "visibleRoleIds")
    await session.execute(delete(role_visible_roles).where(role_visible_roles.c.role_id == role.id))
    if wanted:
        await session.execute(insert(role_visible_roles), [{"role_id": role.id, "visible_role_id": v} for v in wanted])
