"""Each wire codec's SQL twin (graph.codecs) against its Python twin: one SELECT per example, values up to each
column type's extremes and NULL, and the API's documented forms (SPEC 5b: money with two decimals, ISO dates,
enums by name)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    cast,
    func,
    literal,
    null,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from graph import codecs, ids
from graph.codecs import Codec
from graph.pagination import encode_cursor
from models import CapBasis, CapKind, EmployeeVisibility, EntrySource, TimeStatus
from services.json_sql import ONE_LINE, base64url, sql_text

INT4 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
INT8 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
# asyncpg sends date.min and date.max as -infinity and infinity
DAYS = st.dates(min_value=date(1, 1, 2), max_value=date(9999, 12, 30))
MONEY = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2)
# hypothesis bounds are naive; every value it draws is in UTC
MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))  # noqa: DTZ001
TEXTS = st.text(
    st.characters(exclude_characters="\x00", categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf")), max_size=60
)
TWIN = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


async def _written(session: AsyncSession, codec: Codec, value: Any, type_: Any) -> Any:
    """The codec's SQL twin run on `value` as a column of `type_`, read back as JSON; a value that is not NULL is
    written alike whether or not its column may be NULL."""
    column = cast(null(), type_) if value is None else literal(value, type_)
    text = await session.scalar(select(codec.sql(column)))
    assert isinstance(text, str)
    if value is not None:
        assert await session.scalar(select(codec.sql(column, nullable=False))) == text
    return orjson.loads(text)


def _expected(codec: Codec, value: Any) -> Any:
    return None if value is None else codec.python(value)


class TestScalars:
    @TWIN
    @given(value=INT4 | st.none())
    @example(value=-(2**31))
    async def test_int(self, session: AsyncSession, value: int | None) -> None:
        assert await _written(session, codecs.INT, value, Integer) == _expected(codecs.INT, value)

    @TWIN
    @given(value=INT8 | st.none())
    @example(value=-(2**63))
    async def test_number_text(self, session: AsyncSession, value: int | None) -> None:
        assert await _written(session, codecs.NUMBER_TEXT, value, BigInteger) == _expected(codecs.NUMBER_TEXT, value)

    @TWIN
    @given(value=st.booleans() | st.none())
    async def test_boolean(self, session: AsyncSession, value: bool | None) -> None:
        assert await _written(session, codecs.BOOLEAN, value, Boolean) == _expected(codecs.BOOLEAN, value)

    @TWIN
    @given(value=TEXTS | st.none())
    @example(value='Said "no" \\ twice\nline\ttab\x01\x7f Zürich — ☕ \U0001f600')
    async def test_text(self, session: AsyncSession, value: str | None) -> None:
        assert await _written(session, codecs.TEXT, value, Text) == _expected(codecs.TEXT, value)

    @TWIN
    @given(value=st.lists(TEXTS, max_size=12) | st.none())
    @example(value=[])
    @example(value=['Said "no"', "back\\slash", "line\nbreak\ttab\x01\x1f\x7f", "Zürich — ☕ \U0001f600", "\u2028", ""])
    async def test_text_list(self, session: AsyncSession, value: list[str] | None) -> None:
        written = await _written(session, codecs.TEXT_LIST, value, ARRAY(Text))
        assert written == _expected(codecs.TEXT_LIST, value)

    @TWIN
    @given(value=st.lists(st.integers(-32768, 32767), max_size=12) | st.none())
    @example(value=[])
    async def test_int_list(self, session: AsyncSession, value: list[int] | None) -> None:
        written = await _written(session, codecs.INT_LIST, value, ARRAY(SmallInteger))
        assert written == _expected(codecs.INT_LIST, value)

    @TWIN
    @given(value=DAYS | st.none())
    @example(value=date(1, 1, 2))
    @example(value=date(9999, 12, 30))
    async def test_date(self, session: AsyncSession, value: date | None) -> None:
        assert await _written(session, codecs.DATE, value, Date) == _expected(codecs.DATE, value)

    @TWIN
    @given(value=MONEY | st.none())
    @example(value=Decimal("0.00"))
    @example(value=Decimal("9999999999.99"))
    async def test_money(self, session: AsyncSession, value: Decimal | None) -> None:
        assert await _written(session, codecs.MONEY, value, Numeric(12, 2)) == _expected(codecs.MONEY, value)

    @TWIN
    @given(value=MOMENTS | st.none())
    @example(value=datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    @example(value=datetime(2026, 11, 23, 9, 30, 0, 500, tzinfo=UTC))
    @example(value=datetime(999, 1, 2, 0, 0, 0, 999999, tzinfo=UTC))
    async def test_datetime(self, session: AsyncSession, value: datetime | None) -> None:
        written = await _written(session, codecs.DATETIME, value, DateTime(timezone=True))
        assert written == _expected(codecs.DATETIME, value)

    @pytest.mark.parametrize("enum", [TimeStatus, EntrySource, CapKind, CapBasis, EmployeeVisibility])
    async def test_every_member_of_every_enum_by_name(self, session: AsyncSession, enum: type[Enum]) -> None:
        codec = codecs.enum(enum)
        for member in [*enum, None]:
            value = None if member is None else member.value
            assert await _written(session, codec, value, String) == _expected(codec, member)


class TestSpecForms:
    """The forms SPEC 5b gives, written by both twins alike."""

    @pytest.mark.parametrize(
        ("codec", "value", "type_", "wire"),
        [
            (codecs.MONEY, Decimal("125.50"), Numeric(12, 2), "125.50"),
            (codecs.DATE, date(2026, 11, 23), Date, "2026-11-23"),
            (
                codecs.DATETIME,
                datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
                DateTime(timezone=True),
                "2026-11-23T09:30:00+00:00",
            ),
            (codecs.enum(TimeStatus), "J", String, "BILLABLE"),
            (codecs.global_id("TimeEntry"), 1, BigInteger, "VGltZUVudHJ5OjE"),
        ],
    )
    async def test_wire_form(self, session: AsyncSession, codec: Codec, value: Any, type_: Any, wire: str) -> None:
        python_value = TimeStatus(value) if codec.name == "TimeStatus" else value
        assert codec.python(python_value) == wire
        assert await _written(session, codec, value, type_) == wire


class TestIds:
    @TWIN
    @given(number=st.integers(min_value=1, max_value=2**63 - 1))
    @example(number=2**63 - 1)
    @example(number=1)
    async def test_equal_the_apis_ids_up_to_the_largest_key(self, session: AsyncSession, number: int) -> None:
        codec = codecs.global_id("TimeEntry")
        written = await _written(session, codec, number, BigInteger)
        assert written == ids.encode("TimeEntry", number)
        assert "\n" not in written
        assert ids.decode(written, "TimeEntry") == number

    async def test_null_key_is_null(self, session: AsyncSession) -> None:
        assert await _written(session, codecs.global_id("Case"), None, BigInteger) is None


class TestCursors:
    @TWIN
    @given(day=DAYS, small=INT4, large=INT8)
    @example(day=date(9999, 12, 30), small=-(2**31), large=-(2**63))
    async def test_equal_the_apis_cursors_for_dates_and_integers(
        self, session: AsyncSession, day: date, small: int, large: int
    ) -> None:
        # given: a key of three bounded columns, longer than one line of base64 at its extremes
        columns = (literal(day, Date).label("d"), literal(small, Integer).label("s"), literal(large, BigInteger))
        # when
        written = await session.scalar(select(codecs.cursor_sql(columns)))
        # then
        assert isinstance(written, str)
        assert orjson.loads(written) == encode_cursor([day, small, large])

    @TWIN
    @given(name=TEXTS, number=INT8)
    @example(name='Olga "O" \\ \n\t\x01\x1f\x7f Zürich ☕ \U0001f600' * 3, number=1)
    async def test_equal_the_apis_cursors_for_texts(self, session: AsyncSession, name: str, number: int) -> None:
        # given: a key of a text and an integer, as lists by name or code have
        columns = (literal(name, String).label("n"), literal(number, BigInteger).label("i"))
        # when
        written = await session.scalar(select(codecs.cursor_sql(columns)))
        # then
        assert isinstance(written, str)
        assert orjson.loads(written) == encode_cursor([name, number])

    def test_refuse_a_key_of_another_type(self) -> None:
        with pytest.raises(TypeError, match="dates, integers and texts only"):
            codecs.cursor_sql((literal(True, Boolean).label("b"),))


async def test_a_wrong_bound_would_let_a_line_break_through(session: AsyncSession) -> None:
    """Negative control: the bound is what keeps PostgreSQL's line breaks out of a one-line encoding."""
    longer = "x" * (ONE_LINE + 1)
    # when
    right = str(await session.scalar(select(base64url(sql_text(longer), most_bytes=ONE_LINE + 1))))
    wrong = str(await session.scalar(select(base64url(sql_text(longer), most_bytes=ONE_LINE))))
    # then
    assert "\n" not in right
    assert "\n" in wrong


async def test_a_wrong_twin_is_caught(session: AsyncSession) -> None:
    """Negative control: PostgreSQL's own JSON for a timestamp (trailing zeros of the fraction cut) is not the API's."""
    naive = Codec("DateTime", datetime.isoformat, lambda column: cast(func.to_json(column), Text))
    moment = datetime(2026, 11, 23, 9, 30, 0, 500000, tzinfo=UTC)
    assert await _written(session, naive, moment, DateTime(timezone=True)) != naive.python(moment)
