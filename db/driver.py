"""Prebuilt SELECTs sent straight to asyncpg on the request's connection, for the statements every request runs.

Through `Connection.execute` a statement pays SQLAlchemy's bookkeeping on top of the driver's work: the compiled
cache lookup, an execution context, result metadata and a `Row` per row, ~80 µs for 50 employees against ~140 µs
for the driver's own fetch (bench/README.md). A `Prebuilt` is compiled once, at import, and its rows come back as
`DriverRow` dicts, with enum columns converted as SQLAlchemy converts them. It runs on a session's connection,
inside the session's transaction when there is one, or on the request's `Link`: a query's in autocommit, a
mutation's in the transaction its first prebuilt statement begins there (`LinkedSession`).
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from sqlalchemy import ARRAY, JSON, Connection, Engine, Enum, Float, Numeric, event
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Select

from db import lock_budget
from db import sqlalchemy_internals as internals
from db.sqlalchemy_internals import execute_mutex, greenlet_spawn, open_transaction, start_transaction

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
# Python types asyncpg reads and writes as they are, with no SQLAlchemy processing on the asyncpg dialect
_NATIVE = (int, str, bool, bytes, decimal.Decimal, datetime.date, datetime.datetime, list)


def _native(type_: Any) -> bool:
    """Read as asyncpg gives it: NUMERIC arrives as Decimal, the other types need no processor on this dialect."""
    if isinstance(type_, Numeric):
        return bool(type_.asdecimal) and not isinstance(type_, Float)
    if isinstance(type_, ARRAY):  # asyncpg's list of the items is SQLAlchemy's when the items need nothing either
        return not type_.as_tuple and _native(type_.item_type)
    if isinstance(type_, JSON):  # SQLAlchemy's asyncpg codecs decode json and jsonb on every connection it opens
        return internals.result_processor(type_, _DIALECT) is None
    try:
        return type_.python_type in _NATIVE and internals.result_processor(type_, _DIALECT) is None
    except NotImplementedError:  # no Python type: a NULL or an untyped expression
        return False


def _sent_as_is(type_: Any) -> bool:
    """asyncpg takes the value as it is: no bind processor, or an ARRAY of such items (a list of ids)."""
    if isinstance(type_, ARRAY):
        return _sent_as_is(type_.item_type)
    return internals.bind_processor(type_, _DIALECT) is None


class DriverRow(dict[str, Any]):
    """One row by column key, read like `Row._mapping`; attribute access too, as on a `Row`."""

    __slots__ = ()

    @property
    def _mapping(self) -> DriverRow:
        return self

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _translated(adapted: Any, error: Exception, text: str, args: list[Any]) -> StatementError:
    """The error SQLAlchemy raises for a failed statement: a DBAPIError subclass by the driver's error class, marked
    as a lost connection when the driver's connection is closed, as SQLAlchemy marks it."""
    lost = _DIALECT.is_disconnect(error, adapted, None)  # type: ignore[no-untyped-call]
    try:
        internals.raise_dbapi_error(adapted, error)
    except Exception as dbapi_error:
        error = dbapi_error
    return DBAPIError.instance(text, args, error, adapted.dbapi.Error, connection_invalidated=lost)


def _discard(connection: Connection, error: DBAPIError) -> None:
    """What SQLAlchemy does when its own statement finds the connection lost: drop it, and have the pool replace every
    connection older than now at checkout (after a restart of the server or a purge of sessions all are dead), so
    that each of them does not fail a request of its own first."""
    if not connection.invalidated:
        internals.invalidate_in_pool(connection.engine.pool, connection, error)
        connection.invalidate(error)


_CONNECTION = "casetime.driver_connection"


async def _connection(session: AsyncSession) -> tuple[Connection, Any]:
    """The session's connection and its asyncpg adapter, looked up once per transaction of the session: through
    SQLAlchemy each lookup runs in a greenlet of its own, ~3% of a case page's CPU for its three statements."""
    found: tuple[Connection, Any] | None = session.info.get(_CONNECTION)
    if found is None:
        found = session.info[_CONNECTION] = await session.run_sync(_lookup)  # one greenlet for both
    return found


