"""services.visibility: whose names a viewer sees (SPEC 5), and the supervisor chain it relies on (SPEC 2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, EmployeeVisibility
from services import auth, employees, roles, visibility
from services.auth import Viewer
from services.errors import ErrorCode
from services.passwords import Passwords
from services.visibility import Visibility
from tests.factories import Factory
from tests.services.support import refused


async def viewer_of(session: AsyncSession, factory: Factory, employee: Employee) -> Viewer:
    """The viewer as a request would see it: logged in, then authenticated by the token."""
    viewer = await auth.authenticate(session, token=await factory.token(employee))
    assert viewer is not None
    return viewer


async def seen(session: AsyncSession, factory: Factory, employee: Employee, among: list[Employee]) -> set[int]:
    """The ids of `among` whose names `employee` sees."""
    policy = await visibility.for_viewer(session, await viewer_of(session, factory, employee))
    return {e.id for e in among if policy.can_see(e.id)}


class TestForViewer:
    async def test_all_sees_everyone(self, session: AsyncSession, factory: Factory) -> None:
        # given
        viewer = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.ALL))
        others = [await factory.employee() for _ in range(3)]
        # when
        policy = await visibility.for_viewer(session, await viewer_of(session, factory, viewer))
        # then
        assert policy.sees_all
        assert all(policy.can_see(e.id) for e in [viewer, *others])

    async def test_own_sees_only_oneself(self, session: AsyncSession, factory: Factory) -> None:
        # given
        role = await factory.role(visibility=EmployeeVisibility.OWN)
        boss = await factory.employee()
        viewer = await factory.employee(role=role, supervisor=boss)
        colleague = await factory.employee(role=role)
        report = await factory.employee(supervisor=viewer)
        # when
        ids = await seen(session, factory, viewer, [boss, viewer, colleague, report])
        # then
        assert ids == {viewer.id}

    async def test_own_and_subordinates_follows_a_four_level_chain_downwards_only(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given A supervises B supervises C supervises D; E is outside the chain
        role = await factory.role(visibility=EmployeeVisibility.OWN_AND_SUBORDINATES)
        a = await factory.employee(role=role, name="A")
        b = await factory.employee(role=role, name="B", supervisor=a)
        c = await factory.employee(role=role, name="C", supervisor=b)
        d = await factory.employee(role=role, name="D", supervisor=c)
        e = await factory.employee(role=role, name="E")
        everyone = [a, b, c, d, e]
        # when
        by_viewer = {who.name: await seen(session, factory, who, everyone) for who in everyone}
        # then
        assert by_viewer == {
            "A": {a.id, b.id, c.id, d.id},
            "B": {b.id, c.id, d.id},
            "C": {c.id, d.id},
            "D": {d.id},
            "E": {e.id},
        }

    async def test_own_and_subordinates_follows_a_chain_changed_by_update(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        role = await factory.role(visibility=EmployeeVisibility.OWN_AND_SUBORDINATES)
        a = await factory.employee(role=role)
        b = await factory.employee(role=role, supervisor=a)
        c = await factory.employee(role=role)
        # when C moves under B, and B leaves A
        await employees.update(session, passwords, c.id, {"supervisor_id": b.id})
        await employees.update(session, passwords, b.id, {"supervisor_id": None})
        # then
        assert await seen(session, factory, a, [a, b, c]) == {a.id}
        assert await seen(session, factory, b, [a, b, c]) == {b.id, c.id}

    async def test_selected_roles_sees_oneself_and_the_holders_of_the_chosen_roles(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        support, sales, finance = await factory.role(), await factory.role(), await factory.role()
        lead_role = await factory.role(
            visibility=EmployeeVisibility.SELECTED_ROLES, visible_role_ids=[support.id, sales.id]
        )
        viewer = await factory.employee(role=lead_role)
        fellow_lead = await factory.employee(role=lead_role)
        support_rep = await factory.employee(role=support)
        sales_rep = await factory.employee(role=sales)
        accountant = await factory.employee(role=finance)
        # when
        ids = await seen(session, factory, viewer, [viewer, fellow_lead, support_rep, sales_rep, accountant])
        # then
        assert ids == {viewer.id, support_rep.id, sales_rep.id}

    async def test_selected_roles_with_no_role_chosen_sees_only_oneself(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        role = await factory.role(visibility=EmployeeVisibility.SELECTED_ROLES)
        viewer = await factory.employee(role=role)
        colleague = await factory.employee(role=role)
        # when
        ids = await seen(session, factory, viewer, [viewer, colleague])
        # then
        assert ids == {viewer.id}

    async def test_selected_roles_including_ones_own_role_sees_colleagues(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        role = await factory.role(visibility=EmployeeVisibility.SELECTED_ROLES)
        await roles.update(session, role.id, {"visible_role_ids": [role.id]})
        viewer = await factory.employee(role=role)
        colleague = await factory.employee(role=role)
        outsider = await factory.employee()
        # when
        ids = await seen(session, factory, viewer, [viewer, colleague, outsider])
        # then
        assert ids == {viewer.id, colleague.id}

    async def test_administrators_see_all_whatever_their_role_visibility(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        everyone: list[Employee] = [await factory.employee() for _ in range(2)]
        for kind in (
            EmployeeVisibility.OWN,
            EmployeeVisibility.OWN_AND_SUBORDINATES,
            EmployeeVisibility.SELECTED_ROLES,
        ):
            everyone.append(await factory.employee(role=await factory.role(admin=True, visibility=kind)))
        admins = everyone[2:]
        # when
        policies = [await visibility.for_viewer(session, await viewer_of(session, factory, a)) for a in admins]
        # then
        assert all(p.sees_all for p in policies)
        assert all(p.can_see(e.id) for p in policies for e in everyone)

    async def test_no_viewer_sees_nobody(self, session: AsyncSession, factory: Factory) -> None:
        # given
        employee = await factory.employee()
        # when
        policy = await visibility.for_viewer(session, None)
        # then
        assert not policy.sees_all
        assert not policy.can_see(employee.id)
        assert not policy.can_see(None)


class TestWhere:
    async def test_filters_a_select_to_the_visible_employees(self, session: AsyncSession, factory: Factory) -> None:
        # given
        role = await factory.role(visibility=EmployeeVisibility.OWN_AND_SUBORDINATES)
        boss = await factory.employee(role=role)
        report = await factory.employee(supervisor=boss)
        stranger = await factory.employee()
        ids = [boss.id, report.id, stranger.id]
        policy = await visibility.for_viewer(session, await viewer_of(session, factory, boss))
        # when
        stmt = policy.where(select(Employee.id).where(Employee.id.in_(ids)), Employee.id)
        found = set((await session.scalars(stmt)).all())
        # then
        assert found == {boss.id, report.id}

    async def test_seeing_all_leaves_the_select_unchanged(self, session: AsyncSession, factory: Factory) -> None:
        # given
        ids = [(await factory.employee()).id for _ in range(3)]
        stmt = select(Employee.id).where(Employee.id.in_(ids))
        # when
        filtered = visibility.EVERYONE.where(stmt, Employee.id)
        # then
        assert filtered is stmt
        assert set((await session.scalars(filtered)).all()) == set(ids)

    async def test_seeing_nobody_selects_nothing(self, session: AsyncSession, factory: Factory) -> None:
        # given
        ids = [(await factory.employee()).id for _ in range(2)]
        # when
        stmt = Visibility(frozenset()).where(select(Employee.id).where(Employee.id.in_(ids)), Employee.id)
        # then
        assert (await session.scalars(stmt)).all() == []


class TestSupervisorChain:
    async def test_a_supervisor_below_oneself_is_refused_as_a_cycle(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given A supervises B supervises C
        a = await factory.employee()
        b = await factory.employee(supervisor=a)
        c = await factory.employee(supervisor=b)
        a_id, c_id = a.id, c.id
        # when C becomes A's supervisor
        error = await refused(session, employees.update(session, passwords, a_id, {"supervisor_id": c_id}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("supervisorId",)
        assert await session.scalar(select(Employee.supervisor_id).where(Employee.id == a_id)) is None

    async def test_a_direct_report_as_supervisor_is_refused_as_a_cycle(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        a = await factory.employee()
        b = await factory.employee(supervisor=a)
        a_id, b_id = a.id, b.id
        # when
        error = await refused(session, employees.update(session, passwords, a_id, {"supervisor_id": b_id}))
        # then
        assert error.code is ErrorCode.VALIDATION

    async def test_self_supervision_is_refused(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee_id = (await factory.employee()).id
        # when
        error = await refused(
            session, employees.update(session, passwords, employee_id, {"supervisor_id": employee_id})
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("supervisorId",)

    async def test_a_supervisor_outside_ones_subtree_is_allowed(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given A supervises B; C supervises D
        a = await factory.employee()
        b = await factory.employee(supervisor=a)
        c = await factory.employee()
        d = await factory.employee(supervisor=c)
        # when A goes under D
        await employees.update(session, passwords, a.id, {"supervisor_id": d.id})
        # then the chain is C > D > A > B
        stmt = select(Employee.id, Employee.supervisor_id).where(Employee.id.in_([a.id, b.id, c.id, d.id]))
        rows = dict((await session.execute(stmt)).all())
        assert rows == {a.id: d.id, b.id: a.id, c.id: None, d.id: c.id}
