"""The gates of SPEC 5a: every root field needs a valid token, administrators' fields need an administrator.

A gate is a top-level error with `extensions.code`, and nothing of the refused field runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import build_schema
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import DeliveryStatus
from services import employees
from services.auth import token_digest
from settings import PROJECT_ROOT
from tests.factories import PASSWORD, Factory, error_codes, gql
from tests.graph.tables import rows_of

Setup = Callable[[Factory], Awaitable[dict[str, Any]]]

NODE = "query($id: ID!) { node(id: $id) { id } }"
VIEWER = "query { viewer { id name } }"
SETTINGS = "query { settings { timeZone } }"
ROLES = "query { roles { id } }"
EMPLOYEES = "query { employees { totalCount } }"
ACTIVITIES = "query { activities { id } }"
DEBTORS = "query { debtors { totalCount } }"
CASES = "query { cases { totalCount } }"
CASE_OPTIONS = "query($debtorId: ID!) { caseOptions(debtorId: $debtorId) { id } }"
TIME_ENTRIES = "query { timeEntries { totalCount } }"
RUNNING_TIMER = "query { runningTimer { id } }"
TIME_REPORT = "query { timeReport(filter: {}, groupBy: [STATUS]) { totalMinutes } }"
INVOICES = "query { invoices { totalCount } }"
AUDIT_LOG = "query { auditLog { totalCount } }"
CHANGED_SINCE = "query { timeEntriesChangedSince { cursor } }"
WEBHOOKS = "query { webhooks { id } }"

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token viewer { name } userErrors { code message } } }"""
UPDATE_ACTIVE = """mutation($id: ID!, $active: Boolean!) {
  updateEmployee(id: $id, input: {active: $active}) { employee { active } userErrors { code } } }"""
LOGOUT = "mutation { logout }"
CHANGE_PASSWORD = """mutation { changePassword(input: {currentPassword: "correct-horse-battery",
  newPassword: "a-brand-new-secret"}) { ok userErrors { code } } }"""
UPDATE_SETTINGS = """mutation($input: SettingsInput!) {
  updateSettings(input: $input) { settings { bookYearStartMonth } userErrors { code } } }"""
CREATE_ROLE = "mutation($input: RoleInput!) { createRole(input: $input) { role { id } userErrors { code } } }"
UPDATE_ROLE = """mutation($id: ID!, $input: RoleInput!) {
  updateRole(id: $id, input: $input) { role { id } userErrors { code } } }"""
CREATE_EMPLOYEE = """mutation($input: EmployeeInput!) {
  createEmployee(input: $input) { employee { id } userErrors { code } } }"""
UPDATE_EMPLOYEE = """mutation($id: ID!, $input: EmployeeInput!) {
  updateEmployee(id: $id, input: $input) { employee { id } userErrors { code } } }"""
SET_EMPLOYEE_RATE = """mutation($input: EmployeeRateInput!) {
  setEmployeeRate(input: $input) { employee { id } userErrors { code } } }"""
CREATE_DEBTOR = "mutation($input: DebtorInput!) { createDebtor(input: $input) { debtor { id } userErrors { code } } }"
UPDATE_DEBTOR = """mutation($id: ID!, $input: DebtorInput!) {
  updateDebtor(id: $id, input: $input) { debtor { id } userErrors { code } } }"""
CREATE_ACTIVITY = """mutation($input: ActivityInput!) {
  createActivity(input: $input) { activity { id } userErrors { code } } }"""
UPDATE_ACTIVITY = """mutation($id: ID!, $input: ActivityInput!) {
  updateActivity(id: $id, input: $input) { activity { id } userErrors { code } } }"""
CREATE_CASE = "mutation($input: CaseInput!) { createCase(input: $input) { case { id } userErrors { code } } }"
UPDATE_CASE = """mutation($id: ID!, $input: CaseInput!) {
  updateCase(id: $id, input: $input) { case { id } userErrors { code } } }"""
IMPORT_CASES = """mutation($input: ImportCasesInput!) {
  importCases(input: $input) { cases { id } userErrors { code } } }"""
CREATE_TIME_ENTRY = """mutation { createTimeEntry(input: {minutes: 30, workDate: "2026-11-02"}) {
  timeEntry { id } userErrors { code } } }"""
UPDATE_TIME_ENTRY = """mutation($id: ID!) { updateTimeEntry(id: $id, input: {minutes: 30}) {
  timeEntry { id } userErrors { code } } }"""
