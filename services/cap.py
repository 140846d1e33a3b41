"""The book-year maximum of a case (SPEC 6): pure arithmetic, so its invariants can be property-tested."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from models import CapBasis, CapKind, TimeStatus
from services.policy import BILLABLE, NON_BILLABLE

COUNTED = {CapBasis.BILLABLE: BILLABLE, CapBasis.NON_BILLABLE: NON_BILLABLE}


class CapSettings(Protocol):
    """The cap fields of a case, as a model or a read row carries them."""

    @property
    def max_per_book_year(self) -> CapKind: ...
    @property
    def max_based_on(self) -> CapBasis: ...
    @property
    def max_minutes(self) -> int | None: ...
    @property
    def max_amount(self) -> Decimal | None: ...


def counts_towards(case: CapSettings, status: TimeStatus) -> bool:
    """Whether time of `status` on `case` is held against its maximum (L never is)."""
    return case.max_per_book_year is not CapKind.NONE and status in COUNTED[case.max_based_on]


def split_minutes(*, limit: int, used: int, requested: int) -> tuple[int, int]:
    """(fits, excess) for a TIME maximum: never more than the space left, fits + excess = requested."""
    fits = min(requested, max(limit - used, 0))
    return fits, requested - fits


def split_amount(*, limit: Decimal, used: Decimal, requested: int, rate: Decimal) -> tuple[int, int]:
    """(fits, excess) minutes for an AMOUNT maximum: floor(space left * 60 / rate) minutes fit."""
    space = max(limit - used, Decimal(0))
    if rate == 0:
        return requested, 0
    room = int((space * 60 / rate).to_integral_value(rounding=ROUND_FLOOR))
    fits = min(requested, room)
    return fits, requested - fits


@dataclass(frozen=True, slots=True)
class CapOutcome:
    fits: int
    excess: int
    limit: str
    used: str


def describe(case: CapSettings, used_minutes: int, used_amount: Decimal) -> tuple[str, str]:
    if case.max_per_book_year is CapKind.TIME:
        return f"{case.max_minutes} minutes", f"{used_minutes} minutes"
    return f"{case.max_amount:.2f}", f"{used_amount:.2f}"
