"""Input rules of SPEC 5b, shared by every service that takes user input."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from services.errors import DomainError, ErrorCode, invalid

MAX_MONEY = Decimal("99999999.99")
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
NAME_MAX = 200
DESCRIPTION_MAX = 4000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def minutes_limit(value: int | None, field: str) -> int | None:
    if value is not None and not 0 <= value <= 2_000_000_000:
        raise invalid(f"{field} must not be negative", field)
    return value


def duplicate(what: str, field: str) -> DomainError:
    return DomainError(ErrorCode.DUPLICATE, f"{what} already exists", (field,))


def camel(snake: str) -> str:
    """The API's name of a field: `book_year_start_month` -> `bookYearStartMonth`."""
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
