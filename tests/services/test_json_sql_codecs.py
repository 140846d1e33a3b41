"""The SQL twins of the API's encodings (services.json_sql, services.entry_json) against the Python ones
(graph.ids, graph.pagination): one SELECT per example, values up to each column type's extremes, where the base64
of a longer text would break into lines."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Date, Integer, String, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from graph.pagination import encode_cursor
from services.entry_json import _cursor
from services.json_sql import ONE_LINE, base64url, encoded_id, sql_text
from services.paging import Keyset

INT4 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
INT8 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
# asyncpg sends date.max as infinity
DAYS = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 30))
TWIN = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


async def _json_string(session: AsyncSession, expression: Any) -> str:
    written = await session.scalar(select(expression))
    assert isinstance(written, str)
    assert written[0] == written[-1] == '"'
    return written[1:-1]


class TestIdsWrittenBySql:
    @TWIN
    @given(number=st.integers(min_value=1, max_value=2**63 - 1))
    @example(number=2**63 - 1)
    @example(number=1)
    async def test_equal_the_apis_ids_up_to_the_largest_key(self, session: AsyncSession, number: int) -> None:
        # when
        written = await _json_string(session, encoded_id("TimeEntry:", literal(number, BigInteger)))
        # then
        assert written == ids.encode("TimeEntry", number)
        assert "\n" not in written


class TestCursorsWrittenBySql:
    @TWIN
    @given(day=DAYS, small=INT4, large=INT8)
    @example(day=date(9999, 12, 30), small=-(2**31), large=-(2**63))
    async def test_equal_the_apis_cursors_for_dates_and_integers(
        self, session: AsyncSession, day: date, small: int, large: int
    ) -> None:
        # given: a key of three bounded columns, longer than one line of base64 at its extremes
        keyset = Keyset((literal(day, Date).label("d"), literal(small, Integer).label("s"), literal(large, BigInteger)))
        # when
        written = await _json_string(session, _cursor(keyset))
        # then
        assert written == encode_cursor([day, small, large])

    def test_refuse_a_text_key(self) -> None:
        with pytest.raises(TypeError, match="only dates and integers"):
            _cursor(Keyset((literal("x", String).label("n"),)))


async def test_a_wrong_bound_would_let_a_line_break_through(session: AsyncSession) -> None:
    """Negative control: the bound is what keeps PostgreSQL's line breaks out of a one-line encoding."""
    longer = "x" * (ONE_LINE + 1)
    # when
    right = str(await session.scalar(select(base64url(sql_text(longer), most_bytes=ONE_LINE + 1))))
    wrong = str(await session.scalar(select(base64url(sql_text(longer), most_bytes=ONE_LINE))))
    # then
    assert "\n" not in right
    assert "\n" in wrong
