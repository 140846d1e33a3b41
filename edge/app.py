"""The ASGI application: `uvicorn edge.app:app`. Only this module creates engines."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute, request_response

from api.webhook import payload
from db import embedded
from db.engine import SessionMakers, create_engine
from edge import browser, observability
from edge.admission import Admission
from edge.http import GraphQLEndpoint, HeaderLimit
from edge.live import LiveEndpoint
from edge.schema import schema
from graph import metrics, strawberry_internals
from graph.strawberry_internals import graphql_schema
from services import totals
from services.live import Hub
from services.passwords import Passwords
from services.webhook_delivery import Deliverer
from settings import Config

log = logging.getLogger("casetime")

EMBEDDED_DATABASE = "casetime"


class Database:
    """The engine and sessionmaker of this process, opened by the lifespan."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession] | None = None, engine: AsyncEngine | None = None
    ) -> None:
        self.engine: AsyncEngine | None = None
        self.read_engine: AsyncEngine | None = None
        self._makers: SessionMakers | None = None
        if sessionmaker is not None:
            self._makers = SessionMakers.alike(sessionmaker)
        elif engine is not None:
            self._makers = SessionMakers.on(engine)
        self._read_makers: SessionMakers | None = None
        self.live_engine: AsyncEngine | None = None
        self._live_makers: SessionMakers | None = None
        self._given_engine = engine
        self.delivery_engine: AsyncEngine | None = None

    def read_sessionmaker(self, *, query: bool = False) -> async_sessionmaker[AsyncSession] | None:
        """Sessions on the read replica of DATABASE_READ_URL; None when there is none."""
        return self._read_makers(query=query) if self._read_makers else None

    def live_sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for live subscriptions, in autocommit: a pool of their own (LIVE_POOL_SIZE) once the process
        opened the database itself, so subscribers never take a request's connection."""
        return self._live_makers(query=True) if self._live_makers else self.sessionmaker(query=True)

    def sessionmaker(self, *, query: bool = False) -> async_sessionmaker[AsyncSession]:
        if self._makers is None:
            raise RuntimeError("the database is not open yet")
        return self._makers(query=query)

    def open(self, config: Config) -> None:
        if self._makers is not None:
            return
        url = config.database_url
        if url is None:  # development without DATABASE_URL: the embedded server under the project
            server = embedded.start(config.pgdata)
            embedded.ensure_database(server, EMBEDDED_DATABASE)
            url = embedded.url_of(server, EMBEDDED_DATABASE)
        self.engine = self._engine(url, config)
        self._makers = SessionMakers.on(self.engine)
        metrics.watch_pool(self.engine, "primary")
        self.live_engine = self._engine(url, config, pool_size=config.live_pool_size)
        self._live_makers = SessionMakers.on(self.live_engine)
        metrics.watch_pool(self.live_engine, "live")
        if config.read_database_url:
            self.read_engine = self._engine(config.read_database_url, config)
            self._read_makers = SessionMakers.on(self.read_engine)
            metrics.watch_pool(self.read_engine, "read")
        if config.webhook_delivery:
            # connections of its own: the loop never takes one a request was admitted to use
            self.delivery_engine = create_engine(
                url,
                pool_size=DELIVERY_POOL_SIZE,
                queue_timeout_ms=DELIVERY_QUEUE_TIMEOUT_MS,
                lock_timeout_ms=config.lock_timeout_ms,
                statement_timeout_ms=config.statement_timeout_ms,
            )
            metrics.watch_pool(self.delivery_engine, "delivery")

    def delivery_makers(self) -> SessionMakers | None:
        """The sessions of the webhook delivery loop; None when it runs nowhere here (off, or tests bound to one
        rolled-back connection)."""
        engine = self.delivery_engine or self._given_engine
        return SessionMakers.on(engine) if engine is not None else None

    @staticmethod
    def _engine(url: str, config: Config, *, pool_size: int | None = None) -> AsyncEngine:
        return create_engine(
            url,
            pool_size=pool_size or config.db_pool_size,
            queue_timeout_ms=config.queue_timeout_ms,
            lock_timeout_ms=config.lock_timeout_ms,
            statement_timeout_ms=config.statement_timeout_ms,
        )

    async def close(self) -> None:
        for engine in (self.engine, self.read_engine, self.live_engine, self.delivery_engine):
            if engine is not None:
                await engine.dispose()


