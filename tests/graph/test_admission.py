"""Overload (SPEC 12): at most MAX_IN_FLIGHT requests run at once per worker, one that cannot start within
QUEUE_TIMEOUT_MS is refused at once with 503 BUSY, and the fixed pool opens no connection under a burst.

Requests are made slow for real: every request with a token looks it up in auth_tokens, which another connection
holds under `LOCK TABLE`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from edge.app import create_app
from graph import metrics
from settings import Config
from tests.conftest import TEST_CONFIG

VIEWER = "query Me { viewer { id } }"
# a token nobody holds: its lookup reads auth_tokens, which is all a slow request needs
UNKNOWN_TOKEN = {"Authorization": "Bearer not-a-token-of-anyone"}
BUSY_BODY = {
    "errors": [
        {
            "message": "The service is busy or its database unavailable; try again shortly",
            "extensions": {"code": "BUSY"},
        }
    ],
    "data": None,
}


def _client(engine: AsyncEngine, config: Config) -> httpx.AsyncClient:
    app = create_app(config, engine=engine)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test")


async def _viewer(api: httpx.AsyncClient) -> httpx.Response:
    return await api.post("/graphql", json={"query": VIEWER}, headers=UNKNOWN_TOKEN)


@asynccontextmanager
async def _two_slow(
    api: httpx.AsyncClient, engine: AsyncEngine, app_engine: AsyncEngine
) -> AsyncIterator[list[asyncio.Task[httpx.Response]]]:
    """Two requests admitted and waiting on auth_tokens, which a connection of `engine` holds under an exclusive
    lock until the block ends."""
    async with engine.connect() as holder:
        await holder.execute(text("LOCK TABLE auth_tokens IN ACCESS EXCLUSIVE MODE"))
        slow = [asyncio.create_task(_viewer(api)) for _ in range(2)]
        try:
            for _ in range(200):  # until both wait on the lock, each on a connection of the app's pool
                if app_engine.sync_engine.pool.checkedout() == 2:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the slow requests did not reach the database")
            yield slow
        finally:
            await holder.rollback()


@pytest.fixture
async def small_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The app's own engine, pool as wide as MAX_IN_FLIGHT=2; lock waits outlast every test below."""
    engine = create_engine(database_url, pool_size=2, lock_timeout_ms=10_000)
    yield engine
    await engine.dispose()


async def test_a_request_past_max_in_flight_is_refused_busy_within_the_queue_timeout(
    engine: AsyncEngine, small_engine: AsyncEngine
) -> None:
    # given: MAX_IN_FLIGHT=2, both slots held by requests waiting on a lock
    config = dataclasses.replace(TEST_CONFIG, max_in_flight=2, queue_timeout_ms=100)
    refused_before = REGISTRY.get_sample_value("casetime_requests_refused_total") or 0
    async with _client(small_engine, config) as api:
        async with _two_slow(api, engine, small_engine) as slow:
            # when
            started = time.perf_counter()
            third = await api.post("/graphql", json={"query": VIEWER})
            elapsed = time.perf_counter() - started
            # then: refused after about the queue timeout, not after the lock
            assert third.status_code == 503
            assert third.headers["retry-after"] == "1"
            assert third.json() == BUSY_BODY
            assert 0.09 < elapsed < 0.6
            assert not any(task.done() for task in slow)
        # and: once the lock goes, the slow ones are answered and the next request is served
        answers = await asyncio.gather(*slow)
        after = await _viewer(api)
    assert [answer.status_code for answer in answers] == [200, 200]
    assert after.status_code == 200
    assert after.json() == answers[0].json()
    assert REGISTRY.get_sample_value("casetime_requests_refused_total") == refused_before + 1


async def test_a_queued_request_starts_when_a_slot_frees_and_probes_answer_meanwhile(
    engine: AsyncEngine, small_engine: AsyncEngine
) -> None:
    # given: both slots held, and a queue timeout longer than the lock is held
    config = dataclasses.replace(TEST_CONFIG, max_in_flight=2, queue_timeout_ms=3000)
    async with _client(small_engine, config) as api:
        async with _two_slow(api, engine, small_engine) as slow:
            # when: a third request queues; the probes and /metrics are asked; the lock goes 0.2 s later
            third = asyncio.create_task(_viewer(api))
            health = await api.get("/healthz")
            scrape = await api.get("/metrics")
            await asyncio.sleep(0.2)
            # then: the probes pass admission by, the third waits
            assert health.status_code == 200
            assert scrape.status_code == 200
            assert "casetime_requests_in_flight 2.0" in scrape.text.splitlines()
            assert not third.done()
        answers = await asyncio.gather(*slow, third)
    # and: it was admitted once a slot freed, not refused
    assert [answer.status_code for answer in answers] == [200, 200, 200]


async def test_a_burst_of_200_requests_opens_no_pool_connection(engine: AsyncEngine, database_url: str) -> None:
    # given: the production defaults (a fixed pool as wide as MAX_IN_FLIGHT), warmed up: all its connections open
    config = Config()
    application_name = f"casetime_burst_{os.getpid()}"
    app_engine = create_engine(f"{database_url}&application_name={application_name}", pool_size=config.db_pool_size)
    opened: list[Any] = []
    event.listen(app_engine.sync_engine, "connect", lambda *_: opened.append(1))
    metrics.watch_pool(app_engine, application_name)
    try:
        async with AsyncExitStack() as stack:
            for _ in range(config.db_pool_size):
                connection = await stack.enter_async_context(app_engine.connect())
                await connection.execute(text("SELECT 1"))
        warm = len(opened)
        backends = await _backends(engine, application_name)
        async with _client(app_engine, dataclasses.replace(TEST_CONFIG, queue_timeout_ms=10_000)) as api:
            # when: 200 requests at once, many times what may run at once
            answers = await asyncio.gather(*(_viewer(api) for _ in range(200)))
            scrape = (await api.get("/metrics")).text
        # then: every one served, on the connections the pool had; none opened, none closed
        assert [answer.status_code for answer in answers] == [200] * 200
        assert warm == config.db_pool_size
        assert len(opened) == warm
        assert app_engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert backends == config.db_pool_size
        assert await _backends(engine, application_name) == backends
        # and the metrics say so
        assert f'casetime_db_connections_in_use{{pool="{application_name}"}} 0.0' in scrape
        assert f'casetime_db_connections_opened_total{{pool="{application_name}"}} {warm}.0' in scrape
        assert f'casetime_db_pool_size{{pool="{application_name}"}} {config.db_pool_size}.0' in scrape
    finally:
        await app_engine.dispose()


async def _backends(engine: AsyncEngine, application_name: str) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"), {"name": application_name}
        )
    return int(count or 0)
