"""Database trouble is retryable, not a crash (SPEC 12): HTTP 503 with Retry-After and BUSY while PostgreSQL is down,
when connections die under requests, when the pool or a statement runs out of time; nothing half-written, and the
service recovers by itself. These tests run on a PostgreSQL of their own, which they stop, restart and cut."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cli import migrate_on
from db import embedded
from db.engine import create_engine, create_sessionmaker
from edge.app import create_app
from graph import ids
from services.passwords import Passwords
from settings import Config
from tests.concurrency.support import audit
from tests.conftest import TEST_CONFIG
from tests.factories import Factory

CREATE = """mutation($input: TimeEntryInput!) {
  createTimeEntry(input: $input) { timeEntry { id } userErrors { code } }
}"""
DEBTORS = "{ debtors(first: 5) { totalCount edges { node { code } } } }"


@dataclasses.dataclass
class Scratch:
    server: Any
    engine: AsyncEngine
    token: str
    entry_input: dict[str, Any]


@pytest.fixture(scope="module")
def scratch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = embedded.start(Path(tmp_path_factory.mktemp("trouble")) / "pgdata")
    yield server
    server.cleanup()


@pytest.fixture
async def scratch(scratch_server: Any, passwords: Passwords) -> AsyncIterator[Scratch]:
    """A freshly migrated database on the scratch server, with an administrator, a case and an activity."""
    scratch_server.psql("DROP DATABASE IF EXISTS trouble WITH (FORCE); CREATE DATABASE trouble;")
    engine = create_engine(embedded.url_of(scratch_server, "trouble"), pool_size=10, lock_timeout_ms=2000)
    async with engine.begin() as conn:
        await migrate_on(conn)
    async with create_sessionmaker(engine)() as session, session.begin():
        factory = Factory(session, passwords)
        _, token = await factory.admin()
        case = await factory.case()
        activity = await factory.activity(default_rate=Decimal("60.00"))
    entry_input = {
        "caseId": ids.encode("Case", case.id),
        "activityId": ids.encode("Activity", activity.id),
        "workDate": date(2026, 11, 2).isoformat(),
        "minutes": 15,
    }
    yield Scratch(scratch_server, engine, token, entry_input)
    await engine.dispose()


def _client(engine: AsyncEngine, config: Config = TEST_CONFIG) -> httpx.AsyncClient:
    app = create_app(config, engine=engine)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test")


async def _post(api: httpx.AsyncClient, scratch: Scratch, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = {"query": query, "variables": variables or {}}
    return await api.post("/graphql", json=body, headers={"Authorization": f"Bearer {scratch.token}"})


def _is_retry_later(response: httpx.Response) -> bool:
    return (
        response.status_code == 503
        and response.headers.get("retry-after") == "1"
        and [e["extensions"]["code"] for e in response.json()["errors"]] == ["BUSY"]
    )


async def _entries(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM time_entries"))).scalar_one())


async def test_postgresql_stopped_and_started_under_the_running_service(scratch: Scratch) -> None:
    async with _client(scratch.engine) as api:
        # given: a service that has served
        assert (await _post(api, scratch, DEBTORS)).status_code == 200
        written_before = await _entries(scratch.engine)
        # when: PostgreSQL stops
        scratch.server.stop()
        try:
            query = await _post(api, scratch, DEBTORS)
            write = await _post(api, scratch, CREATE, {"input": scratch.entry_input})
            ready_while_down = await api.get("/readyz")
        finally:
            with scratch.server._lock:  # and starts again, as an operator or a supervisor would
                scratch.server.ensure_postgres_running()
        # then: retryable answers while it was down
        assert _is_retry_later(query), query.text
        assert _is_retry_later(write), write.text
        assert ready_while_down.status_code == 503
        # and the same process recovers with no restart
        deadline = time.monotonic() + 15
        while (await api.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "the service did not recover within 15 s"
            await asyncio.sleep(0.2)
        answers = [await _post(api, scratch, CREATE, {"input": scratch.entry_input}) for _ in range(10)]
        answers += [await _post(api, scratch, DEBTORS) for _ in range(10)]
        assert [a.status_code for a in answers] == [200] * 20
        assert all("errors" not in a.json() for a in answers)
    assert await _entries(scratch.engine) == written_before + 10


async def test_connections_killed_under_a_burst_of_writes(scratch: Scratch) -> None:
    killer = create_engine(embedded.url_of(scratch.server, "trouble"), pool_size=1)
    stop = asyncio.Event()
    kills = 0

    async def kill_every_other_connection() -> None:
        nonlocal kills
        async with killer.connect() as conn:
            while not stop.is_set():
                killed = await conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                kills += int(killed.scalar_one())
                await conn.commit()
                await asyncio.sleep(0.01)

    async with _client(scratch.engine) as api:
        # when: 200 writes in waves of 20 while every other connection is killed again and again
        killing = asyncio.create_task(kill_every_other_connection())
        answers: list[httpx.Response] = []
        for _ in range(10):
            answers += await asyncio.gather(
                *(_post(api, scratch, CREATE, {"input": scratch.entry_input}) for _ in range(20))
            )
        stop.set()
        await killing
        await killer.dispose()
        # then: each answer is a success or a coded, retryable refusal, never HTTP 500
        outcomes = Counter(_outcome(a) for a in answers)
        assert set(outcomes) <= {"ok", "busy-503", "busy", "internal"}, outcomes
        assert outcomes["busy-503"] > 0, f"no request met a killed connection ({kills} killed): {outcomes}"
        # nothing half-written: every kept total and count equals what the entries say
        auditor = create_engine(embedded.url_of(scratch.server, "trouble"), pool_size=1)
        try:
            assert await audit(create_sessionmaker(auditor)) == []
        finally:
            await auditor.dispose()
        # and the next 100 requests succeed without a restart
        after = [await _post(api, scratch, CREATE, {"input": scratch.entry_input}) for _ in range(100)]
        assert Counter(_outcome(a) for a in after) == {"ok": 100}


def _outcome(response: httpx.Response) -> str:
    if _is_retry_later(response):
        return "busy-503"
    if response.status_code != 200:
        return f"http-{response.status_code}"
    body = response.json()
    if "errors" in body:
        return "internal" if body["errors"][0]["extensions"]["code"] == "INTERNAL" else "other-error"
    errors = body["data"]["createTimeEntry"]["userErrors"]
    return "ok" if not errors else ("busy" if errors[0]["code"] == "BUSY" else "refused")


REPORT = """{ timeReport(filter: {from: "2026-01-01", to: "2026-12-31"}, groupBy: [DEBTOR, MONTH]) {
  rows { minutes } totalMinutes } }"""


@pytest.mark.parametrize(
    ("query", "tables"),
    [(DEBTORS, "debtors"), (REPORT, "time_rollup_month, time_rollup, time_entries")],
    ids=["list", "report"],
)
async def test_a_statement_past_the_statement_timeout_is_busy(scratch: Scratch, query: str, tables: str) -> None:
    # given: a statement that cannot finish (the tables it reads are locked) within a short statement timeout
    config = dataclasses.replace(TEST_CONFIG, statement_timeout_ms=300, lock_timeout_ms=5000)
    engine = create_engine(
        embedded.url_of(scratch.server, "trouble"), pool_size=2, lock_timeout_ms=5000, statement_timeout_ms=300
    )
    try:
        async with _client(engine, config) as api, scratch.engine.connect() as holder:
            await holder.execute(text(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"))
            # when
            started = time.perf_counter()
            timed_out = await _post(api, scratch, query)
            elapsed = time.perf_counter() - started
            await holder.rollback()
            after = await _post(api, scratch, query)
        # then: BUSY after about the timeout, and the worker serves the next request
        assert _is_retry_later(timed_out), timed_out.text
        assert elapsed < 2
        assert after.status_code == 200
        assert "errors" not in after.json()
    finally:
        await engine.dispose()


async def test_waiting_longer_than_the_queue_timeout_for_a_pool_connection_is_busy(scratch: Scratch) -> None:
    # given: a fixed pool of one connection, taken
    config = dataclasses.replace(TEST_CONFIG, queue_timeout_ms=300)
    engine = create_engine(embedded.url_of(scratch.server, "trouble"), pool_size=1, queue_timeout_ms=300)
    try:
        async with _client(engine, config) as api:
            async with engine.connect() as first:
                await first.execute(text("SELECT 1"))
                # when
                started = time.perf_counter()
                starved = await _post(api, scratch, DEBTORS)
                elapsed = time.perf_counter() - started
            served = await _post(api, scratch, DEBTORS)
        # then
        assert _is_retry_later(starved), starved.text
        assert 0.25 < elapsed < 2
        assert served.status_code == 200
        assert "errors" not in served.json()
    finally:
        await engine.dispose()


async def test_a_read_only_database_refuses_writes_as_busy_and_still_serves_reads(scratch: Scratch) -> None:
    # given: the database turned read-only (a failover's standby, a disk-full guard), then written to and read from
    url = embedded.url_of(scratch.server, "trouble")
    scratch.server.psql("ALTER DATABASE trouble SET default_transaction_read_only = on;")
    engine = create_engine(url, pool_size=2)  # connections opened after the change take it
    try:
        async with _client(engine) as api:
            refused = await _post(api, scratch, CREATE, {"input": scratch.entry_input})
            read = await _post(api, scratch, DEBTORS)
        # then: the write is database trouble (retry later), nothing is written, the read is served
        assert _is_retry_later(refused), refused.text
        assert await _entries(scratch.engine) == 0
        assert read.status_code == 200
        assert read.json()["data"]["debtors"]["totalCount"] >= 1
    finally:
        await engine.dispose()
        scratch.server.psql("ALTER DATABASE trouble RESET default_transaction_read_only;")
    # and once it is writable again, a new connection writes
    writable = create_engine(url, pool_size=1)
    try:
        async with _client(writable) as api:
            written = await _post(api, scratch, CREATE, {"input": scratch.entry_input})
        assert _outcome(written) == "ok", written.text
    finally:
        await writable.dispose()


class _Refused(Exception):
    """A driver error carrying a SQLSTATE, as asyncpg's do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("state", "unavailable"),
    [
        ("25006", True),  # read-only transaction
        ("53100", True),  # disk full
        ("53200", True),  # out of memory
        ("53300", True),  # too many connections
        ("08006", True),  # connection failure
        ("57P01", True),  # admin shutdown
        ("23505", False),  # a unique violation: a bug or a rule, never "try later"
        ("22003", False),  # a number out of range
        ("55P03", False),  # a lock timeout: busy, not unavailable
    ],
)
def test_what_the_database_cannot_do_now_is_told_apart(state: str, unavailable: bool) -> None:
    from db import trouble

    assert trouble.unavailable(_Refused(state)) is unavailable
