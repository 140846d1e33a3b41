"""Employees, their supervisors and their own rates (SPEC 2, 4, 5)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypedDict, cast

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import Reader
from models import Activity, Employee, EmployeeRate, Role
from services import auth, paging, validation
from services.errors import DomainError, ErrorCode, invalid, not_found
from services.filters import Filter, Filters, Matching, PerCombination, any_of, search_pattern, searching
from services.integrity import flush, touch
from services.paging import AnyRow, AnySelect, Count, Keyset, Ordered, Page, Window
from services.passwords import Passwords
from services.visibility import Visibility

_RULES = {"uq_employees_email_ci": validation.duplicate("an employee with this email", "email")}
# serialises supervisor changes so two concurrent edits cannot close a cycle between them
_SUPERVISOR_LOCK = 0x63617365  # arbitrary, fixed

# SPEC 12, for every way a password is set: createEmployee, updateEmployee, changePassword, cli.py create-admin
PASSWORD_MIN = 12
PASSWORD_MAX = 200

COLUMNS = (
    Employee.id,
    Employee.name,
    Employee.email,
    Employee.role_id,
    Employee.supervisor_id,
    Employee.active,
    Employee.default_rate,
    Employee.version,
    Role.name.label("role_name"),
    Role.is_administrator.label("role_is_administrator"),
    Role.can_enter_time_for_others.label("role_can_enter_time_for_others"),
    Role.can_invoice.label("role_can_invoice"),
    Role.employee_visibility.label("role_employee_visibility"),
    Role.version.label("role_version"),
)
KEYSET = Keyset((Employee.name, Employee.id))


class EmployeeData(TypedDict, total=False):
    name: str | None
    email: str | None
    password: str | None
    role_id: int | None
    supervisor_id: int | None
    active: bool | None
    default_rate: Decimal | None


# built once: statements are immutable, and a reused one keeps its SQL cache key (saves ~0.2 ms a page)
_ROWS: AnySelect = select(*COLUMNS).join(Role, Role.id == Employee.role_id)
# every employee has exactly one role (a non-null foreign key), so counting needs no join
_COUNT_STMT = select(func.count()).select_from(Employee)

# the list's filters, on employee columns only: the page, its count and a compiled list's source are each built once
# for each combination of them; `visible` holds the ids of the employees a viewer who does not see all may see
FILTERS = Filters(Filter("visible", any_of(Employee.id, "visible")), searching(Employee.name, Employee.email))
_PAGES = PerCombination(lambda combination: Ordered(combination.narrowed(_ROWS), KEYSET))
_COUNTS = PerCombination(lambda combination: Count.of(combination.narrowed(_COUNT_STMT)))


def filters(visibility: Visibility, search: str | None) -> Matching:
    """Which of the list's filters apply, with their values, shared by the page and its count: a viewer sees the
    employees `visibility` names, and a hidden one never matches a search."""
    visible = None if visibility.visible_ids is None else sorted(visibility.visible_ids)
    return FILTERS.matching(visible=visible, search=search_pattern(search))


async def page(
    reader: Reader, visibility: Visibility, *, first: int, after: Sequence[Any] | None, search: str | None
) -> Page[AnyRow]:
    """Visible employees by name; a hidden employee never matches a search nor decides an order."""
    matching = filters(visibility, search)
    return await _PAGES.of(matching).page(reader, Window(first, after), params=matching.values)


async def total(session: AsyncSession, visibility: Visibility, *, search: str | None) -> int:
    matching = filters(visibility, search)
    return await _COUNTS.of(matching)(session, matching.values)


_BY_IDS = paging.by_ids(_ROWS, Employee.id)


async def rows_by_ids(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    return await paging.rows_by_ids(reader, _BY_IDS, ids)


async def rates_by_employee_ids(session: AsyncSession, ids: Sequence[int]) -> list[list[AnyRow]]:
    rows = await session.execute(
        select(EmployeeRate.employee_id, EmployeeRate.activity_id, EmployeeRate.rate)
        .join(Activity, Activity.id == EmployeeRate.activity_id)
        .where(EmployeeRate.employee_id.in_(ids))
        .order_by(Activity.code)
    )
    grouped: dict[int, list[AnyRow]] = {i: [] for i in ids}
    for row in rows:
        grouped[row.employee_id].append(row)
    return [grouped[i] for i in ids]


def _checked(data: EmployeeData, *, creating: bool) -> EmployeeData:
    """The given fields, each checked (SPEC 5b, 12); every broken rule is refused at once, before any lookup."""
    return cast(EmployeeData, _FIELDS.checked(data, creating=creating))


async def create(session: AsyncSession, passwords: Passwords, data: EmployeeData) -> Employee:
    """Create an employee; name, email, password and role are required (SPEC 2)."""
    checked = _checked(data, creating=True)
    role_id, secret = validation.required(checked.get("role_id"), "roleId"), checked.get("password")
    await _ensure_role(session, role_id)
    employee = Employee(
        name=checked.get("name"),
        email=checked.get("email"),
        password_hash=await passwords.hash(validation.required(secret, "password")),
        role_id=role_id,
        active=checked.get("active", True),
        default_rate=checked.get("default_rate"),
    )
    session.add(employee)
    await flush(session, _RULES)
    if checked.get("supervisor_id") is not None:
        await _set_supervisor(session, employee, checked.get("supervisor_id"))
        await session.flush()  # sessions do not autoflush: later chain queries must see this link
    return employee


async def update(session: AsyncSession, passwords: Passwords, employee_id: int, data: EmployeeData) -> Employee:
    """Patch an employee; deactivating one or setting their password revokes all their tokens (SPEC 5a, 12)."""
    checked = _checked(data, creating=False)
    employee = await session.get(Employee, employee_id, with_for_update=True)
    if employee is None:
        raise not_found("Employee", "id")
    if "role_id" in checked:
        role_id = validation.required(checked["role_id"], "roleId")
        await _ensure_role(session, role_id)
        employee.role_id = role_id
    for key in ("name", "email", "active", "default_rate"):
        if key in checked:
            setattr(employee, key, checked[key])
    if "password" in checked:
        # a reset: whoever held a token of this employee must log in again, with the new password
        employee.password_hash = await passwords.hash(validation.required(checked["password"], "password"))
        await auth.revoke_all(session, employee_id=employee.id)
        await auth.forgive(session, email=employee.email)
    if checked.get("active") is False:
        await auth.revoke_all(session, employee_id=employee.id)
    if "supervisor_id" in checked:
        await _set_supervisor(session, employee, checked["supervisor_id"])
    touch(employee)
    await flush(session, _RULES)
    return employee


async def set_rate(session: AsyncSession, *, employee_id: int, activity_id: int, rate: Decimal | None) -> Employee:
    """Set or (with a null rate) remove an employee's rate for one activity (SPEC 2, 4)."""
    checked = validation.money(rate, "rate")
    employee = await session.get(Employee, employee_id, with_for_update=True)
    if employee is None:
        raise not_found("Employee", "employeeId")
    if await session.get(Activity, activity_id) is None:
        raise not_found("Activity", "activityId")
    if checked is None:
        await session.execute(
            delete(EmployeeRate).where(EmployeeRate.employee_id == employee_id, EmployeeRate.activity_id == activity_id)
        )
    else:
        upsert = insert(EmployeeRate).values(employee_id=employee_id, activity_id=activity_id, rate=checked)
        await session.execute(
            upsert.on_conflict_do_update(index_elements=["employee_id", "activity_id"], set_={"rate": checked})
        )
    touch(employee)
    await session.flush()
    return employee


