"""Input rules of SPEC 5b, shared by every service that takes user input, and `Problems`, which gathers the broken
ones of an input so that a refusal names them all at once (SPEC 12).

Every message reads `<fieldName> <what is wrong>`, the field named as the API spells it: "must …" for what a value
has to be, "may not …" for what it cannot be."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence, Sized
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import BigInteger, Integer, SmallInteger
from sqlalchemy.types import TypeEngine

from models import TimeStatus
from services import policy
from services.errors import DomainError, DomainErrors, ErrorCode, invalid

MAX_MONEY = Decimal("99999999.99")
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
NAME_MAX = 200
DESCRIPTION_MAX = 4000
TAG_MAX = 40
TAGS_MAX = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_BULK = 500
QUOTE_MAX = 100
# a quoted span of a message: '…' or "…", with backslash escapes (repr, GraphQL string literals, names)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" r'|"(?:[^"\\]|\\.)*"', re.DOTALL)
P = ParamSpec("P")
T = TypeVar("T")
# a rule of one field: its value and its API name in, the checked value out, a DomainError when broken
Rule = Callable[[Any, str], object]


class Problems:
    """The broken rules of one input. Each check that needs no database runs through `check`, then `raise_if_any`
    refuses with all of them at once (SPEC 12, every mistake at once); checks that need the database come after.

    A field keeps its first problem: a later rule about it (one tying fields together) would add nothing the user
    can act on, and would blame a value that was never taken."""

    def __init__(self, *path: str) -> None:
        self._path = path
        self._errors: list[DomainError] = []
        self._fields: set[tuple[str, ...]] = set()

    def within(self, *path: str) -> Problems:
        """The same collection for a nested input (a bulk mutation's item): its fields are named under `path`."""
        nested = Problems(*self._path, *path)
        nested._errors, nested._fields = self._errors, self._fields
        return nested

    def add(self, refusal: DomainError | DomainErrors) -> None:
        for error in refusals(refusal):
            field = (*self._path, *error.field)
            if error.field and field in self._fields:
                continue
            self._fields.add(field)
            self._errors.append(error if field == error.field else DomainError(error.code, error.message, field))

    def check(self, rule: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """`rule(*args, **kwargs)`, or None with its refusal noted."""
        try:
            return rule(*args, **kwargs)
        except (DomainError, DomainErrors) as refusal:
            self.add(refusal)
            return None

    def broken(self, *field: str) -> bool:
        """Whether `field` (under this collection's path) already has a problem."""
        return (*self._path, *field) in self._fields

    @property
    def errors(self) -> list[DomainError]:
        return list(self._errors)

    def raise_if_any(self) -> None:
        """Refuse with every problem noted: one as a `DomainError`, several as `DomainErrors`."""
        if len(self._errors) == 1:
            raise self._errors[0]
        if self._errors:
            raise DomainErrors(list(self._errors))


@dataclass(frozen=True, slots=True)
class Fields:
    """The rules of an input's fields, by key: each checked under its API name (a field without a rule is taken as
    given). On create the `needed` fields are checked even when left out; a `defaulted` field left empty takes its
    default on create, and may not be cleared in a patch (SPEC 5b)."""

    rules: Mapping[str, Rule]
    needed: Collection[str] = ()
    defaulted: Collection[str] = ()

    def check(self, data: Mapping[str, object], problems: Problems, *, creating: bool) -> dict[str, Any]:
        """The fields of `data` that passed their rule, checked; each broken rule noted in `problems`."""
        checked: dict[str, Any] = {}
        for key, value in ({**dict.fromkeys(self.needed), **data} if creating else data).items():
            field = camel(key)
            if value is None and key in self.defaulted:
                if not creating:
                    problems.check(required, value, field)
                continue
            rule = self.rules.get(key)
            result = value if rule is None else problems.check(rule, value, field)
            if not problems.broken(field):
                checked[key] = result
        return checked

    def checked(self, data: Mapping[str, object], *, creating: bool) -> dict[str, Any]:
        """`check` for an input with no other rules: every broken one refused at once."""
        problems = Problems()
        checked = self.check(data, problems, creating=creating)
        problems.raise_if_any()
        return checked


def refusals(refusal: DomainError | DomainErrors) -> list[DomainError]:
    """The single refusals of one `DomainError` or of `DomainErrors`."""
    return list(refusal.errors) if isinstance(refusal, DomainErrors) else [refusal]


def number(value: int) -> str:
    """A number in a message: thousands separated from 10,000 on (1440 minutes, 2,000,000,000)."""
    return f"{value:,}" if abs(value) >= 10_000 else str(value)


def between(value: int, low: int, high: int, field: str) -> int:
    if not low <= value <= high:
        raise invalid(f"{field} must be between {number(low)} and {number(high)}", field)
    return value


def name(value: str | None, field: str, *, max_length: int = NAME_MAX) -> str:
    """A required text: trimmed, 1..max_length characters."""
    trimmed = required(value, field).strip()
    if not trimmed:
        raise invalid(f"{field} may not be empty", field)
    if len(trimmed) > max_length:
        raise invalid(f"{field} must be at most {number(max_length)} characters", field)
    if "\x00" in trimmed:
        raise invalid(f"{field} may not contain NUL characters", field)
    return trimmed


def description(value: str | None, field: str = "description") -> str | None:
    """An optional text: trimmed, at most 4,000 characters; empty becomes null."""
    if value is None:
        return None
    trimmed = value.strip()
    if len(trimmed) > DESCRIPTION_MAX:
        raise invalid(f"{field} must be at most {number(DESCRIPTION_MAX)} characters", field)
    if "\x00" in trimmed:
        raise invalid(f"{field} may not contain NUL characters", field)
    return trimmed or None


def tags(value: Sequence[str] | None, field: str = "tags") -> list[str]:
    """An entry's tags: each trimmed, 1 to 40 characters, no U+0000; a tag equal to an earlier one ignoring case is
    dropped, the first spelling and the order kept; at most 10 left. Null or empty: none. Every broken rule at once,
    a tag's under its index (`tags.2`)."""
    if value is None:
        return []
    problems = Problems()
    kept: dict[str, str] = {}
    for index, tag in enumerate(value):
        checked = problems.check(_tag, tag, field, str(index))
        if checked is not None:
            kept.setdefault(checked.lower(), checked)
    distinct = len({tag.strip().lower() for tag in value} - {""})
    if distinct > TAGS_MAX:
        problems.add(invalid(f"{field} must hold at most {TAGS_MAX} tags, not {number(distinct)}", field))
    problems.raise_if_any()
    return list(kept.values())


def _tag(value: str, field: str, index: str) -> str:
    trimmed = value.strip()
    if not trimmed:
        raise invalid(f"{field} may not hold an empty tag", field, index)
    if len(trimmed) > TAG_MAX:
        raise invalid(f"{field} must hold tags of at most {TAG_MAX} characters", field, index)
    if "\x00" in trimmed:
        raise invalid(f"{field} may not contain NUL characters", field, index)
    return trimmed


def email(value: str | None, field: str = "email") -> str:
    trimmed = name(value, field, max_length=254)
    if not _EMAIL.match(trimmed):
        raise invalid(f"{field} must be an email address like name@example.com", field)
    return trimmed


def money(value: Decimal | None, field: str) -> Decimal | None:
    """Money or a rate: at most 2 decimals, within 0..99,999,999.99."""
    if value is None:
        return None
    if not value.is_finite():
        raise invalid(f"{field} must be a number", field)
    # the range first: rounding a number of more digits than the context's precision raises InvalidOperation
    if not Decimal(0) <= value <= MAX_MONEY:
        raise invalid(f"{field} must be between 0 and {MAX_MONEY:,}", field)
    if value != value.quantize(Decimal("0.01")):
        raise invalid(f"{field} must have at most 2 decimals", field)
    return value.quantize(Decimal("0.01"))


def day(value: date | None, field: str) -> date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise invalid(f"{field} must be between {MIN_DATE} and {MAX_DATE}", field)
    return value


def required(value: T | None, field: str) -> T:
    """A value that may not be left empty (or cleared in a patch, SPEC 5b)."""
    if value is None:
        raise invalid(f"{field} may not be empty", field)
    return value


def writable_status(value: TimeStatus | None, field: str) -> TimeStatus:
    """A writer may set J or N only; F and L come from the system (SPEC 5b)."""
    if value is None or not policy.is_writable(value):
        raise invalid(f"{field} must be BILLABLE or NON_BILLABLE", field)
    return value


MAX_MINUTES_LIMIT = 2_000_000_000


CAP_THRESHOLDS_MAX = 10


def cap_thresholds(value: Sequence[int] | None, field: str) -> list[int]:
    """A case's cap thresholds (SPEC 13): whole percentages 1 to 100, each once, at most 10; stored in ascending
    order. Empty: no threshold is told."""
    percents = required(value, field)
    if len(percents) > CAP_THRESHOLDS_MAX:
        raise invalid(f"{field} must hold at most {CAP_THRESHOLDS_MAX} percentages", field)
    if len(set(percents)) != len(percents):
        raise invalid(f"{field} may hold each percentage once", field)
    for index, percent in enumerate(percents):
        if not 1 <= percent <= 100:
            raise invalid(f"{field} must hold percentages between 1 and 100", field, str(index))
    return sorted(percents)


def minutes_limit(value: int | None, field: str) -> int | None:
    return None if value is None else between(value, 0, MAX_MINUTES_LIMIT, field)


def duplicate(what: str, field: str) -> DomainError:
    return DomainError(ErrorCode.DUPLICATE, f"{what} already exists", (field,))


def camel(snake: str) -> str:
    """The API's name of a field: `book_year_start_month` -> `bookYearStartMonth`."""
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def bulk(items: Sized, field: str, *, required: bool = False) -> None:
    """A bulk mutation takes at most MAX_BULK items (SPEC 12); some need at least one."""
    if required and not len(items):
        raise invalid(f"{field} may not be empty", field)
    if len(items) > MAX_BULK:
        raise invalid(f"{field} must hold at most {MAX_BULK} items, not {number(len(items))}", field)


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
