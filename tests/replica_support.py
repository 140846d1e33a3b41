"""A real streaming replica for the tests of what the service does with a read replica: a scratch embedded PostgreSQL
as primary, and a hot standby made from it with pg_basebackup, both run by the binaries of the embedded server's own
package (never the machine's PostgreSQL), so that primary and standby are the same major version.

The embedded server listens on a unix socket only (`-h "" -k <dir>`), so the standby gets a socket directory and
port of its own and streams from the primary's socket. A pgserver-initialised cluster is ready for this as it is:
`wal_level = replica`, `max_wal_senders = 10` and a `local replication all trust` line in pg_hba.conf.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db import embedded

# the longest path a unix socket may have (sun_path is 108 bytes, one of them the terminating NUL)
_SOCKET_PATH_MAX = 107
_STANDBY_NAME = "casetime_standby"
_POLL_SECONDS = 0.02


class ReplicaError(RuntimeError):
    """A server tool or query failed (a standby that is slow to get somewhere is a TimeoutError instead)."""


@dataclass(frozen=True)
class Endpoint:
    """Where one of the two servers listens: a unix socket directory and the port that names the socket in it."""

    socket_dir: Path
    port: int

    def url(self, database: str) -> str:
        """The libpq-style URL db.engine.create_engine takes (the form db.embedded.url_of gives, with the port)."""
        return f"postgresql://postgres:@/{database}?host={self.socket_dir}&port={self.port}"


@dataclass
class Replica:
    """A primary and its streaming standby; `primary_url` and `replica_url` name the same database on each."""

    primary_url: str
    replica_url: str
    database: str
    primary: Endpoint
    standby: Endpoint
    standby_data: Path
    bindir: Path

    def wait_caught_up(self, timeout: float = 10) -> None:
        """Wait until the standby has replayed all the WAL the primary has written so far (what the primary committed
        before the call is then visible on the standby)."""
        target = self.primary_sql("SELECT pg_current_wal_lsn()")
        _wait_for(
            lambda: self.standby_sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t",
            timeout,
            f"the standby did not replay up to {target} within {timeout} s",
        )

    def pause_replay(self, timeout: float = 10) -> None:
        """Stop the standby applying WAL (it still receives it), so that it lags the primary on purpose; returns once
        the pause has taken effect, not merely been asked for."""
        self.standby_sql("SELECT pg_wal_replay_pause()")
        _wait_for(
            lambda: self.standby_sql("SELECT pg_get_wal_replay_pause_state()") == "paused",
            timeout,
            f"the standby's replay did not pause within {timeout} s",
        )

    def resume_replay(self) -> None:
        """Let the standby apply WAL again; wait_caught_up tells when it has caught up."""
        self.standby_sql("SELECT pg_wal_replay_resume()")

    def primary_sql(self, query: str) -> str:
        return _psql(self.bindir, self.primary, self.database, query)

    def standby_sql(self, query: str) -> str:
        return _psql(self.bindir, self.standby, self.database, query)


@contextmanager
def streaming_replica(tmp_path: Path, database: str, *, timeout: float = 15) -> Iterator[Replica]:
    """A scratch primary (its own data dir under tmp_path), the database created on it, and a standby made with
    pg_basebackup -R streaming from it, started on its own socket dir/port; both stopped and removed afterwards."""
    primary_data = tmp_path / "primary"
    server = embedded.start(primary_data)
    try:
        embedded.ensure_database(server, database)
        info = server.get_postmaster_info()
        primary = Endpoint(Path(info.socket_dir), int(info.port))
        standby_data = _standby_dir(tmp_path / "standby", server.system_user)
        try:
            # its socket in its own data dir, on a port other than the primary's: the backup copies the primary's
            # socket lock file (.s.PGSQL.<port>.lock, naming the running primary), on which the standby would refuse
            # to start were it to use the same port
            standby = Endpoint(standby_data, primary.port + 1)
            _base_backup(server, primary, standby_data)
            _start(server, standby_data, standby)
            try:
                replica = Replica(
                    primary_url=embedded.url_of(server, database),
                    replica_url=standby.url(database),
                    database=database,
                    primary=primary,
                    standby=standby,
                    standby_data=standby_data,
                    bindir=server.bin_path,
                )
                try:
                    _wait_for(lambda: _streaming(replica), timeout, f"the standby was not streaming within {timeout} s")
                except TimeoutError as late:
                    raise TimeoutError(f"{late}:\n{_log_tail(standby_data)}") from None
                yield replica
            finally:
                _stop(server, standby_data)
        finally:
            shutil.rmtree(standby_data, ignore_errors=True)
    finally:
        server.cleanup()  # this process holds the only handle, so the primary stops
        shutil.rmtree(primary_data, ignore_errors=True)


def _standby_dir(preferred: Path, owner: str | None) -> Path:
    """An empty data directory for the standby, whose socket lives in it: `preferred` when the socket's path fits in
    a unix socket address, else a short one under /tmp. Under root the servers run as pgserver's own user, which
    must own it (PostgreSQL refuses a data directory others can read)."""
    socket_path = preferred / ".s.PGSQL.65535"
    if len(os.fsencode(socket_path)) <= _SOCKET_PATH_MAX:
        preferred.mkdir()
        directory = preferred
    else:
        directory = Path(tempfile.mkdtemp(prefix="casetime-standby-", dir="/tmp"))
    if owner is not None:
        shutil.chown(directory, owner, owner)
    directory.chmod(0o700)
    return directory


def _base_backup(server: Any, primary: Endpoint, standby_data: Path) -> None:
    """Copy the primary into the standby's data dir, with the WAL streamed alongside (-X stream) and a checkpoint
    forced at once rather than spread out (-c fast: a spread one takes minutes). -R writes standby.signal and a
    primary_conninfo of the connection used here, so the standby streams from the primary's socket directory."""
    conninfo = f"host={primary.socket_dir} port={primary.port} user=postgres application_name={_STANDBY_NAME}"
    _run(
        server,
        "pg_basebackup",
        f"--dbname={conninfo}",
        f"--pgdata={standby_data}",
        "--write-recovery-conf",
        "--wal-method=stream",
        "--checkpoint=fast",
        "--no-sync",  # a scratch copy: surviving a power cut is of no use
    )


