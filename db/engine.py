"""Engines and sessionmakers; created only at the edges (app lifespan, CLI, tests)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

import db.lock_budget  # noqa: F401  (its listeners give every engine's writes one lock-wait budget)


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as libpq and most hosts write them) and use asyncpg."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+asyncpg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine(
    url: str, *, pool_size: int = 10, lock_timeout_ms: int = 5000, statement_timeout_ms: int = 15_000
) -> AsyncEngine:
    """A pool of `pool_size` connections (as many again may overflow); a request that waits longer than
    `lock_timeout_ms` for one of them is as busy as one that waits that long for a row lock."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=lock_timeout_ms / 1000,
        pool_pre_ping=False,
        connect_args={
            "server_settings": {
                "lock_timeout": str(lock_timeout_ms),
                "statement_timeout": str(statement_timeout_ms),
                "application_name": "casetime",
                # Every statement is prepared and index-driven (keys, keyset pages with a literal LIMIT, rollup
                # ranges). A custom plan re-plans a page's seven-table join on every call, ~4 ms of server CPU
                # against ~1 ms to run it; the generic plan is made once per connection and statement.
                "plan_cache_mode": "force_generic_plan",
            },
            "statement_cache_size": 512,
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@dataclass(frozen=True)
class SessionMakers:
    """Sessions for mutations, each a transaction, and for queries, in autocommit.

    A query needs no transaction: under READ COMMITTED every statement takes its own snapshot anyway, so BEGIN and
    ROLLBACK were two round trips per request that bought nothing.
    """

    write: async_sessionmaker[AsyncSession]
    query: async_sessionmaker[AsyncSession]

    @classmethod
    def on(cls, engine: AsyncEngine) -> SessionMakers:
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(create_sessionmaker(engine), create_sessionmaker(autocommit))

    @classmethod
    def alike(cls, maker: async_sessionmaker[AsyncSession]) -> SessionMakers:
        """One sessionmaker for both, as tests bound to one rolled-back connection need."""
        return cls(maker, maker)

    def __call__(self, *, query: bool = False) -> async_sessionmaker[AsyncSession]:
        return self.query if query else self.write
