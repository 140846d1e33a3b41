"""The transaction of one mutation: open at the edge, retry lock conflicts, map refusals to userErrors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db import trouble
from db.lock_budget import LockBudget
from graph.context import Info
from graph.errors import UserError
from services.errors import DomainError, DomainErrors, ErrorCode

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Refused:
    """A mutation refused with userErrors; nothing of it was written."""

    errors: list[UserError]


log = logging.getLogger("casetime.write")

ATTEMPTS = 3


async def write(info: Info, work: Callable[[AsyncSession], Awaitable[T]]) -> T | Refused:
    """Run `work` in one transaction; a refusal rolls everything back and comes back as userErrors.

    Serialization failures and deadlocks are retried; a lock or statement that waited too long answers BUSY at once.
    All attempts share one lock-wait budget, so BUSY comes within LOCK_TIMEOUT_MS of waiting in all."""
    budget = LockBudget(info.context.config.lock_timeout_ms)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with info.context.db.write() as session, budget.watching(session):
                return await work(session)
        except DomainError as error:
            return Refused([UserError.of(error)])
        except DomainErrors as errors:
            return Refused([UserError.of(e) for e in errors.errors])
        except DBAPIError as error:
            state = trouble.sqlstate(error)
            if state not in trouble.BUSY:
                raise
            if state in trouble.RETRYABLE and attempt < ATTEMPTS:
                log.info("retrying a write after SQLSTATE %s (attempt %d)", state, attempt)
                continue
            return Refused([UserError(field=None, code=ErrorCode.BUSY, message="The record is busy; try again")])
    raise AssertionError("unreachable")


def read_back(
    work: Callable[[AsyncSession], Awaitable[T]], read: Callable[[AsyncSession, T], Awaitable[R]]
) -> Callable[[AsyncSession], Awaitable[tuple[T, R]]]:
    """`work`, then `read` of what it wrote, in the same transaction: a payload shows what this mutation wrote, not
    what a writer committing just after it made of the same rows."""

    async def run(session: AsyncSession) -> tuple[T, R]:
        result = await work(session)
        return result, await read(session, result)

    return run
