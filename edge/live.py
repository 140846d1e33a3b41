"""GraphQL subscriptions over the `graphql-transport-ws` protocol (SPEC 13) on /graphql.

A connection authenticates once, with the bearer token in `connection_init`'s payload. Each `subscribe` runs through
the HTTP endpoint's preparation (parsing, validation, limits, trusted documents), then its resolver follows a topic
of the worker's fan-out (services/live.py) on a session used only to set it up. Each event is then executed on a
session of its own, for the viewer as the token says now, so a subscription holds no database connection while it
waits and a changed role shows at the next event. A token that stops authenticating closes the connection with 4403.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import orjson
from graphql import (
    ExecutionResult,
    Executor,
    FieldNode,
    GraphQLError,
    OperationType,
    create_source_event_stream,
    execute,
    located_error,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect

from db import trouble
from db.session import RequestDb, request_db
from edge.http import GraphQLEndpoint, Ready, Refusal
from edge.observability import note_viewer
from graph import metrics
from graph.context import Context
from graph.errors import TopCode
from graph.loaders import Loaders
from graph.strawberry_internals import await_maybe
from services import auth, live, visibility
from services.live import Ended, Hub, TooSlow

log = logging.getLogger("casetime.live")

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT_S = 10
MAX_SUBSCRIPTIONS = 20  # a connection's at once
MAX_CONNECTIONS = 1000  # a worker's at once; more are closed with 1013, try again later
MAX_MESSAGE = 1024 * 1024
REVOKED_NOTICE_S = 2


def over_websocket(kind: OperationType) -> Refusal | None:
    """What the websocket runs: subscriptions."""
    if kind is OperationType.SUBSCRIPTION:
        return None
    return Refusal.of(TopCode.BAD_REQUEST, "Only subscriptions run over the websocket; send the rest over HTTP")


class _Revoked(Exception):
    pass


class LiveEndpoint:
    def __init__(
        self,
        endpoint: GraphQLEndpoint,
        hub: Hub,
        sessionmaker: Callable[[], async_sessionmaker[AsyncSession]],
        *,
        concurrency: int,
    ) -> None:
        self.endpoint = endpoint
        self.hub = hub
        self._sessionmaker = sessionmaker
        # events are read for their subscribers this many at a time, below the pool's size: a burst of subscribers
        # waits here rather than timing out on the pool
        self._sessions = asyncio.Semaphore(max(1, concurrency))
        self.connections = 0

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[RequestDb]:
        async with self._sessions, request_db(self._sessionmaker(), query=True) as db:
            yield db

    async def serve(self, websocket: WebSocket) -> None:
        if PROTOCOL not in websocket.scope.get("subprotocols", ()):
            await websocket.accept()
            await websocket.close(4406, "Subprotocol not acceptable: use graphql-transport-ws")
            return
        await websocket.accept(subprotocol=PROTOCOL)
        if self.connections >= MAX_CONNECTIONS:
            await websocket.close(1013, "Too many connections to this worker; try again later")
            return
        self.connections += 1
        try:
            await _Connection(self, websocket).serve()
        finally:
            self.connections -= 1


class _Connection:
    def __init__(self, live: LiveEndpoint, websocket: WebSocket) -> None:
        self.live = live
        self.hub = live.hub
        self.websocket = websocket
        self.token = ""
        self.running: dict[str, asyncio.Task[None]] = {}
        self._sending = asyncio.Lock()
        self._closed = False

    async def serve(self) -> None:
        unwatch: Callable[[], None] | None = None
        try:
            try:
                init = await asyncio.wait_for(self._receive(), INIT_TIMEOUT_S)
            except TimeoutError:
                return await self._close(4408, "Connection initialisation timeout")
            if init is None:
                return None
            if init["type"] == "subscribe":
                return await self._close(4401, "Unauthorized: send connection_init first")
            if init["type"] != "connection_init":
                return await self._close(4400, "Invalid message received: expected connection_init")
            token = _bearer(init.get("payload"))
            try:
                viewer = await self._viewer_of(token) if token is not None else None
            except Exception as error:
                if not _database_trouble(error):
                    raise
                return await self._close(1013, "The database is busy or unavailable; try again shortly")
            if token is None or viewer is None:
                return await self._close(4403, "Forbidden: send a valid token as the payload's Authorization")
            note_viewer(viewer)
            self.token = token
            unwatch = self.hub.watch(auth.token_digest(token), self._revoked)
            await self._send({"type": "connection_ack"})
            while (message := await self._receive()) is not None:
                await self._handle(message)
        except WebSocketDisconnect:
            pass
        finally:
            if unwatch is not None:
                unwatch()
            for task in list(self.running.values()):
                task.cancel()
            await asyncio.gather(*self.running.values(), return_exceptions=True)
        return None

    async def _receive(self) -> dict[str, Any] | None:
        """The next message, or None once the connection is closed (an invalid message closes it with 4400)."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            self._closed = True
            return None
        text = message.get("text")
        try:
            parsed = orjson.loads(text) if text is not None and len(text) <= MAX_MESSAGE else None
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            await self._close(4400, "Invalid message received")
            return None
        return parsed

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "connection_init":
            await self._close(4429, "Too many initialisation requests")
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            # the id is free again at once, as the protocol lets a client reuse it
            task = self.running.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        else:
            await self._close(4400, f"Invalid message type {kind[:40]!r}")

    async def _subscribe(self, message: dict[str, Any]) -> None:
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            return await self._close(4400, "Invalid message received: subscribe needs an id and a payload")
        if operation_id in self.running:
            return await self._close(4409, f"Subscriber for {operation_id[:40]} already exists")
        if len(self.running) >= MAX_SUBSCRIPTIONS:
            refusal = Refusal.of(TopCode.LIMIT_EXCEEDED, f"At most {MAX_SUBSCRIPTIONS} subscriptions a connection")
            return await self._error(operation_id, refusal.errors)
        ready = await self.live.endpoint.ready(payload, over_websocket)
        if isinstance(ready, Refusal):
            return await self._error(operation_id, ready.errors)
        try:
            stream = await self._start(ready)
        except _Revoked:
            return await self._end_revoked()
        except Exception as error:
            return await self._error(operation_id, [self._format_raised(error, ready)])
        if isinstance(stream, ExecutionResult):
            return await self._error(operation_id, [self.live.endpoint._format(e) for e in stream.errors or ()])
        self.running[operation_id] = asyncio.create_task(self._stream(operation_id, ready, stream))
        return None

    async def _start(self, ready: Ready) -> AsyncIterator[Any] | ExecutionResult:
        """The operation's event stream, once its resolver follows its topic (live.SUBSCRIBED); set up on a session
        of its own, closed before any event comes."""
        async with self.live.session() as db:
            context = await self._context(db)
            executor = Executor.build(
                self.live.endpoint.schema,
                ready.document,
                context_value=context,
                raw_variable_values=ready.variables,
                operation_name=ready.operation_name,
                hide_suggestions=self.live.endpoint.config.production,
            )
            if isinstance(executor, list):  # the variables refused
                return ExecutionResult(None, errors=executor)
            stream: AsyncIterable[Any] | ExecutionResult = await await_maybe(create_source_event_stream(executor))
            if isinstance(stream, ExecutionResult):
                return stream
            events = aiter(stream)
            first = await anext(events)
            assert first is live.SUBSCRIBED
            return events

    async def _stream(self, operation_id: str, ready: Ready, stream: AsyncIterator[Any]) -> None:
        metrics.LIVE_SUBSCRIPTIONS.inc()
        try:
            async for event in stream:
                result = await self._execute(ready, event)
                await self._send({"type": "next", "id": operation_id, "payload": result})
                metrics.LIVE_SENT.inc()
            await self._send({"type": "complete", "id": operation_id})
        except _Revoked:
            await self._end_revoked()
        except TooSlow as ended:
            metrics.LIVE_ENDED.labels("too_slow").inc()
            await self._error(operation_id, Refusal.of(TopCode.LIMIT_EXCEEDED, ended.message).errors)
        except Ended as ended:
            await self._error(operation_id, Refusal.of(TopCode.BAD_REQUEST, ended.message).errors)
        except (asyncio.CancelledError, WebSocketDisconnect):
            pass
        except Exception as error:
            await self._error(operation_id, [self._format_raised(error, ready)])
        finally:
            metrics.LIVE_SUBSCRIPTIONS.dec()
            if self.running.get(operation_id) is asyncio.current_task():
                del self.running[operation_id]
            closing = getattr(stream, "aclose", None)
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing()

    async def _execute(self, ready: Ready, event: Any) -> dict[str, Any]:
        """One event's answer, for the viewer as the token says now."""
        async with self.live.session() as db:
            context = await self._context(db)
            result = await await_maybe(
                execute(
                    self.live.endpoint.schema,
                    ready.document,
                    root_value=event,
                    context_value=context,
                    variable_values=ready.variables,
                    operation_name=ready.operation_name,
                    hide_suggestions=self.live.endpoint.config.production,
                )
            )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [self._format(error) for error in result.errors]
        return answer

    async def _context(self, db: RequestDb) -> Context:
        async with db.reader() as reader:
            viewer = await auth.authenticate(reader, token=self.token) if self.token else None
            if viewer is None and self.token:
                raise _Revoked
            policy = await visibility.for_viewer(reader, viewer)
        endpoint = self.live.endpoint
        return Context(
            db=db,
            read_db=db,
            viewer=viewer,
            visibility=policy,
            loaders=Loaders(db, db),
            config=endpoint.config,
            passwords=endpoint.passwords,
            token=self.token,
            client_address=self.websocket.client.host if self.websocket.client else None,
            live=self.hub,
        )

    async def _viewer_of(self, token: str) -> auth.Viewer | None:
        async with self.live.session() as db, db.reader() as reader:
            return await auth.authenticate(reader, token=token)

    def _format(self, error: GraphQLError) -> dict[str, Any]:
        if error.original_error is not None and _database_trouble(error.original_error):
            return Refusal.of(TopCode.BUSY, "The database is busy or unavailable; this event was not read").errors[0]
        return self.live.endpoint._format(error)

    def _format_raised(self, error: Exception, ready: Ready) -> dict[str, Any]:
        """An error raised while a subscription starts or runs (not under a field of an event)."""
        if _database_trouble(error):
            return Refusal.of(TopCode.BUSY, "The database is busy or unavailable; subscribe again shortly").errors[0]
        path = [field.alias.value if field.alias else field.name.value for field in _root_fields(ready)]
        return self.live.endpoint._format(located_error(error, None, path[:1]))

    def _revoked(self) -> None:
        asyncio.get_running_loop().create_task(self._end_revoked())

    async def _end_revoked(self) -> None:
        if self._closed:
            return
        metrics.LIVE_ENDED.labels("revoked").inc()
        message = "The token is no longer valid: logged out, expired, or the employee made inactive"
        errors = Refusal.of(TopCode.UNAUTHENTICATED, message).errors
        # a client that stopped reading is closed all the same
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REVOKED_NOTICE_S):
                for operation_id in list(self.running):
                    await self._error(operation_id, errors)
        await self._close(4403, "Forbidden: the token is no longer valid")

    async def _error(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        await self._send({"type": "error", "id": operation_id, "payload": errors})

    async def _send(self, message: dict[str, Any]) -> None:
        if self._closed:
            return
        async with self._sending:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # gone meanwhile
                await self.websocket.send_text(orjson.dumps(message).decode())

    async def _close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.websocket.close(code, reason)


def _bearer(payload: Any) -> str | None:
    header = payload.get("Authorization") if isinstance(payload, dict) else None
    if not isinstance(header, str):
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _root_fields(ready: Ready) -> list[FieldNode]:
    return [s for s in ready.operation.selection_set.selections if isinstance(s, FieldNode)]


def _database_trouble(error: BaseException) -> bool:
    return trouble.unavailable(error) or trouble.busy(error)
