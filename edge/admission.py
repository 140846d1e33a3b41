"""Admission control (SPEC 12 "Overload"): at most `limit` requests run at once in this worker; one that cannot start
within the queue timeout is answered 503 BUSY with Retry-After at once, rather than left to wait for seconds."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from edge.http import _retry_later
from graph import metrics
from settings import Config


class Admission:
    """Wraps the GraphQL route only: probes and /metrics must answer when the worker is full.

    An asyncio.Semaphore queues waiters first come, first served, and hands a freed slot to the oldest of them; a
    request admitted straight away costs one comparison and a counter.
    """

    def __init__(self, app: ASGIApp, *, config: Config) -> None:
        self.app = app
        self.queue_timeout = config.queue_timeout_ms / 1000
        self._slots = asyncio.Semaphore(config.max_in_flight)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self._admit():
            metrics.REFUSED.inc()
            await _retry_later()(scope, receive, send)
            return
        metrics.LIVE.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            metrics.LIVE.in_flight -= 1
            self._slots.release()

    async def _admit(self) -> bool:
        if not self._slots.locked():
            return await self._slots.acquire()  # a free slot: taken without suspending
        try:
            async with asyncio.timeout(self.queue_timeout):
                return await self._slots.acquire()
        except TimeoutError:
            return False
