"""What a failed database call means for the client: retry later, or a bug (SPEC 5a, 12).

Two kinds are retryable. The database is *unavailable* when no connection can be had or the one in use died (the
server is down, restarting, out of connections, the pool is exhausted, the socket broke), or when it cannot take a
write (read-only: a standby after a failover, `default_transaction_read_only` set against a full disk; out of disk
or memory): the request answers HTTP 503 with `Retry-After`. The database is *busy* when a statement gave up
waiting (a lock, the statement timeout) or lost a conflict (serialization failure, deadlock): a mutation answers
`BUSY` in its userErrors.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# serialization failure and deadlock: the transaction may simply be run again
RETRYABLE = frozenset({"40001", "40P01"})
# lock_timeout, statement_timeout (and a cancel), plus the retryable ones once retries are spent
BUSY = frozenset({"55P03", "57014", *RETRYABLE})
# admin shutdown, crash shutdown, cannot connect now (starting or stopping), read-only transaction
_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "25006"})
# connection failures, and insufficient resources: disk full, out of memory, too many connections, a limit
_UNAVAILABLE_CLASSES = ("08", "53")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE PostgreSQL sent for `error`, through SQLAlchemy's and the adapter's wrappers."""
    for cause in _chain(error):
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def busy(error: BaseException) -> bool:
    return sqlstate(error) in BUSY


def unavailable(error: BaseException) -> bool:
    """No usable connection: refused, broken, timed out in the pool or at connect, or the server going away."""
    for cause in _chain(error):
        if isinstance(cause, PoolTimeout | ConnectionError | TimeoutError):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, OSError) and cause.errno is not None:  # a unix socket that is gone, a host down
            return True
    state = sqlstate(error)
    return state is not None and (state.startswith(_UNAVAILABLE_CLASSES) or state in _UNAVAILABLE)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(seen) < 8 and cause not in seen:
        seen.append(cause)
        cause = getattr(cause, "orig", None) or cause.__cause__
    return seen