DELETE_TIME_ENTRY = "mutation($id: ID!) { deleteTimeEntry(id: $id) { deletedId userErrors { code } } }"
COPY_TIME_ENTRIES = """mutation($id: ID!) { copyTimeEntries(ids: [$id], toDate: "2026-11-03") {
  timeEntries { id } userErrors { code } } }"""
SAVE_CASE_TIME_LIST = """mutation($id: ID!) { saveCaseTimeList(caseId: $id, changes: []) {
  timeEntries { id } userErrors { code } } }"""
START_TIMER = """mutation($debtorId: ID!, $activityId: ID!) {
  startTimer(input: {debtorId: $debtorId, activityId: $activityId}) { timer { id } userErrors { code } } }"""
STOP_TIMER = "mutation { stopTimer { timeEntry { id } userErrors { code } } }"
DISCARD_TIMER = "mutation { discardTimer { timer { id } userErrors { code } } }"
CREATE_INVOICE = """mutation($debtorId: ID!) { createInvoice(input: {debtorId: $debtorId}) {
  invoice { id } userErrors { code } } }"""
VOID_INVOICE = "mutation($id: ID!) { voidInvoice(id: $id) { invoice { id } userErrors { code } } }"
RELEASE_OVER_LIMIT = """mutation($id: ID!) { releaseOverLimit(ids: [$id], status: BILLABLE) {
  timeEntries { id } userErrors { code } } }"""
CREATE_WEBHOOK = """mutation($input: WebhookInput!) {
  createWebhook(input: $input) { webhook { id } userErrors { code } } }"""
UPDATE_WEBHOOK = """mutation($id: ID!, $input: WebhookInput!) {
  updateWebhook(id: $id, input: $input) { webhook { id } userErrors { code } } }"""
REPLAY_WEBHOOK_DELIVERY = """mutation($id: ID!) {
  replayWebhookDelivery(id: $id) { delivery { id } userErrors { code } } }"""


@dataclass(frozen=True)
class RootField:
    name: str
    document: str
    setup: Setup
    table: str | None = None  # the table a mutation of this field writes to


async def _nothing(_: Factory) -> dict[str, Any]:
    return {}


async def _a_role_id(factory: Factory) -> dict[str, Any]:
    return {"id": ids.encode("Role", (await factory.role()).id)}


async def _a_debtor(factory: Factory) -> dict[str, Any]:
    return {"debtorId": ids.encode("Debtor", (await factory.debtor()).id)}


async def _an_entry_id(_: Factory) -> dict[str, Any]:
    return {"id": ids.encode("TimeEntry", 1)}


async def _a_case_id(factory: Factory) -> dict[str, Any]:
    return {"id": ids.encode("Case", (await factory.case()).id)}


async def _a_timer(factory: Factory) -> dict[str, Any]:
    return {
        "debtorId": ids.encode("Debtor", (await factory.debtor()).id),
        "activityId": ids.encode("Activity", (await factory.activity()).id),
    }


async def _an_invoice_id(_: Factory) -> dict[str, Any]:
    return {"id": ids.encode("Invoice", 1)}


async def _update_settings(_: Factory) -> dict[str, Any]:
    return {"input": {"bookYearStartMonth": 7, "timeZone": "Europe/Amsterdam"}}


async def _create_role(_: Factory) -> dict[str, Any]:
    return {"input": {"name": "Gatecrashers", "isAdministrator": True}}


async def _update_role(factory: Factory) -> dict[str, Any]:
    role = await factory.role(name="Plain role")
    return {"id": ids.encode("Role", role.id), "input": {"name": "Renamed role", "isAdministrator": True}}


async def _create_employee(factory: Factory) -> dict[str, Any]:
    role = await factory.role(admin=True)
    return {
        "input": {
            "name": "Mallory Intruder",
            "email": "mallory@example.test",
            "password": "mallory-password",
            "roleId": ids.encode("Role", role.id),
        }
    }


async def _update_employee(factory: Factory) -> dict[str, Any]:
    employee = await factory.employee(name="Quiet Person")
    return {"id": ids.encode("Employee", employee.id), "input": {"name": "Loud Person", "active": False}}


async def _set_employee_rate(factory: Factory) -> dict[str, Any]:
    employee = await factory.employee()
    activity = await factory.activity()
    return {
        "input": {
            "employeeId": ids.encode("Employee", employee.id),
            "activityId": ids.encode("Activity", activity.id),
            "rate": "999.00",
        }
    }


async def _create_debtor(_: Factory) -> dict[str, Any]:
    return {"input": {"code": "GATE", "name": "Gate Debtor"}}


