"""Prebuilt statements (db.driver): the rows SQLAlchemy would give, in the session's transaction, seen by listeners."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from db.driver import DriverRow, Link, Prebuilt
from db.engine import SessionMakers, create_engine
from models import Employee, EmployeeVisibility, Role, TimeEntry, TimeStatus
from services import employees
from tests.conftest import StatementCounter
from tests.factories import Factory

NOW = Prebuilt(select(func.now().label("now")))


async def test_rows_match_what_sqlalchemy_reads(session: AsyncSession, factory: Factory) -> None:
    # given
    role = await factory.role(visibility=EmployeeVisibility.SELECTED_ROLES)
    employee = await factory.employee(role=role, name="Ada Prebuilt")
    statement = employees._ROWS.where(Employee.id == employee.id)
    # when
    (driver_row,) = await Prebuilt(statement).fetch(session)
    sqlalchemy_row = (await session.execute(statement)).one()
    # then: the same keys and values, enums as their Python members
    assert isinstance(driver_row, DriverRow)
    assert driver_row == dict(sqlalchemy_row._mapping)
    assert driver_row["role_employee_visibility"] is EmployeeVisibility.SELECTED_ROLES
    assert driver_row.name == "Ada Prebuilt"  # attribute access, as on a Row


async def test_a_literal_limit_is_written_into_the_sql(session: AsyncSession, factory: Factory) -> None:
    # given
    for name in ("A", "B", "C"):
        await factory.employee(name=name)
    statement = Prebuilt(
        select(Employee.name).order_by(Employee.id).limit(bindparam("page_limit", type_=Integer, literal_execute=True))
    )
    # when
    two = await statement.fetch(session, {"page_limit": 2})
    three = await statement.fetch(session, {"page_limit": 3})
    # then
    assert len(two) == 2
    assert len(three) == 3
    with pytest.raises(TypeError):
        await statement.fetch(session, {"page_limit": "2; DROP TABLE employees"})


async def test_the_first_statement_of_a_transaction_opens_it(engine: AsyncEngine) -> None:
    makers = SessionMakers.on(engine)
    async with makers.write() as session:
        # when: two prebuilt reads a moment apart, the first one the first statement of the session
        first = await NOW.first(session)
        await asyncio.sleep(0.01)
        second = await NOW.first(session)
        through_sqlalchemy = await session.scalar(select(func.now()))
        await session.rollback()
    # then: one transaction, one now()
    assert first is not None
    assert second is not None
    assert first["now"] == second["now"] == through_sqlalchemy


async def test_each_transaction_reads_on_its_own_connection(database_url: str) -> None:
    # given: a pool of two connections, one opened so far, so a connection handed back is the next one taken
    engine = create_engine(database_url, pool_size=2)
    makers = SessionMakers.on(engine)
    backend = Prebuilt(select(func.pg_backend_pid(type_=Integer).label("pid"), func.txid_current(type_=BigInteger)))
    try:
        async with makers.write() as session:
            first, second = await backend.fetch(session), await backend.fetch(session)
            await session.commit()  # hands its connection back to the pool
            # when: another session takes that connection, and the first one reads again
            async with makers.write() as other:
                taken = await backend.fetch(other)
                after_commit = await backend.fetch(session)
                await other.rollback()
            await session.rollback()
    finally:
        await engine.dispose()
    # then: one transaction on one connection, then a new transaction on another connection, not the one taken
    assert first == second
    assert taken[0]["pid"] == first[0]["pid"]
    assert after_commit[0]["pid"] != taken[0]["pid"]


async def test_a_query_session_reads_in_autocommit(engine: AsyncEngine) -> None:
    makers = SessionMakers.on(engine)
    async with makers(query=True)() as session:
        first = await NOW.first(session)
        await asyncio.sleep(0.01)
        second = await NOW.first(session)
    # then: no transaction held them together
    assert first is not None
    assert second is not None
    assert first["now"] < second["now"]


async def test_statement_listeners_see_prebuilt_statements(
    session: AsyncSession, sql_statements: StatementCounter
) -> None:
    # given: the session has begun (its savepoint is a statement too)
    await session.connection()
    before = sql_statements.count
    # when
    await NOW.fetch(session)
    # then
    assert sql_statements.count == before + 1
    assert "now()" in sql_statements.statements[-1]


async def test_database_errors_arrive_as_sqlalchemy_errors(session: AsyncSession) -> None:
    with pytest.raises(DBAPIError):
        await Prebuilt(select(literal_column("1 / 0", Integer).label("boom"))).fetch(session)


def test_statements_the_driver_cannot_run_as_they_are_are_refused() -> None:
    # a list in IN (...) is rendered per length
    with pytest.raises(TypeError, match="expanding"):
        Prebuilt(select(Employee.id).where(Employee.id.in_(bindparam("ids", expanding=True))))
    # two columns of one key would shadow each other in a dict
    with pytest.raises(ValueError, match="share a key"):
        Prebuilt(select(Employee.id, Role.id))


def test_enum_columns_are_converted() -> None:
    statement = Prebuilt(select(TimeEntry.status))
    assert [(key, convert("J")) for key, convert in statement._convert] == [("status", TimeStatus.BILLABLE)]


class Shouted(TypeDecorator[str]):
    """Text that SQLAlchemy converts when it reads it: the driver cannot read it as asyncpg gives it."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()


