"""What operators see of each request (SPEC 12): one JSON line on standard output, an X-Request-ID, its metrics.

The middleware opens a `Facts` record per request; the GraphQL endpoint and every `UserError` fill it through the
`note_*` functions (operation, viewer, error codes, userErrors codes) and the line is written once the answer has gone.
The line never holds the query text, variables, tokens or passwords: only what the record holds.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import re
import select
from collections.abc import Callable, Mapping
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from time import perf_counter, time
from typing import Any

import orjson
from graphql import OperationDefinitionNode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph import metrics
from graph.errors import refusals
from services.auth import Viewer

# probes and scrapes come every few seconds and say nothing about the service's traffic
UNOBSERVED = frozenset({"/healthz", "/readyz", "/metrics"})
# an id from a client or a proxy is kept only when it cannot forge a log line or carry a secret of any length
_SANE_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
MAX_PATH = 200
FLUSH_S = 0.25
MAX_PENDING = 256
WEBSOCKET = "WEBSOCKET"  # a websocket's `method` in its record: one line when it closes, no request series


@dataclass(slots=True)
class Facts:
    """What the log line and the metrics say of one request."""

    request_id: str
    method: str
    path: str  # at most MAX_PATH characters; never the query string, which a GET fills with the query and variables
    arrived: float  # seconds since the epoch
    seconds: float = 0.0  # until the answer ended
    operation: str | None = None
    kind: str | None = None  # query or mutation
    viewer: int | None = None  # the employee id of the token's holder
    codes: tuple[str, ...] = ()  # the answer's top-level extensions codes, each once
    user_errors: list[str] = field(default_factory=list)  # the codes of its payloads' userErrors, each once
    status: int = 500  # until the answer starts: what escapes the app is answered 500 by Starlette


_current: ContextVar[Facts | None] = ContextVar("casetime_request_facts", default=None)


def note_operation(operation: OperationDefinitionNode) -> None:
    if (facts := _current.get()) is not None:
        facts.operation = operation.name.value if operation.name else None
        facts.kind = operation.operation.value


def note_viewer(viewer: Viewer | None) -> None:
    if viewer is not None and (facts := _current.get()) is not None:
        facts.viewer = viewer.employee_id


def note_answer(body: Mapping[str, Any]) -> None:
    """The codes of a GraphQL answer's top-level errors."""
    errors = body.get("errors")
    if errors and (facts := _current.get()) is not None:
        facts.codes = tuple(dict.fromkeys(str(error.get("extensions", {}).get("code")) for error in errors))


class Ids:
    """Request ids made here: a random 64-bit prefix per process and a counter, 32 hex digits in all; unique across
    workers and restarts as a uuid4 is, and ordered within a worker, at a fraction of uuid4's cost."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._next = itertools.count().__next__

    def __call__(self) -> str:
        return f"{self._prefix}{self._next():016x}"


new_request_id = Ids()


class Journal:
    """Answered requests, logged and counted FLUSH_S after the first of them waits (sooner when MAX_PENDING wait):
    a request only hands its record over. Formatting lines and counting series for many requests in one go costs a
    fraction of doing it for each on its way out (measured: ~30 µs a request there, on the case page), and the lines
    go out in writes of at most PIPE_BUF bytes, which a pipe never interleaves with another worker's."""

    def __init__(self, fd: int = 1) -> None:
        self._fd = fd
        self._pending: list[Facts] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def __call__(self, facts: Facts) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self.flush()
        self._pending.append(facts)
        if self._timer is None:
            self._loop, self._timer = loop, loop.call_later(FLUSH_S, self.flush)
        elif len(self._pending) >= MAX_PENDING:
            self.flush()

    def flush(self) -> None:
        """Count and write what waits; on the event loop's thread only (the timer, a scrape, the lifespan's end)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        chunk: list[bytes] = []
        size = 0
        for facts in pending:
            if facts.method != WEBSOCKET:  # a connection lasting an hour is no request's latency
                label = metrics.operation_label(facts.operation, facts.kind)
                metrics.count_request(label, _outcome(facts), facts.seconds)
            line = _line(facts)
            if size + len(line) > select.PIPE_BUF:
                self._write(chunk)
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        self._write(chunk)

    def _write(self, lines: list[bytes]) -> None:
        if lines:
            with suppress(OSError):  # a closed standard output
                os.write(self._fd, b"".join(lines))


JOURNAL = Journal()
atexit.register(JOURNAL.flush)
metrics.BEFORE_SCRAPE.append(JOURNAL.flush)


class RequestLog:
    """Pure ASGI: X-Request-ID in and out, and the request's record for the journal, for every request but the
    probes and /metrics."""

    def __init__(self, app: ASGIApp, journal: Callable[[Facts], None] = JOURNAL) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._connection(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] in UNOBSERVED:
            await self.app(scope, receive, send)
            return
        arrived, started = time(), perf_counter()
        facts = Facts(_request_id(scope["headers"]), scope["method"], scope["path"][:MAX_PATH], arrived)
        echoed = (b"x-request-id", facts.request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                facts.status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        reset, reset_refusals = _current.set(facts), refusals.set(facts.user_errors)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(reset)
            refusals.reset(reset_refusals)
            facts.seconds = perf_counter() - started
            self.journal(facts)

    async def _connection(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A websocket's record, written when it ends: its duration, the viewer, the last operation subscribed, and
        as status its close code (the server's, else the client's; 1006 when it never opened)."""
        arrived, started = time(), perf_counter()
        facts = Facts(_request_id(scope["headers"]), WEBSOCKET, scope["path"][:MAX_PATH], arrived, status=1006)
        opened = False

        async def send_noting(message: Message) -> None:
            nonlocal opened
            if message["type"] == "websocket.accept":
                opened = True
            elif message["type"] == "websocket.close":
                facts.status = message.get("code", 1000)
            await send(message)

        async def receive_noting() -> Message:
            message = await receive()
            if message["type"] == "websocket.disconnect" and opened and facts.status == 1006:
                facts.status = message.get("code", 1005)
            return message

        reset = _current.set(facts)
        try:
            await self.app(scope, receive_noting, send_noting)
        finally:
            _current.reset(reset)
            facts.seconds = perf_counter() - started
            self.journal(facts)


def _line(facts: Facts) -> bytes:
    record = {
        "time": datetime.fromtimestamp(facts.arrived, UTC),
        "request_id": facts.request_id,
        "method": facts.method,
        "path": facts.path,
        "operation": facts.operation,
        "type": facts.kind,
        "viewer": facts.viewer,
        "status": facts.status,
        "duration_ms": round(facts.seconds * 1000, 3),
        "codes": facts.codes,
        "user_errors": facts.user_errors,
    }
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:  # a path holding what JSON cannot (a lone surrogate)
        record["path"] = facts.path.encode("utf-8", "backslashreplace").decode()
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z)


def _outcome(facts: Facts) -> str:
    if codes := facts.codes or facts.user_errors:
        return codes[0]
    return "ok" if facts.status < 400 else f"http_{facts.status}"


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is 1-128 of [A-Za-z0-9._-], else a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            if _SANE_ID.fullmatch(value):
                return value.decode()
            break
    return new_request_id()
