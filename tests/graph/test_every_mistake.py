"""Every mistake at once (SPEC 12): a mutation whose input breaks several rules answers all of them as userErrors,
each with its field path, and writes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import CapKind
from tests.factories import Factory, gql
from tests.graph.tables import count_of, rows_of

ERRORS = "userErrors { field code message }"
CREATE_EMPLOYEE = (
    f"mutation($input: EmployeeInput!) {{ createEmployee(input: $input) {{ employee {{ id }} {ERRORS} }} }}"
)
UPDATE_EMPLOYEE = f"""mutation($id: ID!, $input: EmployeeInput!) {{
  updateEmployee(id: $id, input: $input) {{ employee {{ id }} {ERRORS} }} }}"""
CREATE_CASE = f"mutation($input: CaseInput!) {{ createCase(input: $input) {{ case {{ id }} {ERRORS} }} }}"
UPDATE_CASE = (
    f"mutation($id: ID!, $input: CaseInput!) {{ updateCase(id: $id, input: $input) {{ case {{ id }} {ERRORS} }} }}"
)
CREATE_DEBTOR = f"mutation($input: DebtorInput!) {{ createDebtor(input: $input) {{ debtor {{ id }} {ERRORS} }} }}"
CREATE_ACTIVITY = (
    f"mutation($input: ActivityInput!) {{ createActivity(input: $input) {{ activity {{ id }} {ERRORS} }} }}"
)
UPDATE_SETTINGS = f"mutation($input: SettingsInput!) {{ updateSettings(input: $input) {{ {ERRORS} }} }}"
CREATE_ENTRY = (
    f"mutation($input: TimeEntryInput!) {{ createTimeEntry(input: $input) {{ timeEntry {{ id }} {ERRORS} }} }}"
)
COPY_ENTRIES = f"""mutation($ids: [ID!]!, $toDate: Date!) {{
  copyTimeEntries(ids: $ids, toDate: $toDate) {{ timeEntries {{ id }} {ERRORS} }} }}"""
SAVE_LIST = f"""mutation($caseId: ID!, $changes: [TimeListChange!]!) {{
  saveCaseTimeList(caseId: $caseId, changes: $changes) {{ timeEntries {{ id }} {ERRORS} }} }}"""
RELEASE = f"""mutation($ids: [ID!]!, $status: TimeStatus!) {{
  releaseOverLimit(ids: $ids, status: $status) {{ {ERRORS} }} }}"""

TOO_LONG = "x" * 201


def refusals(body: dict[str, Any], field: str) -> list[tuple[str, tuple[str, ...]]]:
    """(code, field path) of each userError of the mutation `field`, which wrote nothing it names."""
    assert "errors" not in body, body
    payload = body["data"][field]
    assert all(e["message"].startswith(e["field"][-1] + " ") for e in payload["userErrors"]), payload
    return [(e["code"], tuple(e["field"])) for e in payload["userErrors"]]


async def snapshot(session: AsyncSession, *tables: str) -> dict[str, list[str]]:
    return {table: await rows_of(session, table) for table in tables}


class TestMasterData:
    async def test_create_employee_names_each_bad_field(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await count_of(session, "employees")
        bad = {"name": "  ", "email": "not-an-address", "password": "short", "defaultRate": "1.005"}
        # when
        body = await gql(client, CREATE_EMPLOYEE, {"input": bad}, token=token)
        # then
        assert refusals(body, "createEmployee") == [
            ("VALIDATION", ("name",)),
            ("VALIDATION", ("email",)),
            ("VALIDATION", ("password",)),
            ("VALIDATION", ("roleId",)),
            ("VALIDATION", ("defaultRate",)),
        ]
        assert await count_of(session, "employees") == before

    async def test_update_employee_names_each_bad_field_before_looking_anything_up(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        admin, token = await factory.admin()
        before = await snapshot(session, "employees", "auth_tokens")
        bad = {"name": TOO_LONG, "email": None, "active": None}
        # when
        body = await gql(client, UPDATE_EMPLOYEE, {"id": ids.encode("Employee", admin.id), "input": bad}, token=token)
        # then
        assert refusals(body, "updateEmployee") == [
            ("VALIDATION", ("name",)),
            ("VALIDATION", ("email",)),
            ("VALIDATION", ("active",)),
        ]
        assert await snapshot(session, "employees", "auth_tokens") == before

    async def test_create_debtor_and_activity_name_each_bad_field(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await snapshot(session, "debtors", "activities")
        # when
        debtor = await gql(
            client, CREATE_DEBTOR, {"input": {"code": "", "name": TOO_LONG, "adjustedRate": "-1"}}, token=token
        )
        activity = await gql(
            client,
            CREATE_ACTIVITY,
            {"input": {"code": TOO_LONG, "name": " ", "defaultStatus": "INVOICED", "defaultRate": "0.001"}},
            token=token,
        )
        # then
        assert [f for _, f in refusals(debtor, "createDebtor")] == [("code",), ("name",), ("adjustedRate",)]
        assert [f for _, f in refusals(activity, "createActivity")] == [
            ("code",),
            ("name",),
            ("defaultStatus",),
            ("defaultRate",),
        ]
        assert await snapshot(session, "debtors", "activities") == before

    async def test_update_settings_names_each_bad_field(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await snapshot(session, "company_settings")
        bad = {"bookYearStartMonth": 13, "staticListThreshold": 0, "timeZone": "Mars/Olympus_Mons"}
        # when
        body = await gql(client, UPDATE_SETTINGS, {"input": bad}, token=token)
        # then
        assert refusals(body, "updateSettings") == [
            ("VALIDATION", ("bookYearStartMonth",)),
            ("VALIDATION", ("staticListThreshold",)),
            ("VALIDATION", ("timeZone",)),
        ]
        assert await snapshot(session, "company_settings") == before


class TestCases:
    async def test_create_case_names_each_bad_field_and_each_rule_between_fields(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor = await factory.debtor()
        before = await count_of(session, "cases")
        bad = {
            "debtorId": ids.encode("Debtor", debtor.id),
            "code": TOO_LONG,
            "adjustedRate": "12.345",
            "maxMinutes": -1,
            "maxPerBookYear": "TIME",  # needs maxMinutes, which is refused already: said once
            "activeFrom": "2026-03-01",  # a period with a maximum
            "activeUntil": "2026-02-01",  # before activeFrom
        }
        # when
        body = await gql(client, CREATE_CASE, {"input": bad}, token=token)
        # then
        assert refusals(body, "createCase") == [
            ("VALIDATION", ("code",)),
            ("VALIDATION", ("adjustedRate",)),
            ("VALIDATION", ("maxMinutes",)),
            ("VALIDATION", ("activeUntil",)),
            ("PERIOD_WITH_CAP", ("activeFrom",)),
        ]
        assert await count_of(session, "cases") == before

    async def test_update_case_names_each_bad_field(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        case = await factory.case(max_per_book_year=CapKind.AMOUNT, max_amount=Decimal(100))
        before = await snapshot(session, "cases")
        bad = {"code": None, "blocked": None, "description": "d" * 4001, "activeUntil": "1999-12-31"}
        # when
        body = await gql(client, UPDATE_CASE, {"id": ids.encode("Case", case.id), "input": bad}, token=token)
        # then
        assert refusals(body, "updateCase") == [  # in the order of CaseInput's fields
            ("VALIDATION", ("code",)),
            ("VALIDATION", ("description",)),
            ("VALIDATION", ("activeUntil",)),
            ("VALIDATION", ("blocked",)),
        ]
        assert await snapshot(session, "cases") == before

    async def test_rules_tying_fields_to_the_stored_case_are_named_together(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        case = await factory.case()
        other = await factory.debtor()
        before = await snapshot(session, "cases")
        moved = {"debtorId": ids.encode("Debtor", other.id), "maxPerBookYear": "AMOUNT"}
        # when
        body = await gql(client, UPDATE_CASE, {"id": ids.encode("Case", case.id), "input": moved}, token=token)
        # then
        assert refusals(body, "updateCase") == [("VALIDATION", ("debtorId",)), ("VALIDATION", ("maxAmount",))]
        assert await snapshot(session, "cases") == before


class TestTime:
    async def test_create_time_entry_names_each_bad_field(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        case = await factory.case()
        before = await snapshot(session, "time_entries", "cases")
        bad = {
            "caseId": ids.encode("Case", case.id),
            "workDate": "1999-12-31",
            "minutes": 0,
            "status": "INVOICED",
            "description": "d" * 4001,
        }
        # when
        body = await gql(client, CREATE_ENTRY, {"input": bad}, token=token)
        # then
        assert refusals(body, "createTimeEntry") == [
            ("VALIDATION", ("minutes",)),
            ("VALIDATION", ("workDate",)),
            ("VALIDATION", ("activityId",)),
            ("VALIDATION", ("status",)),
            ("VALIDATION", ("description",)),
        ]
        assert await snapshot(session, "time_entries", "cases") == before

    async def test_save_case_time_list_names_each_bad_field_of_each_change(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        case = await factory.case()
        activity = await factory.activity(default_rate=Decimal(60))
        good = {"entry": {"activityId": ids.encode("Activity", activity.id), "workDate": "2026-11-02", "minutes": 30}}
        bad = {"entry": {"workDate": "2101-01-01", "minutes": 1441, "billable": True, "status": "NON_BILLABLE"}}
        before = await snapshot(session, "time_entries", "cases")
        # when
        body = await gql(
            client,
            SAVE_LIST,
            {"caseId": ids.encode("Case", case.id), "changes": [good, good, good, bad, {"delete": True}]},
            token=token,
        )
        # then
        assert refusals(body, "saveCaseTimeList") == [
            ("VALIDATION", ("changes", "3", "minutes")),
            ("VALIDATION", ("changes", "3", "workDate")),
            ("VALIDATION", ("changes", "3", "activityId")),
            ("VALIDATION", ("changes", "3", "billable")),
            ("VALIDATION", ("changes", "4", "delete")),
        ]
        assert await snapshot(session, "time_entries", "cases") == before

    async def test_an_undecodable_id_in_a_change_is_named_by_its_change(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        case = await factory.case()
        before = await snapshot(session, "time_entries")
        changes = [{"id": "nonsense", "delete": True}, {"entry": {"activityId": "nonsense"}}]
        # when
        body = await gql(client, SAVE_LIST, {"caseId": ids.encode("Case", case.id), "changes": changes}, token=token)
        # then
        payload = body["data"]["saveCaseTimeList"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["changes", "0", "id"]),
            ("NOT_FOUND", ["changes", "1", "activityId"]),
        ]
        assert await snapshot(session, "time_entries") == before

    async def test_copy_names_a_date_out_of_range(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, COPY_ENTRIES, {"ids": [], "toDate": "2101-01-01"}, token=token)
        # then
        assert refusals(body, "copyTimeEntries") == [("VALIDATION", ("toDate",))]

    async def test_release_names_an_empty_list_and_a_status_it_cannot_release_to(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, RELEASE, {"ids": [], "status": "OVER_LIMIT"}, token=token)
        # then
        assert refusals(body, "releaseOverLimit") == [("VALIDATION", ("ids",)), ("VALIDATION", ("status",))]


@pytest.mark.parametrize(
    ("document", "variables", "field"),
    [
        (CREATE_DEBTOR, {"input": {"code": "", "name": "n"}}, "createDebtor"),
        (CREATE_ENTRY, {"input": {"minutes": 0}}, "createTimeEntry"),
    ],
)
async def test_every_message_starts_with_its_field_name(
    client: httpx.AsyncClient, factory: Factory, document: str, variables: dict[str, Any], field: str
) -> None:
    # given
    _, token = await factory.admin()
    # when
    body = await gql(client, document, variables, token=token)
    # then: `refusals` holds every message to `<fieldName> <what is wrong>`
    assert refusals(body, field)
