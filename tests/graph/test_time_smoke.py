from __future__ import annotations

from decimal import Decimal

import httpx

from graph import ids
from models import CapKind
from tests.factories import Factory, gql

CREATE = """mutation($input: TimeEntryInput!) {
  createTimeEntry(input: $input) {
    timeEntry { id minutes status amount employee { name } case { code timeEntryCount } overLimitEntry { id minutes } }
    overLimitEntry { minutes status overLimitOf { id } }
    warnings { code message }
    userErrors { code field message }
  }
}"""
LIST = """query($id: ID!) { node(id: $id) { ... on Case { timeEntryCount timeList(first: 10) {
  mode totalCount edges { node { minutes status editable employee { name } } } } } } }"""


async def test_create_splits_at_the_cap(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    case = await factory.case(max_per_book_year=CapKind.TIME, max_minutes=100)
    entry = {
        "caseId": ids.encode("Case", case.id),
        "activityId": ids.encode("Activity", activity.id),
        "workDate": "2026-11-02",
        "minutes": 80,
    }
    # when
    first = await gql(client, CREATE, {"input": entry}, token=token)
    second = await gql(client, CREATE, {"input": entry}, token=token)
    listed = await gql(client, LIST, {"id": ids.encode("Case", case.id)}, token=token)
    # then
    assert first["data"]["createTimeEntry"]["userErrors"] == []
    payload = second["data"]["createTimeEntry"]
    assert payload["timeEntry"]["minutes"] == 20
    assert payload["timeEntry"]["amount"] == "20.00"
    assert payload["overLimitEntry"]["minutes"] == 60
    assert payload["overLimitEntry"]["status"] == "OVER_LIMIT"
    assert payload["overLimitEntry"]["overLimitOf"]["id"] == payload["timeEntry"]["id"]
    assert [w["code"] for w in payload["warnings"]] == ["CAP_EXCEEDED"]
    time_list = listed["data"]["node"]["timeList"]
    assert listed["data"]["node"]["timeEntryCount"] == 3
    assert time_list["mode"] == "EDITABLE"
    assert sorted(e["node"]["minutes"] for e in time_list["edges"]) == [20, 60, 80]
