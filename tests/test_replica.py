"""The service beside a real streaming replica (SPEC 12, DATABASE_READ_URL; tests/replica_support.py): reports and
lists read the replica, writes and mutation payloads the primary, and a viewer reads their own writes.

Replay on the standby is paused to make its lag visible: what it has not replayed yet is the marker of a read it
served. The rule under test (services/read_your_writes.py): after a viewer's mutation, their queries read the
primary for at least READ_YOUR_WRITES_SECONDS and at most twice that; everyone else's read the replica."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from cli import migrate, transaction
from edge.app import create_app
from graph import ids
from services.passwords import Passwords
from tests.conftest import TEST_CONFIG
from tests.factories import Factory, gql
from tests.replica_support import Replica, streaming_replica

WINDOW = 1  # READ_YOUR_WRITES_SECONDS in these tests
CREATE = """mutation($input: TimeEntryInput!) {
  createTimeEntry(input: $input) { timeEntry { id minutes case { timeEntryCount } } userErrors { code } }
}"""
ON_CASE = """query($case: ID!) {
  timeEntries(filter: {caseIds: [$case]}) { edges { node { id } } }
  timeReport(filter: {caseIds: [$case]}, groupBy: [CASE]) { totalMinutes }
}"""


@dataclasses.dataclass(frozen=True)
class World:
    replica: Replica
    writer: str  # a token of an employee who writes
    reader: str  # an administrator's, who only reads
    case: str
    activity: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with streaming_replica(tmp_path_factory.mktemp("replica"), "casetime") as replica:
        migrate(replica.primary_url)
        made = asyncio.run(_fill(replica.primary_url))
        replica.wait_caught_up()
        yield World(replica, *made)


async def _fill(url: str) -> tuple[str, str, str, str]:
    async with transaction(url) as session:
        factory = Factory(session, Passwords(time_cost=1, memory_kib=8))
        _, reader = await factory.admin()
        writer = await factory.token(await factory.employee())
        case = await factory.case()
        activity = await factory.activity(default_rate=Decimal("60.00"))
        return writer, reader, ids.encode("Case", case.id), ids.encode("Activity", activity.id)


@pytest.fixture
async def paused(world: World) -> AsyncIterator[Replica]:
    """The standby with replay paused for the test, resumed and caught up afterwards."""
    world.replica.pause_replay()
    try:
        yield world.replica
    finally:
        world.replica.resume_replay()
        world.replica.wait_caught_up()


@dataclasses.dataclass
class Api:
    client: httpx.AsyncClient
    world: World

    async def post(self, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def write(self, minutes: int) -> dict[str, Any]:
        entry = {"caseId": self.world.case, "activityId": self.world.activity, "workDate": "2026-11-02"}
        data = await self.post(self.world.writer, CREATE, {"input": {**entry, "minutes": minutes}})
        payload: dict[str, Any] = data["createTimeEntry"]
        assert payload["userErrors"] == []
        written: dict[str, Any] = payload["timeEntry"]
        return written

    async def listed(self, token: str) -> tuple[set[str], int]:
        """The case's entry ids from `timeEntries` and its minutes from `timeReport`, as `token`'s viewer reads them."""
        data = await self.post(token, ON_CASE, {"case": self.world.case})
        return {edge["node"]["id"] for edge in data["timeEntries"]["edges"]}, data["timeReport"]["totalMinutes"]


@pytest.fixture
async def api(world: World, request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    seconds = getattr(request, "param", WINDOW)
    config = dataclasses.replace(
        TEST_CONFIG,
        database_url=world.replica.primary_url,
        read_database_url=world.replica.replica_url,
        read_your_writes_seconds=seconds,
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as client:
            yield Api(client, world)


async def test_lists_and_reports_read_the_replica_and_mutations_the_primary(api: Api, paused: Replica) -> None:
    # given: what both servers hold
    ids_before, minutes_before = await api.listed(api.world.reader)
    # when: an entry is written while the standby replays nothing
    entry = await api.write(7)
    # then: the write went to the primary (the standby refuses writes), and its payload read the primary
    assert entry["minutes"] == 7
    assert entry["case"]["timeEntryCount"] == len(ids_before) + 1
    # and a viewer who did not write reads the replica: the entry is not there yet, in the list nor the report
    assert await api.listed(api.world.reader) == (ids_before, minutes_before)
    assert int(paused.standby_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'casetime'")) > 0
    # once replayed, it is
    paused.resume_replay()
    paused.wait_caught_up()
    assert await api.listed(api.world.reader) == (ids_before | {entry["id"]}, minutes_before + 7)


async def test_a_viewer_reads_their_own_write_from_the_primary_for_the_window(api: Api, paused: Replica) -> None:
    ids_before, minutes_before = await api.listed(api.world.writer)
    entry = await api.write(11)
    written = time.monotonic()
    # the writer sees it at once, the reader (on the lagging replica) does not
    assert await api.listed(api.world.writer) == (ids_before | {entry["id"]}, minutes_before + 11)
    assert await api.listed(api.world.reader) == (ids_before, minutes_before)
    # twice the window later the writer reads the replica again (still paused, so without the entry)
    await asyncio.sleep(max(0.0, written + 2 * WINDOW + 0.2 - time.monotonic()))
    assert await api.listed(api.world.writer) == (ids_before, minutes_before)


@pytest.mark.parametrize("api", [0], indirect=True)
async def test_negative_control_without_the_window_a_writer_misses_their_write(api: Api, paused: Replica) -> None:
    ids_before, minutes_before = await api.listed(api.world.writer)
    await api.write(13)
    assert await api.listed(api.world.writer) == (ids_before, minutes_before)


async def test_the_mark_is_written_once_a_window(api: Api, world: World) -> None:
    def marked_at() -> str:
        return world.replica.primary_sql("SELECT coalesce(max(at)::text, 'none') FROM recent_writes")

    await api.write(1)
    first = marked_at()
    await api.write(1)
    assert marked_at() == first  # within the window: no statement, the mark stands
    await asyncio.sleep(WINDOW + 0.1)
    await api.write(1)
    assert marked_at() > first


async def test_without_a_replica_no_write_is_marked(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    _, token = await factory.admin()
    case = await factory.case()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    entry = {"caseId": ids.encode("Case", case.id), "activityId": ids.encode("Activity", activity.id)}
    body = await gql(client, CREATE, {"input": {**entry, "workDate": "2026-11-02", "minutes": 5}}, token=token)
    assert body["data"]["createTimeEntry"]["userErrors"] == []
    assert await session.scalar(text("SELECT count(*) FROM recent_writes")) == 0
