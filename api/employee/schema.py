"""Root fields of employees, the viewer and their rates."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.employee.types import Employee, EmployeeInput, EmployeePayload, EmployeeRateInput
from api.role.types import Role
from graph import ids
from graph.compiler import Source
from graph.context import Info
from graph.loaders import forget
from graph.pagination import After, Connection, First, connection, decode_cursor, page_size
from graph.permissions import ADMIN, USER
from graph.write import Refused, read_back, write
from models import Employee as EmployeeModel
from services import employees
from services.paging import AnyRow, Window


async def viewer(info: Info) -> Employee:
    row = await info.context.loaders.employee_by_id.load(info.context.me.employee_id)
    assert row is not None  # authentication just read this employee
    return Employee.from_row(row)


async def employees_page(
    info: Info,
    first: First = 50,
    after: After = None,
    search: Annotated[
        str | None,
        strawberry.argument(
            description="Only employees whose name or email holds this text, ignoring case; a hidden one never matches."
        ),
    ] = None,
) -> Connection[Employee]:
    """Employees whose names the viewer may see, by name (SPEC 5)."""
    size = page_size(first)
    cursor = decode_cursor(after, employees.KEYSET)
    ctx = info.context

    async def count_total() -> int:
        async with ctx.db.read() as session:
            return await employees.total(session, ctx.visibility, search=search)

    compiled = ctx.compiled_edges(info)
    if compiled is not None:
        source, values = Source.matching(employees.filters(ctx.visibility, search))
        return await ctx.connection(info, compiled, source, employees.KEYSET, Window(size, cursor), params=values)
    async with ctx.db.reader() as reader:
        page = await employees.page(reader, ctx.visibility, first=size, after=cursor, search=search)
    roles: dict[int, Role] = {}  # one Role object per role on the page
    return connection(page, employees.KEYSET, lambda row: Employee.from_row(row, roles), count_total)


async def _row(session: AsyncSession, written: EmployeeModel) -> AnyRow | None:
    return (await employees.rows_by_ids(session, [written.id]))[0]


def _payload(info: Info, outcome: tuple[EmployeeModel, AnyRow | None]) -> EmployeePayload:
    written, row = outcome
    forget(info.context.loaders.employee_by_id, [written.id])
    return EmployeePayload(employee=Employee.from_row(row) if row else None)


async def create_employee(
    info: Info, input: Annotated[EmployeeInput, strawberry.argument(description="The employee to create.")]
) -> EmployeePayload:
    ctx = info.context
    outcome = await write(
        info, input.to_data, read_back(lambda session, data: employees.create(session, ctx.passwords, data), _row)
    )
    if isinstance(outcome, Refused):
        return EmployeePayload(user_errors=outcome.errors)
    return _payload(info, outcome)


async def update_employee(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The employee to change.")],
    input: Annotated[EmployeeInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> EmployeePayload:
    ctx = info.context
    outcome = await write(
        info,
        lambda: (ids.require(id, "Employee", "id"), input.to_data()),
        read_back(lambda session, given: employees.update(session, ctx.passwords, *given), _row),
    )
    if isinstance(outcome, Refused):
        return EmployeePayload(user_errors=outcome.errors)
    return _payload(info, outcome)


async def set_employee_rate(
    info: Info, input: Annotated[EmployeeRateInput, strawberry.argument(description="The employee, activity and rate.")]
) -> EmployeePayload:
    outcome = await write(
        info,
        lambda: (
            ids.require(input.employee_id, "Employee", "employeeId"),
            ids.require(input.activity_id, "Activity", "activityId"),
        ),
        read_back(
            lambda session, given: employees.set_rate(
                session,
                employee_id=given[0],
                activity_id=given[1],
                rate=None if input.rate is strawberry.UNSET else input.rate,
            ),
            _row,
        ),
    )
    if isinstance(outcome, Refused):
        return EmployeePayload(user_errors=outcome.errors)
    return _payload(info, outcome)


@strawberry.type
class EmployeeQueries:
    viewer: Employee = strawberry.field(resolver=viewer, permission_classes=USER, description="The logged-in employee.")
    employees: Connection[Employee] = strawberry.field(
        resolver=employees_page,
        permission_classes=USER,
        description="The employees whose names the viewer may see, by name.",
    )


@strawberry.type
class EmployeeMutations:
    create_employee: EmployeePayload = strawberry.mutation(
        resolver=create_employee,
        permission_classes=ADMIN,
        description="Create an employee. Administrators only.",
    )
    update_employee: EmployeePayload = strawberry.mutation(
        resolver=update_employee,
        permission_classes=ADMIN,
        description="Change an employee; a new password or `active: false` revokes all their tokens. Administrators "
        "only.",
    )
    set_employee_rate: EmployeePayload = strawberry.mutation(
        resolver=set_employee_rate,
        permission_classes=ADMIN,
        description="Set or remove an employee's rate for one activity. Administrators only.",
    )