async def _update_debtor(factory: Factory) -> dict[str, Any]:
    debtor = await factory.debtor()
    return {"id": ids.encode("Debtor", debtor.id), "input": {"name": "Renamed Debtor", "adjustedRate": "1.00"}}


async def _create_activity(_: Factory) -> dict[str, Any]:
    return {"input": {"code": "GATE", "name": "Gate Activity"}}


async def _update_activity(factory: Factory) -> dict[str, Any]:
    activity = await factory.activity()
    return {"id": ids.encode("Activity", activity.id), "input": {"name": "Renamed Activity"}}


async def _create_case(factory: Factory) -> dict[str, Any]:
    debtor = await factory.debtor()
    return {"input": {"debtorId": ids.encode("Debtor", debtor.id), "code": "GATE"}}


async def _update_case(factory: Factory) -> dict[str, Any]:
    case = await factory.case()
    return {"id": ids.encode("Case", case.id), "input": {"blocked": True, "adjustedRate": "1.00"}}


async def _import_cases(factory: Factory) -> dict[str, Any]:
    debtors = [await factory.debtor(), await factory.debtor()]
    return {"input": {"debtorIds": [ids.encode("Debtor", d.id) for d in debtors], "case": {"code": "GATE"}}}


async def _create_webhook(_: Factory) -> dict[str, Any]:
    return {"input": {"url": "http://127.0.0.1:9/gate", "eventTypes": ["timeEntry.created"], "secret": "x" * 16}}


async def _update_webhook(factory: Factory) -> dict[str, Any]:
    webhook = await factory.webhook()
    return {"id": ids.encode("Webhook", webhook.id), "input": {"url": "http://127.0.0.1:9/elsewhere"}}


async def _a_failed_delivery(factory: Factory) -> dict[str, Any]:
    delivery = await factory.delivery(await factory.webhook(), status=DeliveryStatus.FAILED, attempts=8)
    return {"id": ids.encode("WebhookDelivery", delivery.id)}


ADMIN_MUTATIONS = [
    RootField("updateSettings", UPDATE_SETTINGS, _update_settings, "company_settings"),
    RootField("createRole", CREATE_ROLE, _create_role, "roles"),
    RootField("updateRole", UPDATE_ROLE, _update_role, "roles"),
    RootField("createEmployee", CREATE_EMPLOYEE, _create_employee, "employees"),
    RootField("updateEmployee", UPDATE_EMPLOYEE, _update_employee, "employees"),
    RootField("setEmployeeRate", SET_EMPLOYEE_RATE, _set_employee_rate, "employee_rates"),
    RootField("createDebtor", CREATE_DEBTOR, _create_debtor, "debtors"),
    RootField("updateDebtor", UPDATE_DEBTOR, _update_debtor, "debtors"),
    RootField("createActivity", CREATE_ACTIVITY, _create_activity, "activities"),
    RootField("updateActivity", UPDATE_ACTIVITY, _update_activity, "activities"),
    RootField("createCase", CREATE_CASE, _create_case, "cases"),
    RootField("updateCase", UPDATE_CASE, _update_case, "cases"),
    RootField("importCases", IMPORT_CASES, _import_cases, "cases"),
    RootField("createWebhook", CREATE_WEBHOOK, _create_webhook, "webhooks"),
    RootField("updateWebhook", UPDATE_WEBHOOK, _update_webhook, "webhooks"),
    RootField("replayWebhookDelivery", REPLAY_WEBHOOK_DELIVERY, _a_failed_delivery, "webhook_deliveries"),
]
# the queries only administrators may use
ADMIN_QUERIES = [RootField("auditLog", AUDIT_LOG, _nothing), RootField("webhooks", WEBHOOKS, _nothing)]
OTHER_ROOT_FIELDS = [
    RootField("node", NODE, _a_role_id),
    RootField("viewer", VIEWER, _nothing),
    RootField("settings", SETTINGS, _nothing),
    RootField("roles", ROLES, _nothing),
    RootField("employees", EMPLOYEES, _nothing),
    RootField("activities", ACTIVITIES, _nothing),
    RootField("debtors", DEBTORS, _nothing),
    RootField("cases", CASES, _nothing),
    RootField("caseOptions", CASE_OPTIONS, _a_debtor),
    RootField("timeEntries", TIME_ENTRIES, _nothing),
    RootField("runningTimer", RUNNING_TIMER, _nothing),
    RootField("timeReport", TIME_REPORT, _nothing),
    RootField("invoices", INVOICES, _nothing),
    RootField("timeEntriesChangedSince", CHANGED_SINCE, _nothing),
    RootField("logout", LOGOUT, _nothing, "auth_tokens"),
    RootField("changePassword", CHANGE_PASSWORD, _nothing, "employees"),
    RootField("createTimeEntry", CREATE_TIME_ENTRY, _nothing, "time_entries"),
    RootField("updateTimeEntry", UPDATE_TIME_ENTRY, _an_entry_id, "time_entries"),
    RootField("deleteTimeEntry", DELETE_TIME_ENTRY, _an_entry_id, "time_entries"),
    RootField("copyTimeEntries", COPY_TIME_ENTRIES, _an_entry_id, "time_entries"),
    RootField("saveCaseTimeList", SAVE_CASE_TIME_LIST, _a_case_id, "time_entries"),
    RootField("startTimer", START_TIMER, _a_timer, "timers"),
    RootField("stopTimer", STOP_TIMER, _nothing, "time_entries"),
    RootField("discardTimer", DISCARD_TIMER, _nothing, "timers"),
    RootField("createInvoice", CREATE_INVOICE, _a_debtor, "invoices"),
    RootField("voidInvoice", VOID_INVOICE, _an_invoice_id, "invoices"),
    RootField("releaseOverLimit", RELEASE_OVER_LIMIT, _an_entry_id, "time_entries"),
]
# every root field but `login`, the one field open without a token
GATED_FIELDS = [*OTHER_ROOT_FIELDS, *ADMIN_QUERIES, *ADMIN_MUTATIONS]


