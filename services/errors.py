"""Domain errors: a code the user can act on, a message, and the input field it concerns."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "VALIDATION"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    DUPLICATE = "DUPLICATE"
    FEATURE_DISABLED = "FEATURE_DISABLED"
    CASES_DISABLED = "CASES_DISABLED"
    CASE_REQUIRED = "CASE_REQUIRED"
    CASE_BLOCKED = "CASE_BLOCKED"
    CASE_NOT_ACTIVE = "CASE_NOT_ACTIVE"
    CASE_DEBTOR_MISMATCH = "CASE_DEBTOR_MISMATCH"
    PERIOD_WITH_CAP = "PERIOD_WITH_CAP"
    NO_RATE = "NO_RATE"
    INVOICED_LOCKED = "INVOICED_LOCKED"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    STATIC_LIST = "STATIC_LIST"
    TIMER_RUNNING = "TIMER_RUNNING"
    NO_TIMER = "NO_TIMER"
    NOTHING_TO_INVOICE = "NOTHING_TO_INVOICE"
    NOT_OVER_LIMIT = "NOT_OVER_LIMIT"
    BUSY = "BUSY"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"


class DomainError(Exception):
    """A refusal the user can fix; nothing of the current transaction is kept."""

    def __init__(self, code: ErrorCode, message: str, field: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class DomainErrors(Exception):
    """Several refusals at once (e.g. one per bad row of an import)."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def invalid(message: str, *field: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION, message, field)


def not_found(what: str, *field: str) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found", field)
