"""SPEC 6: a concurrent repeat of a create with the same idempotency key waits for the first (or gets BUSY) and
never writes the time twice."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from graph import ids
from models import CapKind, IdempotencyKey
from tests.concurrency.conftest import World
from tests.concurrency.support import Maker, all_at_once, audit, books_of

log = logging.getLogger("tests.concurrency")

CREATE = """mutation($input: TimeEntryInput!, $key: String) {
  createTimeEntry(input: $input, idempotencyKey: $key) {
    timeEntry { id minutes status }
    overLimitEntry { id minutes status }
    warnings { code }
    userErrors { code field message }
  }
}"""
REPEATS = 10


async def _create(api: httpx.AsyncClient, token: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(
        "/graphql", json={"query": CREATE, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer["errors"]
    payload: dict[str, Any] = answer["data"]["createTimeEntry"]
    return payload


@pytest.mark.concurrency
class TestOneKeyAtOnce:
    @pytest.mark.parametrize(("cap", "entries_per_write"), [(10_000, 1), (30, 2)], ids=["fits", "split-at-the-cap"])
    async def test_ten_repeats_write_once_and_agree(
        self, world: World, wide: Maker, api: httpx.AsyncClient, cap: int, entries_per_write: int
    ) -> None:
        for round_number in range(3):
            # given
            case = await world.case(max_per_book_year=CapKind.TIME, max_minutes=cap)
            entry = {
                "caseId": ids.encode("Case", case.id),
                "activityId": ids.encode("Activity", world.activity_id),
                "workDate": date(2026, 6, 1 + round_number).isoformat(),
                "minutes": 37,
            }
            variables = {"input": entry, "key": f"mobile-retry-{cap}-{round_number}"}
            # when
            payloads = await all_at_once(_create(api, world.token, variables) for _ in range(REPEATS))
            # then
            codes = Counter(p["userErrors"][0]["code"] if p["userErrors"] else "ok" for p in payloads)
            log.info("one key, %d at once: %s", REPEATS, dict(codes))
            assert set(codes) <= {"ok", "BUSY"}, payloads
            answered = [p for p in payloads if not p["userErrors"]]
            assert answered
            assert len({(p["timeEntry"]["id"], str(p["overLimitEntry"])) for p in answered}) == 1, answered
            assert len({str(p["warnings"]) for p in answered}) == 1
            books = await books_of(wide, case.id)
            assert books.entries == entries_per_write
            assert books.kept_count == entries_per_write
            async with wide() as session:
                keys = await session.scalar(select(func.count()).select_from(IdempotencyKey))
            assert keys == round_number + 1
            assert await audit(wide) == []
