from __future__ import annotations

from typing import Annotated

import strawberry

from graph import ids
from graph.context import Info
from graph.types.role import Role, RoleInput, RolePayload
from resolvers.write import Refused, write
from services import roles


async def roles_list(info: Info) -> list[Role]:
    async with info.context.db.read() as session:
        return [Role.from_model(r) for r in await roles.list_all(session)]


async def create_role(
    info: Info, input: Annotated[RoleInput, strawberry.argument(description="The role to create.")]
) -> RolePayload:
    outcome = await write(info, lambda session: roles.create(session, input.to_data()))
    if isinstance(outcome, Refused):
        return RolePayload(user_errors=outcome.errors)
    return RolePayload(role=Role.from_model(outcome))


async def update_role(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The role to change.")],
    input: Annotated[RoleInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> RolePayload:
    outcome = await write(info, lambda session: roles.update(session, ids.require(id, "Role", "id"), input.to_data()))
    if isinstance(outcome, Refused):
        return RolePayload(user_errors=outcome.errors)
    return RolePayload(role=Role.from_model(outcome))
