"""Top-level errors with `extensions.code`, and the `UserError` of every payload."""

from __future__ import annotations

from enum import StrEnum

import strawberry

from services.errors import DomainError, ErrorCode

ErrorCodeEnum = strawberry.enum(ErrorCode, name="ErrorCode")


class TopCode(StrEnum):
    """Codes of top-level errors: gates, limits, malformed requests and bugs."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    VALIDATION = "VALIDATION"
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


@strawberry.type
class UserError:
    field: list[str] | None
    code: ErrorCode
    message: str

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(field=list(error.field) or None, code=error.code, message=error.message)
