from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import strawberry

from api.activity.types import Activity
from api.role.types import Role
from graph import ids
from graph.context import Info
from graph.declarations import EMPLOYEE, Seeing
from graph.errors import UserError
from graph.node import Node
from graph.objects import Fields, declared_view, described_field, fields, given, shown_key, user_errors_field
from services.employees import EmployeeData


@strawberry.type(description="An employee's own hourly rate for one activity.")
class EmployeeRate:
    rate: Decimal = strawberry.field(
        description="Hourly rate; it comes after a case's or debtor's adjusted rate and before the employee's default."
    )
    activity_id: strawberry.Private[int]

    @described_field("The activity the rate is for.")
    async def activity(self, info: Info) -> Activity:
        activity = await info.context.loaders.activity_by_id.load(self.activity_id)
        assert activity is not None  # a foreign key holds it
        return Activity.from_model(activity)


_SUPERVISOR = EMPLOYEE.relation("supervisor")


@strawberry.type(
    description="A person who writes time. Only employees the viewer's role may see are shown; elsewhere a hidden "
    "one is null."
)
class Employee(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="The login email, unique ignoring case.")
    role: Role = strawberry.field(description="What the employee may do and whose names they see.")
    active: bool = strawberry.field(
        description="An inactive employee cannot log in, and no time can be written for them."
    )
    default_rate: Decimal | None = strawberry.field(
        description="Hourly rate when the case, debtor and the employee's activity rate set none; null when none."
    )
    db_id: strawberry.Private[int]
    supervisor_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any, roles: dict[int, Role] | None = None) -> Employee:
        """From a row of `services.employees.COLUMNS` (employee with its role joined)."""
        return cls.from_fields(fields(row), roles)

    @classmethod
    def from_fields(cls, f: Fields, roles: dict[int, Role] | None = None) -> Employee:
        """`roles` shares one Role object per role among the rows of one answer."""
        return _employee_of_row(f, roles)

    @described_field("The employee above this one; null when none or when the viewer may not see their name.")
    async def supervisor(self, info: Info) -> Employee | None:
        """Null when there is none or when the viewer may not see the supervisor's name (SPEC 5)."""
        supervisor_id = shown_key(self, _SUPERVISOR, Seeing(info.context.visibility, info.context.viewer))
        if supervisor_id is None:
            return None
        row = await info.context.loaders.employee_by_id.load(supervisor_id)
        return Employee.from_row(row) if row else None

    @described_field("The employee's rates per activity: for administrators and the employee only, else empty.")
    async def activity_rates(self, info: Info) -> list[EmployeeRate]:
        """Visible to administrators and to the employee themself; empty for anyone else (SPEC 5a)."""
        viewer = info.context.viewer
        if viewer is None or not (viewer.is_administrator or viewer.employee_id == self.db_id):
            return []
        rows = await info.context.loaders.rates_by_employee_id.load(self.db_id)
        return [EmployeeRate(rate=r.rate, activity_id=r.activity_id) for r in rows]


@strawberry.input(
    description="An employee to create, or the changes to one: a field left out stays as it is, null clears a "
    "nullable one."
)
class EmployeeInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters, trimmed. Needed to create."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An email address of at most 254 characters, unique ignoring case (DUPLICATE). Needed to create.",
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="12 to 200 characters. Needed to create; setting it later logs the employee out everywhere.",
    )
    role_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Needed to create.")
    supervisor_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The employee above this one; null for none. A cycle in the chain is VALIDATION.",
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True when left out on create; false logs the employee out everywhere."
    )
    default_rate: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Hourly rate, 0 to 99999999.99 with at most 2 decimals; null for none."
    )

    def to_data(self) -> EmployeeData:
        data: dict[str, Any] = given(self)
        if data.get("role_id") is not None:
            data["role_id"] = ids.require(data["role_id"], "Role", "roleId")
        if data.get("supervisor_id") is not None:
            data["supervisor_id"] = ids.require(data["supervisor_id"], "Employee", "supervisorId")
        return cast(EmployeeData, data)


@strawberry.input(description="An employee's rate for one activity.")
class EmployeeRateInput:
    employee_id: strawberry.ID = strawberry.field(description="The employee.")
    activity_id: strawberry.ID = strawberry.field(description="The activity.")
    rate: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Hourly rate, 0 to 99999999.99 with at most 2 decimals; null or left out removes the rate.",
    )


@strawberry.type(description="The answer to `createEmployee`, `updateEmployee` and `setEmployeeRate`.")
class EmployeePayload:
    employee: Employee | None = strawberry.field(
        default=None, description="The employee as written; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


def _role_of(employee: Any) -> Role:
    f, roles = employee._f, employee._shared
    role = roles.get(f["role_id"]) if roles is not None else None
    if role is None:
        role = Role.from_fields(f, prefix="role_")
        if roles is not None:
            roles[role.db_id] = role
    return role


# a page builds 50 employees and a query selects a few fields: read from the row when asked
_employee_of_row = declared_view(Employee, {"role": _role_of})
