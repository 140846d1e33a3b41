"""Concurrent edits through the API (SPEC 6): no request fails with an unhandled error, versions count every change,
`expectedVersion` lets one writer win, and opposite case moves neither deadlock unhandled nor skew the books."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date
from typing import Any

import httpx
import pytest

from graph import ids
from models import CapKind, Case, TimeEntry
from services import time_entries
from services.time_entries import EntryData, Written
from tests.concurrency.conftest import World
from tests.concurrency.support import Maker, all_at_once, audit, books_of

log = logging.getLogger("tests.concurrency")

UPDATE = """mutation($id: ID!, $input: TimeEntryInput!, $expectedVersion: Int) {
  updateTimeEntry(id: $id, input: $input, expectedVersion: $expectedVersion) {
    timeEntry { id version minutes case { id } }
    overLimitEntry { id minutes }
    userErrors { code field message }
  }
}"""
WORK_DATE = date(2026, 5, 4)
EDITORS = 10
CAP = 100


async def _entry(world: World, case: Case, minutes: int) -> Written:
    data: EntryData = {"case_id": case.id, "activity_id": world.activity_id, "work_date": WORK_DATE, "minutes": minutes}
    async with world.maker() as session, session.begin():
        return (await time_entries.create(session, world.writer, data)).entry


async def _update(api: httpx.AsyncClient, token: str, entry_id: int, **variables: Any) -> dict[str, Any]:
    """One updateTimeEntry; anything but HTTP 200 with data and no top-level error fails the test."""
    body = {"query": UPDATE, "variables": {"id": ids.encode("TimeEntry", entry_id), **variables}}
    response = await api.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer["errors"]
    payload: dict[str, Any] = answer["data"]["updateTimeEntry"]
    return payload


def _codes(payloads: list[dict[str, Any]]) -> Counter[str]:
    return Counter(p["userErrors"][0]["code"] if p["userErrors"] else "ok" for p in payloads)


async def _version(maker: Maker, entry_id: int) -> int:
    async with maker() as session:
        entry = await session.get(TimeEntry, entry_id)
        assert entry is not None
        return entry.version


@pytest.mark.concurrency
class TestConcurrentEditsOfOneEntry:
    async def test_last_writer_wins_and_every_change_counts(
        self, world: World, wide: Maker, api: httpx.AsyncClient
    ) -> None:
        # given: edits of 60 … 150 minutes on a 100-minute cap, so several park their excess on the L line
        case = await world.case(max_per_book_year=CapKind.TIME, max_minutes=CAP)
        entry = await _entry(world, case, 30)
        # when
        payloads = await all_at_once(
            _update(api, world.token, entry.id, input={"minutes": 60 + 10 * i, "description": f"edit {i}"})
            for i in range(EDITORS)
        )
        # then
        codes = _codes(payloads)
        log.info("edits without expectedVersion: %s", dict(codes))
        assert set(codes) <= {"ok", "BUSY"}, codes
        assert await _version(wide, entry.id) == 1 + codes["ok"]
        assert sorted(p["timeEntry"]["version"] for p in payloads if p["timeEntry"]) == list(range(2, 2 + codes["ok"]))
        assert (await books_of(wide, case.id)).counted_minutes() <= CAP
        assert await audit(wide) == []

    async def test_with_expected_version_one_writer_wins(
        self, world: World, wide: Maker, api: httpx.AsyncClient
    ) -> None:
        # given
        case = await world.case(max_per_book_year=CapKind.TIME, max_minutes=CAP)
        entry = await _entry(world, case, 30)
        # when
        payloads = await all_at_once(
            _update(api, world.token, entry.id, input={"minutes": 60 + 10 * i}, expectedVersion=1)
            for i in range(EDITORS)
        )
        # then
        assert _codes(payloads) == Counter({"ok": 1, "VERSION_CONFLICT": EDITORS - 1})
        winner = next(p for p in payloads if p["timeEntry"])
        assert winner["timeEntry"]["version"] == 2
        assert await _version(wide, entry.id) == 2
        assert (await books_of(wide, case.id)).counted_minutes() <= CAP
        assert await audit(wide) == []


@pytest.mark.concurrency
class TestOppositeCaseMoves:
    async def test_moves_in_both_directions_are_answered_and_keep_the_books(
        self, world: World, wide: Maker, api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        # given: a on A and b on B, both capped so each move locks the totals of both cases
        cases = [await world.case(max_per_book_year=CapKind.TIME, max_minutes=10_000) for _ in range(2)]
        a, b = await _entry(world, cases[0], 45), await _entry(world, cases[1], 50)
        where = {a.id: cases[0].id, b.id: cases[1].id}
        other = {cases[0].id: cases[1].id, cases[1].id: cases[0].id}
        codes: Counter[str] = Counter()
        caplog.set_level(logging.INFO, logger="casetime.write")
        for _ in range(20):
            # when: a moves to b's case while b moves to a's
            targets = {a.id: where[b.id], b.id: where[a.id]} if where[a.id] != where[b.id] else None
            targets = targets or {entry_id: other[case_id] for entry_id, case_id in where.items()}
            payloads = await all_at_once(
                _update(api, world.token, entry_id, input={"caseId": ids.encode("Case", target)})
                for entry_id, target in targets.items()
            )
            # then
            round_codes = _codes(payloads)
            codes.update(round_codes)
            assert set(round_codes) <= {"ok", "BUSY"}, payloads
            for payload in payloads:
                if payload["timeEntry"]:
                    entry_id = ids.decode(payload["timeEntry"]["id"], "TimeEntry")
                    assert entry_id is not None
                    assert payload["timeEntry"]["case"]["id"] == ids.encode("Case", targets[entry_id])
                    where[entry_id] = targets[entry_id]
            books = [await books_of(wide, case.id) for case in cases]
            assert [book.entries for book in books] == [list(where.values()).count(case.id) for case in cases]
            assert all(book.kept_count == book.entries for book in books)
            assert await audit(wide) == []
        retried = [r.getMessage() for r in caplog.records if r.name == "casetime.write"]
        log.info("opposite moves: %s; retried by the resolver: %s", dict(codes), retried)
        assert codes["ok"] > 0
