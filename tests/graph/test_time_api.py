"""Writing and reading time through the ASGI app (SPEC 3 to 7, 5b): every mutation, every refusal, the lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import Activity, CapKind, Case, Debtor, Employee, EmployeeVisibility
from services import activities, cases, company
from tests.conftest import StatementCounter
from tests.factories import Factory, error_codes, gql

ENTRY = """fragment Entry on TimeEntry {
  id workDate minutes status billable rate amount description source
  employee { id name } employeeHidden debtor { id code } case { id code timeEntryCount } activity { id code }
  editable version createdAt updatedAt createdBy { id name } updatedBy { id name }
  overLimitOf { id } overLimitEntry { id }
}"""
CREATE = (
    """mutation Create($input: TimeEntryInput!, $mode: EntryMode, $key: String) {
  createTimeEntry(input: $input, mode: $mode, idempotencyKey: $key) {
    timeEntry { ...Entry } overLimitEntry { ...Entry } warnings { code message } userErrors { code field message }
  }
}
"""
    + ENTRY
)
UPDATE = (
    """mutation Update($id: ID!, $input: TimeEntryInput!, $expectedVersion: Int, $mode: EntryMode) {
  updateTimeEntry(id: $id, input: $input, expectedVersion: $expectedVersion, mode: $mode) {
    timeEntry { ...Entry } overLimitEntry { ...Entry } warnings { code message } userErrors { code field message }
  }
}
"""
    + ENTRY
)
DELETE = """mutation Delete($id: ID!, $expectedVersion: Int) {
  deleteTimeEntry(id: $id, expectedVersion: $expectedVersion) { deletedId userErrors { code field message } }
}"""
COPY = (
    """mutation Copy($ids: [ID!]!, $toDate: Date!) {
  copyTimeEntries(ids: $ids, toDate: $toDate) {
    timeEntries { ...Entry } warnings { code message } userErrors { code field message }
  }
}
"""
    + ENTRY
)
SAVE_LIST = (
    """mutation Save($caseId: ID!, $changes: [TimeListChange!]!) {
  saveCaseTimeList(caseId: $caseId, changes: $changes) {
    timeEntries { ...Entry } warnings { code message } userErrors { code field message }
  }
}
"""
    + ENTRY
)
START_TIMER = """mutation Start($input: StartTimerInput!) {
  startTimer(input: $input) {
    timer { id startedAt description debtor { id } case { id } activity { id } } userErrors { code field message }
  }
}"""
STOP_TIMER = (
    """mutation Stop {
  stopTimer {
    timeEntry { ...Entry } overLimitEntry { ...Entry } warnings { code message } userErrors { code field message }
  }
}
"""
    + ENTRY
)
RUNNING_TIMER = "query { runningTimer { id startedAt description debtor { id } case { id } activity { id } } }"
NODE = (
    """query Node($id: ID!) { node(id: $id) { ...Entry } }
"""
    + ENTRY
)
TIME_ENTRIES = """query Entries($first: Int, $after: String, $filter: TimeEntryFilter) {
  timeEntries(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id workDate minutes status } }
  }
}"""
VISIBLE_FIELDS = """id minutes employeeHidden
  employee { id name email supervisor { name email } }
  createdBy { id name email } updatedBy { id name email }
  overLimitOf { id employee { name } createdBy { name } }
  overLimitEntry { id employee { name } updatedBy { name } }"""
HIDDEN_ENTRIES = """query { timeEntries(first: 100) { totalCount edges { node { """ + VISIBLE_FIELDS + """ } } } }"""
HIDDEN_CASE_LIST = (
    """query($id: ID!) { node(id: $id) { ... on Case { timeList(first: 100) { totalCount edges { node { """
    + VISIBLE_FIELDS
    + """ } } } } } }"""
)
HIDDEN_NODE = """query($id: ID!) { node(id: $id) { ... on TimeEntry { """ + VISIBLE_FIELDS + """ } } }"""
UPDATE_SETTINGS = """mutation($input: SettingsInput!) {
  updateSettings(input: $input) { settings { staticListThreshold } userErrors { code } }
}"""

SNAPSHOT_ENTRIES = text(
    "SELECT id, employee_id, debtor_id, case_id, activity_id, work_date, minutes, status, rate, amount, "
    "description, version, over_limit_of_id FROM time_entries ORDER BY id"
)
SNAPSHOT_TOTALS = text(
    "SELECT case_id, year_start, j_minutes, f_minutes, n_minutes, l_minutes, j_amount, f_amount, n_amount, l_amount "
    "FROM case_year_totals ORDER BY case_id, year_start"
)
RECOMPUTED_TOTALS = text(
    "SELECT case_id, make_date(extract(year FROM work_date)::int, 1, 1) AS year_start, "
    "sum(minutes) FILTER (WHERE status = 'J') AS j, sum(minutes) FILTER (WHERE status = 'N') AS n, "
    "sum(minutes) FILTER (WHERE status = 'L') AS l "
    "FROM time_entries WHERE case_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
)


def gid(type_name: str, db_id: int) -> str:
    return ids.encode(type_name, db_id)


@dataclass
class World:
    """An administrator, a plain writer (sees everyone, may not write for others), a colleague and a capped case."""

    admin: Employee
    admin_token: str
    writer: Employee
    writer_token: str
    colleague: Employee
    activity: Activity
    debtor: Debtor
    case: Case

    @property
    def case_gid(self) -> str:
        return gid("Case", self.case.id)

    @property
    def debtor_gid(self) -> str:
        return gid("Debtor", self.debtor.id)

    def timer(self, **fields: Any) -> dict[str, Any]:
        """A startTimer input on the world's case unless overridden (`...` leaves a field out)."""
        base: dict[str, Any] = {
            "debtorId": self.debtor_gid,
            "caseId": self.case_gid,
            "activityId": gid("Activity", self.activity.id),
        }
        base.update(fields)
        return {k: v for k, v in base.items() if v is not ...}

    def entry(self, **fields: Any) -> dict[str, Any]:
        """A createTimeEntry input on the world's case, 90 minutes on 2026-11-02 unless overridden."""
        base: dict[str, Any] = {
            "caseId": gid("Case", self.case.id),
            "activityId": gid("Activity", self.activity.id),
            "workDate": "2026-11-02",
            "minutes": 90,
        }
        base.update(fields)
        return {k: v for k, v in base.items() if v is not ...}


@pytest.fixture
async def world(factory: Factory) -> World:
    admin, admin_token = await factory.admin()
    writer = await factory.employee(role=await factory.role(), name="Wanda Writer")
    colleague = await factory.employee(role=await factory.role(), name="Colin Colleague")
    activity = await factory.activity(default_rate=Decimal("60.00"))
    debtor = await factory.debtor()
    case = await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=600)
    return World(admin, admin_token, writer, await factory.token(writer), colleague, activity, debtor, case)


async def snapshot(session: AsyncSession) -> dict[str, Any]:
    """Everything a time mutation could write: entries, totals rows, case counts, timers."""
    return {
        "entries": [tuple(r) for r in (await session.execute(SNAPSHOT_ENTRIES)).all()],
        "entry_count": (await session.execute(text("SELECT count(*) FROM time_entries"))).scalar_one(),
        "totals": [tuple(r) for r in (await session.execute(SNAPSHOT_TOTALS)).all()],
        "case_counts": [
            tuple(r) for r in (await session.execute(text("SELECT id, time_entry_count FROM cases ORDER BY id"))).all()
        ],
        "timers": [tuple(r) for r in (await session.execute(text("SELECT id, started_at FROM timers"))).all()],
    }


async def create(client: httpx.AsyncClient, token: str, entry: dict[str, Any], **variables: Any) -> dict[str, Any]:
    body = await gql(client, CREATE, {"input": entry, **variables}, token=token)
    payload: dict[str, Any] = body["data"]["createTimeEntry"]
    assert payload["userErrors"] == [], payload
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- createTimeEntry -------------------------------------------------------------------------------------------


