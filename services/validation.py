"""Input rules of SPEC 5b, shared by every service that takes user input."""

from __future__ import annotations

import re
from collections.abc import Sized
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Integer, SmallInteger
from sqlalchemy.types import TypeEngine

from services.errors import DomainError, ErrorCode, invalid

MAX_MONEY = Decimal("99999999.99")
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
NAME_MAX = 200
DESCRIPTION_MAX = 4000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_BULK = 500
QUOTE_MAX = 100
# a quoted span of a message: '…' or "…", with backslash escapes (repr, GraphQL string literals, names)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" r'|"(?:[^"\\]|\\.)*"', re.DOTALL)


def name(value: str | None, field: str, *, max_length: int = NAME_MAX) -> str:
    """A required text: trimmed, 1..max_length characters."""
    if value is None:
        raise invalid(f"{field} may not be empty", field)
    trimmed = value.strip()
    if not 1 <= len(trimmed) <= max_length:
        raise invalid(f"{field} must be 1 to {max_length} characters", field)
    if "\x00" in trimmed:
        raise invalid(f"{field} may not contain NUL characters", field)
    return trimmed


def description(value: str | None, field: str = "description") -> str | None:
    """An optional text: trimmed, at most 4,000 characters; empty becomes null."""
    if value is None:
        return None
    trimmed = value.strip()
    if len(trimmed) > DESCRIPTION_MAX:
        raise invalid(f"{field} may be at most {DESCRIPTION_MAX} characters", field)
    if "\x00" in trimmed:
        raise invalid(f"{field} may not contain NUL characters", field)
    return trimmed or None


def email(value: str | None, field: str = "email") -> str:
    trimmed = name(value, field, max_length=254)
    if not _EMAIL.match(trimmed):
        raise invalid("email is not a valid address", field)
    return trimmed


def money(value: Decimal | None, field: str) -> Decimal | None:
    """Money or a rate: at most 2 decimals, within 0..99,999,999.99."""
    if value is None:
        return None
    if not value.is_finite():
        raise invalid(f"{field} must be a number", field)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise invalid(f"{field} may have at most 2 decimals", field)
    if not Decimal(0) <= value <= MAX_MONEY:
        raise invalid(f"{field} must be between 0 and {MAX_MONEY}", field)
    return value.quantize(Decimal("0.01"))


def day(value: date | None, field: str) -> date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise invalid(f"{field} must lie between {MIN_DATE} and {MAX_DATE}", field)
    return value


def required(value: object, field: str) -> None:
    if value is None:
        raise invalid(f"{field} may not be empty", field)


MAX_MINUTES_LIMIT = 2_000_000_000


def minutes_limit(value: int | None, field: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_MINUTES_LIMIT:
        raise invalid(f"{field} must be between 0 and {MAX_MINUTES_LIMIT:,}", field)
    return value


def duplicate(what: str, field: str) -> DomainError:
    return DomainError(ErrorCode.DUPLICATE, f"{what} already exists", (field,))


def camel(snake: str) -> str:
    """The API's name of a field: `book_year_start_month` -> `bookYearStartMonth`."""
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def bulk(items: Sized, field: str) -> None:
    """A bulk mutation takes at most MAX_BULK items (SPEC 12, cost and abuse)."""
    if len(items) > MAX_BULK:
        raise invalid(f"{field} may hold at most {MAX_BULK} items, not {len(items)}", field)


def clipped(value: object) -> str:
    """`value` as a message may quote it: at most QUOTE_MAX of its characters, then an ellipsis (SPEC 12)."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= QUOTE_MAX else text[:QUOTE_MAX] + "…"


def clip_quotes(message: str) -> str:
    """`message` with each quoted span cut to QUOTE_MAX characters, for messages written by libraries."""
    return _QUOTED.sub(_clip, message) if len(message) > QUOTE_MAX else message


def _clip(match: re.Match[str]) -> str:
    span = match.group()
    if len(span) <= QUOTE_MAX + 2:
        return span
    # a cut inside an escape would leave a backslash escaping the closing quote
    return span[0] + span[1 : QUOTE_MAX + 1].rstrip("\\") + "…" + span[0]


def integer_range(type_: TypeEngine[int]) -> tuple[int, int]:
    """The values an integer column of this type holds; asyncpg refuses to send any other."""
    if not isinstance(type_, Integer):
        raise TypeError(f"{type_!r} is not an integer type")
    bits = 64 if isinstance(type_, BigInteger) else 16 if isinstance(type_, SmallInteger) else 32
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
