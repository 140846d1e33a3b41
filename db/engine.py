"""Engines and sessionmakers; created only at the edges (app lifespan, CLI, tests)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from db import lock_budget, sqlalchemy_internals

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# the libpq parameters casetime understands (SPEC 12); anything else is refused rather than silently ignored
URL_PARAMETERS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
    "host",
    "port",
)
_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
DEFAULT_APPLICATION_NAME = "casetime"


class DatabaseUrlError(ValueError):
    """A database URL the service cannot use. The message never quotes the URL, so never its password."""


@dataclass(frozen=True)
class DatabaseTarget:
    """A libpq-style URL translated for asyncpg: the URL SQLAlchemy connects with (no query left) and the
    keyword arguments of `asyncpg.connect` its query parameters stand for."""

    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    application_name: str = DEFAULT_APPLICATION_NAME

    @property
    def address(self) -> str:
        """Where the server is, for messages: `host:port`, or the unix socket directory."""
        host = self.connect_args.get("host") or self.url.host or "localhost"
        port = self.connect_args.get("port") or self.url.port or 5432
        if host.startswith("/"):
            return host
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def database_target(url: str) -> DatabaseTarget:
    """Translate `postgresql://…?sslmode=…&sslrootcert=…&connect_timeout=…&host=/socket` (libpq's URL form, as
    hosted PostgreSQL providers hand it out) into what asyncpg takes; DatabaseUrlError for what cannot be used."""
    parsed = _parse(url)
    params = _single_values(parsed.query)
    connect_args: dict[str, Any] = {}
    if "host" in params:  # a query host wins over the URL's, as in libpq; a path is a unix socket directory
        connect_args["host"] = params["host"]
    if "port" in params:
        connect_args["port"] = _port(params["port"])
    if "connect_timeout" in params:
        connect_args["timeout"] = _connect_timeout(params["connect_timeout"])
    tls = _ssl(params)
    if tls is not None:
        connect_args["ssl"] = tls
    return DatabaseTarget(
        url=parsed.set(drivername="postgresql+asyncpg", query={}),
        connect_args=connect_args,
        application_name=params.get("application_name") or DEFAULT_APPLICATION_NAME,
    )


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # SQLAlchemy's own messages may quote the URL, password and all
        raise DatabaseUrlError("not a URL of the form postgresql://user:password@host:port/database") from None
    if parsed.drivername not in _SCHEMES:
        raise DatabaseUrlError(f"the scheme must be postgresql:// (or postgres://), not {parsed.drivername}://")
    if parsed.port is not None:
        _port(str(parsed.port))
    return parsed


def _single_values(query: Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    unknown = sorted(set(query) - set(URL_PARAMETERS))
    if unknown:
        raise DatabaseUrlError(f"unknown parameter {unknown[0]!r} (casetime understands {', '.join(URL_PARAMETERS)})")
    repeated = sorted(name for name, value in query.items() if not isinstance(value, str))
    if repeated:
        raise DatabaseUrlError(f"parameter {repeated[0]!r} is given more than once")
    return {name: value for name, value in query.items() if isinstance(value, str)}


def _port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise DatabaseUrlError(f"port must be a whole number from 1 to 65535, got {raw!r}")
    return int(raw)


def _connect_timeout(raw: str) -> float | None:
    """libpq's whole seconds; zero or less waits for ever, as there."""
    try:
        seconds = int(raw)
    except ValueError:
        raise DatabaseUrlError(f"connect_timeout must be a whole number of seconds, got {raw!r}") from None
    return float(seconds) if seconds > 0 else None


