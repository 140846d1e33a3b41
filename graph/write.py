"""The transaction of one mutation: its input decoded first, then one transaction opened at the edge, lock conflicts
retried, refusals mapped to userErrors."""

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

G = TypeVar("G")
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Refused:
    """A mutation refused with userErrors; nothing of it was written."""

    errors: list[UserError]


log = logging.getLogger("casetime.write")

ATTEMPTS = 3


def nothing() -> None:
    """The decoded input of a mutation that takes none."""


def _refused(error: DomainError | DomainErrors) -> Refused:
    errors = error.errors if isinstance(error, DomainErrors) else [error]
    return Refused([UserError.of(e) for e in errors])


async def write(
    info: Info,
    decode: Callable[[], G],
    work: Callable[[AsyncSession, G], Awaitable[T]],
    *,
    check: Callable[[G], Awaitable[None]] | None = None,
) -> T | Refused:
    """`decode` the input (global IDs, patches) once, before any transaction, then run `work` on it in one
    transaction; a refusal of either rolls everything back and comes back as userErrors. `check` refuses decoded
    input by what must be looked up elsewhere (a webhook URL's addresses), before the transaction opens.

    Serialization failures and deadlocks are retried; a lock or statement that waited too long answers BUSY at once.
    All attempts share one lock-wait budget, so BUSY comes within LOCK_TIMEOUT_MS of waiting in all."""
    try:
        given = decode()
        if check is not None:
            await check(given)
    except (DomainError, DomainErrors) as error:
        return _refused(error)
    budget = LockBudget(info.context.config.lock_timeout_ms)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with info.context.db.write(budget) as session:
                return await work(session, given)
        except (DomainError, DomainErrors) as error:
            return _refused(error)
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
    work: Callable[[AsyncSession, G], Awaitable[T]], read: Callable[[AsyncSession, T], Awaitable[R]]
) -> Callable[[AsyncSession, G], Awaitable[tuple[T, R]]]:
    """`work`, then `read` of what it wrote, in the same transaction: a payload shows what this mutation wrote, not
    what a writer committing just after it made of the same rows."""

    async def run(session: AsyncSession, given: G) -> tuple[T, R]:
        result = await work(session, given)
        return result, await read(session, result)

    return run
