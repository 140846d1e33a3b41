"""`TimeEntry.history` and `Invoice.history` through the API (SPEC 13): each change in order, with who and when, and
each field's before and after written as the API writes that field; a hidden employee is neither name nor ID."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from typing import Any

import httpx

from api.history.types import TIME_ENTRY_FIELDS
from graph import ids
from models import EmployeeVisibility
from settings import PROJECT_ROOT
from tests.factories import Factory, gql

CREATE = (
    """mutation($input: TimeEntryInput!) { createTimeEntry(input: $input) { timeEntry { id } userErrors { code } } }"""
)
UPDATE = """mutation($id: ID!, $input: TimeEntryInput!) {
  updateTimeEntry(id: $id, input: $input) { timeEntry { id } userErrors { code } } }"""
INVOICE = """mutation($input: InvoiceInput!) { createInvoice(input: $input) { invoice { id } userErrors { code } } }"""
VOID = "mutation($id: ID!) { voidInvoice(id: $id) { invoice { id } userErrors { code } } }"
ENTRY_HISTORY = """query($id: ID!) { node(id: $id) { ... on TimeEntry {
  history { action by { name } changes { field before after } } } } }"""
INVOICE_HISTORY = """query($id: ID!) { node(id: $id) { ... on Invoice {
  history { action by { name } changes { field before after } } } } }"""


async def _ok(client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str, field: str) -> Any:
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    payload = body["data"][field]
    assert payload["userErrors"] == [], payload
    return payload


async def test_an_entrys_history_tells_each_change_as_the_api_writes_its_fields(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin, token = await factory.admin()
    case = await factory.case()
    activity = await factory.activity(default_rate=Decimal("90.00"))
    entry_input = {
        "caseId": ids.encode("Case", case.id),
        "activityId": ids.encode("Activity", activity.id),
        "workDate": "2026-11-02",
        "minutes": 30,
    }
    entry = (await _ok(client, CREATE, {"input": entry_input}, token, "createTimeEntry"))["timeEntry"]["id"]
    await _ok(client, UPDATE, {"id": entry, "input": {"minutes": 45, "description": "Call"}}, token, "updateTimeEntry")
    debtor = ids.encode("Debtor", case.debtor_id)
    invoice = (await _ok(client, INVOICE, {"input": {"debtorId": debtor}}, token, "createInvoice"))["invoice"]["id"]
    await _ok(client, VOID, {"id": invoice}, token, "voidInvoice")

    body = await gql(client, ENTRY_HISTORY, {"id": entry}, token=token)

    by = {"name": admin.name}
    assert body["data"]["node"]["history"] == [
        {
            "action": "CREATED",
            "by": by,
            "changes": [
                {"field": "employeeId", "before": None, "after": ids.encode("Employee", admin.id)},
                {"field": "debtorId", "before": None, "after": debtor},
                {"field": "caseId", "before": None, "after": ids.encode("Case", case.id)},
                {"field": "activityId", "before": None, "after": ids.encode("Activity", activity.id)},
                {"field": "workDate", "before": None, "after": "2026-11-02"},
                {"field": "minutes", "before": None, "after": "30"},
                {"field": "status", "before": None, "after": "BILLABLE"},
                {"field": "rate", "before": None, "after": "90.00"},
                {"field": "amount", "before": None, "after": "45.00"},
                {"field": "tags", "before": None, "after": "[]"},
            ],
        },
        {
            "action": "UPDATED",
            "by": by,
            "changes": [
                {"field": "minutes", "before": "30", "after": "45"},
                {"field": "amount", "before": "45.00", "after": "67.50"},
                {"field": "description", "before": None, "after": "Call"},
            ],
        },
        {
            "action": "INVOICED",
            "by": by,
            "changes": [
                {"field": "status", "before": "BILLABLE", "after": "INVOICED"},
                {"field": "invoiceId", "before": None, "after": invoice},
            ],
        },
        {
            "action": "VOIDED",
            "by": by,
            "changes": [
                {"field": "status", "before": "INVOICED", "after": "BILLABLE"},
                {"field": "invoiceId", "before": invoice, "after": None},
            ],
        },
    ]
    invoice_history = (await gql(client, INVOICE_HISTORY, {"id": invoice}, token=token))["data"]["node"]["history"]
    assert [(h["action"], h["by"], [c["field"] for c in h["changes"]]) for h in invoice_history] == [
        ("CREATED", by, ["number", "total", "invoiceDate"]),
        ("VOIDED", by, ["voided"]),
    ]
    assert invoice_history[0]["changes"][1] == {"field": "total", "before": None, "after": "67.50"}


async def test_a_hidden_employee_is_neither_name_nor_id_in_a_history(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given: an assistant writes time for Hidden, whom a viewer of OWN visibility may not see
    hidden = await factory.employee(name="Hidden Hilda")
    assistant = await factory.employee(name="Assistant Ann", role=await factory.role(can_enter_time_for_others=True))
    viewer = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.OWN))
    case = await factory.case()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    entry_input = {
        "employeeId": ids.encode("Employee", hidden.id),
        "caseId": ids.encode("Case", case.id),
        "activityId": ids.encode("Activity", activity.id),
        "workDate": "2026-11-02",
        "minutes": 30,
    }
    created = await _ok(client, CREATE, {"input": entry_input}, await factory.token(assistant), "createTimeEntry")
    entry = created["timeEntry"]["id"]
    # when: the viewer reads its history, and so does the assistant, who sees everyone
    response = await client.post(
        "/graphql",
        json={"query": ENTRY_HISTORY, "variables": {"id": entry}},
        headers={"Authorization": f"Bearer {await factory.token(viewer)}"},
    )
    seen = (await gql(client, ENTRY_HISTORY, {"id": entry}, token=await factory.token(assistant)))["data"]["node"]
    # then: to the viewer, who sees only themselves, neither the assistant nor Hidden is shown, by name or by ID
    [created_event] = response.json()["data"]["node"]["history"]
    assert created_event["by"] is None
    assert created_event["changes"][0] == {"field": "employeeId", "before": None, "after": None}
    assert ids.encode("Employee", hidden.id) not in response.text
    assert "Hidden Hilda" not in response.text
    # and the control: one who may see everyone gets both
    assert seen["history"][0]["by"] == {"name": "Assistant Ann"}
    assert seen["history"][0]["changes"][0]["after"] == ids.encode("Employee", hidden.id)


def test_the_fields_a_history_shows_are_the_columns_the_database_records() -> None:
    path = PROJECT_ROOT / "migrations" / "versions" / "0008_events.py"
    spec = importlib.util.spec_from_file_location("events_migration", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert tuple(TIME_ENTRY_FIELDS) == migration.ENTRY_COLUMNS


AUDIT = """query($first: Int, $after: String, $filter: AuditFilter) {
  auditLog(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { recordType recordId action by { name } changes { field before after } } } } }"""
DELETE = "mutation($id: ID!) { deleteTimeEntry(id: $id) { deletedId userErrors { code } } }"


async def test_the_audit_log_keeps_a_deleted_entrys_story_newest_first(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin, token = await factory.admin()
    other, other_token = await factory.admin()
    case = await factory.case()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    entry_input: dict[str, Any] = {
        "caseId": ids.encode("Case", case.id),
        "activityId": ids.encode("Activity", activity.id),
    }
    entry_input |= {"workDate": "2026-11-02", "minutes": 30}
    entry = (await _ok(client, CREATE, {"input": entry_input}, token, "createTimeEntry"))["timeEntry"]["id"]
    await _ok(client, DELETE, {"id": entry}, other_token, "deleteTimeEntry")
    only_entries = {
        "recordTypes": ["TimeEntry"],
        "byEmployeeIds": [ids.encode("Employee", e.id) for e in (admin, other)],
    }

    first = (await gql(client, AUDIT, {"first": 1, "filter": only_entries}, token=token))["data"]["auditLog"]
    rest = await gql(client, AUDIT, {"after": first["pageInfo"]["endCursor"], "filter": only_entries}, token=token)

    assert first["totalCount"] == 2
    assert first["pageInfo"]["hasNextPage"] is True
    [deleted] = [edge["node"] for edge in first["edges"]]
    [created] = [edge["node"] for edge in rest["data"]["auditLog"]["edges"]]
    assert (deleted["recordType"], deleted["recordId"], deleted["action"], deleted["by"]) == (
        "TimeEntry",
        entry,
        "DELETED",
        {"name": other.name},
    )
    assert {"field": "minutes", "before": "30", "after": None} in deleted["changes"]
    assert (created["recordId"], created["action"], created["by"]) == (entry, "CREATED", {"name": admin.name})
    # by whom: only the other administrator's change
    by_other = {"byEmployeeIds": [ids.encode("Employee", other.id)]}
    body = await gql(client, AUDIT, {"filter": by_other}, token=token)
    assert [edge["node"]["action"] for edge in body["data"]["auditLog"]["edges"]] == ["DELETED"]
    # a period before it all holds nothing
    before = {"recordTypes": ["TimeEntry"], "to": "2000-01-01T00:00:00Z"}
    assert (await gql(client, AUDIT, {"filter": before}, token=token))["data"]["auditLog"]["totalCount"] == 0


async def test_the_audit_log_is_for_administrators_and_known_record_types(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    _, admin_token = await factory.admin()
    plain = await factory.token(await factory.employee())
    refused = await gql(client, AUDIT, {}, token=plain)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert refused["data"] is None
    unknown = await gql(client, AUDIT, {"filter": {"recordTypes": ["Salary"]}}, token=admin_token)
    assert [e["extensions"]["code"] for e in unknown["errors"]] == ["VALIDATION"]
    assert "Salary" in unknown["errors"][0]["message"]
