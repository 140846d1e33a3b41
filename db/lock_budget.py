"""One LOCK_TIMEOUT_MS for all the lock waits of a write (SPEC 12), not one per lock.

PostgreSQL's `lock_timeout` bounds each wait on its own, so a write that meets two held rows in turn could wait
twice as long before it says BUSY. Every connection starts with `lock_timeout` = the whole budget (db.engine); while
a write runs, the time its statements take is counted, and once a noticeable part of the budget is gone, each further
statement is preceded by a `SET LOCAL lock_timeout` of what is left. An uncontended write spends well under that
part, so it sends no extra statement.

A write's budget sits in its connection's `info` while the write runs. The engine listens for every statement once,
from its start (`listen`), and a statement on a connection with no budget costs the listener one dict lookup: adding
and removing listeners for each write cost more than the write's own statements. A prebuilt statement that takes
locks (db.driver's `Prebuilt(locks=True)`) runs past SQLAlchemy's cursor: it finds the budget in the same place and
counts itself through `statement`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter
from typing import Any

from sqlalchemy import Connection, Engine, event

# spent beyond this share of the budget, each statement gets its own lock_timeout
_SHARE_BEFORE_TIGHTENING = 1 / 20
# where a watched write's connection keeps its budget (`Connection.info`)
KEY = "casetime.lock_budget"
SET_LOCK_TIMEOUT = "SELECT set_config('lock_timeout', $1, true)"


class LockBudget:
    """The waiting time left to one write, its retries included."""

    __slots__ = ("_started", "spent_ms", "total_ms")

    def __init__(self, total_ms: int) -> None:
        self.total_ms = total_ms
        self.spent_ms = 0.0
        self._started: float | None = None

    @contextmanager
    def watching(self, info: dict[Any, Any]) -> Iterator[None]:
        """Count the statements run inside the block on the connection whose `info` this is."""
        info[KEY] = self
        try:
            yield
        finally:
            self.stop()  # a statement that failed has no `after`: its wait counts up to here
            info.pop(KEY, None)

    def remaining_ms(self) -> int | None:
        """What the next statement may wait for locks, or None while the connection's own setting is close enough."""
        if self.spent_ms <= self.total_ms * _SHARE_BEFORE_TIGHTENING:
            return None
        return max(1, int(self.total_ms - self.spent_ms))

    def statement(self) -> str | None:
        """A statement that may wait for locks starts: the `lock_timeout` to set first (for SET_LOCK_TIMEOUT), or
        None; its time counts until `stop` (when it ends), the next `statement` or the end of the write."""
        self.stop()
        remaining = self.remaining_ms()
        self._started = perf_counter()
        return None if remaining is None else f"{remaining}ms"

    def stop(self) -> None:
        if self._started is not None:
            self.spent_ms += (perf_counter() - self._started) * 1000
            self._started = None


def of(info: dict[Any, Any]) -> LockBudget | None:
    """The budget of the write running on the connection whose `info` this is, if one is."""
    return info.get(KEY)


def listen(engine: Engine) -> None:
    """Count the statements of every write watched on `engine`'s connections; once, when the engine is made."""
    event.listen(engine, "before_cursor_execute", _before)
    event.listen(engine, "after_cursor_execute", _after)


def _before(connection: Connection | None, cursor: Any, *_args: Any) -> None:
    if connection is None or cursor is None:  # a prebuilt statement (db.driver): a locking one counts itself
        return
    budget = of(connection.info)
    if budget is None:
        return
    timeout = budget.statement()
    if timeout is not None:
        cursor.execute(SET_LOCK_TIMEOUT, (timeout,))


def _after(connection: Connection | None, *_args: Any) -> None:
    budget = None if connection is None else of(connection.info)
    if budget is not None:
        budget.stop()