def _ssl(params: Mapping[str, str]) -> ssl.SSLContext | str | None:
    """asyncpg's `ssl` argument with libpq's meaning of each sslmode: a mode name where asyncpg's own fallback
    between plain and TLS is what libpq does (disable, allow, prefer), an SSLContext where certificates matter."""
    rootcert, cert, key = params.get("sslrootcert"), params.get("sslcert"), params.get("sslkey")
    mode = params.get("sslmode") or ("verify-full" if rootcert == "system" else None)
    if mode is not None and mode not in SSL_MODES:
        raise DatabaseUrlError(f"sslmode must be one of {', '.join(SSL_MODES)}, got {mode!r}")
    if key and not cert:
        raise DatabaseUrlError("sslkey needs sslcert")
    if mode in (None, "disable", "allow", "prefer"):
        if cert:
            raise DatabaseUrlError("sslcert needs sslmode=require, verify-ca or verify-full")
        return mode
    if rootcert == "system" and mode != "verify-full":
        raise DatabaseUrlError("sslrootcert=system needs sslmode=verify-full, as in libpq")
    if mode != "require" and not rootcert:
        raise DatabaseUrlError(f"sslmode={mode} needs sslrootcert (a CA certificate file, or system)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = mode == "verify-full"
    # require only encrypts, unless a root certificate is given: then libpq verifies the chain, as verify-ca
    context.verify_mode = ssl.CERT_REQUIRED if rootcert else ssl.CERT_NONE
    if rootcert == "system":
        context.load_default_certs()
    elif rootcert:
        with _loading(f"sslrootcert file {rootcert!r}"):
            context.load_verify_locations(cafile=_existing("sslrootcert", rootcert))
    if cert:
        with _loading(f"sslcert file {cert!r}" + (f" with sslkey file {key!r}" if key else "")):
            context.load_cert_chain(_existing("sslcert", cert), key and _existing("sslkey", key))
    return context


def _existing(parameter: str, path: str) -> str:
    if not os.path.isfile(path):
        raise DatabaseUrlError(f"{parameter} file {path!r} does not exist")
    return path


@contextmanager
def _loading(what: str) -> Iterator[None]:
    """Refuse an unusable certificate or key at start, naming it, rather than at the first connection."""
    try:
        yield
    except OSError as error:  # ssl.SSLError included: not a certificate or key, or the two do not match
        raise DatabaseUrlError(f"{what} cannot be used: {error}") from None


def create_engine(
    url: str,
    *,
    pool_size: int = 20,
    queue_timeout_ms: int = 500,
    lock_timeout_ms: int = 5000,
    statement_timeout_ms: int = 15_000,
) -> AsyncEngine:
    """A fixed pool of `pool_size` connections, each opened once and kept (SPEC 12: a pool that opens and closes
    connections under load spends the database's time on it); a request that waits longer than `queue_timeout_ms`
    for one of them is as busy as one refused at admission."""
    sqlalchemy_internals.check()  # what the prebuilt statements need of SQLAlchemy, refused at start if it is gone
    target = database_target(url)
    engine = create_async_engine(
        target.url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=queue_timeout_ms / 1000,
        pool_recycle=-1,
        pool_pre_ping=False,
        connect_args={
            **target.connect_args,
            "server_settings": {
                "lock_timeout": str(lock_timeout_ms),
                "statement_timeout": str(statement_timeout_ms),
                "application_name": target.application_name,
                # Every statement is prepared and index-driven (keys, keyset pages with a literal LIMIT, rollup
                # ranges). A custom plan re-plans a page's seven-table join on every call, ~4 ms of server CPU
                # against ~1 ms to run it; the generic plan is made once per connection and statement.
                "plan_cache_mode": "force_generic_plan",
            },
            "statement_cache_size": 512,
        },
    )
    lock_budget.listen(engine.sync_engine)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@dataclass(frozen=True)
class SessionMakers:
    """Sessions for mutations, each a transaction, and for queries, in autocommit.

    A query needs no transaction: under READ COMMITTED every statement takes its own snapshot anyway, so BEGIN and
    ROLLBACK were two round trips per request that bought nothing.
    """

    write: async_sessionmaker[AsyncSession]
    query: async_sessionmaker[AsyncSession]

    @classmethod
    def on(cls, engine: AsyncEngine) -> SessionMakers:
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(create_sessionmaker(engine), create_sessionmaker(autocommit))

    @classmethod
    def alike(cls, maker: async_sessionmaker[AsyncSession]) -> SessionMakers:
        """One sessionmaker for both, as tests bound to one rolled-back connection need."""
        return cls(maker, maker)

    def __call__(self, *, query: bool = False) -> async_sessionmaker[AsyncSession]:
        return self.query if query else self.write
