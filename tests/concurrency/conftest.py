"""Fixtures that commit for real (STYLE 2.12): each writer has its own connection, and every table the tests
touched is truncated afterwards, so the rolled-back tests elsewhere start from the migrated database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, create_sessionmaker
from edge.app import create_app
from models import Case, Debtor
from services import auth
from services.passwords import Passwords
from services.time_entries import Writer
from services.visibility import EVERYONE
from settings import Config
from tests.concurrency.support import Maker
from tests.conftest import TEST_CONFIG
from tests.factories import Factory

TOUCHED = (
    "time_entries, case_year_totals, time_rollup, idempotency_keys, timers, auth_tokens, login_failures, "
    "employee_rates, cases, debtors, activities, employees, role_visible_roles, roles, events, webhook_deliveries, "
    "webhooks"
)
RATE = Decimal("90.00")
WIDE_POOL = 50  # 50 writers at once, each on its own connection, all kept between rounds (overflow ones would close)


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[Maker]:
    """Sessions on the test engine that commit for real; the tables are truncated after the test."""
    yield create_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TOUCHED} RESTART IDENTITY CASCADE"))  # company_settings stays
        await conn.execute(text("UPDATE webhook_feed SET xid = 0, event_id = 0"))  # as migrated


@pytest.fixture
async def wide_engine(database_url: str, committed: Maker) -> AsyncIterator[AsyncEngine]:
    """An engine of its own, wide enough for 50 concurrent writers; disposed before truncation."""
    # the production lock timeout (not the tests' 2 s): 50 writers queued on one row on a busy 2-core machine
    engine = create_engine(database_url, pool_size=WIDE_POOL, lock_timeout_ms=Config().lock_timeout_ms)
    yield engine
    await engine.dispose()


@pytest.fixture
def wide(wide_engine: AsyncEngine) -> Maker:
    return create_sessionmaker(wide_engine)


@dataclass
class World:
    """The committed master data: an administrator (with a token) writing for a debtor with a priced activity."""

    maker: Maker
    passwords: Passwords
    writer: Writer
    token: str
    debtor_id: int
    activity_id: int

    async def case(self, **fields: Any) -> Case:
        """A new case of the debtor, committed."""
        async with self.maker() as session, session.begin():
            debtor = await session.get(Debtor, self.debtor_id)
            assert debtor is not None
            return await Factory(session, self.passwords).case(debtor=debtor, **fields)


@pytest.fixture
async def world(committed: Maker, passwords: Passwords) -> World:
    async with committed() as session, session.begin():
        factory = Factory(session, passwords)
        _, token = await factory.admin()
        debtor = await factory.debtor()
        activity = await factory.activity(default_rate=RATE)
        viewer = await auth.authenticate(session, token=token)
        assert viewer is not None
    return World(committed, passwords, Writer(viewer, EVERYONE), token, debtor.id, activity.id)


@pytest.fixture
async def api(wide_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The ASGI app on the wide engine, as in production: each mutation commits its own transaction."""
    app = create_app(TEST_CONFIG, engine=wide_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test") as client:
        yield client
