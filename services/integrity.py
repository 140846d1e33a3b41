"""Turn a database constraint violation into the domain error its rule stands for."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import Versioned
from services.errors import DomainError


def constraint_name(error: IntegrityError) -> str | None:
    cause = getattr(error.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None) or getattr(error.orig, "constraint_name", None)


def translate(error: IntegrityError, rules: Mapping[str, DomainError]) -> DomainError | None:
    name = constraint_name(error)
    return rules.get(name) if name else None


async def flush(session: AsyncSession, rules: Mapping[str, DomainError]) -> None:
    """Flush pending writes, turning a known constraint violation into its domain error."""
    try:
        await session.flush()
    except IntegrityError as error:
        domain_error = translate(error, rules)
        if domain_error is None:
            raise
        raise domain_error from None


def touch(record: Versioned) -> None:
    """Every change raises the version by one (SPEC 5b)."""
    record.version += 1
    record.updated_at = datetime.now(UTC)