async def test_create_per_date_defaults_employee_to_viewer_and_debtor_to_case(
    client: httpx.AsyncClient, world: World
) -> None:
    # given
    entry = world.entry(description="  Call with the customer  ")
    # when
    payload = await create(client, world.writer_token, entry)
    # then
    written = payload["timeEntry"]
    assert written["employee"] == {"id": gid("Employee", world.writer.id), "name": "Wanda Writer"}
    assert written["employeeHidden"] is False
    assert written["debtor"]["id"] == gid("Debtor", world.debtor.id)
    assert written["case"]["id"] == gid("Case", world.case.id)
    assert written["case"]["timeEntryCount"] == 1
    assert written["activity"]["id"] == gid("Activity", world.activity.id)
    assert (written["workDate"], written["minutes"], written["status"], written["billable"]) == (
        "2026-11-02",
        90,
        "BILLABLE",
        True,
    )
    assert (written["rate"], written["amount"], written["source"]) == ("60.00", "90.00", "PER_DATE")
    assert written["description"] == "Call with the customer"
    assert written["createdBy"]["id"] == written["updatedBy"]["id"] == gid("Employee", world.writer.id)
    assert written["version"] == 1
    assert written["updatedAt"] == written["createdAt"]
    assert written["editable"] is True
    assert written["overLimitEntry"] is None
    assert written["overLimitOf"] is None
    assert payload["overLimitEntry"] is None
    assert payload["warnings"] == []


async def test_create_per_date_splits_at_the_cap(client: httpx.AsyncClient, world: World) -> None:
    # given
    await create(client, world.writer_token, world.entry(minutes=550))
    # when
    payload = await create(client, world.writer_token, world.entry(minutes=100))
    # then
    written, line = payload["timeEntry"], payload["overLimitEntry"]
    assert (written["minutes"], written["status"], written["amount"]) == (50, "BILLABLE", "50.00")
    assert (line["minutes"], line["status"], line["billable"], line["amount"]) == (50, "OVER_LIMIT", False, "50.00")
    assert line["overLimitOf"] == {"id": written["id"]}
    assert written["overLimitEntry"] == {"id": line["id"]}
    assert line["createdAt"] == line["updatedAt"]
    assert [w["code"] for w in payload["warnings"]] == ["CAP_EXCEEDED"]


