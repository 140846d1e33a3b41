"""Queries run in autocommit (no BEGIN and ROLLBACK around them), mutations in one transaction each; every
connection of the app plans its statements once (generic plans)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from edge.app import create_app
from tests.concurrency.conftest import World
from tests.conftest import TEST_CONFIG

pytestmark = pytest.mark.concurrency

VIEWER = "query { viewer { name } }"
LOGOUT = "mutation { logout }"


@dataclass
class Sent:
    statements: list[str] = field(default_factory=list)  # SQL the app executed
    control: list[str] = field(default_factory=list)  # BEGIN, COMMIT and ROLLBACK the driver sent on its own

    async def settled(self) -> Sent:
        """What was sent so far; the driver reports its statements in callbacks scheduled on the loop."""
        await asyncio.sleep(0.01)
        return Sent(list(self.statements), list(self.control))


@pytest.fixture
async def logged(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Sent]]:
    """An engine of one connection that keeps what it sends."""
    engine = create_engine(database_url, pool_size=1)
    sent = Sent()

    def control(record: Any) -> None:
        word = record.query.split()[0].rstrip(";").upper()
        if word in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.control.append(word)

    @event.listens_for(engine.sync_engine, "connect")
    def _log_driver(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(control)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _log_statement(*args: Any) -> None:
        sent.statements.append(args[2])

    yield engine, sent
    await engine.dispose()


async def _post(client: httpx.AsyncClient, token: str, query: str) -> None:
    answer = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    assert "errors" not in answer.json(), answer.text


async def test_a_query_opens_no_transaction_and_a_mutation_commits_one(
    world: World, logged: tuple[AsyncEngine, Sent]
) -> None:
    engine, sent = logged
    app = create_app(TEST_CONFIG, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test") as client:
        # when
        await _post(client, world.token, VIEWER)
        after_query = await sent.settled()
        await _post(client, world.token, LOGOUT)
        after_mutation = await sent.settled()
    # then
    assert any("employees" in q for q in after_query.statements)  # the query did read through this engine
    assert after_query.control == []
    assert any("DELETE FROM auth_tokens" in q for q in after_mutation.statements)
    assert after_mutation.control[-2:] == ["BEGIN", "COMMIT"]


async def test_the_app_plans_each_statement_once(logged: tuple[AsyncEngine, Sent]) -> None:
    engine, _ = logged
    async with engine.connect() as connection:
        # then: PostgreSQL keeps one generic plan per prepared statement instead of re-planning every call
        assert await connection.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
