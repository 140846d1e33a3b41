from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError
from graph.types.activity import Activity
from graph.types.common import Fields, fields, given
from graph.types.node import Node
from graph.types.role import Role
from services.employees import EmployeeData


@strawberry.type
class EmployeeRate:
    rate: Decimal
    activity_id: strawberry.Private[int]

    @strawberry.field
    async def activity(self, info: Info) -> Activity:
        activity = await info.context.loaders.activity_by_id.load(self.activity_id)
        assert activity is not None  # a foreign key holds it
        return Activity.from_model(activity)


@strawberry.type
class Employee(Node):
    id: strawberry.ID
    name: str
    email: str
    role: Role
    active: bool
    default_rate: Decimal | None
    db_id: strawberry.Private[int]
    supervisor_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any, roles: dict[int, Role] | None = None) -> Employee:
        """From a row of `services.employees.COLUMNS` (employee with its role joined)."""
        return cls.from_fields(fields(row), roles)

    @classmethod
    def from_fields(cls, f: Fields, roles: dict[int, Role] | None = None) -> Employee:
        """`roles` shares one Role object per role among the rows of one answer."""
        db_id = f["id"]
        role = roles.get(f["role_id"]) if roles is not None else None
        if role is None:
            role = Role.from_fields(f, prefix="role_")
            if roles is not None:
                roles[role.db_id] = role
        return cls(
            id=ids.encode("Employee", db_id),
            db_id=db_id,
            name=f["name"],
            email=f["email"],
            role=role,
            active=f["active"],
            default_rate=f["default_rate"],
            supervisor_id=f["supervisor_id"],
        )

    @strawberry.field
    async def supervisor(self, info: Info) -> Employee | None:
        """Null when there is none or when the viewer may not see the supervisor's name (SPEC 5)."""
        if not info.context.visibility.can_see(self.supervisor_id):
            return None
        assert self.supervisor_id is not None
        row = await info.context.loaders.employee_by_id.load(self.supervisor_id)
        return Employee.from_row(row) if row else None

    @strawberry.field
    async def activity_rates(self, info: Info) -> list[EmployeeRate]:
        """Visible to administrators and to the employee themself; empty for anyone else (SPEC 5a)."""
        viewer = info.context.viewer
        if viewer is None or not (viewer.is_administrator or viewer.employee_id == self.db_id):
            return []
        rows = await info.context.loaders.rates_by_employee_id.load(self.db_id)
        return [EmployeeRate(rate=r.rate, activity_id=r.activity_id) for r in rows]


@strawberry.input
class EmployeeInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    password: str | None = strawberry.UNSET
    role_id: strawberry.ID | None = strawberry.UNSET
    supervisor_id: strawberry.ID | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    default_rate: Decimal | None = strawberry.UNSET

    def to_data(self) -> EmployeeData:
        data: dict[str, Any] = given(self)
        if data.get("role_id") is not None:
            data["role_id"] = ids.require(data["role_id"], "Role", "roleId")
        if data.get("supervisor_id") is not None:
            data["supervisor_id"] = ids.require(data["supervisor_id"], "Employee", "supervisorId")
        return cast(EmployeeData, data)


@strawberry.input
class EmployeeRateInput:
    employee_id: strawberry.ID
    activity_id: strawberry.ID
    rate: Decimal | None = strawberry.UNSET


@strawberry.type
class EmployeePayload:
    employee: Employee | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The answer to `login`: a bearer token and who it belongs to, or why not.")
class LoginPayload:
    token: str | None = strawberry.field(
        default=None, description="The bearer token for the Authorization header; null when refused."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token ends (TOKEN_TTL_MINUTES after the login); null when refused."
    )
    viewer: Employee | None = strawberry.field(default=None, description="The employee now logged in.")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="INVALID_CREDENTIALS, with one message whether or not the email exists; TOO_MANY_ATTEMPTS "
        "after too many failed logins for the email or from the client address.",
    )


@strawberry.input(description="An email and password to log in with.")
class LoginInput:
    email: str = strawberry.field(description="Compared without case and surrounding spaces.")
    password: str = strawberry.field(description="The employee's password, as given.")


@strawberry.input(description="The viewer's current password and the one to replace it.")
class ChangePasswordInput:
    current_password: str = strawberry.field(
        description="Checked as a login checks it: a wrong one counts as a failed login of the viewer's email."
    )
    new_password: str = strawberry.field(description="12 to 200 characters.")


@strawberry.type(description="The answer to `changePassword`.")
class ChangePasswordPayload:
    ok: bool = strawberry.field(
        description="True when the password was changed and every other token of the viewer revoked."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="INVALID_CREDENTIALS or TOO_MANY_ATTEMPTS on currentPassword, VALIDATION on newPassword; "
        "all that apply at once.",
    )
