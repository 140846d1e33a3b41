"""Master data through the API: viewer, settings, roles, employees, activities, debtors, cases (SPEC 2, 5a, 5b, 10).

Every refused mutation is checked against the tables it would have written: nothing changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import CapKind, EmployeeVisibility
from tests.factories import PASSWORD, Factory, gql
from tests.graph.tables import count_of, rows_of

VIEWER = """query { viewer { id name email active defaultRate role { name isAdministrator } supervisor { name }
  activityRates { rate activity { code } } } }"""
SETTINGS_FIELDS = "timeTrackingEnabled useCaseColumn requireCase bookYearStartMonth staticListThreshold timeZone"
SETTINGS = f"query {{ settings {{ {SETTINGS_FIELDS} }} }}"
UPDATE_SETTINGS = f"""mutation($input: SettingsInput!) {{ updateSettings(input: $input) {{
  settings {{ {SETTINGS_FIELDS} }} userErrors {{ field code message }} }} }}"""

ROLE_FIELDS = "id name isAdministrator canEnterTimeForOthers canInvoice employeeVisibility visibleRoles { name }"
ROLES = f"query {{ roles {{ {ROLE_FIELDS} }} }}"
CREATE_ROLE = f"""mutation($input: RoleInput!) {{ createRole(input: $input) {{
  role {{ {ROLE_FIELDS} }} userErrors {{ field code message }} }} }}"""
UPDATE_ROLE = f"""mutation($id: ID!, $input: RoleInput!) {{ updateRole(id: $id, input: $input) {{
  role {{ {ROLE_FIELDS} }} userErrors {{ field code message }} }} }}"""

EMPLOYEE_FIELDS = "id name email active defaultRate role { name } supervisor { name }"
EMPLOYEES = f"""query($first: Int, $after: String, $search: String) {{
  employees(first: $first, after: $after, search: $search) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ {EMPLOYEE_FIELDS} }} }} }} }}"""
CREATE_EMPLOYEE = f"""mutation($input: EmployeeInput!) {{ createEmployee(input: $input) {{
  employee {{ {EMPLOYEE_FIELDS} }} userErrors {{ field code message }} }} }}"""
UPDATE_EMPLOYEE = f"""mutation($id: ID!, $input: EmployeeInput!) {{ updateEmployee(id: $id, input: $input) {{
  employee {{ {EMPLOYEE_FIELDS} }} userErrors {{ field code message }} }} }}"""
SET_EMPLOYEE_RATE = """mutation($input: EmployeeRateInput!) { setEmployeeRate(input: $input) {
  employee { name activityRates { rate activity { code } } } userErrors { field code message } } }"""
ACTIVITY_RATES = (
    """query($id: ID!) { node(id: $id) { ... on Employee { name activityRates { rate activity { code } } } } }"""
)

ACTIVITY_FIELDS = "id code name defaultStatus defaultRate"
ACTIVITIES = f"query {{ activities {{ {ACTIVITY_FIELDS} }} }}"
CREATE_ACTIVITY = f"""mutation($input: ActivityInput!) {{ createActivity(input: $input) {{
  activity {{ {ACTIVITY_FIELDS} }} userErrors {{ field code message }} }} }}"""
UPDATE_ACTIVITY = f"""mutation($id: ID!, $input: ActivityInput!) {{ updateActivity(id: $id, input: $input) {{
  activity {{ {ACTIVITY_FIELDS} }} userErrors {{ field code message }} }} }}"""

DEBTOR_FIELDS = "id code name adjustedRate"
DEBTORS = f"""query($first: Int, $after: String, $search: String) {{
  debtors(first: $first, after: $after, search: $search) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }}
    edges {{ cursor node {{ {DEBTOR_FIELDS} }} }} }} }}"""
CREATE_DEBTOR = f"""mutation($input: DebtorInput!) {{ createDebtor(input: $input) {{
  debtor {{ {DEBTOR_FIELDS} }} userErrors {{ field code message }} }} }}"""
UPDATE_DEBTOR = f"""mutation($id: ID!, $input: DebtorInput!) {{ updateDebtor(id: $id, input: $input) {{
  debtor {{ {DEBTOR_FIELDS} }} userErrors {{ field code message }} }} }}"""

CASE_FIELDS = """id code description invoicing isDefault activeFrom activeUntil adjustedRate blocked maxAmount
  maxMinutes maxPerBookYear maxBasedOn capThresholds timeEntryCount debtor { code }"""
CASES = """query($first: Int, $after: String, $debtorId: ID, $search: String, $includeBlocked: Boolean) {
  cases(first: $first, after: $after, debtorId: $debtorId, search: $search, includeBlocked: $includeBlocked) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { code debtor { code } } } } }"""
DEBTOR_CASES = """query($id: ID!, $first: Int, $after: String, $includeBlocked: Boolean) {
  node(id: $id) { ... on Debtor { code cases(first: $first, after: $after, includeBlocked: $includeBlocked) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { code blocked } } } } } }"""
CREATE_CASE = f"""mutation($input: CaseInput!) {{ createCase(input: $input) {{
  case {{ {CASE_FIELDS} }} userErrors {{ field code message }} }} }}"""
UPDATE_CASE = f"""mutation($id: ID!, $input: CaseInput!) {{ updateCase(id: $id, input: $input) {{
  case {{ {CASE_FIELDS} }} userErrors {{ field code message }} }} }}"""
IMPORT_CASES = """mutation($input: ImportCasesInput!) { importCases(input: $input) {
  cases { code description invoicing debtor { code } } userErrors { field code message } } }"""
CASE_OPTIONS = """query($debtorId: ID!, $date: Date) { caseOptions(debtorId: $debtorId, date: $date) {
  code isDefault } }"""

NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Role { name } ... on Employee { name }
  ... on Activity { code } ... on Debtor { code } ... on Case { code } } }"""
LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token viewer { name } userErrors { field code message } } }"""


def gid(type_name: str, db_id: int) -> str:
    return str(ids.encode(type_name, db_id))


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    """The mutation's payload; a gate or a bug (a top-level error) fails the test here."""
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def refusals(body: dict[str, Any], field: str) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload(body, field)["userErrors"]]


async def snapshot(session: AsyncSession, *tables: str) -> dict[str, list[str]]:
    return {table: await rows_of(session, table) for table in tables}


async def reader_token(factory: Factory) -> str:
    """A plain employee: every logged-in employee reads master data (SPEC 5a)."""
    return await factory.token(await factory.employee())


# --- viewer and settings ---------------------------------------------------------------------------------------


