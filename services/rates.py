"""Rates and amounts (SPEC 4): the first rate that exists wins; amounts round half up to cents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from services.errors import DomainError, ErrorCode

CENT = Decimal("0.01")


class RateLevel(StrEnum):
    CASE = "CASE"
    DEBTOR = "DEBTOR"
    EMPLOYEE_ACTIVITY = "EMPLOYEE_ACTIVITY"
    EMPLOYEE = "EMPLOYEE"
    ACTIVITY = "ACTIVITY"


@dataclass(frozen=True, slots=True)
class ResolvedRate:
    rate: Decimal
    level: RateLevel


def amount(minutes: int, rate: Decimal) -> Decimal:
    """round_half_up(minutes * rate / 60, 2), in Decimal: never float."""
    return (Decimal(minutes) * rate / 60).quantize(CENT, rounding=ROUND_HALF_UP)


def first_rate(
    *,
    case_rate: Decimal | None,
    debtor_rate: Decimal | None,
    employee_activity_rate: Decimal | None,
    employee_rate: Decimal | None,
    activity_rate: Decimal | None,
) -> ResolvedRate:
    """Case adjusted → debtor adjusted → employee's activity rate → employee default → activity default."""
    for rate, level in (
        (case_rate, RateLevel.CASE),
        (debtor_rate, RateLevel.DEBTOR),
        (employee_activity_rate, RateLevel.EMPLOYEE_ACTIVITY),
        (employee_rate, RateLevel.EMPLOYEE),
        (activity_rate, RateLevel.ACTIVITY),
    ):
        if rate is not None:
            return ResolvedRate(rate=rate, level=level)
    raise DomainError(ErrorCode.NO_RATE, "No rate applies: set one on the case, debtor, employee or activity")
