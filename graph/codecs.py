"""The API's wire encodings, each once: a Python twin that writes a stored value as the answer's JSON value, and an
SQL twin that writes a column's value as that JSON's text, for answers PostgreSQL writes (`graph.compiler`).

Every SQL twin writes `null` for NULL (one NULL part would make a whole `||` chain NULL) and is tested against its
Python twin with one SELECT per example (tests/graph/test_codecs.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Date, Integer, String, Text, case, cast, extract, func
from sqlalchemy.sql import ColumnElement

from graph import ids
from graph.scalars import serialize_decimal
from services.json_sql import (
    FALSE,
    NULL,
    TRUE,
    Column,
    Joined,
    base64url,
    digits,
    encoded_id,
    json_constant,
    sql_text,
)

_ISO_DATE = sql_text("YYYY-MM-DD")
_ISO_SECONDS = sql_text('YYYY-MM-DD"T"HH24:MI:SS')


@dataclass(frozen=True, slots=True)
class Codec:
    """One wire type: `python` writes a value, `value` the JSON text of a column's value that is not NULL."""

    name: str
    python: Callable[[Any], Any]
    value: Callable[[Column], ColumnElement[str]]
    # an object's field holds the stored value and Strawberry writes it, except where the stored value is not the
    # field's (a row's key, the field its global ID): the object holds the Python twin's value
    on_objects: bool = False

    def sql(self, column: Column, *, nullable: bool = True) -> ColumnElement[str]:
        """The JSON text of the column's value, `null` when NULL; a column known not NULL skips the test."""
        if not nullable:
            return self.value(column)
        return case((column.is_(None), NULL), else_=self.value(column))


def _quoted(text: ColumnElement[str]) -> ColumnElement[str]:
    return Joined([sql_text('"'), text, sql_text('"')])


def _same(value: Any) -> Any:
    return value


INT = Codec("Int", _same, lambda column: cast(column, Text))
# a key that is no node's, answered as a String of its digits (`WebhookDelivery.eventId`)
NUMBER_TEXT = Codec("String of a number", str, lambda column: _quoted(cast(column, Text)), on_objects=True)
BOOLEAN = Codec("Boolean", _same, lambda column: case((column, TRUE), else_=FALSE))
# PostgreSQL's to_json escapes what JSON needs and nothing more, as the answer's own writer does
TEXT = Codec("String", _same, lambda column: cast(func.to_json(column), Text))
# to_json writes a one-dimensional text[] with no NULL item (the columns' CHECKs) as a JSON array of TEXT's strings
TEXT_LIST = Codec("[String!]", list, lambda column: cast(func.to_json(column), Text))
INT_LIST = Codec("[Int!]", list, lambda column: cast(func.to_json(column), Text))
DATE = Codec("Date", date.isoformat, lambda column: _quoted(func.to_char(column, _ISO_DATE)))
# NUMERIC(12,2) prints with its two decimals, as the API's Decimal does
MONEY = Codec("Decimal", serialize_decimal, lambda column: _quoted(cast(column, Text)))


def _iso_datetime(column: Column) -> ColumnElement[str]:
    """`datetime.isoformat` of the UTC value asyncpg reads: microseconds only when there are any."""
    utc = func.timezone(sql_text("UTC"), column)
    fraction = case(
        (extract("microseconds", utc) % 1_000_000 == 0, sql_text("")),
        else_=Joined([sql_text("."), func.to_char(utc, sql_text("US"))]),
    )
    return _quoted(Joined([func.to_char(utc, _ISO_SECONDS), fraction, sql_text("+00:00")]))


DATETIME = Codec("DateTime", datetime.isoformat, _iso_datetime)


def enum(cls: type[Enum]) -> Codec:
    """An enum stored by value and answered by member name."""
    names = tuple((member.value, json_constant(member.name)) for member in cls)
    return Codec(
        cls.__name__,
        lambda member: member.name,
        lambda column: case(*((column == sql_text(value), name) for value, name in names)),
    )


def global_id(type_name: str) -> Codec:
    """A row's key as its opaque global ID."""
    prefix = ids.prefix(type_name)
    return Codec(
        f"ID of {type_name}",
        lambda db_id: ids.encode(type_name, db_id),
        lambda column: encoded_id(prefix, column),
        on_objects=True,
    )


def cursor_sql(columns: Sequence[Column]) -> ColumnElement[str]:
    """The JSON string of a row's cursor over `columns` (a keyset's: never NULL), as its Python twin
    `graph.pagination.encode_cursor` writes it: dates tagged {"d": ...}, texts as JSON strings."""
    parts: list[ColumnElement[str]] = []
    most: int | None = 1  # the JSON text's bytes while every key's length is bounded: "]", then each key and "[" or ","
    for column in columns:
        parts.append(sql_text("[" if not parts else ","))
        if isinstance(column.type, Date):
            parts += [sql_text('{"d":"'), func.to_char(column, _ISO_DATE), sql_text('"}')]
            most = None if most is None else most + 1 + len('{"d":"2026-11-23"}')
        elif isinstance(column.type, Integer):
            parts.append(cast(column, Text))
            most = None if most is None else most + 1 + digits(column.type)
        elif isinstance(column.type, String):
            parts.append(cast(func.to_json(column), Text))
            most = None
        else:
            raise TypeError(f"{column}: a cursor holds dates, integers and texts only")
    text = Joined([*parts, sql_text("]")])
    return _quoted(base64url(text, padded=True, most_bytes=most))
