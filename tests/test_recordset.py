"""db.recordset: rows bound as one JSON parameter come back from PostgreSQL exactly as they were, typed by the
recordset's columns, in a prebuilt statement and through SQLAlchemy alike; and the planner is told their count."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Date, Integer, Numeric, Text, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import Prebuilt
from db.recordset import Recordset

ROWS = Recordset(
    "rows",
    (
        ("i", Integer),
        ("id", BigInteger),
        ("day", Date),
        ("amount", Numeric(16, 2)),
        ("note", Text),
        ("tags", ARRAY(Text)),
    ),
)
READ = Prebuilt(select(ROWS.table).order_by(ROWS.c.i))

TEXTS = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=30)
ROW = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "day": st.dates(),
        "amount": st.decimals(
            min_value=Decimal("-99999999999999.99"), max_value=Decimal("99999999999999.99"), places=2
        ),
        "note": st.none() | TEXTS,
        "tags": st.lists(TEXTS, max_size=4),
    }
)
TWIN = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@TWIN
@given(rows=st.lists(ROW, max_size=6))
async def test_rows_come_back_exactly(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    numbered = [{"i": i, **row} for i, row in enumerate(rows, 1)]
    assert await READ.fetch(session, ROWS.bind(numbered)) == numbered


async def test_through_sqlalchemy_too(session: AsyncSession) -> None:
    row = {
        "i": 1,
        "id": 7,
        "day": date(2026, 2, 28),
        "amount": Decimal("0.10"),
        "note": 'a "quoted" \\ line',
        "tags": [],
    }
    result = await session.execute(select(ROWS.table), ROWS.bind([row]))
    assert [dict(r._mapping) for r in result] == [row]


async def test_a_missing_key_reads_as_null(session: AsyncSession) -> None:
    (row,) = await READ.fetch(session, ROWS.bind([{"i": 1, "id": 3}]))
    assert row == {"i": 1, "id": 3, "day": None, "amount": None, "note": None, "tags": None}


async def test_the_planner_is_told_the_count(session: AsyncSession) -> None:
    # a set-returning function is planned for 100 rows; the count bound with the rows is what it plans for instead
    bound = select(ROWS.table).params(ROWS.bind([{"i": i} for i in range(1, 4)]))
    sql = bound.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[no-untyped-call]
    plan: Any = (await (await session.connection()).exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}")).scalar()
    assert plan[0]["Plan"]["Plan Rows"] == 3
