"""Strict scalars: Decimal money as a string with 2 decimals, ISO dates (SPEC 5b)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import re

import strawberry

from graph.strawberry_internals import DateTimeDefinition, ScalarDefinition
from services import validation

# ASCII digits only: `\d` would let "١٢٣" through, and `$` would accept a trailing newline
_DECIMAL = re.compile(r"[+-]?[0-9]{1,20}(?:\.[0-9]{1,20})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _parse_decimal(value: object) -> decimal.Decimal:
    # JSON numbers (float or int) are refused: money travels as text so no float ever touches it
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value.strip()):
        raise ValueError('Decimal must be a string such as "125.50"')
    return decimal.Decimal(value.strip())


def serialize_decimal(value: decimal.Decimal) -> str:
    # a NUMERIC(12,2) value already prints with two decimals: `str` is ~40% cheaper than formatting (a report
    # writes two amounts for each of thousands of rows); any other scale or an exponent is formatted
    text = str(value)
    if text[-3:-2] == "." and "E" not in text:
        return text
    return f"{value:.2f}"


def _parse_date(value: object) -> datetime.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("Date must look like 2026-11-23")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{validation.clipped(value)} is not a calendar date") from None


SCALAR_MAP: dict[object, ScalarDefinition] = {
    decimal.Decimal: strawberry.scalar(
        name="Decimal",
        description='Money or a rate as a string with 2 decimals, e.g. "125.50"',
        serialize=serialize_decimal,
        parse_value=_parse_decimal,
    ),
    datetime.date: strawberry.scalar(
        name="Date",
        description='ISO 8601 calendar date, e.g. "2026-11-23"',
        serialize=datetime.date.isoformat,
        parse_value=_parse_date,
    ),
    # Strawberry's own, described as the API writes it: every timestamp is stored with its time zone
    datetime.datetime: dataclasses.replace(
        DateTimeDefinition, description='ISO 8601 date and time with its UTC offset, e.g. "2026-11-23T09:30:00+00:00"'
    ),
}