def _params(fields: list[RootField]) -> list[Any]:
    return [pytest.param(f, id=f.name) for f in fields]


async def _non_admin_token(factory: Factory) -> str:
    """A non-administrator holding every other privilege: those must not open an administrator's field."""
    role = await factory.role(can_enter_time_for_others=True, can_invoice=True)
    return await factory.token(await factory.employee(role=role))


def _gate_error(body: dict[str, Any], field: RootField) -> dict[str, Any]:
    (error,) = body["errors"]
    assert error["path"] == [field.name]
    assert (body["data"] or {}).get(field.name) is None
    return dict(error)


def test_the_gate_lists_cover_every_root_field_but_login() -> None:
    # given
    schema = build_schema((PROJECT_ROOT / "schema.graphql").read_text())
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    # when
    root_fields = {*schema.query_type.fields, *schema.mutation_type.fields}
    # then
    assert sorted(f.name for f in GATED_FIELDS) == sorted(root_fields - {"login"})


@pytest.mark.parametrize("field", _params(GATED_FIELDS))
async def test_every_root_field_but_login_needs_a_token(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, field: RootField
) -> None:
    # given
    variables = await field.setup(factory)
    before = await rows_of(session, field.table) if field.table else []
    # when
    body = await gql(client, field.document, variables)
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]
    _gate_error(body, field)
    assert (await rows_of(session, field.table) if field.table else []) == before


@pytest.mark.parametrize("field", _params(ADMIN_MUTATIONS))
async def test_an_administrators_mutation_is_forbidden_to_others_and_writes_nothing(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, field: RootField
) -> None:
    # given
    token = await _non_admin_token(factory)
    variables = await field.setup(factory)
    assert field.table is not None
    before = await rows_of(session, field.table)
    # when
    body = await gql(client, field.document, variables, token=token)
    # then
    assert error_codes(body) == ["FORBIDDEN"]
    _gate_error(body, field)
    assert await rows_of(session, field.table) == before


@pytest.mark.parametrize("field", _params(ADMIN_MUTATIONS))
async def test_the_same_mutation_by_an_administrator_writes(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, field: RootField
) -> None:
    # given
    _, token = await factory.admin()
    variables = await field.setup(factory)
    assert field.table is not None
    before = await rows_of(session, field.table)
    # when
    body = await gql(client, field.document, variables, token=token)
    # then
    assert "errors" not in body
    assert body["data"][field.name]["userErrors"] == []
    assert await rows_of(session, field.table) != before


@pytest.mark.parametrize("field", _params(ADMIN_QUERIES))
async def test_an_administrators_query_is_forbidden_to_others_and_answers_them(
    client: httpx.AsyncClient, factory: Factory, field: RootField
) -> None:
    # given
    token = await _non_admin_token(factory)
    _, admin_token = await factory.admin()
    # when
    refused = await gql(client, field.document, token=token)
    answered = await gql(client, field.document, token=admin_token)
    # then
    assert error_codes(refused) == ["FORBIDDEN"]
    _gate_error(refused, field)
    assert "errors" not in answered
    assert answered["data"][field.name] is not None