async def test_viewer_is_the_logged_in_employee(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    boss = await factory.employee(name="Big Boss")
    role = await factory.role(name="Consultants")
    employee = await factory.employee(
        role=role, name="Ada Lovelace", email="ada@example.test", supervisor=boss, default_rate=Decimal("85")
    )
    token = await factory.token(employee)
    # when
    body = await gql(client, VIEWER, token=token)
    # then
    assert body == {
        "data": {
            "viewer": {
                "id": gid("Employee", employee.id),
                "name": "Ada Lovelace",
                "email": "ada@example.test",
                "active": True,
                "defaultRate": "85.00",
                "role": {"name": "Consultants", "isAdministrator": False},
                "supervisor": {"name": "Big Boss"},
                "activityRates": [],
            }
        }
    }


async def test_settings_have_their_defaults_for_every_employee(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    token = await reader_token(factory)
    # when
    body = await gql(client, SETTINGS, token=token)
    # then
    assert body["data"]["settings"] == {
        "timeTrackingEnabled": True,
        "useCaseColumn": True,
        "requireCase": False,
        "bookYearStartMonth": 1,
        "staticListThreshold": 9500,
        "timeZone": "UTC",
    }


async def test_update_settings_patches_only_the_given_fields(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    # when
    body = await gql(
        client, UPDATE_SETTINGS, {"input": {"bookYearStartMonth": 4, "timeZone": " Europe/Amsterdam "}}, token=token
    )
    read_back = await gql(client, SETTINGS, token=token)
    # then
    expected = {
        "timeTrackingEnabled": True,
        "useCaseColumn": True,
        "requireCase": False,
        "bookYearStartMonth": 4,
        "staticListThreshold": 9500,
        "timeZone": "Europe/Amsterdam",
    }
    assert payload(body, "updateSettings") == {"settings": expected, "userErrors": []}
    assert read_back["data"]["settings"] == expected


@pytest.mark.parametrize(
    ("settings_input", "field"),
    [
        pytest.param({"timeZone": None}, ["timeZone"], id="null-time-zone"),
        pytest.param({"timeZone": "Mars/Olympus_Mons"}, ["timeZone"], id="unknown-time-zone"),
        pytest.param({"timeZone": "Europe"}, ["timeZone"], id="time-zone-folder"),
        pytest.param({"timeZone": "Etc/" + "x" * 300}, ["timeZone"], id="time-zone-name-too-long"),
        pytest.param({"timeZone": "zone.tab"}, ["timeZone"], id="time-zone-database-file"),
        pytest.param({"timeZone": "  "}, ["timeZone"], id="blank-time-zone"),
        pytest.param({"bookYearStartMonth": 13}, ["bookYearStartMonth"], id="month-13"),
        pytest.param({"bookYearStartMonth": 0}, ["bookYearStartMonth"], id="month-0"),
        pytest.param({"bookYearStartMonth": None}, ["bookYearStartMonth"], id="null-month"),
        pytest.param({"staticListThreshold": 0}, ["staticListThreshold"], id="threshold-0"),
        pytest.param({"timeTrackingEnabled": None}, ["timeTrackingEnabled"], id="null-enabled"),
        pytest.param({"requireCase": True, "useCaseColumn": False}, ["requireCase"], id="case-without-column"),
    ],
)
async def test_update_settings_refuses_bad_values_and_writes_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    settings_input: dict[str, Any],
    field: list[str],
) -> None:
    # given
    _, token = await factory.admin()
    before = await rows_of(session, "company_settings")
    # when
    body = await gql(client, UPDATE_SETTINGS, {"input": {"staticListThreshold": 100, **settings_input}}, token=token)
    # then
    assert refusals(body, "updateSettings") == [("VALIDATION", field)]
    assert payload(body, "updateSettings")["settings"] is None
    assert await rows_of(session, "company_settings") == before


async def test_turning_the_case_column_off_while_a_case_is_required_is_refused(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, token = await factory.admin()
    await gql(client, UPDATE_SETTINGS, {"input": {"requireCase": True}}, token=token)
    before = await rows_of(session, "company_settings")
    # when
    body = await gql(client, UPDATE_SETTINGS, {"input": {"useCaseColumn": False}}, token=token)
    # then
    assert refusals(body, "updateSettings") == [("VALIDATION", ["requireCase"])]
    assert await rows_of(session, "company_settings") == before


# --- roles -----------------------------------------------------------------------------------------------------


async def test_roles_lists_every_role_by_name_with_its_visible_roles(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    billing = await factory.role(name="billing", can_invoice=True)
    support = await factory.role(name="Support")
    await factory.role(
        name="Managers",
        visibility=EmployeeVisibility.SELECTED_ROLES,
        visible_role_ids=[support.id, billing.id],
        can_enter_time_for_others=True,
    )
    token = await factory.token(await factory.employee(role=support))
    # when
    body = await gql(client, ROLES, token=token)
    # then
    roles = body["data"]["roles"]
    assert [r["name"] for r in roles] == ["billing", "Managers", "Support"]
    managers = roles[1]
    assert managers["canEnterTimeForOthers"] is True
    assert managers["canInvoice"] is False
    assert managers["employeeVisibility"] == "SELECTED_ROLES"
    assert [r["name"] for r in managers["visibleRoles"]] == ["billing", "Support"]
    assert roles[0]["canInvoice"] is True
    assert roles[0]["visibleRoles"] == []


async def test_create_role_with_defaults_and_visible_roles(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    support = await factory.role(name="Support")
    # when
    plain = await gql(client, CREATE_ROLE, {"input": {"name": "  Interns  "}}, token=token)
    selected = await gql(
        client,
        CREATE_ROLE,
        {
            "input": {
                "name": "Leads",
                "canInvoice": True,
                "employeeVisibility": "SELECTED_ROLES",
                "visibleRoleIds": [gid("Role", support.id)],
            }
        },
        token=token,
    )
    # then
    interns = payload(plain, "createRole")["role"]
    assert interns["name"] == "Interns"
    assert (interns["isAdministrator"], interns["canEnterTimeForOthers"], interns["canInvoice"]) == (
        False,
        False,
        False,
    )
    assert interns["employeeVisibility"] == "ALL"
    leads = payload(selected, "createRole")["role"]
    assert leads["canInvoice"] is True
    assert leads["visibleRoles"] == [{"name": "Support"}]


async def test_update_role_patches_and_null_clears_the_visible_roles(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    _, token = await factory.admin()
    support = await factory.role(name="Support")
    leads = await factory.role(
        name="Leads", can_invoice=True, visibility=EmployeeVisibility.SELECTED_ROLES, visible_role_ids=[support.id]
    )
    # when
    renamed = await gql(
        client, UPDATE_ROLE, {"id": gid("Role", leads.id), "input": {"name": "Team Leads"}}, token=token
    )
    cleared = await gql(
        client, UPDATE_ROLE, {"id": gid("Role", leads.id), "input": {"visibleRoleIds": None}}, token=token
    )
    # then
    role = payload(renamed, "updateRole")["role"]
    assert role["name"] == "Team Leads"
    assert role["canInvoice"] is True
    assert role["employeeVisibility"] == "SELECTED_ROLES"
    assert role["visibleRoles"] == [{"name": "Support"}]
    assert payload(cleared, "updateRole")["role"]["visibleRoles"] == []
    assert payload(cleared, "updateRole")["role"]["name"] == "Team Leads"


@pytest.mark.parametrize(
    ("role_input", "expected"),
    [
        pytest.param({"name": None}, [("VALIDATION", ["name"])], id="null-name"),
        pytest.param({"name": "   "}, [("VALIDATION", ["name"])], id="blank-name"),
        pytest.param({"isAdministrator": None}, [("VALIDATION", ["isAdministrator"])], id="null-flag"),
        pytest.param({"employeeVisibility": None}, [("VALIDATION", ["employeeVisibility"])], id="null-visibility"),
        pytest.param({"name": "support"}, [("DUPLICATE", ["name"])], id="duplicate-name"),
        pytest.param({"visibleRoleIds": ["garbage"]}, [("NOT_FOUND", ["visibleRoleIds"])], id="garbage-role"),
        pytest.param(
            {"visibleRoleIds": [gid("Role", 2_000_000_000)]}, [("NOT_FOUND", ["visibleRoleIds"])], id="unknown-role"
        ),
    ],
)
async def test_update_role_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    role_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    await factory.role(name="Support")
    leads = await factory.role(name="Leads")
    before = await snapshot(session, "roles", "role_visible_roles")
    # when
    body = await gql(client, UPDATE_ROLE, {"id": gid("Role", leads.id), "input": role_input}, token=token)
    # then
    assert refusals(body, "updateRole") == expected
    assert payload(body, "updateRole")["role"] is None
    assert await snapshot(session, "roles", "role_visible_roles") == before


async def test_create_role_with_a_duplicate_name_is_refused(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, token = await factory.admin()
    await factory.role(name="Support")
    before = await rows_of(session, "roles")
    # when
    body = await gql(client, CREATE_ROLE, {"input": {"name": " SUPPORT "}}, token=token)
    # then
    assert refusals(body, "createRole") == [("DUPLICATE", ["name"])]
    assert await rows_of(session, "roles") == before


# --- employees -------------------------------------------------------------------------------------------------

NAMES = ["Alice Archer", "Bob Baker", "Carol Chen", "Dave Dunn", "Eve Evans"]


async def test_employees_pages_through_every_page(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    role = await factory.role(admin=True)
    for name in reversed(NAMES):
        await factory.employee(role=role, name=name)
    token = await factory.token(await factory.employee(role=role, name="Zoe Zimmer"))
    # when
    pages = []
    after = None
    while True:
        body = await gql(client, EMPLOYEES, {"first": 2, "after": after}, token=token)
        page = body["data"]["employees"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert [[e["node"]["name"] for e in p["edges"]] for p in pages] == [
        ["Alice Archer", "Bob Baker"],
        ["Carol Chen", "Dave Dunn"],
        ["Eve Evans", "Zoe Zimmer"],
    ]
    assert [p["totalCount"] for p in pages] == [6, 6, 6]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    assert all(p["pageInfo"]["endCursor"] == p["edges"][-1]["cursor"] for p in pages)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        pytest.param("carol", ["Carol Chen"], id="name-lowercase"),
        pytest.param("  CHEN ", ["Carol Chen"], id="name-uppercase-padded"),
        pytest.param("dave.d@", ["Dave Dunn"], id="email"),
        pytest.param("@shop.test", ["Bob Baker", "Eve Evans"], id="email-domain"),
        pytest.param("a", ["Alice Archer", "Bob Baker", "Carol Chen", "Dave Dunn", "Eve Evans"], id="everyone"),
        pytest.param("%", [], id="percent-is-literal"),
        pytest.param("_", [], id="underscore-is-literal"),
        pytest.param("nobody", [], id="no-match"),
    ],
)
async def test_employees_search_by_name_and_email(
    client: httpx.AsyncClient, factory: Factory, search: str, expected: list[str]
) -> None:
    # given
    role = await factory.role()
    domains = ["office.test", "shop.test", "office.test", "office.test", "shop.test"]
    for name, domain in zip(NAMES, domains, strict=True):
        local = name.split()[0].lower() + "." + name.split()[1][0].lower()
        await factory.employee(role=role, name=name, email=f"{local}@{domain}")
    token = await factory.token(await factory.employee(role=role, name="Viewer", email="v@x.test"))
    # when
    body = await gql(client, EMPLOYEES, {"search": search}, token=token)
    # then
    employees = body["data"]["employees"]
    assert [e["node"]["name"] for e in employees["edges"]] == expected
    assert employees["totalCount"] == len(expected)


async def test_a_searched_page_says_when_more_matches_follow(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    role = await factory.role()
    for name in ["Anna Smith", "Ben Smith", "Cleo Smith", "Dan Jones"]:
        await factory.employee(role=role, name=name)
    token = await factory.token(await factory.employee(role=role, name="Viewer"))
    # when
    first = await gql(client, EMPLOYEES, {"search": "smith", "first": 2}, token=token)
    cursor = first["data"]["employees"]["pageInfo"]["endCursor"]
    second = await gql(client, EMPLOYEES, {"search": "smith", "first": 2, "after": cursor}, token=token)
    # then
    page1, page2 = first["data"]["employees"], second["data"]["employees"]
    assert [e["node"]["name"] for e in page1["edges"]] == ["Anna Smith", "Ben Smith"]
    assert page1["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in page2["edges"]] == ["Cleo Smith"]
    assert page2["pageInfo"]["hasNextPage"] is False
    assert page1["totalCount"] == page2["totalCount"] == 3


async def test_create_employee(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    role = await factory.role(name="Consultants")
    boss = await factory.employee(name="Big Boss")
    employee_input = {
        "name": " Grace Hopper ",
        "email": " grace@example.test ",
        "password": "cobol-forever",
        "roleId": gid("Role", role.id),
        "supervisorId": gid("Employee", boss.id),
        "defaultRate": "110.5",
    }
    # when
    body = await gql(client, CREATE_EMPLOYEE, {"input": employee_input}, token=token)
    login = await gql(client, LOGIN, {"email": "GRACE@example.test", "password": "cobol-forever"})
    # then
    employee = payload(body, "createEmployee")["employee"]
    assert {k: v for k, v in employee.items() if k != "id"} == {
        "name": "Grace Hopper",
        "email": "grace@example.test",
        "active": True,
        "defaultRate": "110.50",
        "role": {"name": "Consultants"},
        "supervisor": {"name": "Big Boss"},
    }
    assert payload(login, "login")["viewer"] == {"name": "Grace Hopper"}


@pytest.mark.parametrize(
    ("employee_input", "expected"),
    [
        pytest.param({"email": "TAKEN@example.test"}, [("DUPLICATE", ["email"])], id="duplicate-email"),
        pytest.param({"email": "not-an-address"}, [("VALIDATION", ["email"])], id="bad-email"),
        pytest.param({"password": "short"}, [("VALIDATION", ["password"])], id="short-password"),
        pytest.param({"password": None}, [("VALIDATION", ["password"])], id="no-password"),
        pytest.param({"name": None}, [("VALIDATION", ["name"])], id="no-name"),
        pytest.param({"roleId": None}, [("VALIDATION", ["roleId"])], id="no-role"),
        pytest.param({"roleId": "garbage"}, [("NOT_FOUND", ["roleId"])], id="garbage-role"),
        pytest.param({"roleId": gid("Role", 2_000_000_000)}, [("NOT_FOUND", ["roleId"])], id="unknown-role"),
        pytest.param(
            {"supervisorId": gid("Employee", 2_000_000_000)}, [("NOT_FOUND", ["supervisorId"])], id="unknown-boss"
        ),
        pytest.param({"supervisorId": "garbage"}, [("NOT_FOUND", ["supervisorId"])], id="garbage-boss"),
        pytest.param({"defaultRate": "-1.00"}, [("VALIDATION", ["defaultRate"])], id="negative-rate"),
        pytest.param({"defaultRate": "1.005"}, [("VALIDATION", ["defaultRate"])], id="three-decimals"),
    ],
)
async def test_create_employee_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    employee_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    role = await factory.role()
    await factory.employee(email="taken@example.test")
    valid = {
        "name": "New Person",
        "email": "new@example.test",
        "password": "long-enough-pw",
        "roleId": gid("Role", role.id),
    }
    before = await snapshot(session, "employees", "auth_tokens")
    # when
    body = await gql(client, CREATE_EMPLOYEE, {"input": {**valid, **employee_input}}, token=token)
    # then
    assert refusals(body, "createEmployee") == expected
    assert payload(body, "createEmployee")["employee"] is None
    assert await snapshot(session, "employees", "auth_tokens") == before


async def test_update_employee_patches_only_the_given_fields(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    role = await factory.role(name="Consultants")
    boss = await factory.employee(name="Big Boss")
    employee = await factory.employee(
        role=role, name="Old Name", email="worker@example.test", supervisor=boss, default_rate=Decimal("80")
    )
    employee_id = gid("Employee", employee.id)
    # when
    renamed = await gql(client, UPDATE_EMPLOYEE, {"id": employee_id, "input": {"name": "New Name"}}, token=token)
    old_password = await gql(client, LOGIN, {"email": "worker@example.test", "password": PASSWORD})
    # then
    assert payload(renamed, "updateEmployee") == {
        "employee": {
            "id": employee_id,
            "name": "New Name",
            "email": "worker@example.test",
            "active": True,
            "defaultRate": "80.00",
            "role": {"name": "Consultants"},
            "supervisor": {"name": "Big Boss"},
        },
        "userErrors": [],
    }
    assert payload(old_password, "login")["userErrors"] == []


async def test_update_employee_null_clears_nullable_fields(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    boss = await factory.employee(name="Big Boss")
    employee = await factory.employee(name="Worker", supervisor=boss, default_rate=Decimal("80"))
    # when
    body = await gql(
        client,
        UPDATE_EMPLOYEE,
        {"id": gid("Employee", employee.id), "input": {"defaultRate": None, "supervisorId": None}},
        token=token,
    )
    # then
    updated = payload(body, "updateEmployee")["employee"]
    assert updated["defaultRate"] is None
    assert updated["supervisor"] is None
    assert updated["name"] == "Worker"


async def test_update_employee_changes_the_password(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    employee = await factory.employee(email="pw@example.test")
    # when
    await gql(
        client,
        UPDATE_EMPLOYEE,
        {"id": gid("Employee", employee.id), "input": {"password": "brand-new-pw"}},
        token=token,
    )
    old = await gql(client, LOGIN, {"email": "pw@example.test", "password": PASSWORD})
    new = await gql(client, LOGIN, {"email": "pw@example.test", "password": "brand-new-pw"})
    # then
    assert refusals(old, "login") == [("INVALID_CREDENTIALS", None)]
    assert payload(new, "login")["token"]


@pytest.mark.parametrize(
    ("employee_input", "expected"),
    [
        pytest.param({"name": None}, [("VALIDATION", ["name"])], id="null-name"),
        pytest.param({"email": None}, [("VALIDATION", ["email"])], id="null-email"),
        pytest.param({"password": None}, [("VALIDATION", ["password"])], id="null-password"),
        pytest.param({"roleId": None}, [("VALIDATION", ["roleId"])], id="null-role"),
        pytest.param({"active": None}, [("VALIDATION", ["active"])], id="null-active"),
        pytest.param({"email": "taken@EXAMPLE.test"}, [("DUPLICATE", ["email"])], id="duplicate-email"),
        pytest.param({"roleId": "garbage"}, [("NOT_FOUND", ["roleId"])], id="garbage-role"),
        pytest.param({"name": "x" * 201}, [("VALIDATION", ["name"])], id="long-name"),
    ],
)
async def test_update_employee_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    employee_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    await factory.employee(email="taken@example.test")
    employee = await factory.employee(name="Steady State")
    before = await snapshot(session, "employees", "auth_tokens")
    # when
    body = await gql(
        client, UPDATE_EMPLOYEE, {"id": gid("Employee", employee.id), "input": employee_input}, token=token
    )
    # then
    assert refusals(body, "updateEmployee") == expected
    assert await snapshot(session, "employees", "auth_tokens") == before


@pytest.mark.parametrize("who", ["self", "subordinate", "deep-subordinate"])
async def test_a_supervisor_cycle_is_refused(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, who: str
) -> None:
    # given
    _, token = await factory.admin()
    top = await factory.employee(name="Top")
    middle = await factory.employee(name="Middle", supervisor=top)
    bottom = await factory.employee(name="Bottom", supervisor=middle)
    new_boss = {"self": top, "subordinate": middle, "deep-subordinate": bottom}[who]
    before = await rows_of(session, "employees")
    # when
    body = await gql(
        client,
        UPDATE_EMPLOYEE,
        {"id": gid("Employee", top.id), "input": {"supervisorId": gid("Employee", new_boss.id)}},
        token=token,
    )
    # then
    assert refusals(body, "updateEmployee") == [("VALIDATION", ["supervisorId"])]
    assert await rows_of(session, "employees") == before


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("garbage", id="malformed"),
        pytest.param(gid("Employee", 2_000_000_000), id="nonexistent"),
        pytest.param("role-of-the-admin", id="another-type"),
    ],
)
async def test_update_employee_with_a_bad_id_is_not_found(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, bad_id: str
) -> None:
    # given
    admin, token = await factory.admin()
    target = gid("Role", admin.role_id) if bad_id == "role-of-the-admin" else bad_id
    before = await rows_of(session, "employees")
    # when
    body = await gql(client, UPDATE_EMPLOYEE, {"id": target, "input": {"name": "Nobody"}}, token=token)
    # then
    assert refusals(body, "updateEmployee") == [("NOT_FOUND", ["id"])]
    assert await rows_of(session, "employees") == before


# --- employee rates --------------------------------------------------------------------------------------------


async def test_activity_rates_show_to_administrators_and_the_employee_only(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    _, admin_token = await factory.admin()
    role = await factory.role()
    employee = await factory.employee(role=role, name="Rated Person")
    colleague = await factory.employee(role=role, name="Nosy Colleague")
    activity = await factory.activity(code="CONSULT")
    rate_input = {
        "employeeId": gid("Employee", employee.id),
        "activityId": gid("Activity", activity.id),
        "rate": "95.5",
    }
    # when
    set_rate = await gql(client, SET_EMPLOYEE_RATE, {"input": rate_input}, token=admin_token)
    as_admin = await gql(client, ACTIVITY_RATES, {"id": gid("Employee", employee.id)}, token=admin_token)
    as_self = await gql(client, VIEWER, token=await factory.token(employee))
    as_colleague = await gql(
        client, ACTIVITY_RATES, {"id": gid("Employee", employee.id)}, token=await factory.token(colleague)
    )
    # then
    rates = [{"rate": "95.50", "activity": {"code": "CONSULT"}}]
    assert payload(set_rate, "setEmployeeRate") == {
        "employee": {"name": "Rated Person", "activityRates": rates},
        "userErrors": [],
    }
    assert as_admin["data"]["node"]["activityRates"] == rates
    assert as_self["data"]["viewer"]["activityRates"] == rates
    assert as_colleague["data"]["node"] == {"name": "Rated Person", "activityRates": []}


async def test_a_null_rate_removes_the_employees_rate(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, token = await factory.admin()
    employee = await factory.employee()
    activity = await factory.activity()
    rate_input = {"employeeId": gid("Employee", employee.id), "activityId": gid("Activity", activity.id)}
    await gql(client, SET_EMPLOYEE_RATE, {"input": {**rate_input, "rate": "70.00"}}, token=token)
    # when
    changed = await gql(client, SET_EMPLOYEE_RATE, {"input": {**rate_input, "rate": "75.00"}}, token=token)
    removed = await gql(client, SET_EMPLOYEE_RATE, {"input": {**rate_input, "rate": None}}, token=token)
    # then
    assert payload(changed, "setEmployeeRate")["employee"]["activityRates"][0]["rate"] == "75.00"
    assert payload(removed, "setEmployeeRate")["employee"]["activityRates"] == []
    assert await count_of(session, "employee_rates") == 0


@pytest.mark.parametrize(
    ("rate_input", "expected"),
    [
        pytest.param({"employeeId": "garbage"}, [("NOT_FOUND", ["employeeId"])], id="garbage-employee"),
        pytest.param({"activityId": "garbage"}, [("NOT_FOUND", ["activityId"])], id="garbage-activity"),
        pytest.param(
            {"activityId": gid("Activity", 2_000_000_000)}, [("NOT_FOUND", ["activityId"])], id="unknown-activity"
        ),
        pytest.param({"rate": "-5.00"}, [("VALIDATION", ["rate"])], id="negative"),
        pytest.param({"rate": "100000000.00"}, [("VALIDATION", ["rate"])], id="too-large"),
    ],
)
async def test_set_employee_rate_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    rate_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    employee = await factory.employee()
    activity = await factory.activity()
    valid = {"employeeId": gid("Employee", employee.id), "activityId": gid("Activity", activity.id), "rate": "60.00"}
    before = await snapshot(session, "employees", "employee_rates")
    # when
    body = await gql(client, SET_EMPLOYEE_RATE, {"input": {**valid, **rate_input}}, token=token)
    # then
    assert refusals(body, "setEmployeeRate") == expected
    assert await snapshot(session, "employees", "employee_rates") == before


# --- activities ------------------------------------------------------------------------------------------------


async def test_activities_are_listed_by_code(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    second = await factory.activity(code="TRAVEL", default_rate=Decimal("40"))
    first = await factory.activity(code="ADVICE")
    token = await reader_token(factory)
    # when
    body = await gql(client, ACTIVITIES, token=token)
    # then
    assert body["data"]["activities"] == [
        {
            "id": gid("Activity", first.id),
            "code": "ADVICE",
            "name": first.name,
            "defaultStatus": "BILLABLE",
            "defaultRate": None,
        },
        {
            "id": gid("Activity", second.id),
            "code": "TRAVEL",
            "name": second.name,
            "defaultStatus": "BILLABLE",
            "defaultRate": "40.00",
        },
    ]


async def test_create_activity(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    # when
    plain = await gql(client, CREATE_ACTIVITY, {"input": {"code": "  ADV ", "name": "Advice"}}, token=token)
    internal = await gql(
        client,
        CREATE_ACTIVITY,
        {"input": {"code": "INT", "name": "Internal", "defaultStatus": "NON_BILLABLE", "defaultRate": "12.3"}},
        token=token,
    )
    # then
    advice = payload(plain, "createActivity")["activity"]
    assert (advice["code"], advice["defaultStatus"], advice["defaultRate"]) == ("ADV", "BILLABLE", None)
    other = payload(internal, "createActivity")["activity"]
    assert (other["defaultStatus"], other["defaultRate"]) == ("NON_BILLABLE", "12.30")


@pytest.mark.parametrize(
    ("activity_input", "expected"),
    [
        pytest.param({"code": "adv"}, [("DUPLICATE", ["code"])], id="duplicate-code"),
        pytest.param({"code": None}, [("VALIDATION", ["code"])], id="no-code"),
        pytest.param({"name": ""}, [("VALIDATION", ["name"])], id="empty-name"),
        pytest.param({"defaultStatus": "INVOICED"}, [("VALIDATION", ["defaultStatus"])], id="status-f"),
        pytest.param({"defaultStatus": "OVER_LIMIT"}, [("VALIDATION", ["defaultStatus"])], id="status-l"),
    ],
)
async def test_create_activity_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    activity_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    await factory.activity(code="ADV")
    before = await rows_of(session, "activities")
    # when
    body = await gql(client, CREATE_ACTIVITY, {"input": {"code": "NEW", "name": "New", **activity_input}}, token=token)
    # then
    assert refusals(body, "createActivity") == expected
    assert await rows_of(session, "activities") == before


async def test_update_activity_patches_and_null_clears_the_rate(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    activity = await factory.activity(code="ADV", default_rate=Decimal("50"))
    activity_id = gid("Activity", activity.id)
    # when
    renamed = await gql(client, UPDATE_ACTIVITY, {"id": activity_id, "input": {"name": "Advice"}}, token=token)
    cleared = await gql(client, UPDATE_ACTIVITY, {"id": activity_id, "input": {"defaultRate": None}}, token=token)
    # then
    assert payload(renamed, "updateActivity")["activity"] == {
        "id": activity_id,
        "code": "ADV",
        "name": "Advice",
        "defaultStatus": "BILLABLE",
        "defaultRate": "50.00",
    }
    assert payload(cleared, "updateActivity")["activity"]["defaultRate"] is None
    assert payload(cleared, "updateActivity")["activity"]["name"] == "Advice"


@pytest.mark.parametrize(
    ("activity_input", "expected"),
    [
        pytest.param({"name": None}, [("VALIDATION", ["name"])], id="null-name"),
        pytest.param({"code": None}, [("VALIDATION", ["code"])], id="null-code"),
        pytest.param({"defaultStatus": None}, [("VALIDATION", ["defaultStatus"])], id="null-status"),
        pytest.param({"code": " other "}, [("DUPLICATE", ["code"])], id="duplicate-code"),
    ],
)
async def test_update_activity_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    activity_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    await factory.activity(code="OTHER")
    activity = await factory.activity(code="ADV")
    before = await rows_of(session, "activities")
    # when
    body = await gql(
        client, UPDATE_ACTIVITY, {"id": gid("Activity", activity.id), "input": activity_input}, token=token
    )
    # then
    assert refusals(body, "updateActivity") == expected
    assert await rows_of(session, "activities") == before


# --- debtors ---------------------------------------------------------------------------------------------------


async def test_debtors_page_by_code(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    for code in ["D-E", "D-C", "D-A", "D-D", "D-B"]:
        await factory.debtor(code=code)
    token = await reader_token(factory)
    # when
    first = await gql(client, DEBTORS, {"first": 3}, token=token)
    after = first["data"]["debtors"]["pageInfo"]["endCursor"]
    second = await gql(client, DEBTORS, {"first": 3, "after": after}, token=token)
    # then
    page1, page2 = first["data"]["debtors"], second["data"]["debtors"]
    assert [e["node"]["code"] for e in page1["edges"]] == ["D-A", "D-B", "D-C"]
    assert [e["node"]["code"] for e in page2["edges"]] == ["D-D", "D-E"]
    assert (page1["pageInfo"]["hasNextPage"], page2["pageInfo"]["hasNextPage"]) == (True, False)
    assert (page1["pageInfo"]["hasPreviousPage"], page2["pageInfo"]["hasPreviousPage"]) == (False, True)
    assert page1["totalCount"] == page2["totalCount"] == 5


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        pytest.param("acme", ["ACME"], id="code"),
        pytest.param("widgets", ["ACME", "WID"], id="name"),
        pytest.param("zzz", [], id="no-match"),
        pytest.param("", ["ACME", "GLOBEX", "WID"], id="empty-is-everyone"),
    ],
)
async def test_debtors_search_by_code_and_name(
    client: httpx.AsyncClient, factory: Factory, search: str, expected: list[str]
) -> None:
    # given
    await factory.debtor(code="ACME", name="Acme Widgets Ltd")
    await factory.debtor(code="GLOBEX", name="Globex Corporation")
    await factory.debtor(code="WID", name="Wonder Widgets")
    token = await reader_token(factory)
    # when
    body = await gql(client, DEBTORS, {"search": search}, token=token)
    # then
    assert [e["node"]["code"] for e in body["data"]["debtors"]["edges"]] == expected
    assert body["data"]["debtors"]["totalCount"] == len(expected)


async def test_create_debtor_trims_its_code(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    # when
    body = await gql(
        client, CREATE_DEBTOR, {"input": {"code": "  ACME ", "name": "Acme", "adjustedRate": "99.9"}}, token=token
    )
    # then
    debtor = payload(body, "createDebtor")["debtor"]
    assert (debtor["code"], debtor["name"], debtor["adjustedRate"]) == ("ACME", "Acme", "99.90")


@pytest.mark.parametrize(
    ("debtor_input", "expected"),
    [
        pytest.param({"code": " acme "}, [("DUPLICATE", ["code"])], id="duplicate-code"),
        pytest.param({"code": None}, [("VALIDATION", ["code"])], id="no-code"),
        pytest.param({"name": None}, [("VALIDATION", ["name"])], id="no-name"),
        pytest.param({"adjustedRate": "1.999"}, [("VALIDATION", ["adjustedRate"])], id="three-decimals"),
    ],
)
async def test_create_debtor_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    debtor_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    await factory.debtor(code="ACME")
    before = await rows_of(session, "debtors")
    # when
    body = await gql(client, CREATE_DEBTOR, {"input": {"code": "NEW", "name": "New", **debtor_input}}, token=token)
    # then
    assert refusals(body, "createDebtor") == expected
    assert await rows_of(session, "debtors") == before


async def test_update_debtor_patches_and_null_clears_the_rate(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    debtor = await factory.debtor(code="ACME", name="Acme", adjusted_rate=Decimal("90"))
    debtor_id = gid("Debtor", debtor.id)
    # when
    renamed = await gql(client, UPDATE_DEBTOR, {"id": debtor_id, "input": {"name": "Acme Corp"}}, token=token)
    cleared = await gql(client, UPDATE_DEBTOR, {"id": debtor_id, "input": {"adjustedRate": None}}, token=token)
    # then
    assert payload(renamed, "updateDebtor")["debtor"] == {
        "id": debtor_id,
        "code": "ACME",
        "name": "Acme Corp",
        "adjustedRate": "90.00",
    }
    assert payload(cleared, "updateDebtor")["debtor"] == {
        "id": debtor_id,
        "code": "ACME",
        "name": "Acme Corp",
        "adjustedRate": None,
    }


@pytest.mark.parametrize(
    ("target", "debtor_input", "expected"),
    [
        pytest.param("debtor", {"name": None}, [("VALIDATION", ["name"])], id="null-name"),
        pytest.param("debtor", {"code": None}, [("VALIDATION", ["code"])], id="null-code"),
        pytest.param("debtor", {"code": "globex"}, [("DUPLICATE", ["code"])], id="duplicate-code"),
        pytest.param("garbage", {"name": "X"}, [("NOT_FOUND", ["id"])], id="malformed-id"),
        pytest.param("case", {"name": "X"}, [("NOT_FOUND", ["id"])], id="id-of-a-case"),
        pytest.param("missing", {"name": "X"}, [("NOT_FOUND", ["id"])], id="nonexistent-id"),
    ],
)
async def test_update_debtor_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    target: str,
    debtor_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    await factory.debtor(code="GLOBEX")
    debtor = await factory.debtor(code="ACME")
    case = await factory.case(debtor=debtor)
    debtor_id = {
        "debtor": gid("Debtor", debtor.id),
        "garbage": "garbage",
        "case": gid("Case", case.id),
        "missing": gid("Debtor", 2_000_000_000),
    }[target]
    before = await rows_of(session, "debtors")
    # when
    body = await gql(client, UPDATE_DEBTOR, {"id": debtor_id, "input": debtor_input}, token=token)
    # then
    assert refusals(body, "updateDebtor") == expected
    assert payload(body, "updateDebtor")["debtor"] is None
    assert await rows_of(session, "debtors") == before


# --- cases -----------------------------------------------------------------------------------------------------


async def test_cases_filter_by_debtor_search_and_blocked(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    acme = await factory.debtor(code="ACME")
    globex = await factory.debtor(code="GLOBEX")
    await factory.case(debtor=acme, code="A-1", description="Alpha rollout")
    await factory.case(debtor=acme, code="A-2", blocked=True)
    await factory.case(debtor=acme, code="A-3")
    await factory.case(debtor=globex, code="G-1", description="alphabet soup")
    token = await reader_token(factory)
    acme_id = gid("Debtor", acme.id)

    async def codes(**variables: Any) -> tuple[list[str], int]:
        body = await gql(client, CASES, variables, token=token)
        cases = body["data"]["cases"]
        return [e["node"]["code"] for e in cases["edges"]], cases["totalCount"]

    # when
    everything = await codes()
    of_acme = await codes(debtorId=acme_id)
    of_acme_blocked_too = await codes(debtorId=acme_id, includeBlocked=True)
    searched = await codes(search="ALPHA")
    searched_code = await codes(search="g-")
    of_acme_searched = await codes(debtorId=acme_id, search="alpha")
    malformed_debtor = await codes(debtorId="garbage")
    # then
    assert everything == (["A-1", "A-3", "G-1"], 3)
    assert of_acme == (["A-1", "A-3"], 2)
    assert of_acme_blocked_too == (["A-1", "A-2", "A-3"], 3)
    assert searched == (["A-1", "G-1"], 2)
    assert searched_code == (["G-1"], 1)
    assert of_acme_searched == (["A-1"], 1)
    assert malformed_debtor == ([], 0)


async def test_cases_page_through(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    debtor = await factory.debtor()
    for code in ["C-3", "C-1", "C-2"]:
        await factory.case(debtor=debtor, code=code)
    token = await reader_token(factory)
    # when
    first = await gql(client, CASES, {"first": 2}, token=token)
    after = first["data"]["cases"]["pageInfo"]["endCursor"]
    second = await gql(client, CASES, {"first": 2, "after": after}, token=token)
    # then
    page1, page2 = first["data"]["cases"], second["data"]["cases"]
    assert [e["node"]["code"] for e in page1["edges"]] == ["C-1", "C-2"]
    assert [e["node"]["code"] for e in page2["edges"]] == ["C-3"]
    assert (page1["pageInfo"]["hasNextPage"], page2["pageInfo"]["hasNextPage"]) == (True, False)
    assert page1["totalCount"] == page2["totalCount"] == 3


async def test_a_debtors_cases(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    acme = await factory.debtor(code="ACME")
    other = await factory.debtor(code="OTHER")
    await factory.case(debtor=acme, code="A-1")
    await factory.case(debtor=acme, code="A-2", blocked=True)
    await factory.case(debtor=acme, code="A-3")
    await factory.case(debtor=other, code="O-1")
    token = await reader_token(factory)
    acme_id = gid("Debtor", acme.id)
    # when
    open_cases = await gql(client, DEBTOR_CASES, {"id": acme_id}, token=token)
    all_cases = await gql(client, DEBTOR_CASES, {"id": acme_id, "includeBlocked": True}, token=token)
    first_page = await gql(client, DEBTOR_CASES, {"id": acme_id, "first": 1}, token=token)
    after = first_page["data"]["node"]["cases"]["pageInfo"]["endCursor"]
    next_page = await gql(client, DEBTOR_CASES, {"id": acme_id, "first": 1, "after": after}, token=token)
    # then
    assert [e["node"]["code"] for e in open_cases["data"]["node"]["cases"]["edges"]] == ["A-1", "A-3"]
    assert open_cases["data"]["node"]["cases"]["totalCount"] == 2
    assert [e["node"] for e in all_cases["data"]["node"]["cases"]["edges"]] == [
        {"code": "A-1", "blocked": False},
        {"code": "A-2", "blocked": True},
        {"code": "A-3", "blocked": False},
    ]
    assert first_page["data"]["node"]["cases"]["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["code"] for e in next_page["data"]["node"]["cases"]["edges"]] == ["A-3"]
    assert next_page["data"]["node"]["cases"]["pageInfo"]["hasNextPage"] is False


async def test_create_case_with_defaults(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    debtor = await factory.debtor(code="ACME")
    # when
    body = await gql(
        client, CREATE_CASE, {"input": {"debtorId": gid("Debtor", debtor.id), "code": "  P-1 "}}, token=token
    )
    # then
    case = payload(body, "createCase")["case"]
    assert {k: v for k, v in case.items() if k != "id"} == {
        "code": "P-1",
        "description": None,
        "invoicing": "BILLABLE",
        "isDefault": False,
        "activeFrom": None,
        "activeUntil": None,
        "adjustedRate": None,
        "blocked": False,
        "maxAmount": None,
        "maxMinutes": None,
        "maxPerBookYear": "NONE",
        "maxBasedOn": "BILLABLE",
        "capThresholds": [50, 80, 100],
        "timeEntryCount": 0,
        "debtor": {"code": "ACME"},
    }


async def test_create_case_with_every_field(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    debtor = await factory.debtor(code="ACME")
    case_input = {
        "debtorId": gid("Debtor", debtor.id),
        "code": "P-2",
        "description": "Support contract",
        "invoicing": "NON_BILLABLE",
        "isDefault": True,
        "adjustedRate": "130.00",
        "blocked": False,
        "maxAmount": "5000.00",
        "maxMinutes": 6000,
        "maxPerBookYear": "AMOUNT",
        "maxBasedOn": "NON_BILLABLE",
        "capThresholds": [90, 25, 75],
    }
    # when
    body = await gql(client, CREATE_CASE, {"input": case_input}, token=token)
    # then
    case = payload(body, "createCase")["case"]
    assert case["description"] == "Support contract"
    assert (case["invoicing"], case["isDefault"], case["adjustedRate"]) == ("NON_BILLABLE", True, "130.00")
    assert (case["maxAmount"], case["maxMinutes"], case["maxPerBookYear"], case["maxBasedOn"]) == (
        "5000.00",
        6000,
        "AMOUNT",
        "NON_BILLABLE",
    )
    assert case["capThresholds"] == [25, 75, 90]  # kept in ascending order


async def test_the_same_case_code_may_serve_two_debtors(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    await factory.case(debtor=await factory.debtor(), code="SHARED")
    other = await factory.debtor(code="OTHER")
    # when
    body = await gql(
        client, CREATE_CASE, {"input": {"debtorId": gid("Debtor", other.id), "code": "shared"}}, token=token
    )
    # then
    assert payload(body, "createCase")["case"]["debtor"] == {"code": "OTHER"}


@pytest.mark.parametrize(
    ("case_input", "expected"),
    [
        pytest.param({"code": " p-1 "}, [("DUPLICATE", ["code"])], id="duplicate-code"),
        pytest.param({"code": None}, [("VALIDATION", ["code"])], id="no-code"),
        pytest.param({"debtorId": None}, [("VALIDATION", ["debtorId"])], id="no-debtor"),
        pytest.param({"debtorId": "garbage"}, [("NOT_FOUND", ["debtorId"])], id="garbage-debtor"),
        pytest.param({"debtorId": gid("Debtor", 2_000_000_000)}, [("NOT_FOUND", ["debtorId"])], id="unknown-debtor"),
        pytest.param(
            {"maxPerBookYear": "TIME", "maxMinutes": 600, "activeFrom": "2026-01-01"},
            [("PERIOD_WITH_CAP", ["activeFrom"])],
            id="period-with-cap",
        ),
        pytest.param(
            {"maxPerBookYear": "AMOUNT", "maxAmount": "100.00", "activeUntil": "2026-12-31"},
            [("PERIOD_WITH_CAP", ["activeUntil"])],
            id="until-with-cap",
        ),
        pytest.param(
            {"activeFrom": "2026-06-01", "activeUntil": "2026-05-31"},
            [("VALIDATION", ["activeUntil"])],
            id="until-before-from",
        ),
        pytest.param({"maxPerBookYear": "TIME"}, [("VALIDATION", ["maxMinutes"])], id="time-cap-without-minutes"),
        pytest.param({"maxPerBookYear": "AMOUNT"}, [("VALIDATION", ["maxAmount"])], id="amount-cap-without-amount"),
        pytest.param({"invoicing": "INVOICED"}, [("VALIDATION", ["invoicing"])], id="invoicing-f"),
        pytest.param({"activeFrom": "1999-12-31"}, [("VALIDATION", ["activeFrom"])], id="date-too-early"),
        pytest.param({"maxMinutes": -1}, [("VALIDATION", ["maxMinutes"])], id="negative-minutes"),
        pytest.param({"description": "x" * 4001}, [("VALIDATION", ["description"])], id="long-description"),
        pytest.param({"capThresholds": [50, 0]}, [("VALIDATION", ["capThresholds", "1"])], id="threshold-zero"),
        pytest.param({"capThresholds": [101]}, [("VALIDATION", ["capThresholds", "0"])], id="threshold-past-100"),
        pytest.param({"capThresholds": [80, 80]}, [("VALIDATION", ["capThresholds"])], id="threshold-twice"),
        pytest.param({"capThresholds": list(range(1, 12))}, [("VALIDATION", ["capThresholds"])], id="11-thresholds"),
    ],
)
async def test_create_case_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    case_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    debtor = await factory.debtor()
    await factory.case(debtor=debtor, code="P-1")
    before = await rows_of(session, "cases")
    # when
    body = await gql(
        client, CREATE_CASE, {"input": {"debtorId": gid("Debtor", debtor.id), "code": "P-2", **case_input}}, token=token
    )
    # then
    assert refusals(body, "createCase") == expected
    assert payload(body, "createCase")["case"] is None
    assert await rows_of(session, "cases") == before


async def test_update_case_patches_and_null_clears_nullable_fields(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    debtor = await factory.debtor(code="ACME")
    case = await factory.case(
        debtor=debtor,
        code="P-1",
        description="Old text",
        adjusted_rate=Decimal("120"),
        is_default=True,
        active_from=date(2026, 1, 1),
    )
    case_id = gid("Case", case.id)
    # when
    described = await gql(client, UPDATE_CASE, {"id": case_id, "input": {"description": "New text"}}, token=token)
    cleared = await gql(
        client, UPDATE_CASE, {"id": case_id, "input": {"adjustedRate": None, "activeFrom": None}}, token=token
    )
    # then
    after_description = payload(described, "updateCase")["case"]
    assert after_description["description"] == "New text"
    assert (after_description["adjustedRate"], after_description["isDefault"]) == ("120.00", True)
    assert after_description["activeFrom"] == "2026-01-01"
    assert (after_description["code"], after_description["debtor"]) == ("P-1", {"code": "ACME"})
    thresholds = await gql(client, UPDATE_CASE, {"id": case_id, "input": {"capThresholds": []}}, token=token)
    assert payload(thresholds, "updateCase")["case"]["capThresholds"] == []  # none told
    after_clear = payload(cleared, "updateCase")["case"]
    assert (after_clear["adjustedRate"], after_clear["activeFrom"]) == (None, None)
    assert (after_clear["description"], after_clear["isDefault"]) == ("New text", True)


@pytest.mark.parametrize(
    ("case_input", "expected"),
    [
        pytest.param({"code": None}, [("VALIDATION", ["code"])], id="null-code"),
        pytest.param({"invoicing": None}, [("VALIDATION", ["invoicing"])], id="null-invoicing"),
        pytest.param({"blocked": None}, [("VALIDATION", ["blocked"])], id="null-blocked"),
        pytest.param({"isDefault": None}, [("VALIDATION", ["isDefault"])], id="null-default"),
        pytest.param({"maxPerBookYear": None}, [("VALIDATION", ["maxPerBookYear"])], id="null-cap-kind"),
        pytest.param({"maxBasedOn": None}, [("VALIDATION", ["maxBasedOn"])], id="null-basis"),
        pytest.param({"capThresholds": None}, [("VALIDATION", ["capThresholds"])], id="null-thresholds"),
        pytest.param({"debtorId": None}, [("VALIDATION", ["debtorId"])], id="null-debtor"),
        pytest.param({"code": "P-OTHER"}, [("DUPLICATE", ["code"])], id="duplicate-code"),
        pytest.param({"debtorId": "other-debtor"}, [("VALIDATION", ["debtorId"])], id="move-to-another-debtor"),
        pytest.param({"maxMinutes": None}, [("VALIDATION", ["maxMinutes"])], id="time-cap-loses-its-minutes"),
        pytest.param({"activeFrom": "2026-01-01"}, [("PERIOD_WITH_CAP", ["activeFrom"])], id="period-on-a-capped"),
    ],
)
async def test_update_case_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    case_input: dict[str, Any],
    expected: list[tuple[str, list[str]]],
) -> None:
    # given
    _, token = await factory.admin()
    debtor = await factory.debtor()
    other = await factory.debtor()
    await factory.case(debtor=debtor, code="P-OTHER")
    case = await factory.case(debtor=debtor, code="P-1", max_per_book_year=CapKind.TIME, max_minutes=600)
    if case_input.get("debtorId") == "other-debtor":
        case_input = {"debtorId": gid("Debtor", other.id)}
    before = await rows_of(session, "cases")
    # when
    body = await gql(client, UPDATE_CASE, {"id": gid("Case", case.id), "input": case_input}, token=token)
    # then
    assert refusals(body, "updateCase") == expected
    assert await rows_of(session, "cases") == before


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("garbage", id="malformed"),
        pytest.param(gid("Case", 2_000_000_000), id="nonexistent"),
        pytest.param("debtor-id", id="id-of-a-debtor"),
    ],
)
async def test_update_case_with_a_bad_id_is_not_found(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, bad_id: str
) -> None:
    # given
    _, token = await factory.admin()
    case = await factory.case()
    target = gid("Debtor", case.debtor_id) if bad_id == "debtor-id" else bad_id
    before = await rows_of(session, "cases")
    # when
    body = await gql(client, UPDATE_CASE, {"id": target, "input": {"description": "x"}}, token=token)
    # then
    assert refusals(body, "updateCase") == [("NOT_FOUND", ["id"])]
    assert await rows_of(session, "cases") == before


# --- case options ----------------------------------------------------------------------------------------------


async def test_case_options_put_defaults_first_and_leave_out_blocked_and_inactive(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    debtor = await factory.debtor()
    await factory.case(debtor=debtor, code="A-OPEN")
    await factory.case(debtor=debtor, code="Z-DEFAULT", is_default=True)
    await factory.case(debtor=debtor, code="B-BLOCKED", blocked=True)
    await factory.case(debtor=debtor, code="C-ENDED", active_until=date(2026, 10, 31))
    await factory.case(debtor=debtor, code="D-LATER", active_from=date(2026, 12, 1))
    await factory.case(debtor=debtor, code="E-NOVEMBER", active_from=date(2026, 11, 1), active_until=date(2026, 11, 30))
    await factory.case(debtor=await factory.debtor(), code="A-OTHER-DEBTOR")
    token = await reader_token(factory)
    debtor_id = gid("Debtor", debtor.id)

    async def options(on: str) -> list[str]:
        body = await gql(client, CASE_OPTIONS, {"debtorId": debtor_id, "date": on}, token=token)
        return [c["code"] for c in body["data"]["caseOptions"]]

    # when
    in_october = await options("2026-10-31")
    first_of_november = await options("2026-11-01")
    last_of_november = await options("2026-11-30")
    in_december = await options("2026-12-01")
    # then
    assert in_october == ["Z-DEFAULT", "A-OPEN", "C-ENDED"]
    assert first_of_november == ["Z-DEFAULT", "A-OPEN", "E-NOVEMBER"]
    assert last_of_november == ["Z-DEFAULT", "A-OPEN", "E-NOVEMBER"]
    assert in_december == ["Z-DEFAULT", "A-OPEN", "D-LATER"]


async def test_case_options_without_a_date_use_today(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    today = datetime.now(UTC).date()
    debtor = await factory.debtor()
    await factory.case(debtor=debtor, code="OPEN")
    await factory.case(debtor=debtor, code="PAST", active_until=today - timedelta(days=10))
    await factory.case(debtor=debtor, code="FUTURE", active_from=today + timedelta(days=10))
    await factory.case(
        debtor=debtor, code="NOW", active_from=today - timedelta(days=10), active_until=today + timedelta(days=10)
    )
    token = await reader_token(factory)
    # when
    body = await gql(client, CASE_OPTIONS, {"debtorId": gid("Debtor", debtor.id)}, token=token)
    # then
    assert [c["code"] for c in body["data"]["caseOptions"]] == ["NOW", "OPEN"]


@pytest.mark.parametrize("debtor_id", ["garbage", gid("Debtor", 2_000_000_000), gid("Case", 1)])
async def test_case_options_of_an_unknown_debtor_are_empty(
    client: httpx.AsyncClient, factory: Factory, debtor_id: str
) -> None:
    # given
    await factory.case(code="SOMETHING")
    token = await reader_token(factory)
    # when
    body = await gql(client, CASE_OPTIONS, {"debtorId": debtor_id}, token=token)
    # then
    assert body == {"data": {"caseOptions": []}}


# --- connections ---------------------------------------------------------------------------------------------

CONNECTIONS = [
    pytest.param(EMPLOYEES, "employees", id="employees"),
    pytest.param(DEBTORS, "debtors", id="debtors"),
    pytest.param(CASES, "cases", id="cases"),
]


@pytest.mark.parametrize(("document", "field"), CONNECTIONS)
@pytest.mark.parametrize(
    "variables",
    [
        pytest.param({"first": 101}, id="first-101"),
        pytest.param({"first": -1}, id="first-negative"),
        pytest.param({"after": "not-a-cursor"}, id="malformed-cursor"),
        pytest.param({"after": "WzEsMiwzXQ=="}, id="cursor-of-another-shape"),
        pytest.param({"after": "WzEsMl0="}, id="cursor-of-wrong-types"),
    ],
)
async def test_a_connection_refuses_a_bad_page_request(
    client: httpx.AsyncClient, factory: Factory, document: str, field: str, variables: dict[str, Any]
) -> None:
    # given
    _, token = await factory.admin()
    # when
    body = await gql(client, document, variables, token=token)
    # then
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]
    assert body["errors"][0]["path"] == [field]
    assert body["data"] is None


@pytest.mark.parametrize(("document", "field"), CONNECTIONS)
async def test_a_connection_gives_up_to_100_and_nothing_for_0(
    client: httpx.AsyncClient, factory: Factory, document: str, field: str
) -> None:
    # given
    _, token = await factory.admin()
    await factory.case(debtor=await factory.debtor())
    # when
    hundred = await gql(client, document, {"first": 100}, token=token)
    zero = await gql(client, document, {"first": 0}, token=token)
    # then
    assert "errors" not in hundred
    assert len(hundred["data"][field]["edges"]) == hundred["data"][field]["totalCount"] >= 1
    assert zero["data"][field]["edges"] == []
    assert zero["data"][field]["pageInfo"]["hasNextPage"] is True


async def test_a_cursor_is_stable_under_inserts(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    for code in ["D-B", "D-D"]:
        await factory.debtor(code=code)
    token = await reader_token(factory)
    first = await gql(client, DEBTORS, {"first": 1}, token=token)
    cursor = first["data"]["debtors"]["pageInfo"]["endCursor"]
    # when
    for code in ["D-A", "D-C"]:
        await factory.debtor(code=code)
    rest = await gql(client, DEBTORS, {"first": 10, "after": cursor}, token=token)
    # then
    assert [e["node"]["code"] for e in first["data"]["debtors"]["edges"]] == ["D-B"]
    assert [e["node"]["code"] for e in rest["data"]["debtors"]["edges"]] == ["D-C", "D-D"]


async def test_a_debtors_cases_refuse_more_than_100(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    token = await reader_token(factory)
    debtor = await factory.debtor()
    # when
    body = await gql(client, DEBTOR_CASES, {"id": gid("Debtor", debtor.id), "first": 101}, token=token)
    # then
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]
    assert body["errors"][0]["path"] == ["node", "cases"]


# --- node ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", ["Role", "Employee", "Activity", "Debtor", "Case"])
async def test_node_finds_each_master_data_type(client: httpx.AsyncClient, factory: Factory, type_name: str) -> None:
    # given
    token = await reader_token(factory)
    record: Any
    if type_name == "Role":
        record, label = await factory.role(name="Found Role"), {"name": "Found Role"}
    elif type_name == "Employee":
        record, label = await factory.employee(name="Found Person"), {"name": "Found Person"}
    elif type_name == "Activity":
        record, label = await factory.activity(code="FOUND-A"), {"code": "FOUND-A"}
    elif type_name == "Debtor":
        record, label = await factory.debtor(code="FOUND-D"), {"code": "FOUND-D"}
    else:
        record, label = await factory.case(code="FOUND-C"), {"code": "FOUND-C"}
    node_id = gid(type_name, record.id)
    # when
    body = await gql(client, NODE, {"id": node_id}, token=token)
    # then
    assert body == {"data": {"node": {"__typename": type_name, "id": node_id, **label}}}


@pytest.mark.parametrize(
    "node_id",
    [
        pytest.param("garbage", id="malformed"),
        pytest.param("", id="empty"),
        pytest.param("RW1wbG95ZWU6", id="no-number"),
        pytest.param(gid("Employee", 0), id="zero"),
        pytest.param(gid("Widget", 1), id="unknown-type"),
        pytest.param(gid("Role", 2_000_000_000), id="nonexistent-role"),
        pytest.param(gid("Employee", 2_000_000_000), id="nonexistent-employee"),
        pytest.param(gid("Activity", 2_000_000_000), id="nonexistent-activity"),
        pytest.param(gid("Debtor", 2_000_000_000), id="nonexistent-debtor"),
        pytest.param(gid("Case", 2_000_000_000), id="nonexistent-case"),
        pytest.param(gid("Case", 2**63), id="beyond-bigint"),
    ],
)
async def test_node_is_null_for_an_id_that_finds_nothing(
    client: httpx.AsyncClient, factory: Factory, node_id: str
) -> None:
    # given
    token = await reader_token(factory)
    # when
    body = await gql(client, NODE, {"id": node_id}, token=token)
    # then
    assert body == {"data": {"node": None}}


async def test_node_is_null_for_another_types_prefix_on_an_existing_number(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    token = await reader_token(factory)
    debtor = await factory.debtor()
    case = await factory.case(debtor=debtor)
    # when
    body = await gql(client, NODE, {"id": gid("Debtor", case.id + 1_000_000)}, token=token)
    found = await gql(client, NODE, {"id": gid("Debtor", debtor.id)}, token=token)
    # then
    assert body == {"data": {"node": None}}
    assert found["data"]["node"]["__typename"] == "Debtor"


async def test_node_is_null_for_a_deleted_record(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    token = await reader_token(factory)
    activity = await factory.activity()
    activity_id = gid("Activity", activity.id)
    await session.delete(activity)
    await session.flush()
    # when
    body = await gql(client, NODE, {"id": activity_id}, token=token)
    # then
    assert body == {"data": {"node": None}}


# --- login -----------------------------------------------------------------------------------------------------


async def test_login_accepts_the_email_in_any_case(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    await factory.employee(name="Case Insensitive", email="mixed@example.test")
    # when
    body = await gql(client, LOGIN, {"email": "  MIXED@Example.TEST ", "password": PASSWORD})
    # then
    login = payload(body, "login")
    assert login["viewer"] == {"name": "Case Insensitive"}
    assert login["userErrors"] == []
    assert len(login["token"]) >= 32


async def test_login_refuses_alike_whatever_is_wrong(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    await factory.employee(email="known@example.test")
    await factory.employee(email="gone@example.test", active=False)
    before = await rows_of(session, "auth_tokens")
    # when
    unknown = await gql(client, LOGIN, {"email": "unknown@example.test", "password": PASSWORD})
    wrong = await gql(client, LOGIN, {"email": "known@example.test", "password": "wrong-password"})
    inactive = await gql(client, LOGIN, {"email": "gone@example.test", "password": PASSWORD})
    # then
    answers = [payload(b, "login") for b in (unknown, wrong, inactive)]
    assert all(a["token"] is None and a["viewer"] is None for a in answers)
    errors = [a["userErrors"] for a in answers]
    assert errors[0] == errors[1] == errors[2]
    assert [e["code"] for e in errors[0]] == ["INVALID_CREDENTIALS"]
    assert await rows_of(session, "auth_tokens") == before


# --- importCases -----------------------------------------------------------------------------------------------


async def test_import_cases_creates_the_case_for_every_debtor(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, token = await factory.admin()
    debtors = [await factory.debtor(code=code) for code in ("IMP-A", "IMP-B", "IMP-C")]
    case = {"code": "SUPPORT-2026", "description": "Yearly support", "invoicing": "NON_BILLABLE"}
    import_input = {"debtorIds": [gid("Debtor", d.id) for d in debtors], "case": case}
    # when
    body = await gql(client, IMPORT_CASES, {"input": import_input}, token=token)
    # then
    result = payload(body, "importCases")
    assert result["userErrors"] == []
    assert result["cases"] == [
        {"code": "SUPPORT-2026", "description": "Yearly support", "invoicing": "NON_BILLABLE", "debtor": {"code": c}}
        for c in ("IMP-A", "IMP-B", "IMP-C")
    ]
    assert await count_of(session, "cases") == 3


async def _import_with_bad_debtors(factory: Factory) -> tuple[list[str], list[str]]:
    """Five debtor IDs: good, duplicate code, malformed, good, nonexistent. Returns (ids, good debtor codes)."""
    good = [await factory.debtor(code="GOOD-1"), await factory.debtor(code="GOOD-2")]
    taken = await factory.debtor(code="TAKEN")
    await factory.case(debtor=taken, code="support-2026")
    debtor_ids = [
        gid("Debtor", good[0].id),
        gid("Debtor", taken.id),
        "garbage",
        gid("Debtor", good[1].id),
        gid("Debtor", 2_000_000_000),
    ]
    return debtor_ids, ["GOOD-1", "GOOD-2"]


async def test_import_cases_is_all_or_nothing(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, token = await factory.admin()
    debtor_ids, _ = await _import_with_bad_debtors(factory)
    before = await rows_of(session, "cases")
    # when
    body = await gql(
        client, IMPORT_CASES, {"input": {"debtorIds": debtor_ids, "case": {"code": "SUPPORT-2026"}}}, token=token
    )
    # then
    result = payload(body, "importCases")
    assert result["cases"] == []
    assert [(e["code"], e["field"][:2]) for e in result["userErrors"]] == [
        ("DUPLICATE", ["debtorIds", "1"]),
        ("NOT_FOUND", ["debtorIds", "2"]),
        ("NOT_FOUND", ["debtorIds", "4"]),
    ]
    assert result["userErrors"][0]["field"] == ["debtorIds", "1", "code"]
    assert await rows_of(session, "cases") == before


async def test_import_cases_best_effort_keeps_the_good_ones(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, token = await factory.admin()
    debtor_ids, good_codes = await _import_with_bad_debtors(factory)
    before = await count_of(session, "cases")
    import_input = {"debtorIds": debtor_ids, "case": {"code": "SUPPORT-2026"}, "bestEffort": True}
    # when
    body = await gql(client, IMPORT_CASES, {"input": import_input}, token=token)
    # then
    result = payload(body, "importCases")
    assert [c["debtor"]["code"] for c in result["cases"]] == good_codes
    assert [(e["code"], e["field"][:2]) for e in result["userErrors"]] == [
        ("DUPLICATE", ["debtorIds", "1"]),
        ("NOT_FOUND", ["debtorIds", "2"]),
        ("NOT_FOUND", ["debtorIds", "4"]),
    ]
    assert await count_of(session, "cases") == before + 2


async def test_import_cases_reports_the_same_debtor_given_twice(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, token = await factory.admin()
    debtor = gid("Debtor", (await factory.debtor()).id)
    before = await rows_of(session, "cases")
    # when
    body = await gql(
        client, IMPORT_CASES, {"input": {"debtorIds": [debtor, debtor], "case": {"code": "X"}}}, token=token
    )
    # then
    result = payload(body, "importCases")
    assert [(e["code"], e["field"][:2]) for e in result["userErrors"]] == [("DUPLICATE", ["debtorIds", "1"])]
    assert await rows_of(session, "cases") == before


@pytest.mark.parametrize(
    ("import_input", "expected_codes"),
    [
        pytest.param({"debtorIds": []}, ["VALIDATION"], id="no-debtors"),
        pytest.param(
            {"case": {"code": "X", "maxPerBookYear": "TIME", "maxMinutes": 60, "activeFrom": "2026-01-01"}},
            ["PERIOD_WITH_CAP", "PERIOD_WITH_CAP"],
            id="period-with-cap",
        ),
        pytest.param({"case": {"code": None}}, ["VALIDATION", "VALIDATION"], id="no-code"),
    ],
)
async def test_import_cases_refusals_write_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    import_input: dict[str, Any],
    expected_codes: list[str],
) -> None:
    # given
    _, token = await factory.admin()
    debtor_ids = [gid("Debtor", (await factory.debtor()).id), gid("Debtor", (await factory.debtor()).id)]
    before = await rows_of(session, "cases")
    # when
    body = await gql(
        client, IMPORT_CASES, {"input": {"debtorIds": debtor_ids, "case": {"code": "X"}, **import_input}}, token=token
    )
    # then
    result = payload(body, "importCases")
    assert [e["code"] for e in result["userErrors"]] == expected_codes
    assert result["cases"] == []
    assert await rows_of(session, "cases") == before
