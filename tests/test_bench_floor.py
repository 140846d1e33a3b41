"""The lists floor must write IDs and cursors as the app does, or bench.lists_bench stops at its check."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bench.lists_floor import LISTS
from graph.ids import encode
from graph.pagination import encode_cursor


def _entry(entry_id: int) -> dict[str, object]:
    return {
        "id": entry_id,
        "work_date": date(2025, 3, 1 + entry_id % 28),
        "minutes": 30,
        "amount": Decimal("42.50"),
        "status": "F",
        "description": None,
        "employee_name": "A Employee 0001",
        "activity_name": "Activity 1",
        "case_code": None,
        "total": 60,
    }


def test_a_time_entry_page_has_the_apps_ids_and_cursors() -> None:
    rows = [_entry(n) for n in range(1, 52)]
    connection = LISTS["InvoiceTimeEntries"].answer(rows)["data"]["node"]["timeEntries"]
    edges = connection["edges"]
    assert len(edges) == 50
    assert edges[0]["node"]["id"] == encode("TimeEntry", 1)
    assert edges[0]["cursor"] == encode_cursor([1])
    assert edges[0]["node"]["status"] == "INVOICED"
    assert edges[0]["node"]["case"] is None
    assert connection["totalCount"] == 60
    assert connection["pageInfo"] == {"hasNextPage": True, "endCursor": encode_cursor([50])}


def test_a_date_key_is_tagged_as_the_app_tags_it() -> None:
    row = _entry(7)
    edge = LISTS["TimeEntries"].answer([row])["data"]["timeEntries"]["edges"][0]
    assert edge["cursor"] == encode_cursor([row["work_date"], 7])
    assert LISTS["TimeEntries"].answer([])["data"]["timeEntries"]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": None,
    }