async def test_create_per_debtor_runs_no_cap_check(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # given
    await create(client, world.writer_token, world.entry(minutes=550))
    # when
    payload = await create(client, world.writer_token, world.entry(minutes=100), mode="PER_DEBTOR")
    # then
    written = payload["timeEntry"]
    assert (written["minutes"], written["status"], written["source"]) == (100, "BILLABLE", "PER_DEBTOR")
    assert payload["overLimitEntry"] is None
    assert payload["warnings"] == []
    totals = (await session.execute(SNAPSHOT_TOTALS)).one()
    assert totals.j_minutes == 650
    assert totals.l_minutes == 0


@pytest.mark.parametrize(
    ("given", "status", "billable"),
    [
        ({"billable": False}, "NON_BILLABLE", False),
        ({"billable": True}, "BILLABLE", True),
        ({"status": "NON_BILLABLE"}, "NON_BILLABLE", False),
        ({"status": "NON_BILLABLE", "billable": False}, "NON_BILLABLE", False),
        ({"status": "BILLABLE", "billable": True}, "BILLABLE", True),
    ],
)
async def test_create_takes_the_writers_status_or_billable_checkbox(
    client: httpx.AsyncClient, world: World, given: dict[str, Any], status: str, billable: bool
) -> None:
    # when
    payload = await create(client, world.writer_token, world.entry(**given))
    # then
    assert payload["timeEntry"]["status"] == status
    assert payload["timeEntry"]["billable"] is billable


async def test_create_without_case_needs_the_debtor(client: httpx.AsyncClient, world: World) -> None:
    # when
    payload = await create(client, world.writer_token, world.entry(caseId=..., debtorId=gid("Debtor", world.debtor.id)))
    # then
    assert payload["timeEntry"]["case"] is None
    assert payload["timeEntry"]["debtor"]["id"] == gid("Debtor", world.debtor.id)
    assert payload["timeEntry"]["status"] == "BILLABLE"


async def test_create_for_another_employee_with_can_enter_time_for_others(
    client: httpx.AsyncClient, world: World, factory: Factory
) -> None:
    # given
    assistant = await factory.employee(role=await factory.role(can_enter_time_for_others=True), name="Ada Assistant")
    token = await factory.token(assistant)
    # when
    payload = await create(client, token, world.entry(employeeId=gid("Employee", world.writer.id)))
    # then
    written = payload["timeEntry"]
    assert written["employee"]["id"] == gid("Employee", world.writer.id)
    assert written["createdBy"] == {"id": gid("Employee", assistant.id), "name": "Ada Assistant"}
    assert written["updatedBy"] == written["createdBy"]
    assert written["editable"] is True


async def test_create_with_an_idempotency_key_writes_once(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # given
    entry = world.entry()
    first = await create(client, world.writer_token, entry, key="mobile-1")
    # when
    again = await create(client, world.writer_token, entry, key="mobile-1")
    # then
    assert again["timeEntry"]["id"] == first["timeEntry"]["id"]
    assert (await snapshot(session))["entry_count"] == 1


# --- updateTimeEntry -------------------------------------------------------------------------------------------


async def test_update_patches_only_the_given_fields(client: httpx.AsyncClient, world: World) -> None:
    # given
    created = (await create(client, world.writer_token, world.entry(description="Design review")))["timeEntry"]
    # when
    body = await gql(client, UPDATE, {"id": created["id"], "input": {"minutes": 30}}, token=world.admin_token)
    # then
    updated = body["data"]["updateTimeEntry"]["timeEntry"]
    assert body["data"]["updateTimeEntry"]["userErrors"] == []
    assert (updated["minutes"], updated["amount"], updated["rate"]) == (30, "30.00", "60.00")
    assert updated["description"] == "Design review"
    assert (updated["workDate"], updated["status"], updated["case"]["id"]) == (
        created["workDate"],
        created["status"],
        created["case"]["id"],
    )
    assert updated["employee"]["id"] == gid("Employee", world.writer.id)
    assert updated["version"] == 2
    assert updated["createdBy"]["id"] == gid("Employee", world.writer.id)
    assert updated["updatedBy"]["id"] == gid("Employee", world.admin.id)
    assert updated["createdAt"] == created["createdAt"]
    assert when(updated["updatedAt"]) > when(created["updatedAt"])


async def test_update_with_explicit_null_clears_a_nullable_field(client: httpx.AsyncClient, world: World) -> None:
    # given
    created = (await create(client, world.writer_token, world.entry(description="Design review")))["timeEntry"]
    # when
    body = await gql(client, UPDATE, {"id": created["id"], "input": {"description": None}}, token=world.writer_token)
    # then
    updated = body["data"]["updateTimeEntry"]["timeEntry"]
    assert updated["description"] is None
    assert updated["minutes"] == 90
    assert updated["version"] == 2


async def test_update_with_the_expected_version_raises_it_by_one(client: httpx.AsyncClient, world: World) -> None:
    # given
    created = (await create(client, world.writer_token, world.entry()))["timeEntry"]
    first = await gql(
        client,
        UPDATE,
        {"id": created["id"], "input": {"billable": False}, "expectedVersion": 1},
        token=world.writer_token,
    )
    # when
    second = await gql(
        client,
        UPDATE,
        {"id": created["id"], "input": {"workDate": "2026-11-03"}, "expectedVersion": 2},
        token=world.writer_token,
    )
    # then
    assert first["data"]["updateTimeEntry"]["timeEntry"]["status"] == "NON_BILLABLE"
    updated = second["data"]["updateTimeEntry"]["timeEntry"]
    assert second["data"]["updateTimeEntry"]["userErrors"] == []
    assert (updated["version"], updated["workDate"], updated["status"]) == (3, "2026-11-03", "NON_BILLABLE")


async def test_update_moves_an_entry_to_another_case_and_debtor(
    client: httpx.AsyncClient, world: World, factory: Factory
) -> None:
    # given
    other_case = await factory.case(adjusted_rate=Decimal("120.00"))
    created = (await create(client, world.writer_token, world.entry()))["timeEntry"]
    # when
    body = await gql(
        client, UPDATE, {"id": created["id"], "input": {"caseId": gid("Case", other_case.id)}}, token=world.writer_token
    )
    # then
    updated = body["data"]["updateTimeEntry"]["timeEntry"]
    assert updated["case"] == {"id": gid("Case", other_case.id), "code": other_case.code, "timeEntryCount": 1}
    assert updated["debtor"]["id"] == gid("Debtor", other_case.debtor_id)
    assert (updated["rate"], updated["amount"]) == ("120.00", "180.00")


async def test_update_over_the_cap_parks_the_excess_on_the_entrys_one_line(
    client: httpx.AsyncClient, world: World
) -> None:
    # given: 500 of the case's 600 minutes
    created = (await create(client, world.writer_token, world.entry(minutes=500)))["timeEntry"]
    # when: the administrator raises it to 700, then to 800
    first = await gql(client, UPDATE, {"id": created["id"], "input": {"minutes": 700}}, token=world.admin_token)
    second = await gql(client, UPDATE, {"id": created["id"], "input": {"minutes": 800}}, token=world.admin_token)
    # then: the first edit keeps 600 and parks 100 on a new L line, written now by the administrator
    payload = first["data"]["updateTimeEntry"]
    entry, line = payload["timeEntry"], payload["overLimitEntry"]
    assert (entry["minutes"], entry["version"], entry["overLimitEntry"]) == (600, 2, {"id": line["id"]})
    assert (line["minutes"], line["status"], line["version"], line["overLimitOf"]) == (
        100,
        "OVER_LIMIT",
        1,
        {"id": created["id"]},
    )
    assert line["createdBy"]["id"] == line["updatedBy"]["id"] == gid("Employee", world.admin.id)
    assert line["createdAt"] == line["updatedAt"]
    assert when(line["createdAt"]) > when(created["createdAt"])
    assert [w["code"] for w in payload["warnings"]] == ["CAP_EXCEEDED"]
    # the second edit adds its excess to that same line: an entry has at most one
    again = second["data"]["updateTimeEntry"]
    assert again["timeEntry"]["minutes"] == 600
    assert again["overLimitEntry"]["id"] == line["id"]
    assert (again["overLimitEntry"]["minutes"], again["overLimitEntry"]["version"]) == (100 + 200, 2)


# --- deleteTimeEntry -------------------------------------------------------------------------------------------


async def test_delete_removes_the_entry_its_totals_and_its_count(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # given
    created = (await create(client, world.writer_token, world.entry()))["timeEntry"]
    # when
    body = await gql(client, DELETE, {"id": created["id"], "expectedVersion": 1}, token=world.writer_token)
    found = await gql(client, NODE, {"id": created["id"]}, token=world.writer_token)
    # then
    assert body["data"]["deleteTimeEntry"] == {"deletedId": created["id"], "userErrors": []}
    assert found["data"]["node"] is None
    after = await snapshot(session)
    assert after["entry_count"] == 0
    assert [row[2:] for row in after["totals"]] == [(0, 0, 0, 0, 0, 0, 0, 0)]
    assert (world.case.id, 0) in after["case_counts"]


# --- copyTimeEntries -------------------------------------------------------------------------------------------


async def test_copy_makes_fresh_entries_with_mapped_statuses_and_no_cap_check(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # given: J 500 (then F), J 100 filling the 600-minute maximum, 80 wholly parked as L, and N 30
    invoiced = (await create(client, world.writer_token, world.entry(minutes=500)))["timeEntry"]
    billable = (await create(client, world.writer_token, world.entry(minutes=100)))["timeEntry"]
    parked = (await create(client, world.writer_token, world.entry(minutes=80)))["timeEntry"]
    unbilled = (await create(client, world.writer_token, world.entry(minutes=30, billable=False)))["timeEntry"]
    await session.execute(
        text("UPDATE time_entries SET status = 'F' WHERE id = :id"), {"id": ids.decode(invoiced["id"], "TimeEntry")}
    )
    await activities.update(session, world.activity.id, {"default_rate": Decimal("90.00")})
    sources = [invoiced, billable, parked, unbilled]
    before = (await session.execute(SNAPSHOT_TOTALS)).one()
    # when
    body = await gql(
        client, COPY, {"ids": [e["id"] for e in sources], "toDate": "2026-11-20"}, token=world.writer_token
    )
    # then
    assert parked["status"] == "OVER_LIMIT"
    payload = body["data"]["copyTimeEntries"]
    assert payload["userErrors"] == []
    assert payload["warnings"] == []
    copies = payload["timeEntries"]
    assert [c["status"] for c in copies] == ["BILLABLE", "BILLABLE", "BILLABLE", "NON_BILLABLE"]
    assert [c["minutes"] for c in copies] == [500, 100, 80, 30]
    assert {(c["workDate"], c["source"], c["rate"], c["version"]) for c in copies} == {
        ("2026-11-20", "COPY", "90.00", 1)
    }
    assert [c["amount"] for c in copies] == ["750.00", "150.00", "120.00", "45.00"]
    assert all(c["overLimitEntry"] is None and c["overLimitOf"] is None for c in copies)
    assert {c["id"] for c in copies}.isdisjoint({e["id"] for e in sources})
    after = (await session.execute(SNAPSHOT_TOTALS)).one()
    assert after.j_minutes - before.j_minutes == 500 + 100 + 80  # over the 600-minute maximum: no cap check
    assert after.l_minutes == before.l_minutes


async def test_copy_onto_a_blocked_case_refuses_the_whole_call(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession
) -> None:
    # given
    other_case = await factory.case(debtor=world.debtor)
    fine = (await create(client, world.writer_token, world.entry()))["timeEntry"]
    doomed = (await create(client, world.writer_token, world.entry(caseId=gid("Case", other_case.id))))["timeEntry"]
    await cases.update(session, other_case.id, {"blocked": True})
    before = await snapshot(session)
    # when
    body = await gql(
        client, COPY, {"ids": [fine["id"], doomed["id"]], "toDate": "2026-11-20"}, token=world.writer_token
    )
    # then
    assert codes(body["data"]["copyTimeEntries"]) == ["CASE_BLOCKED"]
    assert body["data"]["copyTimeEntries"]["timeEntries"] == []
    assert await snapshot(session) == before


# --- saveCaseTimeList ------------------------------------------------------------------------------------------


async def test_save_case_time_list_applies_creates_edits_and_deletes_in_order(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # given
    kept = (await create(client, world.writer_token, world.entry(minutes=60)))["timeEntry"]
    dropped = (await create(client, world.writer_token, world.entry(minutes=45)))["timeEntry"]
    changes = [
        {"entry": {"activityId": gid("Activity", world.activity.id), "workDate": "2026-11-05", "minutes": 15}},
        {"id": kept["id"], "expectedVersion": 1, "entry": {"minutes": 75, "description": "edited in the list"}},
        {"id": dropped["id"], "expectedVersion": 1, "delete": True},
    ]
    # when
    body = await gql(
        client, SAVE_LIST, {"caseId": gid("Case", world.case.id), "changes": changes}, token=world.writer_token
    )
    # then
    payload = body["data"]["saveCaseTimeList"]
    assert payload["userErrors"] == []
    created, edited = payload["timeEntries"]
    assert (created["minutes"], created["workDate"], created["case"]["id"], created["source"]) == (
        15,
        "2026-11-05",
        gid("Case", world.case.id),
        "PER_DATE",
    )
    assert (edited["id"], edited["minutes"], edited["description"], edited["version"]) == (
        kept["id"],
        75,
        "edited in the list",
        2,
    )
    after = await snapshot(session)
    assert after["entry_count"] == 2
    assert (world.case.id, 2) in after["case_counts"]
    assert after["totals"][0][2] == 90


async def test_save_case_time_list_refusal_writes_nothing(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # given
    kept = (await create(client, world.writer_token, world.entry(minutes=60)))["timeEntry"]
    changes = [
        {"entry": {"activityId": gid("Activity", world.activity.id), "workDate": "2026-11-05", "minutes": 15}},
        {"id": kept["id"], "expectedVersion": 7, "entry": {"minutes": 75}},
    ]
    before = await snapshot(session)
    # when
    body = await gql(
        client, SAVE_LIST, {"caseId": gid("Case", world.case.id), "changes": changes}, token=world.writer_token
    )
    # then
    payload = body["data"]["saveCaseTimeList"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("VERSION_CONFLICT", ["changes", "1", "expectedVersion"])
    ]
    assert await snapshot(session) == before


# --- timers ----------------------------------------------------------------------------------------------------


async def test_start_timer_then_running_timer_then_stop_writes_a_timer_entry(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # given
    timer_input = {
        "debtorId": gid("Debtor", world.debtor.id),
        "caseId": gid("Case", world.case.id),
        "activityId": gid("Activity", world.activity.id),
        "description": "Support call",
    }
    started = await gql(client, START_TIMER, {"input": timer_input}, token=world.writer_token)
    running = await gql(client, RUNNING_TIMER, token=world.writer_token)
    await session.execute(
        text("UPDATE timers SET started_at = now() - interval '90 minutes 30 seconds' WHERE employee_id = :e"),
        {"e": world.writer.id},
    )
    started_on = (
        await session.execute(
            text("SELECT (started_at AT TIME ZONE 'UTC')::date FROM timers WHERE employee_id = :e"),
            {"e": world.writer.id},
        )
    ).scalar_one()
    # when
    stopped = await gql(client, STOP_TIMER, token=world.writer_token)
    after = await gql(client, RUNNING_TIMER, token=world.writer_token)
    # then
    timer = started["data"]["startTimer"]["timer"]
    assert started["data"]["startTimer"]["userErrors"] == []
    assert timer["description"] == "Support call"
    assert timer["case"] == {"id": gid("Case", world.case.id)}
    assert running["data"]["runningTimer"] == timer
    payload = stopped["data"]["stopTimer"]
    assert payload["userErrors"] == []
    assert payload["warnings"] == []
    written = payload["timeEntry"]
    assert (written["minutes"], written["source"], written["workDate"]) == (91, "TIMER", started_on.isoformat())
    assert (written["description"], written["status"], written["amount"]) == ("Support call", "BILLABLE", "91.00")
    assert written["employee"]["id"] == gid("Employee", world.writer.id)
    assert after["data"]["runningTimer"] is None


async def test_stop_timer_past_a_day_writes_1440_minutes_and_warns(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession
) -> None:
    # given
    open_case = await factory.case(debtor=world.debtor)
    timer_input = {
        "debtorId": gid("Debtor", world.debtor.id),
        "caseId": gid("Case", open_case.id),
        "activityId": gid("Activity", world.activity.id),
    }
    await gql(client, START_TIMER, {"input": timer_input}, token=world.writer_token)
    await session.execute(
        text("UPDATE timers SET started_at = now() - interval '1500 minutes' WHERE employee_id = :e"),
        {"e": world.writer.id},
    )
    # when
    stopped = await gql(client, STOP_TIMER, token=world.writer_token)
    # then
    payload = stopped["data"]["stopTimer"]
    assert payload["timeEntry"]["minutes"] == 1440
    assert [w["code"] for w in payload["warnings"]] == ["TIMER_TRUNCATED"]


async def test_stop_timer_runs_the_cap_check(client: httpx.AsyncClient, world: World) -> None:
    # given: the case's maximum is used up today
    today = datetime.now(UTC).date().isoformat()
    await create(client, world.writer_token, world.entry(minutes=600, workDate=today))
    timer_input = {
        "debtorId": gid("Debtor", world.debtor.id),
        "caseId": gid("Case", world.case.id),
        "activityId": gid("Activity", world.activity.id),
    }
    await gql(client, START_TIMER, {"input": timer_input}, token=world.writer_token)
    # when
    stopped = await gql(client, STOP_TIMER, token=world.writer_token)
    # then
    payload = stopped["data"]["stopTimer"]
    assert payload["userErrors"] == []
    written = payload["timeEntry"]
    assert (written["source"], written["minutes"], written["status"]) == ("TIMER", 1, "OVER_LIMIT")
    assert payload["overLimitEntry"] is None
    assert [w["code"] for w in payload["warnings"]] == ["CAP_EXCEEDED"]


# --- refusals: each with its code, and nothing written -------------------------------------------------------


async def refused_create(
    client: httpx.AsyncClient, session: AsyncSession, token: str, entry: dict[str, Any], **variables: Any
) -> list[tuple[str, list[str] | None]]:
    """Send a createTimeEntry expected to be refused; returns its (code, field) pairs after checking nothing changed."""
    before = await snapshot(session)
    body = await gql(client, CREATE, {"input": entry, **variables}, token=token)
    payload = body["data"]["createTimeEntry"]
    assert payload["timeEntry"] is None
    assert payload["overLimitEntry"] is None
    assert await snapshot(session) == before
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def refused_mutation(
    client: httpx.AsyncClient, session: AsyncSession, token: str, document: str, variables: dict[str, Any]
) -> list[str]:
    """Send any time mutation expected to be refused; returns its codes after checking nothing changed."""
    before = await snapshot(session)
    body = await gql(client, document, variables, token=token)
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert await snapshot(session) == before
    return codes(payload)


def every_mutation(world: World, entry_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each time mutation with input that would be accepted, keyed by name."""
    timer = {"debtorId": gid("Debtor", world.debtor.id), "activityId": gid("Activity", world.activity.id)}
    return {
        "create": (CREATE, {"input": world.entry()}),
        "update": (UPDATE, {"id": entry_id, "input": {"minutes": 10}}),
        "delete": (DELETE, {"id": entry_id}),
        "copy": (COPY, {"ids": [entry_id], "toDate": "2026-11-20"}),
        "save": (SAVE_LIST, {"caseId": gid("Case", world.case.id), "changes": [{"id": entry_id, "delete": True}]}),
        "startTimer": (START_TIMER, {"input": timer}),
        "stopTimer": (STOP_TIMER, {}),
    }


@pytest.mark.parametrize("mutation", ["create", "update", "delete", "copy", "save", "startTimer", "stopTimer"])
async def test_refused_feature_disabled(
    client: httpx.AsyncClient, world: World, session: AsyncSession, mutation: str
) -> None:
    # given: an entry exists and, for stopTimer, a timer runs; then the feature is switched off
    entry_id = (await create(client, world.writer_token, world.entry()))["timeEntry"]["id"]
    if mutation == "stopTimer":
        document, variables = every_mutation(world, entry_id)["startTimer"]
        await gql(client, document, variables, token=world.writer_token)
    await company.update(session, {"time_tracking_enabled": False})
    document, variables = every_mutation(world, entry_id)[mutation]
    # when
    refused = await refused_mutation(client, session, world.writer_token, document, variables)
    # then
    assert refused == ["FEATURE_DISABLED"]


async def test_refused_cases_disabled(client: httpx.AsyncClient, world: World, session: AsyncSession) -> None:
    # given
    entry_id = (await create(client, world.writer_token, world.entry(caseId=..., debtorId=world.debtor_gid)))[
        "timeEntry"
    ]["id"]
    await company.update(session, {"use_case_column": False})
    # when
    created = await refused_create(client, session, world.writer_token, world.entry())
    moved = await refused_mutation(
        client, session, world.writer_token, UPDATE, {"id": entry_id, "input": {"caseId": world.case_gid}}
    )
    timed = await refused_mutation(client, session, world.writer_token, START_TIMER, {"input": world.timer()})
    # then
    assert created == [("CASES_DISABLED", ["caseId"])]
    assert moved == ["CASES_DISABLED"]
    assert timed == ["CASES_DISABLED"]


async def test_refused_case_required(client: httpx.AsyncClient, world: World, session: AsyncSession) -> None:
    # given
    entry_id = (await create(client, world.writer_token, world.entry()))["timeEntry"]["id"]
    await company.update(session, {"require_case": True})
    # when
    created = await refused_create(
        client, session, world.writer_token, world.entry(caseId=..., debtorId=world.debtor_gid)
    )
    cleared = await refused_mutation(
        client, session, world.writer_token, UPDATE, {"id": entry_id, "input": {"caseId": None}}
    )
    timed = await refused_mutation(client, session, world.writer_token, START_TIMER, {"input": world.timer(caseId=...)})
    # then
    assert created == [("CASE_REQUIRED", ["caseId"])]
    assert cleared == ["CASE_REQUIRED"]
    assert timed == ["CASE_REQUIRED"]


async def test_refused_case_blocked(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession
) -> None:
    # given
    blocked = await factory.case(debtor=world.debtor, blocked=True)
    entry_id = (await create(client, world.writer_token, world.entry()))["timeEntry"]["id"]
    timer = {
        "debtorId": gid("Debtor", world.debtor.id),
        "caseId": gid("Case", blocked.id),
        "activityId": gid("Activity", world.activity.id),
    }
    # when
    created = await refused_create(client, session, world.writer_token, world.entry(caseId=gid("Case", blocked.id)))
    moved = await refused_mutation(
        client, session, world.writer_token, UPDATE, {"id": entry_id, "input": {"caseId": gid("Case", blocked.id)}}
    )
    timed = await refused_mutation(client, session, world.writer_token, START_TIMER, {"input": timer})
    # then
    assert created == [("CASE_BLOCKED", ["caseId"])]
    assert moved == ["CASE_BLOCKED"]
    assert timed == ["CASE_BLOCKED"]


async def test_refused_case_not_active(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession
) -> None:
    # given: a case active in December only, with one entry on it
    december = await factory.case(debtor=world.debtor, active_from=date(2026, 12, 1), active_until=date(2026, 12, 31))
    on_it = world.entry(caseId=gid("Case", december.id), workDate="2026-12-01")
    entry_id = (await create(client, world.writer_token, on_it))["timeEntry"]["id"]
    # when
    before = await refused_create(client, session, world.writer_token, world.entry(caseId=gid("Case", december.id)))
    after = await refused_create(client, session, world.writer_token, {**on_it, "workDate": "2027-01-01"})
    moved = await refused_mutation(
        client, session, world.writer_token, UPDATE, {"id": entry_id, "input": {"workDate": "2026-11-30"}}
    )
    # then
    assert before == after == [("CASE_NOT_ACTIVE", ["workDate"])]
    assert moved == ["CASE_NOT_ACTIVE"]


async def test_refused_case_debtor_mismatch(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession
) -> None:
    # given
    stranger = gid("Debtor", (await factory.debtor()).id)
    entry_id = (await create(client, world.writer_token, world.entry()))["timeEntry"]["id"]
    # when
    created = await refused_create(client, session, world.writer_token, world.entry(debtorId=stranger))
    moved = await refused_mutation(
        client, session, world.writer_token, UPDATE, {"id": entry_id, "input": {"debtorId": stranger}}
    )
    timed = await refused_mutation(
        client, session, world.writer_token, START_TIMER, {"input": world.timer(debtorId=stranger)}
    )
    # then
    assert created == [("CASE_DEBTOR_MISMATCH", ["caseId"])]
    assert moved == ["CASE_DEBTOR_MISMATCH"]
    assert timed == ["CASE_DEBTOR_MISMATCH"]


async def test_refused_no_rate(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession
) -> None:
    # given: an activity without a rate, and nobody else giving one
    unpriced = gid("Activity", (await factory.activity()).id)
    entry_id = (await create(client, world.writer_token, world.entry()))["timeEntry"]["id"]
    # when
    created = await refused_create(client, session, world.writer_token, world.entry(activityId=unpriced))
    moved = await refused_mutation(
        client, session, world.writer_token, UPDATE, {"id": entry_id, "input": {"activityId": unpriced}}
    )
    # then
    assert [code for code, _ in created] == ["NO_RATE"]
    assert moved == ["NO_RATE"]


@pytest.mark.parametrize("mutation", ["update", "delete"])
async def test_refused_invoiced_locked(
    client: httpx.AsyncClient, world: World, session: AsyncSession, mutation: str
) -> None:
    # given
    created = (await create(client, world.writer_token, world.entry()))["timeEntry"]
    await session.execute(
        text("UPDATE time_entries SET status = 'F' WHERE id = :id"), {"id": ids.decode(created["id"], "TimeEntry")}
    )
    before = await snapshot(session)
    # when
    if mutation == "update":
        body = await gql(client, UPDATE, {"id": created["id"], "input": {"minutes": 10}}, token=world.writer_token)
        payload = body["data"]["updateTimeEntry"]
    else:
        body = await gql(client, DELETE, {"id": created["id"]}, token=world.writer_token)
        payload = body["data"]["deleteTimeEntry"]
    # then
    assert codes(payload) == ["INVOICED_LOCKED"]
    assert await snapshot(session) == before


@pytest.mark.parametrize("mutation", ["update", "delete"])
async def test_refused_version_conflict(
    client: httpx.AsyncClient, world: World, session: AsyncSession, mutation: str
) -> None:
    # given
    created = (await create(client, world.writer_token, world.entry()))["timeEntry"]
    await gql(client, UPDATE, {"id": created["id"], "input": {"minutes": 80}}, token=world.admin_token)
    before = await snapshot(session)
    # when: the writer still holds version 1
    if mutation == "update":
        body = await gql(
            client,
            UPDATE,
            {"id": created["id"], "input": {"minutes": 10}, "expectedVersion": 1},
            token=world.writer_token,
        )
        payload = body["data"]["updateTimeEntry"]
    else:
        body = await gql(client, DELETE, {"id": created["id"], "expectedVersion": 1}, token=world.writer_token)
        payload = body["data"]["deleteTimeEntry"]
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("VERSION_CONFLICT", ["expectedVersion"])]
    assert await snapshot(session) == before


async def test_refused_static_list(client: httpx.AsyncClient, world: World, session: AsyncSession) -> None:
    # given
    await company.update(session, {"static_list_threshold": 1})
    first = (await create(client, world.writer_token, world.entry(minutes=10)))["timeEntry"]
    await create(client, world.writer_token, world.entry(minutes=20))
    changes = [{"id": first["id"], "entry": {"minutes": 30}}]
    # when
    refused = await refused_mutation(
        client, session, world.writer_token, SAVE_LIST, {"caseId": gid("Case", world.case.id), "changes": changes}
    )
    single = await gql(client, UPDATE, {"id": first["id"], "input": {"minutes": 30}}, token=world.writer_token)
    # then
    assert refused == ["STATIC_LIST"]
    assert single["data"]["updateTimeEntry"]["timeEntry"]["minutes"] == 30  # single entries are still edited


async def test_refused_timer_running(client: httpx.AsyncClient, world: World, session: AsyncSession) -> None:
    # given
    timer_input = {"debtorId": gid("Debtor", world.debtor.id), "activityId": gid("Activity", world.activity.id)}
    await gql(client, START_TIMER, {"input": timer_input}, token=world.writer_token)
    before = await snapshot(session)
    # when
    body = await gql(client, START_TIMER, {"input": timer_input}, token=world.writer_token)
    # then
    assert body["data"]["startTimer"]["timer"] is None
    assert codes(body["data"]["startTimer"]) == ["TIMER_RUNNING"]
    assert await snapshot(session) == before


async def test_refused_no_timer(client: httpx.AsyncClient, world: World, session: AsyncSession) -> None:
    # given
    before = await snapshot(session)
    # when
    body = await gql(client, STOP_TIMER, token=world.writer_token)
    # then
    assert body["data"]["stopTimer"]["timeEntry"] is None
    assert codes(body["data"]["stopTimer"]) == ["NO_TIMER"]
    assert await snapshot(session) == before


async def test_refused_forbidden_to_write_for_another_without_the_right(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # when
    errors = await refused_create(
        client, session, world.writer_token, world.entry(employeeId=gid("Employee", world.colleague.id))
    )
    # then
    assert errors == [("FORBIDDEN", ["employeeId"])]


@pytest.mark.parametrize("mutation", ["update", "delete"])
async def test_refused_forbidden_to_change_another_employees_entry(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession, mutation: str
) -> None:
    # given
    created = (await create(client, await factory.token(world.colleague), world.entry()))["timeEntry"]
    before = await snapshot(session)
    # when
    if mutation == "update":
        body = await gql(client, UPDATE, {"id": created["id"], "input": {"minutes": 10}}, token=world.writer_token)
        payload = body["data"]["updateTimeEntry"]
    else:
        body = await gql(client, DELETE, {"id": created["id"]}, token=world.writer_token)
        payload = body["data"]["deleteTimeEntry"]
    # then
    assert codes(payload) == ["FORBIDDEN"]
    assert await snapshot(session) == before


async def test_refused_forbidden_to_change_a_visible_entry_of_a_hidden_employee(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession
) -> None:
    # given: an assistant who may write for others, but sees only their own name
    role = await factory.role(visibility=EmployeeVisibility.OWN, can_enter_time_for_others=True)
    assistant_token = await factory.token(await factory.employee(role=role))
    created = (await create(client, world.writer_token, world.entry()))["timeEntry"]
    before = await snapshot(session)
    # when
    updated = await gql(client, UPDATE, {"id": created["id"], "input": {"minutes": 10}}, token=assistant_token)
    deleted = await gql(client, DELETE, {"id": created["id"]}, token=assistant_token)
    # then
    assert codes(updated["data"]["updateTimeEntry"]) == ["FORBIDDEN"]
    assert codes(deleted["data"]["deleteTimeEntry"]) == ["FORBIDDEN"]
    assert await snapshot(session) == before


async def test_refused_not_found_for_an_employee_the_viewer_cannot_see(
    client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession
) -> None:
    # given
    role = await factory.role(visibility=EmployeeVisibility.OWN, can_enter_time_for_others=True)
    assistant_token = await factory.token(await factory.employee(role=role))
    # when
    errors = await refused_create(
        client, session, assistant_token, world.entry(employeeId=gid("Employee", world.writer.id))
    )
    # then
    assert errors == [("NOT_FOUND", ["employeeId"])]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("caseId", "not-a-global-id"),
        ("activityId", "not-a-global-id"),
        ("employeeId", "not-a-global-id"),
        ("caseId", ids.encode("Debtor", 1)),
        ("caseId", ids.encode("Case", 999_999_999)),
    ],
)
async def test_refused_not_found_for_malformed_foreign_or_unknown_ids(
    client: httpx.AsyncClient, world: World, session: AsyncSession, field: str, value: str
) -> None:
    # when
    errors = await refused_create(client, session, world.writer_token, world.entry(**{field: value}))
    # then
    assert errors == [("NOT_FOUND", [field])]


@pytest.mark.parametrize("bad_id", ["garbage", ids.encode("Case", 1), ids.encode("TimeEntry", 999_999_999)])
async def test_refused_not_found_when_updating_or_deleting_a_bad_id(
    client: httpx.AsyncClient, world: World, session: AsyncSession, bad_id: str
) -> None:
    # given
    await create(client, world.writer_token, world.entry())
    before = await snapshot(session)
    # when
    updated = await gql(client, UPDATE, {"id": bad_id, "input": {"minutes": 10}}, token=world.writer_token)
    deleted = await gql(client, DELETE, {"id": bad_id}, token=world.writer_token)
    copied = await gql(client, COPY, {"ids": [bad_id], "toDate": "2026-11-20"}, token=world.writer_token)
    # then
    assert codes(updated["data"]["updateTimeEntry"]) == ["NOT_FOUND"]
    assert codes(deleted["data"]["deleteTimeEntry"]) == ["NOT_FOUND"]
    assert codes(copied["data"]["copyTimeEntries"]) == ["NOT_FOUND"]
    assert await snapshot(session) == before


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"minutes": 0}, ["minutes"]),
        ({"minutes": 1441}, ["minutes"]),
        ({"minutes": -5}, ["minutes"]),
        ({"status": "INVOICED"}, ["status"]),
        ({"status": "OVER_LIMIT"}, ["status"]),
        ({"status": "BILLABLE", "billable": False}, ["billable"]),
        ({"status": "NON_BILLABLE", "billable": True}, ["billable"]),
        ({"workDate": "1999-12-31"}, ["workDate"]),
    ],
)
async def test_refused_validation_on_create(
    client: httpx.AsyncClient, world: World, session: AsyncSession, given: dict[str, Any], field: list[str]
) -> None:
    # when
    errors = await refused_create(client, session, world.writer_token, world.entry(**given))
    # then
    assert errors == [("VALIDATION", field)]


@pytest.mark.parametrize(
    "given",
    [{"minutes": 0}, {"minutes": 1441}, {"minutes": None}, {"status": "INVOICED"}, {"activityId": None}],
)
async def test_refused_validation_on_update(
    client: httpx.AsyncClient, world: World, session: AsyncSession, given: dict[str, Any]
) -> None:
    # given
    created = (await create(client, world.writer_token, world.entry()))["timeEntry"]
    before = await snapshot(session)
    # when
    body = await gql(client, UPDATE, {"id": created["id"], "input": given}, token=world.writer_token)
    # then
    assert codes(body["data"]["updateTimeEntry"]) == ["VALIDATION"]
    assert body["data"]["updateTimeEntry"]["timeEntry"] is None
    assert await snapshot(session) == before


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (CREATE, {"input": {"minutes": 10}}),
        (UPDATE, {"id": ids.encode("TimeEntry", 1), "input": {"minutes": 10}}),
        (DELETE, {"id": ids.encode("TimeEntry", 1)}),
        (COPY, {"ids": [ids.encode("TimeEntry", 1)], "toDate": "2026-11-20"}),
        (SAVE_LIST, {"caseId": ids.encode("Case", 1), "changes": []}),
        (START_TIMER, {"input": {"debtorId": ids.encode("Debtor", 1), "activityId": ids.encode("Activity", 1)}}),
        (STOP_TIMER, {}),
        (RUNNING_TIMER, {}),
        (TIME_ENTRIES, {}),
    ],
)
async def test_time_fields_need_a_token(
    client: httpx.AsyncClient, world: World, session: AsyncSession, document: str, variables: dict[str, Any]
) -> None:
    # given
    await create(client, world.writer_token, world.entry())
    before = await snapshot(session)
    # when
    anonymous = await gql(client, document, variables)
    forged = await gql(client, document, variables, token="not-a-real-token")
    # then
    for body in (anonymous, forged):
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert not any((body["data"] or {}).values())  # null, or a nullable root field nulled
    assert await snapshot(session) == before


# --- timeEntries: filters and keyset paging ---------------------------------------------------------------------


@dataclass
class Listed:
    """Six entries spread over employees, debtors, cases, activities, statuses and dates (see `listed`)."""

    world: World
    ids: dict[str, str]
    other_debtor: Debtor
    blocked_case: Case
    period_case: Case
    second_activity: Activity


@pytest.fixture
async def listed(client: httpx.AsyncClient, world: World, factory: Factory, session: AsyncSession) -> Listed:
    other_debtor = await factory.debtor()
    open_case = await factory.case(debtor=world.debtor)
    blocked_case = await factory.case(debtor=other_debtor)
    period_case = await factory.case(debtor=world.debtor, active_from=date(2026, 1, 1), active_until=date(2026, 6, 30))
    second_activity = await factory.activity(default_rate=Decimal("30.00"))
    colleague_token = await factory.token(world.colleague)
    act1, act2 = gid("Activity", world.activity.id), gid("Activity", second_activity.id)
    rows: dict[str, tuple[str, dict[str, Any]]] = {
        "e1": (world.writer_token, {"caseId": gid("Case", open_case.id), "activityId": act1, "workDate": "2026-03-01"}),
        "e2": (
            colleague_token,
            {"caseId": gid("Case", open_case.id), "activityId": act2, "workDate": "2026-03-05", "billable": False},
        ),
        "e3": (
            world.writer_token,
            {"caseId": gid("Case", blocked_case.id), "activityId": act1, "workDate": "2026-04-01"},
        ),
        "e4": (
            world.writer_token,
            {"caseId": gid("Case", period_case.id), "activityId": act1, "workDate": "2026-05-01"},
        ),
        "e5": (
            world.writer_token,
            {
                "debtorId": gid("Debtor", world.debtor.id),
                "activityId": act2,
                "workDate": "2026-07-01",
                "billable": False,
            },
        ),
        "e6": (colleague_token, {"caseId": gid("Case", open_case.id), "activityId": act1, "workDate": "2026-08-01"}),
    }
    created = {}
    for name, (token, entry) in rows.items():
        created[name] = (await create(client, token, {"minutes": 60, **entry}))["timeEntry"]["id"]
    await session.execute(
        text("UPDATE time_entries SET status = 'F' WHERE id = :id"), {"id": ids.decode(created["e6"], "TimeEntry")}
    )
    await cases.update(session, blocked_case.id, {"blocked": True})
    world.case = open_case
    return Listed(world, created, other_debtor, blocked_case, period_case, second_activity)


async def listed_names(client: httpx.AsyncClient, listed: Listed, entry_filter: dict[str, Any]) -> list[str]:
    body = await gql(client, TIME_ENTRIES, {"first": 100, "filter": entry_filter}, token=listed.world.writer_token)
    connection = body["data"]["timeEntries"]
    by_id = {v: k for k, v in listed.ids.items()}
    names = [by_id[edge["node"]["id"]] for edge in connection["edges"]]
    assert connection["totalCount"] == len(names)
    return names


async def test_time_entries_without_filter_lists_all_newest_first(client: httpx.AsyncClient, listed: Listed) -> None:
    # when
    names = await listed_names(client, listed, {})
    # then
    assert names == ["e6", "e5", "e4", "e3", "e2", "e1"]


async def test_time_entries_filter_from_and_to_include_both_days(client: httpx.AsyncClient, listed: Listed) -> None:
    # when
    since = await listed_names(client, listed, {"from": "2026-04-01"})
    until = await listed_names(client, listed, {"to": "2026-04-01"})
    between = await listed_names(client, listed, {"from": "2026-03-05", "to": "2026-05-01"})
    # then
    assert since == ["e6", "e5", "e4", "e3"]
    assert until == ["e3", "e2", "e1"]
    assert between == ["e4", "e3", "e2"]


async def test_time_entries_filter_by_ids(client: httpx.AsyncClient, listed: Listed) -> None:
    # given
    world = listed.world
    # when
    by_employee = await listed_names(client, listed, {"employeeIds": [gid("Employee", world.colleague.id)]})
    by_debtor = await listed_names(client, listed, {"debtorIds": [gid("Debtor", listed.other_debtor.id)]})
    by_case = await listed_names(client, listed, {"caseIds": [gid("Case", world.case.id)]})
    by_cases = await listed_names(
        client, listed, {"caseIds": [gid("Case", listed.blocked_case.id), gid("Case", listed.period_case.id)]}
    )
    by_activity = await listed_names(client, listed, {"activityIds": [gid("Activity", listed.second_activity.id)]})
    by_garbage = await listed_names(client, listed, {"caseIds": ["garbage", gid("Debtor", world.debtor.id)]})
    # then
    assert by_employee == ["e6", "e2"]
    assert by_debtor == ["e3"]
    assert by_case == ["e6", "e2", "e1"]
    assert by_cases == ["e4", "e3"]
    assert by_activity == ["e5", "e2"]
    assert by_garbage == []


async def test_time_entries_filter_by_statuses(client: httpx.AsyncClient, listed: Listed) -> None:
    # when
    names = await listed_names(client, listed, {"statuses": ["NON_BILLABLE", "INVOICED"]})
    billable = await listed_names(client, listed, {"statuses": ["BILLABLE"]})
    # then
    assert names == ["e6", "e5", "e2"]
    assert billable == ["e4", "e3", "e1"]


async def test_time_entries_filter_active_cases_only(client: httpx.AsyncClient, listed: Listed) -> None:
    # when
    anytime = await listed_names(client, listed, {"activeCasesOnly": True})
    summer = await listed_names(client, listed, {"activeCasesOnly": True, "from": "2026-07-01"})
    spring = await listed_names(client, listed, {"activeCasesOnly": True, "to": "2026-03-31"})
    off = await listed_names(client, listed, {"activeCasesOnly": False, "from": "2026-07-01"})
    # then: no blocked case, no entry without a case, and the period case only while its period overlaps
    assert anytime == ["e6", "e4", "e2", "e1"]
    assert summer == ["e6"]
    assert spring == ["e2", "e1"]
    assert off == ["e6", "e5"]


async def test_time_entries_filters_combine(client: httpx.AsyncClient, listed: Listed) -> None:
    # given
    world = listed.world
    entry_filter = {
        "from": "2026-03-01",
        "to": "2026-12-31",
        "employeeIds": [gid("Employee", world.writer.id), gid("Employee", world.colleague.id)],
        "debtorIds": [gid("Debtor", world.debtor.id)],
        "caseIds": [gid("Case", world.case.id), gid("Case", listed.period_case.id)],
        "activityIds": [gid("Activity", world.activity.id)],
        "statuses": ["BILLABLE", "INVOICED"],
        "activeCasesOnly": True,
    }
    # when
    names = await listed_names(client, listed, entry_filter)
    # then
    assert names == ["e6", "e4", "e1"]


async def test_time_entries_keyset_paging_visits_every_entry_once(client: httpx.AsyncClient, listed: Listed) -> None:
    # given
    token = listed.world.writer_token
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    after = None
    # when
    while True:
        body = await gql(client, TIME_ENTRIES, {"first": 4, "after": after}, token=token)
        assert "errors" not in body, body
        connection = body["data"]["timeEntries"]
        pages.append(connection)
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    # then
    by_id = {v: k for k, v in listed.ids.items()}
    assert [by_id[i] for i in seen] == ["e6", "e5", "e4", "e3", "e2", "e1"]
    assert [len(p["edges"]) for p in pages] == [4, 2]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True]
    assert {p["totalCount"] for p in pages} == {6}
    assert pages[0]["pageInfo"]["endCursor"] == pages[0]["edges"][-1]["cursor"]


# --- visibility: a hidden name appears nowhere ------------------------------------------------------------------

HIDDEN_NAME = "Zebulon Hiddenname"


async def test_hidden_employee_name_appears_nowhere_but_their_time_does(
    client: httpx.AsyncClient, world: World, factory: Factory
) -> None:
    # given: Zebulon supervises Vera, writes on a capped case (one entry split into J + L) and writes for Vera;
    # Vera's role sees only her own name
    zebulon = await factory.employee(
        role=await factory.role(can_enter_time_for_others=True), name=HIDDEN_NAME, email="zebulon.hiddenname@x.test"
    )
    vera = await factory.employee(
        role=await factory.role(visibility=EmployeeVisibility.OWN), name="Vera Viewer", supervisor=zebulon
    )
    zebulon_token, vera_token = await factory.token(zebulon), await factory.token(vera)
    case = await factory.case(debtor=world.debtor, max_per_book_year=CapKind.TIME, max_minutes=100)
    entry = world.entry(caseId=gid("Case", case.id), minutes=80)
    first = (await create(client, zebulon_token, entry))["timeEntry"]
    split = await create(client, zebulon_token, entry)
    for_vera = (await create(client, zebulon_token, {**entry, "employeeId": gid("Employee", vera.id), "minutes": 5}))[
        "timeEntry"
    ]
    own = (await create(client, vera_token, {**world.entry(), "caseId": gid("Case", world.case.id), "minutes": 7}))[
        "timeEntry"
    ]
    hidden_ids = [first["id"], split["timeEntry"]["id"], split["overLimitEntry"]["id"]]
    forbidden = [HIDDEN_NAME, "Zebulon", "Hiddenname", "zebulon.hiddenname", gid("Employee", zebulon.id)]
    # when
    listed = await client.post(
        "/graphql", json={"query": HIDDEN_ENTRIES}, headers={"Authorization": f"Bearer {vera_token}"}
    )
    case_list = await client.post(
        "/graphql",
        json={"query": HIDDEN_CASE_LIST, "variables": {"id": gid("Case", case.id)}},
        headers={"Authorization": f"Bearer {vera_token}"},
    )
    nodes = [
        await client.post(
            "/graphql",
            json={"query": HIDDEN_NODE, "variables": {"id": entry_id}},
            headers={"Authorization": f"Bearer {vera_token}"},
        )
        for entry_id in [*hidden_ids, for_vera["id"], own["id"]]
    ]
    by_filter = await gql(
        client, TIME_ENTRIES, {"filter": {"employeeIds": [gid("Employee", zebulon.id)]}}, token=vera_token
    )
    # then: nothing in any raw body names Zebulon
    for response in [listed, case_list, *nodes]:
        assert response.status_code == 200
        assert "errors" not in response.json(), response.text
        for word in forbidden:
            assert word not in response.text
    # his entries and minutes are all there, nameless
    entries = {e["node"]["id"]: e["node"] for e in listed.json()["data"]["timeEntries"]["edges"]}
    assert listed.json()["data"]["timeEntries"]["totalCount"] == 5
    assert sum(e["minutes"] for e in entries.values()) == 80 + 20 + 60 + 5 + 7
    for entry_id in hidden_ids:
        node = entries[entry_id]
        assert (node["employee"], node["employeeHidden"], node["createdBy"], node["updatedBy"]) == (
            None,
            True,
            None,
            None,
        )
    line = entries[split["overLimitEntry"]["id"]]
    assert line["overLimitOf"] == {"id": split["timeEntry"]["id"], "employee": None, "createdBy": None}
    assert entries[split["timeEntry"]["id"]]["overLimitEntry"] == {
        "id": split["overLimitEntry"]["id"],
        "employee": None,
        "updatedBy": None,
    }
    # Vera's own entries show her, but not her hidden supervisor nor the hidden writer
    written_for_vera = entries[for_vera["id"]]
    assert written_for_vera["employee"] == {
        "id": gid("Employee", vera.id),
        "name": "Vera Viewer",
        "email": vera.email,
        "supervisor": None,
    }
    assert (written_for_vera["employeeHidden"], written_for_vera["createdBy"]) == (False, None)
    assert entries[own["id"]]["createdBy"]["name"] == "Vera Viewer"
    case_edges = case_list.json()["data"]["node"]["timeList"]["edges"]
    assert sorted(e["node"]["minutes"] for e in case_edges) == [5, 20, 60, 80]
    assert all(e["node"]["employeeHidden"] for e in case_edges if e["node"]["id"] in hidden_ids)
    node_bodies = [n.json()["data"]["node"] for n in nodes]
    assert [n["id"] for n in node_bodies] == [*hidden_ids, for_vera["id"], own["id"]]
    assert [n["employeeHidden"] for n in node_bodies] == [True, True, True, False, False]
    assert [n["minutes"] for n in node_bodies] == [80, 20, 60, 5, 7]
    # and a hidden name never decides a match
    assert by_filter["data"]["timeEntries"]["edges"] == []


# --- statement count: a page costs the same whatever it shows ---------------------------------------------------

PAGE_MINUTES = "query($first: Int) { timeEntries(first: $first) { edges { node { minutes } } } }"
PAGE_JOINED = """query($first: Int) { timeEntries(first: $first) { edges { node {
  id minutes status employee { id name email role { name } } employeeHidden case { id code debtor { code } }
  activity { id code name } debtor { id code name } editable
} } } }"""
PAGE_BATCHED = """query($first: Int) { timeEntries(first: $first) { totalCount edges { node {
  minutes employee { name } createdBy { name } updatedBy { name } overLimitOf { id minutes } overLimitEntry { id }
} } } }"""
LIST_MINUTES = """query($id: ID!, $first: Int) { node(id: $id) { ... on Case {
  timeList(first: $first) { mode edges { node { minutes } } } } } }"""
LIST_JOINED = """query($id: ID!, $first: Int) { node(id: $id) { ... on Case {
  timeList(first: $first) { mode totalCount edges { node {
    id minutes status employee { id name role { name } } employeeHidden case { id code debtor { code } }
    activity { id code } debtor { id code } editable
  } } } } } }"""
LIST_BATCHED = """query($id: ID!, $first: Int) { node(id: $id) { ... on Case {
  timeList(first: $first) { edges { node {
    minutes createdBy { name } updatedBy { name } overLimitOf { id } overLimitEntry { id }
  } } } } } }"""

BULK_PAIRS = text(
    """
    WITH parents AS (
      INSERT INTO time_entries (employee_id, debtor_id, case_id, activity_id, work_date, minutes, status, rate, amount,
                                source, created_by_id, updated_by_id)
      SELECT :employee, :debtor, :case, :activity, date '2026-01-01' + g, 30, 'J', 60, 30, 'PER_DATE', :creator,
             :updater
      FROM generate_series(1, :pairs) AS g
      RETURNING id, work_date
    )
    INSERT INTO time_entries (employee_id, debtor_id, case_id, activity_id, work_date, minutes, status, rate, amount,
                              source, over_limit_of_id, created_by_id, updated_by_id)
    SELECT :employee, :debtor, :case, :activity, work_date, 15, 'L', 60, 15, 'PER_DATE', id, :creator, :updater
    FROM parents
    """
)


async def bulk_pairs(session: AsyncSession, world: World, case: Case, pairs: int) -> None:
    """`pairs` J entries on their own days, each with an L line: pages hold both sides of the link."""
    await session.execute(
        BULK_PAIRS,
        {
            "employee": world.writer.id,
            "debtor": case.debtor_id,
            "case": case.id,
            "activity": world.activity.id,
            "creator": world.colleague.id,
            "updater": world.admin.id,
            "pairs": pairs,
        },
    )
    await session.execute(
        text("UPDATE cases SET time_entry_count = time_entry_count + :n WHERE id = :id"),
        {"n": 2 * pairs, "id": case.id},
    )


HARNESS = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b")


async def statements_for(
    client: httpx.AsyncClient, counter: StatementCounter, query: str, variables: dict[str, Any], token: str
) -> tuple[int, dict[str, Any]]:
    """Statements one request sends, leaving out the test harness's savepoint bookkeeping."""
    before = counter.count
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    sent = [s for s in counter.statements[before:] if not HARNESS.match(s)]
    return len(sent), body


async def test_time_entries_page_costs_constant_statements(
    client: httpx.AsyncClient, world: World, session: AsyncSession, sql_statements: StatementCounter
) -> None:
    # given
    await bulk_pairs(session, world, world.case, 30)
    token = world.writer_token
    # when
    counts = {}
    for name, query in (("minutes", PAGE_MINUTES), ("joined", PAGE_JOINED), ("batched", PAGE_BATCHED)):
        for size in (5, 50):
            counts[name, size], body = await statements_for(client, sql_statements, query, {"first": size}, token)
            assert len(body["data"]["timeEntries"]["edges"]) == size
    # then: rows and selected fields cost nothing more; createdBy/updatedBy and the L links one batch each
    assert counts["minutes", 5] == counts["minutes", 50] == counts["joined", 5] == counts["joined", 50]
    assert counts["joined", 50] <= 2  # the viewer's token, the page
    assert counts["batched", 5] == counts["batched", 50]
    assert counts["batched", 50] <= counts["joined", 50] + 3  # + totalCount, + employees, + entries


async def test_case_time_list_page_costs_constant_statements(
    client: httpx.AsyncClient, world: World, session: AsyncSession, sql_statements: StatementCounter
) -> None:
    # given
    await bulk_pairs(session, world, world.case, 30)
    token = world.writer_token
    case_id = gid("Case", world.case.id)
    # when
    counts = {}
    for name, query in (("minutes", LIST_MINUTES), ("joined", LIST_JOINED), ("batched", LIST_BATCHED)):
        for size in (5, 50):
            counts[name, size], body = await statements_for(
                client, sql_statements, query, {"id": case_id, "first": size}, token
            )
            assert len(body["data"]["node"]["timeList"]["edges"]) == size
    # then
    assert counts["minutes", 5] == counts["minutes", 50] == counts["joined", 5] == counts["joined", 50]
    assert counts["joined", 50] <= 2  # the viewer's token; the case with its page, one statement
    assert counts["batched", 5] == counts["batched", 50]
    # fields only Python answers: the token, the case with the settings, the page, and a loader for each kind of row
    # it names (employees, entries)
    assert counts["batched", 50] <= 6
