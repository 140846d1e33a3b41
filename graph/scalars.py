"""Strict scalars: Decimal money as a string with 2 decimals, ISO dates (SPEC 5b)."""

from __future__ import annotations

import datetime
import decimal
import re

import strawberry
from strawberry.types.scalar import ScalarDefinition

_DECIMAL = re.compile(r"^[+-]?\d{1,20}(\.\d{1,20})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_decimal(value: object) -> decimal.Decimal:
    # JSON numbers (float or int) are refused: money travels as text so no float ever touches it
    if not isinstance(value, str) or not _DECIMAL.match(value.strip()):
        raise ValueError('Decimal must be a string such as "125.50"')
    return decimal.Decimal(value.strip())


def _serialize_decimal(value: decimal.Decimal) -> str:
    return f"{value:.2f}"


def _parse_date(value: object) -> datetime.date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("Date must look like 2026-11-23")
    return datetime.date.fromisoformat(value)


SCALAR_MAP: dict[object, ScalarDefinition] = {
    decimal.Decimal: strawberry.scalar(
        name="Decimal",
        description='Money or a rate as a string with 2 decimals, e.g. "125.50"',
        serialize=_serialize_decimal,
        parse_value=_parse_decimal,
    ),
    datetime.date: strawberry.scalar(
        name="Date",
        description='ISO 8601 calendar date, e.g. "2026-11-23"',
        serialize=datetime.date.isoformat,
        parse_value=_parse_date,
    ),
}
