"""Every member of SQLAlchemy and its asyncpg adapter that casetime uses without SQLAlchemy documenting it, and the
check that they are all still there (`check`, run when an engine is made).

`db.driver` sends prebuilt statements to asyncpg as SQLAlchemy's own cursor would, which means doing what the cursor
does with the adapter's private state; `services.json_sql` gives a custom element a cache key. After an upgrade of
SQLAlchemy this module is the one place to look at: `check` names what is gone, at start, rather than the first
request that needs it. What a statement uses is resolved here once, at import: the adapter's attributes are read by
`attrgetter`s (C), not by Python functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.metadata import version
from operator import attrgetter, methodcaller
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, Dialect, Engine
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeEngine
from sqlalchemy.util import greenlet_spawn

from db.members import Member, first_missing

__all__ = [
    "CLAUSE_TUPLE",
    "announce",
    "announce_on_engine",
    "bind_processor",
    "call_and_discard",
    "check",
    "execute_mutex",
    "greenlet_spawn",
    "invalidate_in_pool",
    "open_transaction",
    "raise_dbapi_error",
    "result_processor",
    "start_transaction",
]

# A `_traverse_internals` entry (services.json_sql.Joined): a tuple of clause elements, part of the cache key
CLAUSE_TUPLE = InternalTraversal.dp_clauseelement_tuple

# The adapter's statement lock, its open transaction (None when none) and its BEGIN, as its own cursor uses them
execute_mutex: attrgetter[Any] = attrgetter("_execute_mutex")
open_transaction: attrgetter[Any] = attrgetter("_transaction")
start_transaction: methodcaller = methodcaller("_start_transaction")


async def call_and_discard(adapted: Any, end: Callable[[], Awaitable[Any]]) -> None:
    """Run the adapter's transaction's `commit` or `rollback`, the transaction forgotten however it ends, as the
    adapter's own (synchronous) commit and rollback do."""
    await adapted._call_and_discard(end)


def result_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The type's conversion of a value read, as SQLAlchemy caches it per dialect."""
    return type_._cached_result_processor(dialect, None)


def bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The type's conversion of a value sent, as SQLAlchemy caches it per dialect."""
    return type_._cached_bind_processor(dialect)


def raise_dbapi_error(adapted: Any, error: Exception) -> None:
    """Raise the DBAPI's error for asyncpg's `error`, marking the adapter's transaction gone with a lost connection."""
    adapted._handle_exception(error)


def invalidate_in_pool(pool: Pool, connection: Connection | PoolProxiedConnection, error: BaseException) -> None:
    """Drop a lost connection and have the pool replace every connection older than now at checkout."""
    pooled = connection._dbapi_connection if isinstance(connection, Connection) else connection
    pool._invalidate(pooled, error)  # type: ignore[arg-type]  # a Connection not invalidated has one


def announce(connection: Connection, text: str, args: list[Any]) -> None:
    """Tell the statement listeners of `connection` and its engine about a statement run past SQLAlchemy."""
    if connection._has_events or connection.engine._has_events:
        connection.dispatch.before_cursor_execute(connection, None, text, tuple(args), None, False)


def announce_on_engine(engine: Engine, text: str, args: list[Any]) -> None:
    """`announce` for a statement on a pooled connection with no `Connection` around it."""
    if engine._has_events:
        engine.dispatch.before_cursor_execute(None, None, text, tuple(args), None, False)


_MEMBERS: tuple[Member, ...] = (
    (TypeEngine, "_cached_result_processor", "method", ("self", "dialect", "coltype")),
    (TypeEngine, "_cached_bind_processor", "method", ("self", "dialect")),
    (AsyncAdapt_asyncpg_connection, "_execute_mutex", "slot", ()),
    (AsyncAdapt_asyncpg_connection, "_transaction", "slot", ()),
    (AsyncAdapt_asyncpg_connection, "_start_transaction", "coroutine method", ("self",)),
    (AsyncAdapt_asyncpg_connection, "_call_and_discard", "coroutine method", ("self", "fn")),
    (AsyncAdapt_asyncpg_connection, "_handle_exception", "method", ("self", "error")),
    (AsyncAdapt_asyncpg_connection, "dbapi", "slot", ()),
    (Pool, "_invalidate", "method", ("self", "connection", "exception")),
    (Connection, "_dbapi_connection", "attribute", ()),
    (Connection, "_has_events", "attribute", ()),
    (Engine, "_has_events", "attribute", ()),
    (type(Connection.dispatch), "before_cursor_execute", "attribute", ()),
    (BinaryExpression, "_traverse_internals", "attribute", ()),
    (InternalTraversal, "dp_clauseelement_tuple", "attribute", ()),
)


def check() -> None:
    """RuntimeError naming the first member that is gone or changed shape, with the versions installed."""
    missing = first_missing(_MEMBERS)
    if missing is not None:
        raise RuntimeError(
            f"{missing} in SQLAlchemy {sqlalchemy.__version__} (asyncpg {version('asyncpg')}): update "
            "db/sqlalchemy_internals.py"
        )