def _start(server: Any, standby_data: Path, standby: Endpoint) -> None:
    """Start the standby on no TCP address and its own socket (as pgserver starts the primary, with a port of its
    own); its log goes to standby.log beside the primary's log that the backup copied."""
    options = f"-h '' -k {shlex.quote(str(standby.socket_dir))} -p {standby.port}"
    log = standby_data / "standby.log"
    try:
        _run(server, "pg_ctl", "-w", "-t", "10", "-o", options, "-l", str(log), "-D", str(standby_data), "start")
    except ReplicaError as failed:
        raise ReplicaError(f"{failed}\n{_log_tail(standby_data)}") from None


def _stop(server: Any, standby_data: Path) -> None:
    """Stop the standby if it runs (a failed start leaves none), fast: it has nothing of its own to keep."""
    if (standby_data / "postmaster.pid").exists():
        _run(server, "pg_ctl", "-w", "-m", "fast", "-D", str(standby_data), "stop")


def _streaming(replica: Replica) -> bool:
    """The primary sees the standby's WAL receiver and has sent it everything it had (state `streaming`, not
    `startup` or `catchup`)."""
    query = (
        f"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{_STANDBY_NAME}' AND state = 'streaming'"
    )
    return replica.primary_sql(query) == "1"


def _run(server: Any, tool: str, *args: str) -> None:
    """Run one of the package's server tools as the user the embedded server runs as (pgserver's own user under
    root: PostgreSQL refuses to run as root, and the standby's files must be that user's)."""
    done = subprocess.run(
        [str(server.bin_path / tool), *args],
        user=server.system_user,
        cwd="/",  # the tool's user may not be allowed into ours
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise ReplicaError(f"{tool} failed (exit status {done.returncode}): {done.stderr.strip()}")


def _psql(bindir: Path, endpoint: Endpoint, database: str, query: str) -> str:
    """The single value `query` returns, as psql prints it unaligned (booleans `t`/`f`)."""
    where = ["-h", str(endpoint.socket_dir), "-p", str(endpoint.port), "-U", "postgres", "-d", database]
    done = subprocess.run(
        [str(bindir / "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", *where, "-c", query],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        raise ReplicaError(f"psql on {endpoint.socket_dir}:{endpoint.port} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _wait_for(condition: Callable[[], bool], timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(failure)
        time.sleep(_POLL_SECONDS)


def _log_tail(standby_data: Path, lines: int = 20) -> str:
    try:
        return "\n".join((standby_data / "standby.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no standby log)"