async def change_password(
    session: AsyncSession,
    passwords: Passwords,
    *,
    employee_id: int,
    current: str,
    new: str,
    keep_token: str,
    address: str | None,
    throttle: auth.Throttle,
) -> list[DomainError]:
    """An employee changes their own password (SPEC 12). The current password is checked as a login checks it:
    throttled, and a wrong one counts as a failed login of that email, so a stolen token cannot guess it. On success
    every other token of the employee is revoked; `keep_token`, the one asking, stays.

    The refusals are returned, not raised: the transaction is committed with the failure it counted."""
    employee = await session.get(Employee, employee_id, with_for_update=True)
    if employee is None:
        raise not_found("Employee", "id")
    errors: list[DomainError] = []
    attempt = await auth.try_admit(session, email=employee.email, address=address, throttle=throttle)
    if attempt is None:
        errors.append(auth.too_many("currentPassword"))
    elif await passwords.verify(employee.password_hash, current):
        await auth.succeeded(session, attempt)
    else:
        errors.append(DomainError(ErrorCode.INVALID_CREDENTIALS, "The current password is wrong", ("currentPassword",)))
    problems = validation.Problems()
    problems.check(password, new, "newPassword")
    errors.extend(problems.errors)
    if errors:
        return errors
    employee.password_hash = await passwords.hash(new)
    touch(employee)
    await auth.revoke_all(session, employee_id=employee.id, but=keep_token)
    await session.flush()
    return []


def password(value: str | None, field: str = "password") -> str:
    """A password of PASSWORD_MIN to PASSWORD_MAX characters (SPEC 12), for every way one is set."""
    secret = validation.required(value, field)
    if not PASSWORD_MIN <= len(secret) <= PASSWORD_MAX:
        raise invalid(f"{field} must be between {PASSWORD_MIN} and {PASSWORD_MAX} characters", field)
    return secret


_FIELDS = validation.Fields(
    {
        "name": validation.name,
        "email": validation.email,
        "password": password,
        "role_id": validation.required,
        "default_rate": validation.money,
    },
    needed=("name", "email", "password", "role_id"),
    defaulted=("active",),
)


async def _ensure_role(session: AsyncSession, role_id: int) -> None:
    if await session.get(Role, role_id) is None:
        raise not_found("Role", "roleId")


async def _set_supervisor(session: AsyncSession, employee: Employee, supervisor_id: int | None) -> None:
    """Refuse a supervisor that would close a cycle in the chain (SPEC 2)."""
    if supervisor_id is not None:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SUPERVISOR_LOCK})
        if await session.get(Employee, supervisor_id) is None:
            raise not_found("Supervisor", "supervisorId")
        if supervisor_id == employee.id or employee.id in await _chain_above(session, supervisor_id):
            raise invalid("supervisorId may not close a cycle in the supervisor chain", "supervisorId")
    employee.supervisor_id = supervisor_id


async def _chain_above(session: AsyncSession, employee_id: int) -> set[int]:
    chain = select(Employee.id, Employee.supervisor_id).where(Employee.id == employee_id).cte("chain", recursive=True)
    chain = chain.union(select(Employee.id, Employee.supervisor_id).join(chain, Employee.id == chain.c.supervisor_id))
    return set((await session.scalars(select(chain.c.id))).all())


async def count_all(session: AsyncSession) -> int:
    return await _COUNTS.of(FILTERS.matching())(session)