async def test_login_needs_no_token(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    employee = await factory.employee(name="Open Door")
    # when
    body = await gql(client, LOGIN, {"email": employee.email, "password": PASSWORD})
    # then
    assert "errors" not in body
    assert body["data"]["login"]["viewer"]["name"] == "Open Door"
    assert body["data"]["login"]["token"]


LOGIN_SHOWING_MORE = """mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    viewer { name supervisor { name } activityRates { rate } } userErrors { code } } }"""


async def test_login_shows_the_viewer_one_has_become(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given: a consultant whose role sees everyone, with a supervisor and a rate of their own
    boss = await factory.employee(name="The Boss")
    consultant = await factory.employee(name="Own Rates", supervisor=boss, role=await factory.role())
    activity = await factory.activity()
    await employees.set_rate(session, employee_id=consultant.id, activity_id=activity.id, rate=Decimal("77.00"))
    # when
    body = await gql(client, LOGIN_SHOWING_MORE, {"email": consultant.email, "password": PASSWORD})
    # then: their own rates and their supervisor, as `viewer` would show them
    assert body["data"]["login"]["viewer"] == {
        "name": "Own Rates",
        "supervisor": {"name": "The Boss"},
        "activityRates": [{"rate": "77.00"}],
    }


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-token-anyone-issued", id="unknown"),
        pytest.param("", id="empty"),
        pytest.param("x" * 300, id="long"),
    ],
)
async def test_an_unknown_token_is_unauthenticated(client: httpx.AsyncClient, factory: Factory, token: str) -> None:
    # given
    await factory.admin()
    headers = {"Authorization": f"Bearer {token}"}
    # when
    response = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
    # then
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_a_token_under_another_scheme_is_unauthenticated(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    # when
    response = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Basic {token}"})
    # then
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_an_expired_token_is_unauthenticated(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    employee = await factory.employee(name="Past Due")
    token = await factory.token(employee)
    while_valid = await gql(client, VIEWER, token=token)
    await session.execute(
        text("UPDATE auth_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = :digest"),
        {"digest": token_digest(token)},
    )
    # when
    body = await gql(client, VIEWER, token=token)
    # then
    assert while_valid["data"]["viewer"]["name"] == "Past Due"
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


async def test_an_inactive_employees_token_is_unauthenticated(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, admin_token = await factory.admin()
    employee = await factory.employee(name="Leaving Soon")
    token = await factory.token(employee)
    while_active = await gql(client, VIEWER, token=token)
    # when
    deactivated = await gql(
        client, UPDATE_ACTIVE, {"id": ids.encode("Employee", employee.id), "active": False}, token=admin_token
    )
    body = await gql(client, VIEWER, token=token)
    # then
    assert while_active["data"]["viewer"]["name"] == "Leaving Soon"
    assert deactivated["data"]["updateEmployee"] == {"employee": {"active": False}, "userErrors": []}
    assert error_codes(body) == ["UNAUTHENTICATED"]
    tokens_left = await session.scalar(
        text("SELECT count(*) FROM auth_tokens WHERE employee_id = :id"), {"id": employee.id}
    )
    assert tokens_left == 0


async def test_reactivating_does_not_revive_old_tokens(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, admin_token = await factory.admin()
    employee = await factory.employee()
    token = await factory.token(employee)
    employee_id = ids.encode("Employee", employee.id)
    await gql(client, UPDATE_ACTIVE, {"id": employee_id, "active": False}, token=admin_token)
    # when
    await gql(client, UPDATE_ACTIVE, {"id": employee_id, "active": True}, token=admin_token)
    body = await gql(client, VIEWER, token=token)
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_after_logout_the_token_no_longer_works(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    employee = await factory.employee(name="Heading Home")
    token = await factory.token(employee)
    other_token = await factory.token(employee)
    # when
    logout = await gql(client, LOGOUT, token=token)
    after = await gql(client, VIEWER, token=token)
    second_logout = await gql(client, LOGOUT, token=token)
    other_device = await gql(client, VIEWER, token=other_token)
    # then
    assert logout == {"data": {"logout": True}}
    assert error_codes(after) == ["UNAUTHENTICATED"]
    assert error_codes(second_logout) == ["UNAUTHENTICATED"]
    assert other_device["data"]["viewer"]["name"] == "Heading Home"
