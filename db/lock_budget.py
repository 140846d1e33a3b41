"""One LOCK_TIMEOUT_MS for all the lock waits of a write (SPEC 12), not one per lock.

PostgreSQL's `lock_timeout` bounds each wait on its own, so a write that meets two held rows in turn could wait
twice as long before it says BUSY. Every connection starts with `lock_timeout` = the whole budget (db.engine); while
a write runs, the time its statements take is counted, and once a noticeable part of the budget is gone, each further
statement is preceded by a `SET LOCAL lock_timeout` of what is left. An uncontended write spends well under that
part, so it sends no extra statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# spent beyond this share of the budget, each statement gets its own lock_timeout
_SHARE_BEFORE_TIGHTENING = 1 / 20

_CURRENT: ContextVar[LockBudget | None] = ContextVar("casetime_lock_budget", default=None)


class LockBudget:
    """The waiting time left to the write (its retries included) that activated it."""

    __slots__ = ("_started", "spent_ms", "total_ms")

    def __init__(self, total_ms: int) -> None:
        self.total_ms = total_ms
        self.spent_ms = 0.0
        self._started: float | None = None

    @contextmanager
    def active(self) -> Iterator[LockBudget]:
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def remaining_ms(self) -> int | None:
        """What the next statement may wait for locks, or None while the connection's own setting is close enough."""
        if self.spent_ms <= self.total_ms * _SHARE_BEFORE_TIGHTENING:
            return None
        return max(1, int(self.total_ms - self.spent_ms))

    def start(self) -> None:
        self._started = perf_counter()

    def stop(self) -> None:
        if self._started is not None:
            self.spent_ms += (perf_counter() - self._started) * 1000
            self._started = None


@event.listens_for(Engine, "before_cursor_execute")
def _before(_conn: Any, cursor: Any, *_args: Any) -> None:
    budget = _CURRENT.get()
    if budget is None or cursor is None:  # no cursor: a prebuilt SELECT (db.driver), which takes no row lock
        return
    remaining = budget.remaining_ms()
    if remaining is not None:
        cursor.execute("SELECT set_config('lock_timeout', $1, true)", (f"{remaining}ms",))
    budget.start()


@event.listens_for(Engine, "after_cursor_execute")
def _after(*_args: Any) -> None:
    budget = _CURRENT.get()
    if budget is not None:
        budget.stop()


@event.listens_for(Engine, "handle_error")
def _failed(_context: Any) -> None:
    budget = _CURRENT.get()
    if budget is not None:
        budget.stop()
