"""Delta sync (SPEC 13, `timeEntriesChangedSince`) on committed transactions: whatever creates, edits, deletes and
reassignments happen between the calls, an app that applies every answer to its copy holds exactly the server's
list of its entries; and a change whose transaction began first but committed last is not passed over."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from graph import ids
from models import Employee
from services import delta_sync
from tests.concurrency.conftest import World
from tests.concurrency.late_commit import LateCommit
from tests.concurrency.support import Maker
from tests.factories import Factory, gql

SYNC = """query($cursor: String, $first: Int) { timeEntriesChangedSince(cursor: $cursor, first: $first) {
  changed { id minutes } deletedIds cursor hasMore } }"""
CREATE = """mutation($input: TimeEntryInput!) {
  createTimeEntry(input: $input) { timeEntry { id } userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $input: TimeEntryInput!) {
  updateTimeEntry(id: $id, input: $input) { timeEntry { id } userErrors { code } } }"""
DELETE = "mutation($id: ID!) { deleteTimeEntry(id: $id) { deletedId userErrors { code } } }"


class App:
    """The app's copy of its entries (id to minutes), kept by applying each sync answer."""

    def __init__(self, api: httpx.AsyncClient, token: str) -> None:
        self.api, self.token = api, token
        self.copy: dict[str, int] = {}
        self.cursor: str | None = None

    async def sync(self, first: int) -> bool:
        """One call, applied: what changed is upserted, what is gone dropped."""
        body = await gql(self.api, SYNC, {"cursor": self.cursor, "first": first}, token=self.token)
        assert "errors" not in body, body
        answer = body["data"]["timeEntriesChangedSince"]
        for entry in answer["changed"]:
            self.copy[entry["id"]] = entry["minutes"]
        for gone in answer["deletedIds"]:
            self.copy.pop(gone, None)
        self.cursor = answer["cursor"]
        more: bool = answer["hasMore"]
        return more

    async def catch_up(self, first: int) -> None:
        while await self.sync(first):
            pass


async def _server_list(maker: Maker, employee_id: int) -> dict[str, int]:
    async with maker() as session:
        rows = await session.execute(
            text("SELECT id, minutes FROM time_entries WHERE employee_id = :me"), {"me": employee_id}
        )
        return {ids.encode("TimeEntry", row.id): row.minutes for row in rows}


async def _employee(world: World) -> tuple[Employee, str]:
    async with world.maker() as session, session.begin():
        factory = Factory(session, world.passwords)
        employee = await factory.employee(role=await factory.role(can_enter_time_for_others=True))
        return employee, await factory.token(employee)


# what happens between two syncs: a create, an edit of the n-th entry (minutes, or its employee), a delete of it
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(1, 300)),
        st.tuples(st.just("edit"), st.integers(0, 20), st.integers(1, 300)),
        st.tuples(st.just("give away"), st.integers(0, 20)),
        st.tuples(st.just("delete"), st.integers(0, 20)),
        st.tuples(st.just("sync"), st.integers(1, 4)),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, page=st.integers(1, 5))
async def test_applying_every_answer_gives_the_servers_list(
    api: httpx.AsyncClient, world: World, steps: list[tuple[Any, ...]], page: int
) -> None:
    me, token = await _employee(world)
    case = (await world.case()).id
    app = App(api, token)
    entries: list[str] = []
    base = {"caseId": ids.encode("Case", case), "activityId": ids.encode("Activity", world.activity_id)}
    for step in steps:
        if step[0] == "create":
            entry = {**base, "workDate": "2026-11-02", "minutes": step[1]}
            created = await gql(api, CREATE, {"input": entry}, token=token)
            entries.append(created["data"]["createTimeEntry"]["timeEntry"]["id"])
        elif step[0] == "sync":
            await app.sync(step[1])
        elif entries:
            target = entries[step[1] % len(entries)]
            if step[0] == "edit":
                await gql(api, UPDATE, {"id": target, "input": {"minutes": step[2]}}, token=token)
            elif step[0] == "give away":
                other = ids.encode("Employee", world.writer.viewer.employee_id)
                await gql(api, UPDATE, {"id": target, "input": {"employeeId": other}}, token=world.token)
                entries.remove(target)
            else:
                await gql(api, DELETE, {"id": target}, token=token)
                entries.remove(target)
    await app.catch_up(page)
    assert app.copy == await _server_list(world.maker, me.id)


async def _handed_out(world: World, committed: Maker) -> tuple[int, int]:
    """A sync reads while a late commit is still running and once more after it committed: how many entries each
    read handed out."""
    late = await LateCommit.of(world)
    async with committed() as reader:
        listed = await delta_sync.changes_since(reader, late.employee_id, None, 100)
    read: list[delta_sync.Changes] = []

    async def meanwhile() -> None:
        async with committed() as reader:
            read.append(await delta_sync.changes_since(reader, late.employee_id, listed.cursor, 100))

    await late.run(committed, meanwhile)
    async with committed() as reader:
        after = await delta_sync.changes_since(reader, late.employee_id, read[0].cursor, 100)
    return len(read[0].changed_ids), len(after.changed_ids)


async def test_a_change_committed_after_a_later_one_is_not_passed_over(world: World, committed: Maker) -> None:
    # while the slow one runs nothing is handed out past it; once it committed, both come
    assert await _handed_out(world, committed) == (0, 2)


async def test_negative_control_without_the_horizon_the_slow_change_is_lost(
    world: World, committed: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    horizon = " AND xid < pg_snapshot_xmin(pg_current_snapshot())"
    assert horizon in str(delta_sync._EVENTS)
    monkeypatch.setattr(delta_sync, "_EVENTS", text(str(delta_sync._EVENTS).replace(horizon, "")))
    assert await _handed_out(world, committed) == (1, 0)  # the quick one at once, the slow one never
