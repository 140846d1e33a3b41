"""Prometheus series of the service (SPEC 12 "What operators look at"), and `GET /metrics` that serves them.

Several uvicorn workers share one port, so a scrape reaches any one of them: with PROMETHEUS_MULTIPROC_DIR set (as
`cli.py serve` does for WEB_CONCURRENCY > 1), prometheus-client keeps every worker's values in files of that
directory and each worker's /metrics adds them all up. Without it the process serves its own values.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:  # the errors' module notes each UserError in the request log, which counts here
    from graph.errors import UserError


# prometheus-client itself chooses files over memory by this variable, when it is imported
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# operation names come from clients: a name becomes a label only if it is short and plain, and only the first ones
MAX_OPERATIONS = 200
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
SAMPLE_S = 1.0
# what must reach the series before they are read: the request journal's waiting records
BEFORE_SCRAPE: list[Callable[[], None]] = []
# a `_created` series beside every counter would double the scrape, for what process restarts tell anyway
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "casetime_requests",
    "Requests answered, by operation name and outcome (ok, the first error code, or http_<status>)",
    ["operation", "outcome"],
)
LATENCY = Histogram(
    "casetime_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, by operation name and outcome",
    ["operation", "outcome"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)
IN_FLIGHT = Gauge(
    "casetime_requests_in_flight", "GraphQL requests admitted and not yet answered", multiprocess_mode="livesum"
)
REFUSED = Counter("casetime_requests_refused", "GraphQL requests refused by admission control (HTTP 503, BUSY)")
BUSY = Counter(
    "casetime_busy_answers", "Answers with the top-level code BUSY: refused at admission, or database trouble"
)
POOL_IN_USE = Gauge(
    "casetime_db_connections_in_use",
    "Database connections checked out of the pool",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "casetime_db_pool_size", "Connections the pool keeps (DB_POOL_SIZE)", ["pool"], multiprocess_mode="livesum"
)
CONNECTIONS_OPENED = Counter("casetime_db_connections_opened", "Database connections opened by the pool", ["pool"])
LIVE_SUBSCRIPTIONS = Gauge(
    "casetime_live_subscriptions", "Subscriptions open over websockets (SPEC 13)", multiprocess_mode="livesum"
)
LIVE_SENT = Counter("casetime_live_events_sent", "Events sent to subscribers over websockets")
LIVE_ENDED = Counter(
    "casetime_live_subscriptions_ended",
    "Subscriptions the server ended: the token revoked or expired, or the subscriber too far behind",
    ["reason"],
)
LOGINS_REFUSED = Counter(
    "casetime_logins_refused", "Logins refused: failed (wrong email or password) or throttled", ["reason"]
)
_LOGIN_REASONS = {"INVALID_CREDENTIALS": "failed", "TOO_MANY_ATTEMPTS": "throttled"}

_operations: set[str] = set()
_series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}


def operation_label(name: str | None, kind: str | None) -> str:
    """The operation's name; `anonymous` for an unnamed one, `none` when the request reached no operation, `other`
    past MAX_OPERATIONS names or for a name that is not 1-64 of [A-Za-z0-9_]."""
    if name is None:
        return "none" if kind is None else "anonymous"
    if name in _operations:
        return name
    if len(_operations) < MAX_OPERATIONS and _PLAIN_NAME.fullmatch(name):
        _operations.add(name)
        return name
    return "other"


def count_request(operation: str, outcome: str, seconds: float) -> None:
    series = _series.get((operation, outcome))
    if series is None:
        series = _series[operation, outcome] = (REQUESTS.labels(operation, outcome), LATENCY.labels(operation, outcome))
    series[0].inc()
    series[1].observe(seconds)
    if outcome == "BUSY":
        BUSY.inc()


def login_refused(errors: list[UserError]) -> None:
    """Count a refused login by why: the password step (failed) or the throttle (throttled); not a busy database."""
    for error in errors:
        if (reason := _LOGIN_REASONS.get(error.code)) is not None:
            LOGINS_REFUSED.labels(reason).inc()
            return


class Live:
    """Gauges of what is going on now, read rather than kept: requests count themselves in a plain integer, and the
    pools know their connections in use. A scrape reads them; with several workers, whose scrape reads files, each
    worker writes them to its file every SAMPLE_S instead (one file write per change would cost a request ~1 µs)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._reads: list[tuple[Gauge, Callable[[], float]]] = []
        self._sampler: asyncio.Task[None] | None = None

    def watch(self, gauge: Gauge, read: Callable[[], float]) -> None:
        if MULTIPROCESS:
            self._reads.append((gauge, read))
        else:
            gauge.set_function(read)

    def start(self) -> None:
        if self._reads and self._sampler is None:
            self._sampler = asyncio.get_running_loop().create_task(self._sample())

    def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None
        if MULTIPROCESS:  # the in-flight and pool sums forget this worker
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def sample(self) -> None:
        for gauge, read in self._reads:
            gauge.set(read())

    async def _sample(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_S)


LIVE = Live()
LIVE.watch(IN_FLIGHT, lambda: LIVE.in_flight)


def watch_pool(engine: AsyncEngine, name: str) -> None:
    """The pool's connections in use, its size and the connections it opened, as series labelled `name`."""
    pool = engine.sync_engine.pool
    POOL_SIZE.labels(name).set(pool.size())  # type: ignore[attr-defined]  # QueuePool's, not Pool's
    LIVE.watch(POOL_IN_USE.labels(name), pool.checkedout)  # type: ignore[attr-defined]
    opened = CONNECTIONS_OPENED.labels(name)
    event.listen(pool, "connect", lambda *_: opened.inc())


def exposition() -> bytes:
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
