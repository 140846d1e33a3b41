"""One lock-wait budget per write (SPEC 12): an edit that meets two held rows in turn says BUSY within about one
LOCK_TIMEOUT_MS of waiting, not one per lock. The negative control turns the budget's tightening off and shows the
same scenario then waits for both timeouts, so the test would catch a write that waits per lock again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import lock_budget
from db.engine import create_engine
from edge.app import create_app
from graph import ids
from models import TimeEntry
from services import time_entries
from tests.concurrency.conftest import World
from tests.conftest import TEST_CONFIG

TIMEOUT_S = TEST_CONFIG.lock_timeout_ms / 1000
# the first row is held for most of the budget, then let go; the second is held throughout
FIRST_HELD_S = 0.8 * TIMEOUT_S

UPDATE = """mutation($id: ID!) {
  updateTimeEntry(id: $id, input: {minutes: 45}) { timeEntry { id } userErrors { code } }
}"""


@pytest.fixture
async def app_engine(database_url: str, committed: object) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4, lock_timeout_ms=TEST_CONFIG.lock_timeout_ms)
    yield engine
    await engine.dispose()


async def _entry(world: World) -> TimeEntry:
    case = await world.case()
    async with world.maker() as session, session.begin():
        data: time_entries.EntryData = {
            "case_id": case.id,
            "activity_id": world.activity_id,
            "work_date": date(2026, 5, 4),
            "minutes": 30,
        }
        return (await time_entries.create(session, world.writer, data)).entry


async def _hold(engine: AsyncEngine, sql: str, entry: TimeEntry, held: asyncio.Event, release: asyncio.Event) -> None:
    async with engine.connect() as conn, conn.begin():
        await conn.execute(text(sql), {"id": entry.id, "case_id": entry.case_id})
        held.set()
        await release.wait()


async def _edit_while_two_rows_are_held(world: World, engine: AsyncEngine) -> tuple[float, dict[str, object]]:
    """Hold the entry's row and its case's totals row; let the entry go after FIRST_HELD_S; time the edit."""
    entry = await _entry(world)
    entry_held, totals_held = asyncio.Event(), asyncio.Event()
    release_entry, release_totals = asyncio.Event(), asyncio.Event()
    holders = [
        asyncio.create_task(
            _hold(engine, "SELECT 1 FROM time_entries WHERE id = :id FOR UPDATE", entry, entry_held, release_entry)
        ),
        asyncio.create_task(
            _hold(
                engine,
                "SELECT 1 FROM case_year_totals WHERE case_id = :case_id FOR UPDATE",
                entry,
                totals_held,
                release_totals,
            )
        ),
    ]
    await entry_held.wait()
    await totals_held.wait()
    app = create_app(TEST_CONFIG, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test") as api:
        asyncio.get_running_loop().call_later(FIRST_HELD_S, release_entry.set)
        started = time.perf_counter()
        response = await api.post(
            "/graphql",
            json={"query": UPDATE, "variables": {"id": ids.encode("TimeEntry", entry.id)}},
            headers={"Authorization": f"Bearer {world.token}"},
        )
        elapsed = time.perf_counter() - started
    release_entry.set()
    release_totals.set()
    await asyncio.gather(*holders)
    assert response.status_code == 200, response.text
    return elapsed, response.json()["data"]["updateTimeEntry"]


async def test_two_locks_in_turn_answer_busy_within_one_timeout(world: World, app_engine: AsyncEngine) -> None:
    elapsed, payload = await _edit_while_two_rows_are_held(world, app_engine)
    assert payload["userErrors"] == [{"code": "BUSY"}]
    assert FIRST_HELD_S <= elapsed < 1.25 * TIMEOUT_S


async def test_negative_control_without_the_budget_waits_per_lock(
    world: World, app_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lock_budget, "_SHARE_BEFORE_TIGHTENING", float("inf"))
    elapsed, payload = await _edit_while_two_rows_are_held(world, app_engine)
    assert payload["userErrors"] == [{"code": "BUSY"}]
    assert elapsed > FIRST_HELD_S + 0.9 * TIMEOUT_S  # the second lock got a whole timeout of its own
