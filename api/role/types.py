from __future__ import annotations

from typing import Any, cast

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError
from graph.node import Node
from graph.objects import (
    Fields,
    Prefixed,
    declared_view,
    described_enum,
    described_field,
    fields,
    given,
    user_errors_field,
)
from models import EmployeeVisibility
from services.roles import RoleData

EmployeeVisibilityEnum = described_enum(
    EmployeeVisibility,
    name="EmployeeVisibility",
    description="Whose names a role sees. A hidden employee's name is left out everywhere (null, with "
    "`employeeHidden: true` on time); administrators see all.",
    values={
        "ALL": "Every employee (the default).",
        "OWN": "Only oneself.",
        "OWN_AND_SUBORDINATES": "Oneself and everyone below one in the supervisor chain.",
        "SELECTED_ROLES": "Oneself and the employees holding any of the role's `visibleRoles`.",
    },
)


@strawberry.type(description="What its employees may do, and whose names they see.")
class Role(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    name: str = strawberry.field(description="Display name, unique ignoring case.")
    is_administrator: bool = strawberry.field(
        description="May do everything (settings, roles, employees, master data) and sees every name."
    )
    can_enter_time_for_others: bool = strawberry.field(
        description="May write, edit and delete time of the employees whose names the role sees."
    )
    can_invoice: bool = strawberry.field(
        description="Billing staff: may see, create and void invoices and release over-limit (L) time."
    )
    employee_visibility: EmployeeVisibility = strawberry.field(
        description="Whose names employees of this role see; ALL by default."
    )
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: Any, prefix: str = "") -> Role:
        """Build from a Role model or from a joined row whose role columns carry `prefix`."""
        return cls.from_fields(fields(row), prefix)

    @classmethod
    def from_fields(cls, row: Fields, prefix: str = "") -> Role:
        return _role_of_row(Prefixed(row, prefix) if prefix else row, None)

    @described_field("Under SELECTED_ROLES, the roles whose employees this role sees; ignored under any other.")
    async def visible_roles(self, info: Info) -> list[Role]:
        loaders = info.context.loaders
        role_ids = await loaders.visible_role_ids_by_role_id.load(self.db_id)
        return [Role.from_model(r) for r in await loaders.role_by_id.load_many(role_ids) if r is not None]


@strawberry.input(
    description="A role to create, or the changes to one: a field left out stays as it is (on create: off, ALL)."
)
class RoleInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="1 to 200 characters, trimmed; unique ignoring case (DUPLICATE). Needed to create.",
    )
    is_administrator: bool | None = strawberry.field(default=strawberry.UNSET, description="May do everything.")
    can_enter_time_for_others: bool | None = strawberry.field(
        default=strawberry.UNSET, description="May write time for the employees the role sees."
    )
    can_invoice: bool | None = strawberry.field(
        default=strawberry.UNSET, description="May invoice and release over-limit time."
    )
    employee_visibility: EmployeeVisibility | None = strawberry.field(
        default=strawberry.UNSET, description="Whose names the role sees."
    )
    visible_role_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces the role's `visibleRoles`; null or [] empties it. An unknown ID is NOT_FOUND.",
    )

    def to_data(self) -> RoleData:
        data: dict[str, Any] = given(self)
        if data.get("visible_role_ids") is not None:
            data["visible_role_ids"] = [ids.require(v, "Role", "visibleRoleIds") for v in data["visible_role_ids"]]
        return cast(RoleData, data)


@strawberry.type(description="The answer to `createRole` and `updateRole`.")
class RolePayload:
    role: Role | None = strawberry.field(default=None, description="The role as written; null when refused.")
    user_errors: list[UserError] = user_errors_field()


_role_of_row = declared_view(Role)
