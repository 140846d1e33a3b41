"""What the webhook tests share: a real HTTP receiver on loopback (uvicorn in the test's event loop) that records
what it is POSTed and answers as told, the delivery loops, and waiting for what they do."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from api.webhook import payload
from db.engine import SessionMakers
from services.webhook_delivery import Deliverer
from services.webhook_sending import SIGNATURE_HEADER

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()

    @property
    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded

    def signed_by(self, secret: str) -> bool:
        """Whether the signature header is `t=<seconds>,v1=<HMAC-SHA256 of "<t>.<body>">`, keyed by `secret`."""
        parts = dict(part.split("=", 1) for part in self.headers[SIGNATURE_HEADER.lower()].split(","))
        expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(parts["v1"], expected) and abs(int(parts["t"]) - time.time()) < 60


@dataclass
class Receiver:
    """Answers each POST with the next of `statuses` (200 once they run out), after `delay` seconds; while `hold` is
    clear, it answers nothing at all."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)
    delay: float = 0.0
    hold: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0  # requests held right now

    def __post_init__(self) -> None:
        self.hold.set()

    def ids(self) -> Counter[str]:
        """How many times each event id arrived."""
        return Counter(r.json["id"] for r in self.received)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.received.append(Received(headers, body, time.monotonic()))
        self.waiting += 1
        try:
            await self.hold.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.waiting -= 1
        status = self.statuses.popleft() if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A receiver listening on 127.0.0.1, stopped afterwards (anything it holds released first)."""
    receiver = Receiver()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"
    server = uvicorn.Server(
        uvicorn.Config(receiver, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]))

    async def started() -> bool:
        return server.started

    await until(started, seconds=5)
    try:
        yield receiver
    finally:
        receiver.hold.set()
        server.should_exit = True
        await serving


def loop_on(engine: AsyncEngine, *, retry_base_ms: int = 1, private_allowed: bool = True) -> Deliverer:
    """A delivery loop as an instance runs it, polling often, on `engine`'s connections."""
    return Deliverer(
        SessionMakers.on(engine),
        payload.body,
        retry_base_ms=retry_base_ms,
        private_allowed=private_allowed,
        poll_seconds=0.02,
    )


@asynccontextmanager
async def running(*loops: Deliverer) -> AsyncIterator[None]:
    for loop in loops:
        loop.start()
    try:
        yield
    finally:
        for loop in loops:
            await loop.stop()


async def until(condition: Callable[[], Awaitable[bool]], *, seconds: float = 15.0) -> None:
    """Wait until `condition` holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.02)
