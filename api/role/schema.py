"""Root fields of roles and what each role's members see."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.role.types import Role, RoleInput, RolePayload
from graph import ids
from graph.context import Info
from graph.permissions import ADMIN, USER
from graph.write import Refused, write
from services import roles


async def roles_list(info: Info) -> list[Role]:
    async with info.context.db.read() as session:
        return [Role.from_model(r) for r in await roles.list_all(session)]


async def create_role(
    info: Info, input: Annotated[RoleInput, strawberry.argument(description="The role to create.")]
) -> RolePayload:
    outcome = await write(info, input.to_data, roles.create)
    if isinstance(outcome, Refused):
        return RolePayload(user_errors=outcome.errors)
    return RolePayload(role=Role.from_model(outcome))


async def update_role(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The role to change.")],
    input: Annotated[RoleInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> RolePayload:
    outcome = await write(
        info,
        lambda: (ids.require(id, "Role", "id"), input.to_data()),
        lambda session, given: roles.update(session, *given, by=info.context.me.employee_id),
    )
    if isinstance(outcome, Refused):
        return RolePayload(user_errors=outcome.errors)
    return RolePayload(role=Role.from_model(outcome))


@strawberry.type
class RoleQueries:
    roles: list[Role] = strawberry.field(
        resolver=roles_list, permission_classes=USER, description="Every role, by name."
    )


@strawberry.type
class RoleMutations:
    create_role: RolePayload = strawberry.mutation(
        resolver=create_role, permission_classes=ADMIN, description="Create a role. Administrators only."
    )
    update_role: RolePayload = strawberry.mutation(
        resolver=update_role, permission_classes=ADMIN, description="Change a role. Administrators only."
    )
