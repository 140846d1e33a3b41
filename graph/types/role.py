from __future__ import annotations

from typing import Any, cast

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError
from graph.types.common import Fields, fields, given
from graph.types.node import Node
from models import EmployeeVisibility
from services.roles import RoleData

EmployeeVisibilityEnum = strawberry.enum(EmployeeVisibility, name="EmployeeVisibility")


@strawberry.type
class Role(Node):
    id: strawberry.ID
    name: str
    is_administrator: bool
    can_enter_time_for_others: bool
    can_invoice: bool
    employee_visibility: EmployeeVisibility
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: Any, prefix: str = "") -> Role:
        """Build from a Role model or from a joined row whose role columns carry `prefix`."""
        return cls.from_fields(fields(row), prefix)

    @classmethod
    def from_fields(cls, row: Fields, prefix: str = "") -> Role:
        db_id = row[f"{prefix}id"] if not prefix else row["role_id"]
        return cls(
            id=ids.encode("Role", db_id),
            db_id=db_id,
            name=row[f"{prefix}name"],
            is_administrator=row[f"{prefix}is_administrator"],
            can_enter_time_for_others=row[f"{prefix}can_enter_time_for_others"],
            can_invoice=row[f"{prefix}can_invoice"],
            employee_visibility=row[f"{prefix}employee_visibility"],
        )

    @strawberry.field
    async def visible_roles(self, info: Info) -> list[Role]:
        loaders = info.context.loaders
        role_ids = await loaders.visible_role_ids_by_role_id.load(self.db_id)
        return [Role.from_model(r) for r in await loaders.role_by_id.load_many(role_ids) if r is not None]


@strawberry.input
class RoleInput:
    name: str | None = strawberry.UNSET
    is_administrator: bool | None = strawberry.UNSET
    can_enter_time_for_others: bool | None = strawberry.UNSET
    can_invoice: bool | None = strawberry.UNSET
    employee_visibility: EmployeeVisibility | None = strawberry.UNSET
    visible_role_ids: list[strawberry.ID] | None = strawberry.UNSET

    def to_data(self) -> RoleData:
        data: dict[str, Any] = given(self)
        if data.get("visible_role_ids") is not None:
            data["visible_role_ids"] = [ids.require(v, "Role", "visibleRoleIds") for v in data["visible_role_ids"]]
        return cast(RoleData, data)


@strawberry.type
class RolePayload:
    role: Role | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
