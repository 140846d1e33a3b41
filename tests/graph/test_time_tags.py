"""`TimeEntry.tags` through the API: written by every mutation that writes an entry, refused with each tag's path,
filtered by in `timeEntries` (written by the database as the object path writes it) and in `timeReport`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import CapKind
from tests.conftest import StatementCounter
from tests.factories import Factory, gql

ENTRY = "id minutes status tags overLimitOf { id tags }"
CREATE = (
    "mutation($input: TimeEntryInput!) { createTimeEntry(input: $input) {"
    f" timeEntry {{ {ENTRY} }} overLimitEntry {{ {ENTRY} }} userErrors {{ code field message }} }} }}"
)
UPDATE = (
    "mutation($id: ID!, $input: TimeEntryInput!) { updateTimeEntry(id: $id, input: $input) {"
    f" timeEntry {{ {ENTRY} }} overLimitEntry {{ {ENTRY} }} userErrors {{ code field message }} }} }}"
)
COPY = (
    'mutation($ids: [ID!]!) { copyTimeEntries(ids: $ids, toDate: "2026-11-20") {'
    f" timeEntries {{ {ENTRY} }} userErrors {{ code field }} }} }}"
)
SAVE = (
    "mutation($caseId: ID!, $changes: [TimeListChange!]!) { saveCaseTimeList(caseId: $caseId, changes: $changes) {"
    f" timeEntries {{ {ENTRY} }} userErrors {{ code field }} }} }}"
)
START = "mutation($input: StartTimerInput!) { startTimer(input: $input) { userErrors { code } } }"
STOP = f"mutation {{ stopTimer {{ timeEntry {{ {ENTRY} }} userErrors {{ code }} }} }}"
ENTRIES = (
    "query($filter: TimeEntryFilter) { timeEntries(first: 50, filter: $filter) { totalCount"
    " edges { cursor node { id workDate minutes status tags description employee { name } overLimitOf { tags } } } } }"
)
REPORT = """query($filter: TimeEntryFilter!) {
  timeReport(filter: $filter, groupBy: [STATUS]) { rows { status minutes entryCount } totalMinutes }
}"""


@dataclass
class World:
    token: str
    case_id: str
    debtor_id: str
    activity_id: str

    def entry(self, **fields: Any) -> dict[str, Any]:
        return {
            "caseId": self.case_id,
            "activityId": self.activity_id,
            "workDate": "2026-11-02",
            "minutes": 30,
        } | fields


@pytest.fixture
async def world(factory: Factory) -> World:
    """An administrator writing on a case of at most 100 minutes a book year."""
    _, token = await factory.admin()
    debtor = await factory.debtor()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    case = await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=100)
    return World(
        token, ids.encode("Case", case.id), ids.encode("Debtor", debtor.id), ids.encode("Activity", activity.id)
    )


async def created(client: httpx.AsyncClient, world: World, **fields: Any) -> dict[str, Any]:
    body = await gql(client, CREATE, {"input": world.entry(**fields)}, token=world.token)
    payload: dict[str, Any] = body["data"]["createTimeEntry"]
    assert payload["userErrors"] == [], body
    return payload


class TestWrites:
    async def test_create_edit_and_clear(self, client: httpx.AsyncClient, world: World) -> None:
        # when
        payload = await created(client, world, tags=[" Call ", "call", 'Zürich "HQ" \\'])
        entry_id = payload["timeEntry"]["id"]
        # then
        assert payload["timeEntry"]["tags"] == ["Call", 'Zürich "HQ" \\']
        for given, expected in ((["b", "A"], ["b", "A"]), (None, []), (["c"], ["c"]), ([], [])):
            body = await gql(client, UPDATE, {"id": entry_id, "input": {"tags": given}}, token=world.token)
            assert body["data"]["updateTimeEntry"]["timeEntry"]["tags"] == expected, given
        body = await gql(client, UPDATE, {"id": entry_id, "input": {"tags": ["kept"]}}, token=world.token)
        body = await gql(client, UPDATE, {"id": entry_id, "input": {"minutes": 31}}, token=world.token)
        assert body["data"]["updateTimeEntry"]["timeEntry"]["tags"] == ["kept"]

    async def test_every_broken_tag_at_once_and_nothing_written(
        self, client: httpx.AsyncClient, world: World, session: AsyncSession
    ) -> None:
        # given: an empty one after trimming, one too long, and 11 different ones
        tags = ["a", "b", "  ", "x" * 41, *[f"t{n}" for n in range(9)]]
        # when
        body = await gql(client, CREATE, {"input": world.entry(tags=tags, minutes=0)}, token=world.token)
        # then
        payload = body["data"]["createTimeEntry"]
        assert payload["timeEntry"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("VALIDATION", ["minutes"]),
            ("VALIDATION", ["tags", "2"]),
            ("VALIDATION", ["tags", "3"]),
            ("VALIDATION", ["tags"]),
        ]
        assert payload["userErrors"][-1]["message"] == "tags must hold at most 10 tags, not 12"
        assert (await session.execute(text("SELECT count(*) FROM time_entries"))).scalar_one() == 0

    async def test_the_l_line_and_a_copy_keep_the_tags(self, client: httpx.AsyncClient, world: World) -> None:
        # when: 130 minutes on a case of at most 100
        payload = await created(client, world, minutes=130, tags=["Late", "night"])
        # then
        line = payload["overLimitEntry"]
        assert (line["status"], line["minutes"], line["tags"]) == ("OVER_LIMIT", 30, ["Late", "night"])
        assert line["overLimitOf"] == {"id": payload["timeEntry"]["id"], "tags": ["Late", "night"]}
        # when: retagged, the line follows
        body = await gql(
            client, UPDATE, {"id": payload["timeEntry"]["id"], "input": {"tags": ["x"]}}, token=world.token
        )
        entries = (await gql(client, ENTRIES, {"filter": {"statuses": ["OVER_LIMIT"]}}, token=world.token))["data"]
        assert [e["node"]["tags"] for e in entries["timeEntries"]["edges"]] == [["x"]]
        # when: both copied
        copy_ids = [payload["timeEntry"]["id"], line["id"]]
        body = await gql(client, COPY, {"ids": copy_ids}, token=world.token)
        # then
        assert body["data"]["copyTimeEntries"]["userErrors"] == []
        assert [e["tags"] for e in body["data"]["copyTimeEntries"]["timeEntries"]] == [["x"], ["x"]]

    async def test_the_case_lists_save(self, client: httpx.AsyncClient, world: World) -> None:
        entry_id = (await created(client, world, tags=["old"]))["timeEntry"]["id"]
        new = world.entry(tags=["new"])
        del new["caseId"]
        changes = [{"id": entry_id, "entry": {"tags": ["edited", "EDITED"]}}, {"entry": new}]
        # when
        body = await gql(client, SAVE, {"caseId": world.case_id, "changes": changes}, token=world.token)
        # then
        payload = body["data"]["saveCaseTimeList"]
        assert payload["userErrors"] == []
        assert [e["tags"] for e in payload["timeEntries"]] == [["edited"], ["new"]]
        changes = [{"id": entry_id, "entry": {"tags": ["ok", ""]}}]
        body = await gql(client, SAVE, {"caseId": world.case_id, "changes": changes}, token=world.token)
        assert body["data"]["saveCaseTimeList"]["userErrors"] == [
            {"code": "VALIDATION", "field": ["changes", "0", "tags", "1"]}
        ]

    async def test_a_timers_entry_has_none(self, client: httpx.AsyncClient, world: World) -> None:
        timer = {"debtorId": world.debtor_id, "caseId": world.case_id, "activityId": world.activity_id}
        assert (await gql(client, START, {"input": timer}, token=world.token))["data"]["startTimer"]["userErrors"] == []
        body = await gql(client, STOP, token=world.token)
        assert body["data"]["stopTimer"]["timeEntry"]["tags"] == []


def is_json_statement(statement: str) -> bool:
    return " AS edge" in statement


class TestFilter:
    @pytest.fixture
    async def tagged(self, client: httpx.AsyncClient, world: World) -> dict[str, str]:
        """Entries tagged in different spellings, one over the cap (its L line tagged too), and one untagged."""
        written = {}
        for name, tags, minutes in (
            ("urgent", ["Urgent"], 20),
            ("both", ["review", 'URGENT "now"'], 30),
            ("capped", ["Review"], 70),
            ("none", [], 10),
        ):
            payload = await created(client, world, tags=tags, minutes=minutes, description=f"{name}\n\\")
            written[name] = payload["timeEntry"]["id"]
            if payload["overLimitEntry"]:
                written[f"{name}L"] = payload["overLimitEntry"]["id"]
        return written

    @pytest.mark.parametrize(
        ("tags", "expected"),
        [
            (["urgent"], {"urgent"}),
            ([" REVIEW "], {"both", "capped", "cappedL"}),
            (['urgent "NOW"', "Urgent"], {"urgent", "both"}),
            (["nothing"], set()),
            ([], set()),
        ],
    )
    async def test_time_entries_written_by_the_database_and_as_objects(
        self,
        client: httpx.AsyncClient,
        world: World,
        tagged: dict[str, str],
        sql_statements: StatementCounter,
        tags: list[str],
        expected: set[str],
    ) -> None:
        variables = {"filter": {"tags": tags}}
        # when
        before = sql_statements.count
        written = await gql(client, ENTRIES, variables, token=world.token)
        statements = sql_statements.statements[before:]
        built = await gql(
            client, ENTRIES.replace(" edges {", " edges @include(if: true) {"), variables, token=world.token
        )
        # then
        assert "errors" not in written, written
        assert written == built
        assert [is_json_statement(s) for s in statements].count(True) == 1
        found = {e["node"]["id"] for e in written["data"]["timeEntries"]["edges"]}
        assert found == {tagged[name] for name in expected}
        assert written["data"]["timeEntries"]["totalCount"] == len(expected)

    async def test_time_report(self, client: httpx.AsyncClient, world: World, tagged: dict[str, str]) -> None:
        cases: list[tuple[list[str], list[dict[str, Any]]]] = [
            (["Review"], [{"status": "BILLABLE", "minutes": 30 + 50, "entryCount": 2},
                          {"status": "OVER_LIMIT", "minutes": 20, "entryCount": 1}]),
            (["urgent"], [{"status": "BILLABLE", "minutes": 20, "entryCount": 1}]),
            (["nothing"], []),
        ]  # fmt: skip
        for tags, rows in cases:
            # when
            body = await gql(client, REPORT, {"filter": {"tags": tags, "from": "2026-11-01"}}, token=world.token)
            # then
            report = body["data"]["timeReport"]
            assert report["rows"] == rows, tags
            assert report["totalMinutes"] == sum(r["minutes"] for r in rows)
