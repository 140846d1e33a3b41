"""Top-level errors with `extensions.code`, and the `UserError` of every payload."""

from __future__ import annotations

from contextvars import ContextVar
from enum import StrEnum

import strawberry

from graph.objects import described_enum
from services.errors import DomainError, ErrorCode

# the codes of the userErrors made while answering a request, each once, for its log line: the edge gives each
# request a list of its own (`edge.observability`)
refusals: ContextVar[list[str] | None] = ContextVar("casetime_refusals", default=None)

ErrorCodeEnum = described_enum(
    ErrorCode,
    name="ErrorCode",
    description="Why a `userErrors` entry refused the input.",
    values={
        "VALIDATION": "A value breaks a rule: a range, a length, a format, or a field that may not be empty.",
        "INVALID_CREDENTIALS": "Wrong email or password, or an inactive employee; the same answer whether or not the "
        "email exists.",
        "NOT_FOUND": "An ID names nothing of its type, or something the viewer may not see.",
        "FORBIDDEN": "The viewer may not touch this record, e.g. another employee's time without "
        "`canEnterTimeForOthers`.",
        "DUPLICATE": "A code, name or email that must be unique (ignoring case) is taken.",
        "FEATURE_DISABLED": "Time tracking is switched off in the settings.",
        "CASES_DISABLED": "A case was named while the settings' case column is off.",
        "CASE_REQUIRED": "No case was named while the settings require one.",
        "CASE_BLOCKED": "The case is blocked: no time can be written on it.",
        "CASE_NOT_ACTIVE": "The work date lies outside the case's active period.",
        "CASE_DEBTOR_MISMATCH": "The case belongs to another debtor than the one given.",
        "PERIOD_WITH_CAP": "A case with a book-year maximum cannot have an active period.",
        "NO_RATE": "No rate applies: none is set on the case, debtor, employee or activity.",
        "INVOICED_LOCKED": "The entry is invoiced (F): it cannot be edited or deleted unless its invoice is voided.",
        "VERSION_CONFLICT": "The record changed since the `expectedVersion` sent: read it again.",
        "STATIC_LIST": "The case's time list is STATIC: change its entries one by one.",
        "TIMER_RUNNING": "The viewer's timer is running already.",
        "NO_TIMER": "The viewer has no running timer.",
        "NOTHING_TO_INVOICE": "No billable (J) time that is not invoiced yet matches.",
        "NOT_OVER_LIMIT": "Only over-limit (L) time can be released.",
        "BUSY": "Other writes held the records too long, or conflicts outlasted the retries; safe to retry.",
        "TOO_MANY_ATTEMPTS": "Too many failed logins for this email or from this address lately; try again later.",
    },
)


class TopCode(StrEnum):
    """Codes of top-level errors: gates, limits, malformed requests and bugs."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    BAD_REQUEST = "BAD_REQUEST"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE"
    BUSY = "BUSY"
    INTERNAL = "INTERNAL"
    PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
    PERSISTED_DOCUMENT_REQUIRED = "PERSISTED_DOCUMENT_REQUIRED"


class ApiError(Exception):
    """Raised anywhere under a field; graphql-core copies `extensions` onto the located error."""

    def __init__(self, code: TopCode, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": code.value}


def unauthenticated() -> ApiError:
    return ApiError(
        TopCode.UNAUTHENTICATED,
        "Not authenticated: send the header Authorization: Bearer <token> from the login mutation",
    )


def forbidden() -> ApiError:
    return ApiError(TopCode.FORBIDDEN, "Your role may not use this field")


@strawberry.type(
    description="Something the user can fix. When a payload holds any, its mutation wrote nothing (but "
    "`importCases` with `bestEffort`)."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="The path to the input field concerned, by its API names, list positions as strings: e.g. "
        '["changes", "2", "minutes"]. Null when no one field is to blame.'
    )
    code: ErrorCode = strawberry.field(description="What kind of problem it is.")
    message: str = strawberry.field(
        description="A sentence for the user; it quotes at most 100 characters of a value it refuses."
    )

    def __post_init__(self) -> None:
        noted = refusals.get()
        if noted is not None and self.code.value not in noted:
            noted.append(self.code.value)

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(field=list(error.field) or None, code=error.code, message=error.message)
