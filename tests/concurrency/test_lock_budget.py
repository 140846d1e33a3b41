"""One lock-wait budget per write (SPEC 12): an edit that meets two held rows in turn says BUSY within about one
LOCK_TIMEOUT_MS of waiting, not one per lock. The negative control turns the budget's tightening off and shows the
same scenario then waits for both timeouts, so the test would catch a write that waits per lock again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import lock_budget
from db.engine import create_engine
from edge.app import create_app
from graph import ids
from services import time_entries
from services.time_entries import Written
from tests.concurrency.conftest import World
from tests.concurrency.support import audit
from tests.conftest import TEST_CONFIG

TIMEOUT_S = TEST_CONFIG.lock_timeout_ms / 1000
# the first row is held for most of the budget, then let go; the second is held throughout
FIRST_HELD_S = 0.8 * TIMEOUT_S

UPDATE = """mutation($id: ID!) {
  updateTimeEntry(id: $id, input: {minutes: 45}) { timeEntry { id } userErrors { code } }
}"""


Held = Callable[[World, AsyncEngine], Awaitable[tuple[float, dict[str, object]]]]


@pytest.fixture
async def app_engine(database_url: str, committed: object) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4, lock_timeout_ms=TEST_CONFIG.lock_timeout_ms)
    yield engine
    await engine.dispose()


async def _entry(world: World) -> Written:
    case = await world.case()
    async with world.maker() as session, session.begin():
        data: time_entries.EntryData = {
            "case_id": case.id,
            "activity_id": world.activity_id,
            "work_date": date(2026, 5, 4),
            "minutes": 30,
        }
        return (await time_entries.create(session, world.writer, data)).entry


async def _hold(engine: AsyncEngine, sql: str, entry: Written, held: asyncio.Event, release: asyncio.Event) -> None:
    async with engine.connect() as conn, conn.begin():
        await conn.execute(text(sql), {"id": entry.id, "case_id": entry.case_id})
        held.set()
        await release.wait()


CREATE = """mutation($input: TimeEntryInput!) {
  createTimeEntry(input: $input) { timeEntry { id } userErrors { code } }
}"""
HOLD_ENTRY = "SELECT 1 FROM time_entries WHERE id = :id FOR UPDATE"
HOLD_TOTALS = "SELECT 1 FROM case_year_totals WHERE case_id = :case_id FOR UPDATE"
HOLD_CASE = "SELECT 1 FROM cases WHERE id = :case_id FOR UPDATE"


async def _while_two_rows_are_held(
    world: World,
    engine: AsyncEngine,
    first: str,
    second: str,
    query: str,
    variables: Callable[[Written], dict[str, object]],
) -> tuple[float, dict[str, object]]:
    """Hold two rows of the entry's (`first` and `second`); let the first go after FIRST_HELD_S; time the mutation."""
    entry = await _entry(world)
    first_held, second_held = asyncio.Event(), asyncio.Event()
    release_first, release_second = asyncio.Event(), asyncio.Event()
    holders = [
        asyncio.create_task(_hold(engine, first, entry, first_held, release_first)),
        asyncio.create_task(_hold(engine, second, entry, second_held, release_second)),
    ]
    await first_held.wait()
    await second_held.wait()
    app = create_app(TEST_CONFIG, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test") as api:
        asyncio.get_running_loop().call_later(FIRST_HELD_S, release_first.set)
        started = time.perf_counter()
        response = await api.post(
            "/graphql",
            json={"query": query, "variables": variables(entry)},
            headers={"Authorization": f"Bearer {world.token}"},
        )
        elapsed = time.perf_counter() - started
    release_first.set()
    release_second.set()
    await asyncio.gather(*holders)
    assert response.status_code == 200, response.text
    data: dict[str, object] = next(iter(response.json()["data"].values()))
    return elapsed, data


async def _edit_while_two_rows_are_held(world: World, engine: AsyncEngine) -> tuple[float, dict[str, object]]:
    """The edit waits for the entry's row, then for its case's totals row."""
    return await _while_two_rows_are_held(
        world, engine, HOLD_ENTRY, HOLD_TOTALS, UPDATE, lambda entry: {"id": ids.encode("TimeEntry", entry.id)}
    )


async def _create_while_two_rows_are_held(world: World, engine: AsyncEngine) -> tuple[float, dict[str, object]]:
    """A new entry on the same case waits for the totals row (its first statement, which locks it), then for the
    case's row (its writing statement keeps the case's entry count)."""

    def new_entry(entry: Written) -> dict[str, object]:
        assert entry.case_id is not None
        return {
            "input": {
                "caseId": ids.encode("Case", entry.case_id),
                "activityId": ids.encode("Activity", world.activity_id),
                "workDate": "2026-05-05",
                "minutes": 15,
            }
        }

    return await _while_two_rows_are_held(world, engine, HOLD_TOTALS, HOLD_CASE, CREATE, new_entry)


@pytest.mark.parametrize("held", [_edit_while_two_rows_are_held, _create_while_two_rows_are_held])
async def test_two_locks_in_turn_answer_busy_within_one_timeout(
    world: World, app_engine: AsyncEngine, held: Held
) -> None:
    elapsed, payload = await held(world, app_engine)
    assert payload["userErrors"] == [{"code": "BUSY"}]
    assert FIRST_HELD_S <= elapsed < 1.25 * TIMEOUT_S
    # and nothing of the refused write: the one entry there was, unedited, its totals and rollups still its own
    async with world.maker() as session:
        assert list((await session.execute(text("SELECT minutes FROM time_entries"))).scalars()) == [30]
    assert await audit(world.maker) == []


@pytest.mark.parametrize("held", [_edit_while_two_rows_are_held, _create_while_two_rows_are_held])
async def test_negative_control_without_the_budget_waits_per_lock(
    world: World, app_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, held: Held
) -> None:
    monkeypatch.setattr(lock_budget, "_SHARE_BEFORE_TIGHTENING", float("inf"))
    elapsed, payload = await held(world, app_engine)
    assert payload["userErrors"] == [{"code": "BUSY"}]
    assert elapsed > FIRST_HELD_S + 0.9 * TIMEOUT_S  # the second lock got a whole timeout of its own
