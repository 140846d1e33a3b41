"""Real PostgreSQL for every test: the embedded server by default, DATABASE_URL when given.

Migrations run once per session; each test runs inside a transaction that is rolled back, and the
app under test shares that connection through savepoints (SQLAlchemy's "join into an external
transaction" recipe), so `RequestDb.write()` commits only a savepoint.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from cli import migrate_on
from db import embedded
from db.engine import create_engine
from edge.app import create_app
from services.passwords import Passwords
from settings import PROJECT_ROOT, Config
from tests.factories import Factory

# CI replays the same examples every run, so a red build is reproducible; local runs explore anew
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# one database per test run, so parallel runs on one embedded server never meet
TEST_DATABASE = f"casetime_test_{os.getpid()}"
TEST_CONFIG = Config(environment="test", argon2_time_cost=1, argon2_memory_kib=8, lock_timeout_ms=2000)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    server = embedded.start(PROJECT_ROOT / ".pgdata")
    server.psql(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE);')
    server.psql(f'CREATE DATABASE "{TEST_DATABASE}";')
    yield embedded.url_of(server, TEST_DATABASE)
    server.psql(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE);')


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5, lock_timeout_ms=TEST_CONFIG.lock_timeout_ms)
    async with engine.begin() as conn:
        await migrate_on(conn)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    return Passwords(time_cost=TEST_CONFIG.argon2_time_cost, memory_kib=TEST_CONFIG.argon2_memory_kib)


@pytest.fixture
def factory(session: AsyncSession, passwords: Passwords) -> Factory:
    return Factory(session, passwords)


@pytest.fixture
async def client(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(TEST_CONFIG, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as client:
        yield client


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def sql_statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    """Every SQL statement sent while the test runs (on any connection of the test engine)."""
    counter = StatementCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine.sync_engine, "before_cursor_execute", counter)
