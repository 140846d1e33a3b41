"""The Decimal scalar writes every value with two decimals, whichever way it takes to get there."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from graph.scalars import SCALAR_MAP


def _serialize(value: Decimal) -> str:
    definition = SCALAR_MAP[Decimal]
    assert definition.serialize is not None
    text: str = definition.serialize(value)
    return text


@given(
    st.decimals(allow_nan=False, allow_infinity=False) | st.decimals(places=2, min_value=-(10**10), max_value=10**10)
)
def test_any_scale_or_exponent_serializes_like_two_decimal_formatting(value: Decimal) -> None:
    assert _serialize(value) == f"{value:.2f}"


def test_money_keeps_its_text() -> None:
    assert [_serialize(Decimal(v)) for v in ("125.50", "-0.00", "0.005", "1E+3", "12.340")] == [
        "125.50",
        "-0.00",
        "0.00",
        "1000.00",
        "12.34",
    ]
