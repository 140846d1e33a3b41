"""Case.timeList and its static list threshold (SPEC 7): EDITABLE up to it in any order, STATIC above it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import Activity, Case, Employee
from services import company
from tests.factories import Factory, gql

TIME_LIST = """query List($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $orderBy: TimeListOrder) {
  node(id: $id) { ... on Case {
    timeEntryCount
    timeList(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
      mode totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id workDate minutes editable } }
    }
  } }
}"""
CREATE = """mutation Create($input: TimeEntryInput!) {
  createTimeEntry(input: $input) { timeEntry { id } userErrors { code field message } }
}"""
UPDATE_SETTINGS = """mutation Settings($input: SettingsInput!) {
  updateSettings(input: $input) { settings { staticListThreshold } userErrors { code field } }
}"""
SETTINGS = "query { settings { staticListThreshold } }"
SAVE_LIST = """mutation Save($caseId: ID!, $changes: [TimeListChange!]!) {
  saveCaseTimeList(caseId: $caseId, changes: $changes) { timeEntries { id minutes version } userErrors { code } }
}"""
BULK = text(
    """
    INSERT INTO time_entries (employee_id, debtor_id, case_id, activity_id, work_date, minutes, status, rate, amount,
                              source, created_by_id, updated_by_id)
    SELECT :employee, :debtor, :case, :activity, date '2020-01-01' + (g % 2000), 1 + g % 600, 'J', 60, 1 + g % 600,
           'PER_DATE', :employee, :employee
    FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS g
    """
)

# (work date, minutes): ties on both keys, so the id decides within them
SHAPES = [
    ("2026-11-02", 30),
    ("2026-11-02", 60),
    ("2026-11-03", 30),
    ("2026-11-01", 90),
    ("2026-11-03", 60),
    ("2026-11-02", 30),
]


@dataclass
class Setup:
    writer: Employee
    token: str
    admin_token: str
    activity: Activity
    case: Case

    @property
    def case_id(self) -> str:
        return ids.encode("Case", self.case.id)


@pytest.fixture
async def setup(factory: Factory) -> Setup:
    _, admin_token = await factory.admin()
    writer = await factory.employee(name="Lister")
    activity = await factory.activity(default_rate=Decimal("60.00"))
    case = await factory.case()
    return Setup(writer, await factory.token(writer), admin_token, activity, case)


async def write(
    client: httpx.AsyncClient, setup: Setup, shapes: list[tuple[str, int]], *, token: str | None = None
) -> list[dict[str, Any]]:
    """Entries of the given (date, minutes) through the API (by the writer unless `token`), with their database ids."""
    written = []
    for work_date, minutes in shapes:
        entry = {
            "caseId": setup.case_id,
            "activityId": ids.encode("Activity", setup.activity.id),
            "workDate": work_date,
            "minutes": minutes,
        }
        body = await gql(client, CREATE, {"input": entry}, token=token or setup.token)
        assert body["data"]["createTimeEntry"]["userErrors"] == []
        global_id = body["data"]["createTimeEntry"]["timeEntry"]["id"]
        written.append({"id": global_id, "db": ids.decode(global_id, "TimeEntry"), "date": work_date, "min": minutes})
    return written


async def set_threshold(client: httpx.AsyncClient, setup: Setup, threshold: int) -> None:
    body = await gql(client, UPDATE_SETTINGS, {"input": {"staticListThreshold": threshold}}, token=setup.admin_token)
    assert body["data"]["updateSettings"] == {"settings": {"staticListThreshold": threshold}, "userErrors": []}


async def time_list(
    client: httpx.AsyncClient, setup: Setup, *, token: str | None = None, **arguments: Any
) -> dict[str, Any]:
    body = await gql(client, TIME_LIST, {"id": setup.case_id, **arguments}, token=token or setup.token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["node"]["timeList"]
    return result


def expected(written: list[dict[str, Any]], order: str) -> list[str]:
    key = "date" if order.startswith("WORK_DATE") else "min"
    ordered = sorted(written, key=lambda e: (e[key], e["db"]), reverse=order.endswith("DESC"))
    return [e["id"] for e in ordered]


def listed_ids(result: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in result["edges"]]


@pytest.mark.parametrize("order", ["WORK_DATE_DESC", "WORK_DATE_ASC", "MINUTES_DESC", "MINUTES_ASC"])
async def test_editable_at_the_threshold_honours_the_order(client: httpx.AsyncClient, setup: Setup, order: str) -> None:
    # given
    await set_threshold(client, setup, len(SHAPES))
    written = await write(client, setup, SHAPES)
    # when
    result = await time_list(client, setup, orderBy=order)
    # then
    assert result["mode"] == "EDITABLE"
    assert result["totalCount"] == len(SHAPES)
    assert listed_ids(result) == expected(written, order)
    assert all(edge["node"]["editable"] for edge in result["edges"])


async def test_editable_list_defaults_to_newest_first(client: httpx.AsyncClient, setup: Setup) -> None:
    # given
    written = await write(client, setup, SHAPES)
    # when
    result = await time_list(client, setup)
    # then
    assert result["mode"] == "EDITABLE"
    assert listed_ids(result) == expected(written, "WORK_DATE_DESC")


@pytest.mark.parametrize("order", ["MINUTES_ASC", "MINUTES_DESC", "WORK_DATE_ASC"])
async def test_editable_list_pages_through_ties_in_order(client: httpx.AsyncClient, setup: Setup, order: str) -> None:
    # given
    written = await write(client, setup, SHAPES * 2)
    seen: list[str] = []
    after = None
    # when
    while True:
        result = await time_list(client, setup, first=5, after=after, orderBy=order)
        seen += listed_ids(result)
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    # then
    assert result["mode"] == "EDITABLE"
    assert seen == expected(written, order)


@pytest.mark.parametrize("order", ["MINUTES_ASC", "MINUTES_DESC", "WORK_DATE_DESC"])
async def test_editable_list_pages_backwards_through_ties_in_order(
    client: httpx.AsyncClient, setup: Setup, order: str
) -> None:
    # given
    written = await write(client, setup, SHAPES * 2)
    pages: list[list[str]] = []
    before = None
    # when
    while True:
        result = await time_list(client, setup, last=5, before=before, orderBy=order)
        pages.append(listed_ids(result))
        if not result["pageInfo"]["hasPreviousPage"]:
            break
        before = result["pageInfo"]["startCursor"]
    # then
    assert result["mode"] == "EDITABLE"
    assert [entry_id for page in reversed(pages) for entry_id in page] == expected(written, order)


@pytest.mark.parametrize("order", ["WORK_DATE_DESC", "WORK_DATE_ASC", "MINUTES_DESC", "MINUTES_ASC"])
async def test_one_more_than_the_threshold_is_static_in_the_fixed_order(
    client: httpx.AsyncClient, setup: Setup, session: AsyncSession, order: str
) -> None:
    # given
    await company.update(session, {"static_list_threshold": len(SHAPES) - 1})
    written = await write(client, setup, SHAPES)
    # when
    result = await time_list(client, setup, orderBy=order)
    # then: orderBy is ignored for work date then id, newest first, and nothing is editable in the list
    assert result["mode"] == "STATIC"
    assert result["totalCount"] == len(SHAPES)
    assert listed_ids(result) == expected(written, "WORK_DATE_DESC")
    assert not any(edge["node"]["editable"] for edge in result["edges"])


async def test_static_list_pages_forwards_with_first_and_after(
    client: httpx.AsyncClient, setup: Setup, session: AsyncSession
) -> None:
    # given
    await company.update(session, {"static_list_threshold": 3})
    written = await write(client, setup, SHAPES * 2)
    pages: list[dict[str, Any]] = []
    after = None
    # when
    while True:
        result = await time_list(client, setup, first=5, after=after, orderBy="MINUTES_ASC")
        pages.append(result)
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    # then
    seen = [entry_id for page in pages for entry_id in listed_ids(page)]
    assert seen == expected(written, "WORK_DATE_DESC")
    assert len(set(seen)) == len(written)
    assert [len(page["edges"]) for page in pages] == [5, 5, 2]
    assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [False, True, True]
    assert {page["mode"] for page in pages} == {"STATIC"}


async def test_static_list_pages_backwards_with_last_and_before(
    client: httpx.AsyncClient, setup: Setup, session: AsyncSession
) -> None:
    # given
    await company.update(session, {"static_list_threshold": 3})
    written = await write(client, setup, SHAPES * 2)
    pages: list[dict[str, Any]] = []
    before = None
    # when
    while True:
        result = await time_list(client, setup, last=5, before=before, orderBy="MINUTES_DESC")
        pages.append(result)
        if not result["pageInfo"]["hasPreviousPage"]:
            break
        before = result["pageInfo"]["startCursor"]
    # then: each page is in list order, and the pages read from the end back to the start
    seen = [entry_id for page in reversed(pages) for entry_id in listed_ids(page)]
    assert seen == expected(written, "WORK_DATE_DESC")
    assert len(set(seen)) == len(written)
    assert [len(page["edges"]) for page in pages] == [5, 5, 2]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [False, True, True]
    assert {page["mode"] for page in pages} == {"STATIC"}


async def test_static_list_cursor_from_one_page_continues_both_ways(
    client: httpx.AsyncClient, setup: Setup, session: AsyncSession
) -> None:
    # given
    await company.update(session, {"static_list_threshold": 3})
    written = await write(client, setup, SHAPES)
    first_page = await time_list(client, setup, first=2)
    middle = await time_list(client, setup, first=2, after=first_page["pageInfo"]["endCursor"])
    # when
    back = await time_list(client, setup, last=10, before=middle["pageInfo"]["startCursor"])
    forth = await time_list(client, setup, first=10, after=middle["pageInfo"]["endCursor"])
    # then
    order = expected(written, "WORK_DATE_DESC")
    assert listed_ids(middle) == order[2:4]
    assert listed_ids(back) == order[:2]
    assert listed_ids(forth) == order[4:]


async def test_the_default_threshold_9500_editable_then_static_at_9501(
    client: httpx.AsyncClient, setup: Setup, session: AsyncSession
) -> None:
    # given: 9,500 entries written in bulk (SQL bypasses the services, so the kept count is set alongside)
    params = {
        "employee": setup.writer.id,
        "debtor": setup.case.debtor_id,
        "case": setup.case.id,
        "activity": setup.activity.id,
    }
    await session.execute(BULK, {**params, "start": 1, "stop": 9500})
    await session.execute(text("UPDATE cases SET time_entry_count = 9500 WHERE id = :id"), {"id": setup.case.id})
    settings = await gql(client, SETTINGS, token=setup.token)
    # when
    at_threshold = await time_list(client, setup, first=3, orderBy="MINUTES_ASC")
    edit = {"id": at_threshold["edges"][0]["node"]["id"], "expectedVersion": 1, "entry": {"minutes": 2}}
    saved = await gql(client, SAVE_LIST, {"caseId": setup.case_id, "changes": [edit]}, token=setup.token)
    await session.execute(BULK, {**params, "start": 9501, "stop": 9501})
    await session.execute(text("UPDATE cases SET time_entry_count = 9501 WHERE id = :id"), {"id": setup.case.id})
    above = await time_list(client, setup, first=3, orderBy="MINUTES_ASC")
    refused = await gql(client, SAVE_LIST, {"caseId": setup.case_id, "changes": [edit]}, token=setup.token)
    newest = (
        await session.execute(
            text("SELECT id FROM time_entries WHERE case_id = :c ORDER BY work_date DESC, id DESC LIMIT 3"),
            {"c": setup.case.id},
        )
    ).scalars()
    # then
    assert settings["data"]["settings"]["staticListThreshold"] == 9500
    assert (at_threshold["mode"], at_threshold["totalCount"]) == ("EDITABLE", 9500)
    assert [edge["node"]["minutes"] for edge in at_threshold["edges"]] == [1, 1, 1]
    assert all(edge["node"]["editable"] for edge in at_threshold["edges"])
    assert saved["data"]["saveCaseTimeList"]["userErrors"] == []
    assert saved["data"]["saveCaseTimeList"]["timeEntries"][0]["version"] == 2
    assert (above["mode"], above["totalCount"]) == ("STATIC", 9501)
    assert listed_ids(above) == [ids.encode("TimeEntry", i) for i in newest]
    assert [date.fromisoformat(e["node"]["workDate"]) for e in above["edges"]] == sorted(
        (date.fromisoformat(e["node"]["workDate"]) for e in above["edges"]), reverse=True
    )
    assert not any(edge["node"]["editable"] for edge in above["edges"])
    assert [e["code"] for e in refused["data"]["saveCaseTimeList"]["userErrors"]] == ["STATIC_LIST"]


async def test_editable_follows_the_viewers_rights_and_invoicing(
    client: httpx.AsyncClient, setup: Setup, factory: Factory, session: AsyncSession
) -> None:
    # given: the writer's J, N and F entries, and a colleague's J entry
    own = await write(client, setup, [("2026-11-02", 30), ("2026-11-03", 40), ("2026-11-04", 50)])
    await session.execute(text("UPDATE time_entries SET status = 'N' WHERE id = :id"), {"id": own[1]["db"]})
    await session.execute(text("UPDATE time_entries SET status = 'F' WHERE id = :id"), {"id": own[2]["db"]})
    colleague = await factory.employee()
    theirs = await write(client, setup, [("2026-11-05", 60)], token=await factory.token(colleague))
    # when
    as_writer = await time_list(client, setup)
    as_admin = await time_list(client, setup, token=setup.admin_token)
    # then
    editable = {edge["node"]["id"]: edge["node"]["editable"] for edge in as_writer["edges"]}
    assert editable == {own[0]["id"]: True, own[1]["id"]: True, own[2]["id"]: False, theirs[0]["id"]: False}
    by_admin = {edge["node"]["id"]: edge["node"]["editable"] for edge in as_admin["edges"]}
    assert by_admin == {own[0]["id"]: True, own[1]["id"]: True, own[2]["id"]: False, theirs[0]["id"]: True}


@pytest.mark.parametrize(
    "arguments", [{"first": 101}, {"last": 101}, {"first": 2, "last": 2}, {"first": -1}, {"after": "%%not-a-cursor"}]
)
async def test_time_list_page_arguments_out_of_bounds_are_refused(
    client: httpx.AsyncClient, setup: Setup, arguments: dict[str, Any]
) -> None:
    # given
    await write(client, setup, SHAPES[:2])
    # when
    body = await gql(client, TIME_LIST, {"id": setup.case_id, **arguments}, token=setup.token)
    # then
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]
    assert body["data"]["node"] is None