def _lookup(session: Session) -> tuple[Connection, Any]:
    connection = session.connection()
    return connection, connection.connection.dbapi_connection


@event.listens_for(Session, "after_transaction_create")
def _begin_nested(session: Session, transaction: SessionTransaction) -> None:
    """A SAVEPOINT is emitted when the session's connection is next asked for: ask for it again, or a prebuilt
    statement would run before the SAVEPOINT, outside what its rollback undoes."""
    if transaction.nested:
        session.info.pop(_CONNECTION, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, transaction: SessionTransaction) -> None:
    """The connection a transaction held goes back to the pool when it ends (commit, rollback, close)."""
    if transaction.parent is None:
        session.info.pop(_CONNECTION, None)


class Link:
    """The connection of a request, used straight through asyncpg with no Session, no Connection object and, for a
    query, no transaction: a query needs none (SPEC 12's autocommit reads), and through SQLAlchemy a request's first
    statement paid ~0.3 ms of CPU for the bookkeeping around the checkout (bench/README.md). A mutation's prebuilt
    statements begin its transaction here, which its session joins when it needs SQLAlchemy (`LinkedSession`).

    On an engine the link checks one pooled connection out at first use and back in at `close` (`RequestDb` closes it
    before it makes a query's session, so a request never holds two). On a connection (tests, bound to one
    rolled-back connection) it runs on that connection, in whatever transaction it holds, and never closes it.
    """

    __slots__ = ("_bind", "_connection", "_fairy")

    def __init__(self, bind: AsyncEngine | AsyncConnection) -> None:
        self._bind = bind
        self._fairy: PoolProxiedConnection | None = None
        self._connection: AsyncConnection | None = None

    @property
    def owned(self) -> bool:
        """The link checks its own connection out of the pool (not a connection it was given)."""
        return not isinstance(self._bind, AsyncConnection)

    @property
    def _sync_engine(self) -> Engine:
        return self._bind.sync_engine

    async def adapted(self) -> Any:
        """The asyncpg adapter of the link's connection (`AsyncAdapt_asyncpg_connection`)."""
        if isinstance(self._bind, AsyncConnection):
            return self._bind.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
        if self._fairy is None:
            self._fairy = await greenlet_spawn(self._sync_engine.pool.connect)
        return self._fairy.dbapi_connection

    async def connection(self) -> AsyncConnection:
        """The link's connection as SQLAlchemy's, for a Core statement that cannot be prebuilt."""
        if isinstance(self._bind, AsyncConnection):
            return self._bind
        if self._connection is None:
            await greenlet_spawn(self.sync_connection)
        assert self._connection is not None
        return self._connection

    def sync_connection(self) -> Connection:
        """`connection`'s synchronous side, made in the greenlet SQLAlchemy runs its own code in (a mutation's
        session asks for it in `get_bind`)."""
        if isinstance(self._bind, AsyncConnection):
            sync = self._bind.sync_connection
            assert sync is not None
            return sync
        if self._connection is None:
            if self._fairy is None:
                self._fairy = self._sync_engine.pool.connect()
            # as engine.connect() makes it, on the checked-out connection: the engine's events and options apply
            self._connection = AsyncConnection(self._bind, Connection(self._sync_engine, self._fairy))
        sync = self._connection.sync_connection
        assert sync is not None
        return sync

    @property
    def info(self) -> dict[Any, Any]:
        """The `info` of the pooled connection under the link (a `Connection` made on it shares it); checked out
        first (`adapted`)."""
        if isinstance(self._bind, AsyncConnection):
            return self.sync_connection().info
        assert self._fairy is not None, "the link has no connection yet"
        return self._fairy.info

    async def end(self, *, commit: bool) -> None:
        """Commit or roll back the transaction a prebuilt statement began on the link's own connection, if one is
        open (a mutation whose session never began one of its own)."""
        if self._fairy is None:
            return
        adapted = self._fairy.dbapi_connection
        transaction = open_transaction(adapted)
        if transaction is None:
            return
        text = "COMMIT" if commit else "ROLLBACK"
        async with execute_mutex(adapted):
            try:
                await internals.call_and_discard(adapted, transaction.commit if commit else transaction.rollback)
            except Exception as error:
                failure = _translated(adapted, error, text, [])
            else:
                return
        if isinstance(failure, DBAPIError) and failure.connection_invalidated:
            await self.discard(failure)
        raise failure from failure.orig

    def _announce(self, text: str, args: list[Any]) -> None:
        if isinstance(self._bind, AsyncConnection):
            if self._bind.sync_connection is not None:
                internals.announce(self._bind.sync_connection, text, args)
        else:
            internals.announce_on_engine(self._sync_engine, text, args)

    async def discard(self, error: DBAPIError) -> None:
        """The connection was found lost: as `_discard` does for a session's."""
        if isinstance(self._bind, AsyncConnection):
            sync = self._bind.sync_connection
            if sync is not None:
                await greenlet_spawn(_discard, sync, error)
        elif self._connection is not None and self._connection.sync_connection is not None:
            await greenlet_spawn(_discard, self._connection.sync_connection, error)
        elif self._fairy is not None:
            fairy, self._fairy = self._fairy, None  # invalidating it gives it back to the pool, to be replaced
            await greenlet_spawn(internals.invalidate_in_pool, self._sync_engine.pool, fairy, error)

    async def close(self) -> None:
        """The connection back to the pool (after a reset), when the link checked one out."""
        connection, fairy = self._connection, self._fairy
        self._connection = self._fairy = None
        if connection is not None:
            await connection.close()
        elif fairy is not None:
            await greenlet_spawn(fairy.close)


