"""Master data services: debtors, activities, roles, employees and the company settings (SPEC 2, 5a, 5b)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    AuthToken,
    CompanySettings,
    Debtor,
    Employee,
    EmployeeRate,
    EmployeeVisibility,
    Role,
    TimeStatus,
)
from services import activities, auth, company, debtors, employees, roles
from services.activities import ActivityData
from services.company import SettingsData
from services.debtors import DebtorData
from services.employees import EmployeeData
from services.errors import ErrorCode
from services.passwords import Passwords
from services.roles import RoleData
from tests.factories import PASSWORD, Factory
from tests.services.support import refused

UNKNOWN_ID = 2_000_000_000
BAD_MONEY = ["1.005", "-0.01", "100000000.00"]
BAD_NAMES = [None, "", "   ", "n" * 201]


async def fresh(session: AsyncSession, model: type[Any], key: int) -> Any:
    """The row as the database holds it now (not the session's in-memory copy)."""
    row = await session.get(model, key, populate_existing=True)
    assert row is not None
    return row


async def visible_role_ids(session: AsyncSession, role_id: int) -> list[int]:
    [ids] = await roles.visible_role_ids_by_role_ids(session, [role_id])
    return ids


async def rates_of(session: AsyncSession, employee_id: int) -> dict[int, Decimal]:
    rows = (
        await session.execute(
            select(EmployeeRate.activity_id, EmployeeRate.rate).where(EmployeeRate.employee_id == employee_id)
        )
    ).all()
    return dict(rows)


class TestDebtorsCreate:
    async def test_code_and_name_are_stored_trimmed(self, session: AsyncSession) -> None:
        # when
        debtor = await debtors.create(session, {"code": "  ACME ", "name": "\tAcme Corp  "})
        # then
        row = await fresh(session, Debtor, debtor.id)
        assert (row.code, row.name, row.version) == ("ACME", "Acme Corp", 1)

    @pytest.mark.parametrize("same_code", ["acme", "ACME", " Acme ", "aCmE\t"])
    async def test_code_differing_in_case_or_spaces_is_duplicate(
        self, session: AsyncSession, factory: Factory, same_code: str
    ) -> None:
        # given
        await factory.debtor(code="Acme")
        # when
        error = await refused(session, debtors.create(session, {"code": same_code, "name": "Another"}))
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert error.field == ("code",)

    @pytest.mark.parametrize("key", ["code", "name"])
    @pytest.mark.parametrize("value", BAD_NAMES)
    async def test_code_or_name_empty_or_over_200_characters_is_validation(
        self, session: AsyncSession, key: str, value: str | None
    ) -> None:
        # given
        data = cast(DebtorData, {"code": "OK", "name": "OK", key: value})
        # when
        error = await refused(session, debtors.create(session, data))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (key,)

    async def test_200_characters_are_allowed(self, session: AsyncSession) -> None:
        # when
        debtor = await debtors.create(session, {"code": "c" * 200, "name": "n" * 200})
        # then
        row = await fresh(session, Debtor, debtor.id)
        assert (len(row.code), len(row.name)) == (200, 200)

    @pytest.mark.parametrize("rate", BAD_MONEY)
    async def test_adjusted_rate_out_of_range_or_with_three_decimals_is_validation(
        self, session: AsyncSession, rate: str
    ) -> None:
        # when
        error = await refused(
            session, debtors.create(session, {"code": "D", "name": "D", "adjusted_rate": Decimal(rate)})
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("adjustedRate",)


class TestDebtorsUpdate:
    async def test_patch_keeps_left_out_fields_and_clears_explicit_none(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        debtor = await factory.debtor(code="KEEP", name="Keep Me", adjusted_rate=Decimal("75.00"))
        # when
        await debtors.update(session, debtor.id, {"name": "Renamed"})
        renamed = await fresh(session, Debtor, debtor.id)
        renamed_fields = (renamed.code, renamed.name, renamed.adjusted_rate, renamed.version)
        await debtors.update(session, debtor.id, {"adjusted_rate": None})
        cleared = await fresh(session, Debtor, debtor.id)
        # then
        assert renamed_fields == ("KEEP", "Renamed", Decimal("75.00"), 2)
        assert (cleared.code, cleared.name, cleared.adjusted_rate, cleared.version) == ("KEEP", "Renamed", None, 3)

    @pytest.mark.parametrize("key", ["code", "name"])
    async def test_none_for_a_required_field_is_validation(
        self, session: AsyncSession, factory: Factory, key: str
    ) -> None:
        # given
        debtor_id = (await factory.debtor()).id
        # when
        error = await refused(session, debtors.update(session, debtor_id, cast(DebtorData, {key: None})))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (key,)
        assert (await fresh(session, Debtor, debtor_id)).version == 1

    async def test_code_of_another_debtor_differing_in_case_is_duplicate(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        await factory.debtor(code="TAKEN")
        debtor_id = (await factory.debtor(code="FREE")).id
        # when
        error = await refused(session, debtors.update(session, debtor_id, {"code": " Taken "}))
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert (await fresh(session, Debtor, debtor_id)).code == "FREE"

    async def test_unknown_debtor_is_not_found(self, session: AsyncSession) -> None:
        # when
        error = await refused(session, debtors.update(session, UNKNOWN_ID, {"name": "X"}))
        # then
        assert error.code is ErrorCode.NOT_FOUND


class TestActivitiesCreate:
    async def test_code_is_stored_trimmed_and_billable_by_default(self, session: AsyncSession) -> None:
        # when
        activity = await activities.create(session, {"code": " CONS ", "name": " Consulting "})
        # then
        row = await fresh(session, Activity, activity.id)
        assert (row.code, row.name, row.default_status, row.default_rate) == (
            "CONS",
            "Consulting",
            TimeStatus.BILLABLE,
            None,
        )

    @pytest.mark.parametrize("same_code", ["cons", " CONS ", "Cons"])
    async def test_code_differing_in_case_or_spaces_is_duplicate(
        self, session: AsyncSession, factory: Factory, same_code: str
    ) -> None:
        # given
        await factory.activity(code="CONS")
        # when
        error = await refused(session, activities.create(session, {"code": same_code, "name": "Other"}))
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert error.field == ("code",)

    @pytest.mark.parametrize("key", ["code", "name"])
    @pytest.mark.parametrize("value", BAD_NAMES)
    async def test_code_or_name_empty_or_over_200_characters_is_validation(
        self, session: AsyncSession, key: str, value: str | None
    ) -> None:
        # when
        error = await refused(
            session, activities.create(session, cast(ActivityData, {"code": "A", "name": "A", key: value}))
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (key,)

    @pytest.mark.parametrize("status", [TimeStatus.INVOICED, TimeStatus.OVER_LIMIT])
    async def test_default_status_f_or_l_is_validation(self, session: AsyncSession, status: TimeStatus) -> None:
        # when
        error = await refused(session, activities.create(session, {"code": "A", "name": "A", "default_status": status}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("defaultStatus",)

    @pytest.mark.parametrize("rate", BAD_MONEY)
    async def test_default_rate_out_of_range_or_with_three_decimals_is_validation(
        self, session: AsyncSession, rate: str
    ) -> None:
        # when
        error = await refused(
            session, activities.create(session, {"code": "A", "name": "A", "default_rate": Decimal(rate)})
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("defaultRate",)


class TestActivitiesUpdate:
    async def test_patch_keeps_left_out_fields_and_clears_explicit_none(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        activity = await factory.activity(
            code="SUP", default_status=TimeStatus.NON_BILLABLE, default_rate=Decimal("50.00")
        )
        # when
        await activities.update(session, activity.id, {"name": "Support"})
        await activities.update(session, activity.id, {"default_rate": None})
        # then
        row = await fresh(session, Activity, activity.id)
        assert (row.code, row.name, row.default_status, row.default_rate, row.version) == (
            "SUP",
            "Support",
            TimeStatus.NON_BILLABLE,
            None,
            3,
        )

    @pytest.mark.parametrize(
        ("key", "field"), [("code", "code"), ("name", "name"), ("default_status", "defaultStatus")]
    )
    async def test_none_for_a_required_field_is_validation(
        self, session: AsyncSession, factory: Factory, key: str, field: str
    ) -> None:
        # given
        activity_id = (await factory.activity()).id
        # when
        error = await refused(session, activities.update(session, activity_id, cast(ActivityData, {key: None})))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (field,)

    async def test_code_of_another_activity_differing_in_case_is_duplicate(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        await factory.activity(code="TAKEN")
        activity_id = (await factory.activity(code="FREE")).id
        # when
        error = await refused(session, activities.update(session, activity_id, {"code": "taken"}))
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert (await fresh(session, Activity, activity_id)).code == "FREE"


class TestRolesCreate:
    async def test_flags_are_off_and_visibility_is_all_by_default(self, session: AsyncSession) -> None:
        # when
        role = await roles.create(session, {"name": "  Consultant "})
        # then
        row = await fresh(session, Role, role.id)
        assert row.name == "Consultant"
        assert (row.is_administrator, row.can_enter_time_for_others, row.can_invoice) == (False, False, False)
        assert row.employee_visibility is EmployeeVisibility.ALL
        assert await visible_role_ids(session, role.id) == []

    @pytest.mark.parametrize("same_name", ["billing", " BILLING ", "Billing"])
    async def test_name_differing_in_case_or_spaces_is_duplicate(
        self, session: AsyncSession, factory: Factory, same_name: str
    ) -> None:
        # given
        await factory.role(name="Billing")
        # when
        error = await refused(session, roles.create(session, {"name": same_name}))
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert error.field == ("name",)

    @pytest.mark.parametrize("name", BAD_NAMES)
    async def test_name_empty_or_over_200_characters_is_validation(
        self, session: AsyncSession, name: str | None
    ) -> None:
        # when
        error = await refused(session, roles.create(session, {"name": name}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("name",)

    async def test_selected_roles_are_stored(self, session: AsyncSession, factory: Factory) -> None:
        # given
        first, second = await factory.role(), await factory.role()
        # when
        role = await roles.create(
            session,
            {
                "name": "Team lead",
                "employee_visibility": EmployeeVisibility.SELECTED_ROLES,
                "visible_role_ids": [second.id, first.id, second.id],
            },
        )
        # then
        assert await visible_role_ids(session, role.id) == sorted([first.id, second.id])

    async def test_unknown_visible_role_is_not_found_and_nothing_is_written(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        known = await factory.role()
        # when
        error = await refused(
            session,
            roles.create(
                session,
                {
                    "name": "Orphan",
                    "employee_visibility": EmployeeVisibility.SELECTED_ROLES,
                    "visible_role_ids": [known.id, UNKNOWN_ID],
                },
            ),
        )
        # then
        assert error.code is ErrorCode.NOT_FOUND
        assert error.field == ("visibleRoleIds",)
        assert await session.scalar(select(func.count()).select_from(Role).where(Role.name == "Orphan")) == 0


class TestRolesUpdate:
    async def test_selected_roles_are_replaced_kept_and_cleared(self, session: AsyncSession, factory: Factory) -> None:
        # given
        first, second, third = await factory.role(), await factory.role(), await factory.role()
        role = await factory.role(visibility=EmployeeVisibility.SELECTED_ROLES, visible_role_ids=[first.id])
        # when
        await roles.update(session, role.id, {"visible_role_ids": [second.id, third.id]})
        replaced = await visible_role_ids(session, role.id)
        await roles.update(session, role.id, {"name": "Renamed"})
        kept = await visible_role_ids(session, role.id)
        await roles.update(session, role.id, {"visible_role_ids": None})
        cleared = await visible_role_ids(session, role.id)
        # then
        assert replaced == sorted([second.id, third.id])
        assert kept == replaced
        assert cleared == []
        row = await fresh(session, Role, role.id)
        assert (row.name, row.employee_visibility, row.version) == ("Renamed", EmployeeVisibility.SELECTED_ROLES, 4)

    async def test_unknown_visible_role_is_not_found_and_the_old_list_stays(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        known = await factory.role()
        role = await factory.role(visibility=EmployeeVisibility.SELECTED_ROLES, visible_role_ids=[known.id])
        role_id = role.id
        # when
        error = await refused(session, roles.update(session, role_id, {"visible_role_ids": [UNKNOWN_ID]}))
        # then
        assert error.code is ErrorCode.NOT_FOUND
        assert error.field == ("visibleRoleIds",)
        assert await visible_role_ids(session, role_id) == [known.id]

    @pytest.mark.parametrize(
        ("key", "field"),
        [
            ("name", "name"),
            ("is_administrator", "isAdministrator"),
            ("can_enter_time_for_others", "canEnterTimeForOthers"),
            ("can_invoice", "canInvoice"),
            ("employee_visibility", "employeeVisibility"),
        ],
    )
    async def test_none_for_a_required_field_is_validation(
        self, session: AsyncSession, factory: Factory, key: str, field: str
    ) -> None:
        # given
        role_id = (await factory.role()).id
        # when
        error = await refused(session, roles.update(session, role_id, cast(RoleData, {key: None})))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (field,)

    async def test_name_of_another_role_differing_in_case_is_duplicate(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        await factory.role(name="Taken")
        role_id = (await factory.role(name="Free")).id
        # when
        error = await refused(session, roles.update(session, role_id, {"name": "TAKEN"}))
        # then
        assert error.code is ErrorCode.DUPLICATE

    async def test_unknown_role_is_not_found(self, session: AsyncSession) -> None:
        # when
        error = await refused(session, roles.update(session, UNKNOWN_ID, {"name": "X"}))
        # then
        assert error.code is ErrorCode.NOT_FOUND


def employee_data(role: Role, **fields: Any) -> EmployeeData:
    return cast(
        EmployeeData, {"name": "Ada", "email": "ada@example.test", "password": PASSWORD, "role_id": role.id, **fields}
    )


class TestEmployeesCreate:
    async def test_stores_trimmed_fields_and_an_argon2id_hash(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        role = await factory.role()
        # when
        employee = await employees.create(
            session, passwords, employee_data(role, name="  Ada Lovelace ", email=" Ada@Example.test ")
        )
        # then
        row = await fresh(session, Employee, employee.id)
        assert (row.name, row.email, row.active, row.supervisor_id) == ("Ada Lovelace", "Ada@Example.test", True, None)
        assert row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash
        assert await passwords.verify(row.password_hash, PASSWORD)

    @pytest.mark.parametrize("same_email", ["ADA@example.test", " ada@EXAMPLE.TEST ", "Ada@Example.Test"])
    async def test_email_differing_in_case_or_spaces_is_duplicate(
        self, session: AsyncSession, passwords: Passwords, factory: Factory, same_email: str
    ) -> None:
        # given
        role = await factory.role()
        await factory.employee(role=role, email="ada@example.test")
        # when
        error = await refused(session, employees.create(session, passwords, employee_data(role, email=same_email)))
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert error.field == ("email",)

    @pytest.mark.parametrize(
        "email", [None, "", "ada", "ada@example", "@example.test", "ada@", "ada@@example.test", "a da@example.test"]
    )
    async def test_malformed_email_is_validation(
        self, session: AsyncSession, passwords: Passwords, factory: Factory, email: str | None
    ) -> None:
        # given
        role = await factory.role()
        # when
        error = await refused(session, employees.create(session, passwords, employee_data(role, email=email)))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("email",)

    @pytest.mark.parametrize("password", [None, "", "seven77", "p" * 201])
    async def test_password_shorter_than_12_or_longer_than_200_is_validation(
        self, session: AsyncSession, passwords: Passwords, factory: Factory, password: str | None
    ) -> None:
        # given
        role = await factory.role()
        # when
        error = await refused(session, employees.create(session, passwords, employee_data(role, password=password)))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("password",)

    @pytest.mark.parametrize("password", ["twelve-chars", "p" * 200])
    async def test_password_of_12_to_200_characters_is_allowed(
        self, session: AsyncSession, passwords: Passwords, factory: Factory, password: str
    ) -> None:
        # given
        role = await factory.role()
        # when
        employee = await employees.create(session, passwords, employee_data(role, password=password))
        # then
        assert await passwords.verify(employee.password_hash, password)

    @pytest.mark.parametrize("name", BAD_NAMES)
    async def test_name_empty_or_over_200_characters_is_validation(
        self, session: AsyncSession, passwords: Passwords, factory: Factory, name: str | None
    ) -> None:
        # given
        role = await factory.role()
        # when
        error = await refused(session, employees.create(session, passwords, employee_data(role, name=name)))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("name",)

    async def test_unknown_role_is_not_found(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        role = await factory.role()
        # when
        error = await refused(session, employees.create(session, passwords, employee_data(role, role_id=UNKNOWN_ID)))
        # then
        assert error.code is ErrorCode.NOT_FOUND
        assert error.field == ("roleId",)

    async def test_unknown_supervisor_is_not_found(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        role = await factory.role()
        # when
        error = await refused(
            session, employees.create(session, passwords, employee_data(role, supervisor_id=UNKNOWN_ID))
        )
        # then
        assert error.code is ErrorCode.NOT_FOUND
        assert error.field == ("supervisorId",)

    async def test_supervisor_is_stored(self, session: AsyncSession, passwords: Passwords, factory: Factory) -> None:
        # given
        boss = await factory.employee()
        # when
        employee = await employees.create(
            session, passwords, employee_data(await factory.role(), supervisor_id=boss.id)
        )
        # then
        stored_supervisor = await session.scalar(select(Employee.supervisor_id).where(Employee.id == employee.id))
        assert stored_supervisor == boss.id

    @pytest.mark.parametrize("rate", BAD_MONEY)
    async def test_default_rate_out_of_range_or_with_three_decimals_is_validation(
        self, session: AsyncSession, passwords: Passwords, factory: Factory, rate: str
    ) -> None:
        # given
        role = await factory.role()
        # when
        error = await refused(
            session, employees.create(session, passwords, employee_data(role, default_rate=Decimal(rate)))
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("defaultRate",)


class TestEmployeesUpdate:
    async def test_patch_keeps_left_out_fields_and_clears_explicit_none(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        boss = await factory.employee()
        employee = await factory.employee(supervisor=boss, default_rate=Decimal("60.00"), email="keep@example.test")
        old_hash = employee.password_hash
        # when
        await employees.update(session, passwords, employee.id, {"name": "New Name"})
        renamed = await fresh(session, Employee, employee.id)
        renamed_fields = (renamed.name, renamed.email, renamed.supervisor_id, renamed.default_rate, renamed.version)
        await employees.update(session, passwords, employee.id, {"supervisor_id": None, "default_rate": None})
        cleared = await fresh(session, Employee, employee.id)
        # then
        assert renamed_fields == ("New Name", "keep@example.test", boss.id, Decimal("60.00"), 2)
        assert (cleared.supervisor_id, cleared.default_rate, cleared.version) == (None, None, 3)
        assert cleared.password_hash == old_hash

    async def test_a_new_password_replaces_the_old(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        # when
        await employees.update(session, passwords, employee.id, {"password": "a-new-secret"})
        # then
        row = await fresh(session, Employee, employee.id)
        assert await passwords.verify(row.password_hash, "a-new-secret")
        assert not await passwords.verify(row.password_hash, PASSWORD)

    @pytest.mark.parametrize(
        ("key", "field"), [("name", "name"), ("email", "email"), ("role_id", "roleId"), ("active", "active")]
    )
    async def test_none_for_a_required_field_is_validation(
        self, session: AsyncSession, passwords: Passwords, factory: Factory, key: str, field: str
    ) -> None:
        # given
        employee_id = (await factory.employee()).id
        # when
        error = await refused(
            session, employees.update(session, passwords, employee_id, cast(EmployeeData, {key: None}))
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (field,)

    async def test_email_of_another_employee_differing_in_case_is_duplicate(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        await factory.employee(email="taken@example.test")
        employee_id = (await factory.employee(email="free@example.test")).id
        # when
        error = await refused(
            session, employees.update(session, passwords, employee_id, {"email": "TAKEN@example.test"})
        )
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert (await fresh(session, Employee, employee_id)).email == "free@example.test"

    async def test_short_password_is_validation(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee_id = (await factory.employee()).id
        # when
        error = await refused(session, employees.update(session, passwords, employee_id, {"password": "short"}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("password",)

    async def test_deactivating_revokes_the_tokens(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        tokens = [await factory.token(employee), await factory.token(employee)]
        assert all([await auth.authenticate(session, token=t) for t in tokens])
        # when
        await employees.update(session, passwords, employee.id, {"active": False})
        # then
        assert [await auth.authenticate(session, token=t) for t in tokens] == [None, None]
        count = select(func.count()).select_from(AuthToken).where(AuthToken.employee_id == employee.id)
        assert await session.scalar(count) == 0

    async def test_reactivating_does_not_revive_a_revoked_token(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        token = await factory.token(employee)
        await employees.update(session, passwords, employee.id, {"active": False})
        # when
        await employees.update(session, passwords, employee.id, {"active": True})
        # then
        assert await auth.authenticate(session, token=token) is None
        assert await auth.authenticate(session, token=await factory.token(employee)) is not None

    async def test_unknown_employee_is_not_found(self, session: AsyncSession, passwords: Passwords) -> None:
        # when
        error = await refused(session, employees.update(session, passwords, UNKNOWN_ID, {"name": "X"}))
        # then
        assert error.code is ErrorCode.NOT_FOUND


class TestEmployeesSetRate:
    async def test_set_replace_and_remove(self, session: AsyncSession, factory: Factory) -> None:
        # given
        employee = await factory.employee()
        activity, other = await factory.activity(), await factory.activity()
        await employees.set_rate(session, employee_id=employee.id, activity_id=other.id, rate=Decimal("10.00"))
        # when
        await employees.set_rate(session, employee_id=employee.id, activity_id=activity.id, rate=Decimal("120.00"))
        after_set = await rates_of(session, employee.id)
        await employees.set_rate(session, employee_id=employee.id, activity_id=activity.id, rate=Decimal("130.50"))
        after_replace = await rates_of(session, employee.id)
        await employees.set_rate(session, employee_id=employee.id, activity_id=activity.id, rate=None)
        after_remove = await rates_of(session, employee.id)
        # then
        assert after_set == {other.id: Decimal("10.00"), activity.id: Decimal("120.00")}
        assert after_replace == {other.id: Decimal("10.00"), activity.id: Decimal("130.50")}
        assert after_remove == {other.id: Decimal("10.00")}
        assert (await fresh(session, Employee, employee.id)).version == 5

    async def test_removing_a_rate_that_is_not_there_is_fine(self, session: AsyncSession, factory: Factory) -> None:
        # given
        employee = await factory.employee()
        activity = await factory.activity()
        # when
        await employees.set_rate(session, employee_id=employee.id, activity_id=activity.id, rate=None)
        # then
        assert await rates_of(session, employee.id) == {}

    @pytest.mark.parametrize("rate", BAD_MONEY)
    async def test_rate_out_of_range_or_with_three_decimals_is_validation(
        self, session: AsyncSession, factory: Factory, rate: str
    ) -> None:
        # given
        employee_id = (await factory.employee()).id
        activity_id = (await factory.activity()).id
        # when
        error = await refused(
            session, employees.set_rate(session, employee_id=employee_id, activity_id=activity_id, rate=Decimal(rate))
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("rate",)
        assert await rates_of(session, employee_id) == {}

    @pytest.mark.parametrize(("unknown", "field"), [("employee", "employeeId"), ("activity", "activityId")])
    async def test_unknown_employee_or_activity_is_not_found(
        self, session: AsyncSession, factory: Factory, unknown: str, field: str
    ) -> None:
        # given
        employee_id = UNKNOWN_ID if unknown == "employee" else (await factory.employee()).id
        activity_id = UNKNOWN_ID if unknown == "activity" else (await factory.activity()).id
        # when
        error = await refused(
            session, employees.set_rate(session, employee_id=employee_id, activity_id=activity_id, rate=Decimal(1))
        )
        # then
        assert error.code is ErrorCode.NOT_FOUND
        assert error.field == (field,)


async def settings_now(session: AsyncSession) -> CompanySettings:
    row = await session.scalar(select(CompanySettings).execution_options(populate_existing=True))
    assert row is not None
    return row


class TestCompanyUpdate:
    async def test_require_case_while_the_case_column_is_off_is_validation(self, session: AsyncSession) -> None:
        # given
        await company.update(session, {"use_case_column": False, "require_case": False})
        # when
        error = await refused(session, company.update(session, {"require_case": True}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("requireCase",)
        row = await settings_now(session)
        assert (row.use_case_column, row.require_case) == (False, False)

    async def test_turning_the_case_column_off_while_a_case_is_required_is_validation(
        self, session: AsyncSession
    ) -> None:
        # given
        await company.update(session, {"use_case_column": True, "require_case": True})
        # when
        error = await refused(session, company.update(session, {"use_case_column": False}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("requireCase",)
        row = await settings_now(session)
        assert (row.use_case_column, row.require_case) == (True, True)

    async def test_both_in_one_change_is_validation(self, session: AsyncSession) -> None:
        # when
        error = await refused(session, company.update(session, {"use_case_column": False, "require_case": True}))
        # then
        assert error.code is ErrorCode.VALIDATION

    async def test_turning_both_off_at_once_is_allowed(self, session: AsyncSession) -> None:
        # given
        await company.update(session, {"use_case_column": True, "require_case": True})
        # when
        await company.update(session, {"use_case_column": False, "require_case": False})
        # then
        row = await settings_now(session)
        assert (row.use_case_column, row.require_case) == (False, False)

    @pytest.mark.parametrize("month", [0, 13, -1])
    async def test_book_year_start_month_outside_1_to_12_is_validation(self, session: AsyncSession, month: int) -> None:
        # when
        error = await refused(session, company.update(session, {"book_year_start_month": month}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("bookYearStartMonth",)

    @pytest.mark.parametrize("month", [1, 12])
    async def test_book_year_start_month_1_to_12_is_stored(self, session: AsyncSession, month: int) -> None:
        # when
        await company.update(session, {"book_year_start_month": month})
        # then
        assert (await settings_now(session)).book_year_start_month == month

    @pytest.mark.parametrize("threshold", [0, -5])
    async def test_static_list_threshold_below_1_is_validation(self, session: AsyncSession, threshold: int) -> None:
        # when
        error = await refused(session, company.update(session, {"static_list_threshold": threshold}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("staticListThreshold",)

    async def test_static_list_threshold_of_1_is_stored(self, session: AsyncSession) -> None:
        # when
        await company.update(session, {"static_list_threshold": 1})
        # then
        assert (await settings_now(session)).static_list_threshold == 1

    @pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "   ", "../../etc/passwd", "Europe/Nowhere"])
    async def test_unknown_time_zone_is_validation(self, session: AsyncSession, zone: str) -> None:
        # when
        error = await refused(session, company.update(session, {"time_zone": zone}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("timeZone",)
        assert (await settings_now(session)).time_zone == "UTC"

    async def test_known_time_zone_is_stored_trimmed(self, session: AsyncSession) -> None:
        # when
        await company.update(session, {"time_zone": " Europe/Amsterdam "})
        # then
        assert (await settings_now(session)).time_zone == "Europe/Amsterdam"

    @pytest.mark.parametrize(
        ("key", "field"),
        [
            ("time_tracking_enabled", "timeTrackingEnabled"),
            ("use_case_column", "useCaseColumn"),
            ("require_case", "requireCase"),
            ("book_year_start_month", "bookYearStartMonth"),
            ("static_list_threshold", "staticListThreshold"),
            ("time_zone", "timeZone"),
        ],
    )
    async def test_none_for_any_setting_is_validation(self, session: AsyncSession, key: str, field: str) -> None:
        # when
        error = await refused(session, company.update(session, cast(SettingsData, {key: None})))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (field,)

    async def test_left_out_settings_stay_and_version_rises_by_one(self, session: AsyncSession) -> None:
        # given
        before = await settings_now(session)
        version, zone = before.version, before.time_zone
        # when
        await company.update(session, {"static_list_threshold": 42})
        # then
        after = await settings_now(session)
        assert (after.static_list_threshold, after.time_zone, after.version) == (42, zone, version + 1)