GC_YOUNG_THRESHOLD = 10_000
# the delivery loop feeds and claims on one connection while its recorder writes the attempts' outcomes on the other
DELIVERY_POOL_SIZE = 2
DELIVERY_QUEUE_TIMEOUT_MS = 10_000


def create_app(
    config: Config | None = None,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    engine: AsyncEngine | None = None,
) -> Starlette:
    """`sessionmaker` serves every request alike (tests on one rolled-back connection); `engine` is used as the
    process would use its own (queries in autocommit), but not disposed; neither: DATABASE_URL at startup."""
    strawberry_internals.check()  # what the lean executor needs of Strawberry and graphql-core, before any request
    config = config or Config.from_env()
    if config.cap_lock_off_for_tests:
        totals.LOCK_ROWS = False
    database = Database(sessionmaker, engine)
    passwords = Passwords(time_cost=config.argon2_time_cost, memory_kib=config.argon2_memory_kib)
    endpoint = GraphQLEndpoint(
        graphql_schema(schema),
        config=config,
        sessionmaker=database.sessionmaker,
        read_sessionmaker=database.read_sessionmaker,
        passwords=passwords,
    )

    hub = Hub(lambda: database.live_sessionmaker()())
    subscriptions = LiveEndpoint(endpoint, hub, database.live_sessionmaker, concurrency=config.live_pool_size - 1)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            async with asyncio.timeout(2), database.sessionmaker()() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any failure means not ready; the probe must not crash, nor flood the log
            log.warning("readiness check failed: %s", error.__class__.__name__)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        database.open(config)
        metrics.LIVE.start()
        # what startup built (schema, plans, mappers, modules) lives as long as the process: keep it out of the
        # collector's full passes, which otherwise rescan it several times in each large answer
        gc.freeze()
        # a request leaves ~100 objects in reference cycles (graphql-core's execution, the request's context) and
        # keeps thousands alive while it runs: at the default 700 allocations a young pass ran every few requests,
        # ~0.1 ms of a write's CPU in all; every 10,000 it is half that (bench/README.md)
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        deliverer = _deliverer(config, database)
        if deliverer is not None:
            deliverer.start()
        try:
            yield
        finally:
            await hub.close()
            if deliverer is not None:
                await deliverer.stop()
            await database.close()
            metrics.LIVE.stop()
            observability.JOURNAL.flush()

    return Starlette(
        # CORS inside the request log (refused preflights are logged too) and outside every limit: preflights are
        # answered before admission, and refusals below it still carry its headers
        middleware=[Middleware(observability.RequestLog), *browser.cors(config), Middleware(HeaderLimit)],
        routes=[
            # admission around the GraphQL route only: the probes and /metrics answer when the worker is full
            Route("/graphql", Admission(request_response(endpoint.handle), config=config), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", subscriptions.serve),
            Route("/metrics", _metrics(config.metrics_token), methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *browser.graphiql_routes(config),
        ],
        lifespan=lifespan,
    )


def _deliverer(config: Config, database: Database) -> Deliverer | None:
    """The webhook delivery loop of this worker (SPEC 13), unless WEBHOOK_DELIVERY is off."""
    makers = database.delivery_makers() if config.webhook_delivery else None
    if makers is None:
        return None
    return Deliverer(
        makers,
        payload.body,
        retry_base_ms=config.webhook_retry_base_ms,
        private_allowed=config.webhook_private_allowed,
    )


def _metrics(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """GET /metrics, asking for `Authorization: Bearer <token>` when METRICS_TOKEN is set."""
    expected = f"Bearer {token}".encode() if token else None

    async def scrape(request: Request) -> Response:
        if expected is not None and not hmac.compare_digest(
            request.headers.get("authorization", "").encode(), expected
        ):
            return Response("Unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}, media_type="text/plain")
        for prepare in metrics.BEFORE_SCRAPE:
            prepare()
        # reading every worker's files takes a while: off the event loop
        return Response(await asyncio.to_thread(metrics.exposition), media_type=CONTENT_TYPE_LATEST)

    return scrape


app = create_app()