Reader: TypeAlias = AsyncSession | Link  # what prebuilt statements run on

# a mutation's session keeps the request's link in its `info`: it works on the link's connection
LINK = "casetime.link"


class LinkedSession(Session):
    """A mutation's session, on its request's link: the link's connection is made into SQLAlchemy's only when the
    session first needs one (ORM work, a Core statement, a SAVEPOINT). Until then the mutation's prebuilt statements
    run on the link itself and begin the transaction there (`_lean`), which the session then joins: the session's
    own checkout, BEGIN, COMMIT and close cost a create ~0.3 ms of CPU, more than its two statements (bench/README.md).
    """

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        link: Link | None = self.info.get(LINK)
        return link.sync_connection() if link is not None else super().get_bind(*args, **kwargs)


def _lean(session: AsyncSession) -> Link | None:
    """The link a mutation's session has not yet begun a transaction of its own on, else None."""
    link: Link | None = session.info.get(LINK)
    return None if link is None or session.in_transaction() else link


class Prebuilt:
    """A SELECT compiled once for asyncpg; a bind parameter marked `literal_execute` (a page's LIMIT) is written into
    the SQL as an int. A statement with a bind parameter or column of a type whose values SQLAlchemy converts (beyond
    enum columns) runs through SQLAlchemy instead, as `fallback` says why: its rows are the same, only slower.

    `locks`: the statement takes row locks (FOR UPDATE, or data-modifying CTEs), so in a write watched by a
    `LockBudget` its waits count against the budget, as a statement through SQLAlchemy's cursor does."""

    def __init__(self, statement: Select[*tuple[Any, ...]], *, locks: bool = False) -> None:
        self._statement = statement
        self.locks = locks
        self.fallback: str | None = None
        compiled = statement.compile(dialect=_DIALECT)
        self._sql = str(compiled)
        literal = {bind.key for bind in compiled.literal_execute_params}
        names = [name for name in compiled.positiontup or () if name not in literal]
        # a bind parameter given a value in the statement (`id = 1`) sends that value unless one is passed
        self._binds = [(name, compiled.binds[name].effective_value) for name in names]
        self._literal = sorted(literal)
        self._texts: dict[tuple[int, ...], str] = {}
        for name in names:
            bind = compiled.binds[name]
            if bind.expanding:  # `IN (...)` of a list: SQLAlchemy renders one SQL text per length
                raise TypeError(f"{name}: an expanding IN; use `= ANY(array)` or run it through SQLAlchemy")
            if not _sent_as_is(bind.type):
                self.fallback = f"{name}: its {bind.type!r} needs conversion"
        columns = list(statement.selected_columns)
        self._keys = [str(column.key) for column in columns]
        if len(set(self._keys)) != len(self._keys):
            raise ValueError(f"columns share a key: {self._keys}")
        self._convert: list[tuple[str, Callable[[Any], Any]]] = []
        for key, column in zip(self._keys, columns, strict=True):
            type_: Any = column.type
            if isinstance(type_, Enum):
                convert = type_.result_processor(_DIALECT, None)  # type: ignore[no-untyped-call]
                assert convert is not None
                self._convert.append((key, convert))
            elif not _native(type_):
                self.fallback = f"{key}: {type_!r} is not read as it is"
        if self.fallback is not None:
            self._convert.clear()  # SQLAlchemy converts every column itself

    def _text(self, params: Mapping[str, Any]) -> str:
        if not self._literal:
            return self._sql
        values = tuple(params[name] for name in self._literal)
        text = self._texts.get(values)
        if text is None:
            text = self._sql
            for name, value in zip(self._literal, values, strict=True):
                if type(value) is not int:
                    raise TypeError(f"{name} must be an int")
                text = text.replace(f"__[POSTCOMPILE_{name}]", str(value))
            self._texts[values] = text
        return text

    async def fetch(self, reader: Reader, params: Mapping[str, Any] | None = None) -> list[DriverRow]:
        records = await self.records(reader, params)
        keys, convert = self._keys, self._convert
        # as many values as keys, both the statement's own: `strict` would only cost (~0.6 µs a row)
        rows = [DriverRow(zip(keys, record, strict=False)) for record in records]
        if convert:
            for row in rows:
                for key, to_python in convert:
                    row[key] = to_python(row[key])
        return rows

    async def records(self, reader: Reader, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The driver's records, read by position, with no conversion: for statements whose columns need none (a
        record a row costs nothing, a dict by column key ~1 µs)."""
        if self.fallback is not None:
            return await self._through_sqlalchemy(reader, params)
        values = params or {}
        text = self._text(values)
        args = [values.get(name, default) for name, default in self._binds]
        session: AsyncSession | None = None
        if isinstance(reader, Link):
            link: Link | None = reader
        else:
            link = _lean(reader)
            session = None if link is not None else reader
        info: dict[Any, Any] | None = None
        if link is not None:
            sync, adapted = None, await link.adapted()
            link._announce(text, args)
            begin = link is not reader  # a mutation's statement, on its link: it begins the transaction
            if self.locks and begin:
                info = link.info
        else:
            assert session is not None
            sync, adapted = await _connection(session)
            internals.announce(sync, text, args)
            begin = True
            if self.locks:
                info = sync.info
        budget = None if info is None else lock_budget.of(info)
        # as SQLAlchemy's own cursor does: one statement at a time, and BEGIN first when a transaction is due (a
        # query's link never begins one)
        async with execute_mutex(adapted):
            try:
                if begin and open_transaction(adapted) is None:
                    await start_transaction(adapted)
                if budget is not None:
                    timeout = budget.statement()
                    if timeout is not None:
                        await adapted.driver_connection.execute(lock_budget.SET_LOCK_TIMEOUT, timeout)
                try:
                    records: list[Any] = await adapted.driver_connection.fetch(text, *args)
                finally:
                    if budget is not None:  # its wait ends with it, not at the write's next statement
                        budget.stop()
            except Exception as error:
                failure = _translated(adapted, error, text, args)
            else:
                return records
        if isinstance(failure, DBAPIError) and failure.connection_invalidated:
            if link is not None:
                await link.discard(failure)
            elif session is not None:
                lost = sync
                await session.run_sync(lambda _: _discard(lost, failure))  # type: ignore[arg-type]
        raise failure from failure.orig

    async def _through_sqlalchemy(self, reader: Reader, params: Mapping[str, Any] | None) -> list[Any]:
        runner = await reader.connection() if isinstance(reader, Link) else reader
        return list(await runner.execute(self._statement, dict(params or {})))

    async def first(self, reader: Reader, params: Mapping[str, Any] | None = None) -> DriverRow | None:
        rows = await self.fetch(reader, params)
        return rows[0] if rows else None

    async def scalar(self, reader: Reader, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = await self.first(reader, params)
        return None if row is None else row[self._keys[0]]
