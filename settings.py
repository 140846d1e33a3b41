"""The one place that reads the environment: a frozen configuration passed down from the edge."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from db.engine import DatabaseUrlError, database_target

PROJECT_ROOT = Path(__file__).resolve().parent


class ConfigError(ValueError):
    """A setting is missing or malformed; the process refuses to start."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from error
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def _database_url(env: Mapping[str, str], name: str) -> str | None:
    """The URL as given, once it is known to translate (SPEC 12: a URL that cannot be used is refused at start)."""
    url = env.get(name) or None
    if url is not None:
        try:
            database_target(url)
        except DatabaseUrlError as error:
            raise ConfigError(f"{name}: {error}") from None
    return url


def _bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _origins(raw: str) -> tuple[str, ...]:
    """Exact origins (`https://app.example.com`, `http://localhost:5173`), comma-separated; no wildcard, no path."""
    origins = tuple(origin.strip() for origin in raw.split(",") if origin.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest or "*" in rest:
            raise ConfigError(f"CORS_ORIGINS must list exact origins like https://app.example.com, got {origin!r}")
    return origins


@dataclass(frozen=True, slots=True)
class Config:
    database_url: str | None = None
    read_database_url: str | None = None
    environment: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    token_ttl: timedelta = timedelta(hours=12)
    lock_timeout_ms: int = 5000
    pgdata: Path = field(default=PROJECT_ROOT / ".pgdata")
    # a fixed pool per worker, as wide as MAX_IN_FLIGHT: an admitted request never waits for a connection; more
    # backends than the database has cores to run them only take turns (bench/README.md: 10 against 20)
    db_pool_size: int = 10
    # each worker's connections for live subscriptions, beside DB_POOL_SIZE: one follows the event feed, the others
    # read events for their subscribers
    live_pool_size: int = 3
    # argon2id cost; tests lower it, production keeps the library's recommended defaults
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # every statement of a request runs under it; past it the answer is BUSY (SPEC 12)
    statement_timeout_ms: int = 15_000
    # failed logins throttled per email and per client address within a window (SPEC 12)
    login_failures_per_email: int = 5
    login_failures_per_address: int = 20
    login_window: timedelta = timedelta(minutes=15)
    # browsers on these exact origins may call the API (SPEC 12); none: same origin only
    cors_origins: tuple[str, ...] = ()
    # trusted documents (SPEC 12): the manifest's path, and whether only its documents run
    trusted_documents: Path | None = None
    trusted_documents_only: bool = False
    # admission (SPEC 12): requests served at once per worker, and how long one may wait to start
    max_in_flight: int = 10
    queue_timeout_ms: int = 500
    # when set, GET /metrics asks for `Authorization: Bearer <it>`; else it is served to anyone who reaches the port
    metrics_token: str | None = field(default=None, repr=False)
    # with a read replica: after a viewer's write, their reports and lists read the primary for at least this long
    # (and at most twice it); keep it above the replica's worst replay lag
    read_your_writes_seconds: int = 10
    # webhooks (SPEC 13): whether this instance runs the delivery loop, the first retry's wait (doubled per attempt),
    # and whether production may reach private addresses
    webhook_delivery: bool = True
    webhook_retry_base_ms: int = 1000
    webhook_allow_private: bool = False
    # the soak's negative control (bench/soak.py): writers no longer queue on a case's totals row, so caps can be
    # overshot; only CASETIME_ENV=test accepts it
    cap_lock_off_for_tests: bool = False

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def webhook_private_allowed(self) -> bool:
        """Whether webhooks may reach loopback and private addresses: outside production, or when allowed."""
        return not self.production or self.webhook_allow_private

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        environment = env.get("CASETIME_ENV", "development").strip() or "development"
        if environment not in ("development", "production", "test"):
            raise ConfigError(f"CASETIME_ENV must be development, production or test, got {environment!r}")
        database_url = _database_url(env, "DATABASE_URL")
        if environment == "production" and database_url is None:
            raise ConfigError("CASETIME_ENV=production needs DATABASE_URL")
        cap_lock_off = _bool(env, "CASETIME_CAP_LOCK_OFF_FOR_TESTS")
        if cap_lock_off and environment != "test":
            raise ConfigError("CASETIME_CAP_LOCK_OFF_FOR_TESTS breaks the cap on purpose; only CASETIME_ENV=test")
        pgdata = Path(env["CASETIME_PGDATA"]) if env.get("CASETIME_PGDATA") else PROJECT_ROOT / ".pgdata"
        return cls(
            database_url=database_url,
            read_database_url=_database_url(env, "DATABASE_READ_URL"),
            environment=environment,
            host=env.get("HOST", "127.0.0.1"),
            port=_int(env, "PORT", 8000, minimum=1, maximum=65535),
            workers=_int(env, "WEB_CONCURRENCY", 1, minimum=1),
            token_ttl=timedelta(minutes=_int(env, "TOKEN_TTL_MINUTES", 12 * 60, minimum=1)),
            lock_timeout_ms=_int(env, "LOCK_TIMEOUT_MS", 5000, minimum=1),
            pgdata=pgdata,
            db_pool_size=_int(env, "DB_POOL_SIZE", 10, minimum=1),
            live_pool_size=_int(env, "LIVE_POOL_SIZE", 3, minimum=2),
            argon2_time_cost=_int(env, "ARGON2_TIME_COST", 3, minimum=1),
            argon2_memory_kib=_int(env, "ARGON2_MEMORY_KIB", 65536, minimum=8),
            statement_timeout_ms=_int(env, "STATEMENT_TIMEOUT_MS", 15_000, minimum=1),
            login_failures_per_email=_int(env, "LOGIN_FAILURES_PER_EMAIL", 5, minimum=1),
            login_failures_per_address=_int(env, "LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1),
            login_window=timedelta(minutes=_int(env, "LOGIN_WINDOW_MINUTES", 15, minimum=1)),
            cors_origins=_origins(env.get("CORS_ORIGINS", "")),
            trusted_documents=Path(env["TRUSTED_DOCUMENTS"]) if env.get("TRUSTED_DOCUMENTS") else None,
            trusted_documents_only=_bool(env, "TRUSTED_DOCUMENTS_ONLY"),
            max_in_flight=_int(env, "MAX_IN_FLIGHT", 10, minimum=1),
            queue_timeout_ms=_int(env, "QUEUE_TIMEOUT_MS", 500, minimum=0),
            metrics_token=env.get("METRICS_TOKEN") or None,
            read_your_writes_seconds=_int(env, "READ_YOUR_WRITES_SECONDS", 10, minimum=0),
            webhook_delivery=_bool(env, "WEBHOOK_DELIVERY", default=True),
            webhook_retry_base_ms=_int(env, "WEBHOOK_RETRY_BASE_MS", 1000, minimum=1, maximum=3_600_000),
            webhook_allow_private=_bool(env, "WEBHOOK_ALLOW_PRIVATE"),
            cap_lock_off_for_tests=cap_lock_off,
        )