async def _kinds(session: AsyncSession) -> Table:
    """A temporary table of arrays, JSONB and a converted text, gone with the test's transaction."""
    table = Table(
        "prebuilt_kinds",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("tags", ARRAY(Text)),
        Column("counts", ARRAY(Integer)),
        Column("doc", JSONB),
        Column("shouted", Shouted),
        prefixes=["TEMPORARY"],
    )
    await session.run_sync(lambda sync: table.create(sync.connection()))
    await session.execute(
        insert(table),
        [
            {"id": 1, "tags": ["a", "b c"], "counts": [1, 2], "doc": {"k": [1, "x", None], "n": 2.5}, "shouted": "hi"},
            {"id": 2, "tags": [], "counts": None, "doc": None, "shouted": None},
        ],
    )
    return table


async def test_array_and_jsonb_columns_are_read_as_asyncpg_gives_them(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    # given
    table = await _kinds(session)
    statement = select(table.c.id, table.c.tags, table.c.counts, table.c.doc).order_by(table.c.id)
    prebuilt = Prebuilt(statement)
    # when
    on_session, on_link = await prebuilt.fetch(session), await prebuilt.fetch(Link(connection))
    # then: the driver's own path, with SQLAlchemy's values: lists, and JSON decoded
    assert prebuilt.fallback is None
    assert on_session == on_link == [dict(row._mapping) for row in await session.execute(statement)]
    assert on_session[0]["tags"] == ["a", "b c"]
    assert on_session[0]["doc"] == {"k": [1, "x", None], "n": 2.5}


async def test_a_type_the_driver_cannot_convert_runs_through_sqlalchemy(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    # given: a column SQLAlchemy converts, and an enum bind parameter
    table = await _kinds(session)
    column = Prebuilt(select(table.c.id, table.c.shouted).order_by(table.c.id))
    bound = Prebuilt(select(TimeEntry.id).where(TimeEntry.status == bindparam("status", type_=TimeEntry.status.type)))
    # when
    rows, on_link = await column.fetch(session), await column.fetch(Link(connection))
    records = await column.records(session)
    none_billable = await bound.fetch(session, {"status": TimeStatus.BILLABLE})
    # then: the rows SQLAlchemy reads, by key and by position
    assert column.fallback is not None
    assert "shouted" in column.fallback
    assert bound.fallback is not None
    assert "needs conversion" in bound.fallback
    assert rows == on_link == [DriverRow(id=1, shouted="HI"), DriverRow(id=2, shouted=None)]
    assert [tuple(record) for record in records] == [(1, "HI"), (2, None)]
    assert none_billable == []
