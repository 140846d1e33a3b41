"""Properties of the arithmetic of time writing: amounts agree with PostgreSQL's NUMERIC rounding (SPEC 4),
every date lies in exactly one book year, and the cap split never overshoots (SPEC 6)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from math import gcd

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.book_year import book_year_of
from services.cap import split_amount, split_minutes
from services.rates import amount

CENT = Decimal("0.01")
MAX_RATE_CENTS = 9_999_999  # 99,999.99
PG_ROUND = text("SELECT round(CAST(:m AS numeric) * CAST(:r AS numeric) / 60, 2)")

minutes_st = st.integers(min_value=1, max_value=1440)
rates_st = st.integers(min_value=1, max_value=MAX_RATE_CENTS).map(lambda cents: Decimal(cents) * CENT)
money_st = st.integers(min_value=0, max_value=10_000_000).map(lambda cents: Decimal(cents) * CENT)
start_months = st.integers(min_value=1, max_value=12)
dates_st = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def ties(draw: st.DrawFn) -> tuple[int, Decimal]:
    """(minutes, rate) with minutes x rate / 60 ending in exactly 5 at the third decimal.

    With the rate in cents c, the amount is m·c/6000, a tie when m·c ≡ 30 (mod 60); solvable when gcd(m, 60)
    divides 30, and then c runs through one residue modulo 60/gcd(m, 60).
    """
    minutes = draw(minutes_st.filter(lambda m: 30 % gcd(m, 60) == 0))
    step = 60 // gcd(minutes, 60)
    first = next(c for c in range(1, step + 1) if minutes * c % 60 == 30)
    cents = first + step * draw(st.integers(min_value=0, max_value=(MAX_RATE_CENTS - first) // step))
    return minutes, Decimal(cents) * CENT


def is_tie(minutes: int, rate: Decimal) -> bool:
    thousandths = Decimal(minutes) * rate / 60 * 1000
    return thousandths == thousandths.to_integral_value() and int(thousandths) % 10 == 5


async def postgres_amount(session: AsyncSession, minutes: int, rate: Decimal) -> Decimal:
    result = await session.scalar(PG_ROUND, {"m": Decimal(minutes), "r": rate})
    assert isinstance(result, Decimal)
    return result


class TestAmountAgreesWithPostgres:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(minutes=minutes_st, rate=rates_st)
    @example(minutes=1, rate=Decimal("0.01"))
    @example(minutes=1440, rate=Decimal("99999.99"))
    @example(minutes=59, rate=Decimal("0.01"))
    async def test_any_minutes_and_rate(self, session: AsyncSession, minutes: int, rate: Decimal) -> None:
        # when
        ours, theirs = amount(minutes, rate), await postgres_amount(session, minutes, rate)
        # then
        assert ours == theirs
        assert ours.as_tuple().exponent == -2

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(pair=ties())
    @example(pair=(1, Decimal("0.30")))
    @example(pair=(1, Decimal("0.90")))
    @example(pair=(3, Decimal("0.10")))
    @example(pair=(30, Decimal("0.01")))
    @example(pair=(7, Decimal("12.30")))
    @example(pair=(1, Decimal("99999.90")))
    @example(pair=(1410, Decimal("99999.97")))
    async def test_ties_round_up_in_both(self, session: AsyncSession, pair: tuple[int, Decimal]) -> None:
        # given
        minutes, rate = pair
        assert is_tie(minutes, rate)
        # when
        ours, theirs = amount(minutes, rate), await postgres_amount(session, minutes, rate)
        # then
        assert ours == theirs
        assert ours == Decimal(minutes) * rate / 60 + Decimal("0.005")  # half a cent up, never down


class TestBookYearOf:
    @settings(max_examples=400, deadline=None)
    @given(day=dates_st, start_month=start_months)
    @example(day=date(2024, 2, 29), start_month=2)
    @example(day=date(2024, 2, 29), start_month=3)
    @example(day=date(2000, 1, 1), start_month=1)
    @example(day=date(2000, 1, 1), start_month=12)
    @example(day=date(2100, 12, 31), start_month=1)
    @example(day=date(2100, 12, 31), start_month=12)
    @example(day=date(2026, 12, 31), start_month=1)
    @example(day=date(2027, 1, 1), start_month=1)
    @example(day=date(2026, 3, 31), start_month=4)
    @example(day=date(2026, 4, 1), start_month=4)
    def test_each_date_lies_in_exactly_one_book_year(self, day: date, start_month: int) -> None:
        # when
        year = book_year_of(day, start_month)
        # then: it holds the day, starts on the first of the start month and lasts twelve months
        assert year.start <= day < year.end
        assert (year.start.month, year.start.day) == (start_month, 1)
        assert (year.end.year, year.end.month, year.end.day) == (year.start.year + 1, start_month, 1)
        assert book_year_of(year.start, start_month) == year
        assert book_year_of(year.last_day, start_month) == year
        # and no other book year does: of the candidates around it, exactly one holds the day
        candidates = [book_year_of(date(y, start_month, 1), start_month) for y in range(day.year - 2, day.year + 2)]
        assert [c for c in candidates if c.start <= day < c.end] == [year]

    @settings(max_examples=400, deadline=None)
    @given(day=dates_st, start_month=start_months)
    @example(day=date(2024, 2, 29), start_month=3)
    @example(day=date(2024, 3, 1), start_month=3)
    @example(day=date(2026, 1, 1), start_month=1)
    @example(day=date(2025, 12, 31), start_month=1)
    def test_neighbours_share_the_year_unless_a_boundary_lies_between(self, day: date, start_month: int) -> None:
        # given
        before, after = day - timedelta(days=1), day + timedelta(days=1)
        year = book_year_of(day, start_month)
        # when
        year_before, year_after = book_year_of(before, start_month), book_year_of(after, start_month)
        # then
        if day == year.start:
            assert year_before.end == year.start
        else:
            assert year_before == year
        if after == year.end:
            assert year_after.start == year.end
        else:
            assert year_after == year


class TestSplitMinutes:
    @settings(max_examples=500, deadline=None)
    @given(
        limit=st.integers(min_value=0, max_value=1_000_000),
        used=st.integers(min_value=0, max_value=2_000_000),
        requested=minutes_st,
    )
    @example(limit=100, used=100, requested=1)
    @example(limit=100, used=99, requested=1)
    @example(limit=100, used=150, requested=1440)
    def test_never_more_than_the_space_left(self, limit: int, used: int, requested: int) -> None:
        # when
        fits, excess = split_minutes(limit=limit, used=used, requested=requested)
        # then
        assert fits + excess == requested
        assert 0 <= fits <= max(limit - used, 0)
        assert excess >= 0
        assert fits == requested or fits == max(limit - used, 0)  # nothing that fits is parked


class TestSplitAmount:
    @settings(max_examples=500, deadline=None)
    @given(
        limit=money_st,
        used=st.integers(min_value=0, max_value=20_000_000).map(lambda cents: Decimal(cents) * CENT),
        requested=minutes_st,
        rate=rates_st,
    )
    @example(limit=Decimal("100.00"), used=Decimal("70.00"), requested=60, rate=Decimal("70.00"))
    @example(limit=Decimal("0.01"), used=Decimal("0.00"), requested=1, rate=Decimal("0.61"))
    @example(limit=Decimal("0.02"), used=Decimal("0.00"), requested=2, rate=Decimal("0.90"))
    @example(limit=Decimal("100.00"), used=Decimal("100.01"), requested=10, rate=Decimal("0.01"))
    @example(limit=Decimal("99999.99"), used=Decimal("0.00"), requested=1440, rate=Decimal("99999.99"))
    def test_never_more_than_the_money_left(self, limit: Decimal, used: Decimal, requested: int, rate: Decimal) -> None:
        # given
        space = max(limit - used, Decimal(0))
        # when
        fits, excess = split_amount(limit=limit, used=used, requested=requested, rate=rate)
        # then
        assert fits + excess == requested
        assert fits >= 0
        assert excess >= 0
        assert amount(fits, rate) <= space
        assert fits * rate <= space * 60  # the unrounded value fits too
        if excess:  # one more whole minute would not have fitted: floor(space x 60 / rate)
            assert (fits + 1) * rate > space * 60

    @settings(max_examples=100, deadline=None)
    @given(limit=money_st, used=money_st, requested=minutes_st)
    def test_free_time_always_fits(self, limit: Decimal, used: Decimal, requested: int) -> None:
        # when
        fits, excess = split_amount(limit=limit, used=used, requested=requested, rate=Decimal("0.00"))
        # then
        assert (fits, excess) == (requested, 0)
