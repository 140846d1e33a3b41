"""services.visibility.for_viewer against a pure-Python model of SPEC 5, on random organisations."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Employee, EmployeeVisibility
from services import employees, roles, visibility
from services.auth import Viewer
from services.passwords import Passwords
from tests.factories import Factory


@dataclass(frozen=True)
class RoleSpec:
    kind: EmployeeVisibility
    admin: bool
    selected: frozenset[int]  # indices into Org.roles


@dataclass(frozen=True)
class EmployeeSpec:
    role: int  # index into Org.roles
    supervisor: int | None  # index into Org.employees


@dataclass(frozen=True)
class Org:
    roles: tuple[RoleSpec, ...]
    employees: tuple[EmployeeSpec, ...]
    link_order: tuple[int, ...]  # the order in which supervisors are set


@st.composite
def organisations(draw: st.DrawFn) -> Org:
    role_count = draw(st.integers(1, 4))
    role_index = st.integers(0, role_count - 1)
    role_specs = tuple(
        RoleSpec(
            kind=draw(st.sampled_from(EmployeeVisibility)),
            admin=draw(st.integers(0, 3)) == 0,  # mostly not, so the other kinds get tested
            selected=draw(st.frozensets(role_index)),
        )
        for _ in range(role_count)
    )
    size = draw(st.integers(2, 12))
    # a forest without cycles: in a random ranking, everyone's supervisor ranks above them
    ranking = draw(st.permutations(range(size)))
    supervisors: dict[int, int | None] = {}
    for rank, index in enumerate(ranking):
        above = rank - 1 - draw(st.integers(0, rank))  # leans to the rank just above, so chains get deep; -1: none
        supervisors[index] = ranking[above] if above >= 0 else None
    employee_specs = tuple(EmployeeSpec(role=draw(role_index), supervisor=supervisors[i]) for i in range(size))
    return Org(roles=role_specs, employees=employee_specs, link_order=tuple(draw(st.permutations(range(size)))))


def model(org: Org, viewer: int) -> set[int]:
    """SPEC 5: the indices of the employees whose names `viewer` sees."""
    everyone = set(range(len(org.employees)))
    role = org.roles[org.employees[viewer].role]
    if role.admin or role.kind is EmployeeVisibility.ALL:
        return everyone
    if role.kind is EmployeeVisibility.OWN:
        return {viewer}
    if role.kind is EmployeeVisibility.OWN_AND_SUBORDINATES:
        below = {viewer}
        while True:
            grown = below | {i for i, e in enumerate(org.employees) if e.supervisor in below}
            if grown == below:
                return below
            below = grown
    return {viewer} | {i for i, e in enumerate(org.employees) if e.role in role.selected}


async def build(session: AsyncSession, passwords: Passwords, factory: Factory, org: Org) -> list[Employee]:
    made_roles = [await factory.role(admin=spec.admin, visibility=spec.kind) for spec in org.roles]
    for role, spec in zip(made_roles, org.roles, strict=True):
        await roles.update(session, role.id, {"visible_role_ids": [made_roles[i].id for i in spec.selected]})
    made = [await factory.employee(role=made_roles[spec.role]) for spec in org.employees]
    for index in org.link_order:
        supervisor = org.employees[index].supervisor
        if supervisor is not None:
            await employees.update(session, passwords, made[index].id, {"supervisor_id": made[supervisor].id})
    return made


def viewer_of(org: Org, made: list[Employee], index: int) -> Viewer:
    role = org.roles[org.employees[index].role]
    return Viewer(
        employee_id=made[index].id,
        role_id=made[index].role_id,
        is_administrator=role.admin,
        can_enter_time_for_others=False,
        can_invoice=False,
        visibility=role.kind,
    )


ALL, OWN, SUBORDINATES, SELECTED = (
    EmployeeVisibility.ALL,
    EmployeeVisibility.OWN,
    EmployeeVisibility.OWN_AND_SUBORDINATES,
    EmployeeVisibility.SELECTED_ROLES,
)
# shapes random drawing may miss in 40 examples, always run first
FOUR_LEVEL_CHAIN = Org(
    roles=(RoleSpec(SUBORDINATES, admin=False, selected=frozenset()),),
    employees=(
        EmployeeSpec(role=0, supervisor=None),
        EmployeeSpec(role=0, supervisor=0),
        EmployeeSpec(role=0, supervisor=1),
        EmployeeSpec(role=0, supervisor=2),
        EmployeeSpec(role=0, supervisor=None),
    ),
    link_order=(4, 3, 2, 1, 0),
)
SELECTED_NOT_OWN_ROLE = Org(
    roles=(
        RoleSpec(SELECTED, admin=False, selected=frozenset({1})),
        RoleSpec(OWN, admin=False, selected=frozenset({0, 2})),
        RoleSpec(ALL, admin=False, selected=frozenset()),
    ),
    employees=tuple(EmployeeSpec(role=r, supervisor=None) for r in (0, 0, 1, 2)),
    link_order=(0, 1, 2, 3),
)
ADMINS_OF_EVERY_KIND = Org(
    roles=(
        RoleSpec(OWN, admin=True, selected=frozenset()),
        RoleSpec(SUBORDINATES, admin=True, selected=frozenset()),
        RoleSpec(SELECTED, admin=True, selected=frozenset()),
        RoleSpec(OWN, admin=False, selected=frozenset()),
    ),
    employees=tuple(EmployeeSpec(role=r, supervisor=None) for r in (0, 1, 2, 3)),
    link_order=(0, 1, 2, 3),
)


class TestForViewer:
    @example(org=FOUR_LEVEL_CHAIN)
    @example(org=SELECTED_NOT_OWN_ROLE)
    @example(org=ADMINS_OF_EVERY_KIND)
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(org=organisations())
    async def test_every_viewer_sees_what_spec_5_says(
        self, session: AsyncSession, passwords: Passwords, factory: Factory, org: Org
    ) -> None:
        async with session.begin_nested() as savepoint:  # examples share the test's session
            # given
            made = await build(session, passwords, factory, org)
            ids = [e.id for e in made]
            for viewer in range(len(made)):
                # when
                policy = await visibility.for_viewer(session, viewer_of(org, made, viewer))
                stmt = policy.where(select(Employee.id).where(Employee.id.in_(ids)), Employee.id)
                by_query = set((await session.scalars(stmt)).all())
                # then
                expected = {ids[i] for i in model(org, viewer)}
                actual = set(ids) if policy.visible_ids is None else set(policy.visible_ids)
                assert actual == expected, f"viewer #{viewer} of {org}"
                assert by_query == expected, f"viewer #{viewer} of {org}"
            await savepoint.rollback()
