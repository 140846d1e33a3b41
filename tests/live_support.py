"""A graphql-transport-ws client for tests (SPEC 13), over a real socket, and a uvicorn server in the test's loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
import websockets
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from tests.deploy_support import free_port

PROTOCOL = "graphql-transport-ws"


class Live:
    """One connection: `subscribe` returns once the server follows the subscription; messages are kept per id."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._kept: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, within: float = 5) -> dict[str, Any]:
        if self._kept:
            return self._kept.pop(0)
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), within))
        return message

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        """Subscribe, and wait until the server has set it up: it answers a ping only after the subscribe before."""
        await self.send({"type": "subscribe", "id": operation_id, "payload": {"query": query, "variables": variables}})
        await self.send({"type": "ping"})
        while (message := json.loads(await asyncio.wait_for(self.socket.recv(), 10)))["type"] != "pong":
            self._kept.append(message)

    async def next_of(self, operation_id: str, within: float = 5) -> dict[str, Any]:
        """The next message for `operation_id` (others are kept for later)."""
        for message in self._kept:
            if message.get("id") == operation_id:
                self._kept.remove(message)
                return message
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), max(0.01, deadline - loop.time())))
            if message.get("id") == operation_id:
                return dict(message)
            self._kept.append(message)

    async def close_code(self, within: float = 5) -> int | None:
        """How the server closed the connection, reading whatever came before; None when it is still open after
        `within` seconds."""
        try:
            async with asyncio.timeout(within):
                async for raw in self.socket:
                    self._kept.append(json.loads(raw))
        except (websockets.ConnectionClosed, TimeoutError):
            pass
        return self.socket.close_code

    def kept(self) -> list[dict[str, Any]]:
        return list(self._kept)


@asynccontextmanager
async def connected(url: str, token: str | None, **options: Any) -> AsyncIterator[Live]:
    """A connection acknowledged for `token`."""
    async with websockets.connect(url, subprotocols=[Subprotocol(PROTOCOL)], **options) as socket:
        live = Live(socket)
        await live.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await live.receive())["type"] == "connection_ack"
        yield live


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """`app` under uvicorn on a free loopback port in this event loop; yields its base URL (http://…)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"
