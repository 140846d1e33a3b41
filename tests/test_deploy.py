"""Safe to deploy (SPEC 11, 12): the command line run as an operator runs it, as processes on a real database.

Production serves no demo data; `create-admin` makes the first administrator from a password on standard input;
several `migrate`s at once on one empty database migrate it once; a configuration mistake or a database out of
reach is one line on stderr and a non-zero exit, never a traceback or a password.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import socket
import subprocess
import termios
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Executable, func, select, text

import cli
from db.engine import create_engine
from models import Employee, Role
from tests.deploy_support import (
    CLI,
    Finished,
    cli_env,
    cli_process,
    finish,
    free_port,
    fresh_database,
    run_cli,
    wait_ready,
)
from tests.factories import gql

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token viewer { email role { name isAdministrator } } }
}"""
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Served:
    """`cli.py serve` in production on a fresh database, and what it held once ready."""

    database_url: str
    base_url: str
    employees_at_start: int


async def count(url: str, statement: Executable, **params: object) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(statement, params)).scalar_one())
    finally:
        await engine.dispose()


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, as an orchestrator stops a container: the server shuts down by itself (uvicorn then ends by the
    signal it was sent, as a shell expects), and nothing it started is left."""
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # the process group it led is empty


@pytest.fixture(scope="module")
async def served(database_url: str) -> AsyncIterator[Served]:
    async with fresh_database(database_url) as url:
        port = free_port()
        env = cli_env(CASETIME_ENV="production", DATABASE_URL=url, HOST="127.0.0.1", PORT=str(port))
        process = cli_process("serve", env=env)
        try:
            await wait_ready(process, f"http://127.0.0.1:{port}")
            employees = await count(url, select(func.count()).select_from(Employee))
            yield Served(url, f"http://127.0.0.1:{port}", employees)
        finally:
            if process.poll() is None:
                stop(process)


async def create_admin(served: Served, email: str, *, stdin: str) -> Finished:
    env = cli_env(CASETIME_ENV="production", DATABASE_URL=served.database_url)
    return await run_cli("create-admin", "--email", email, "--name", "First Admin", env=env, input=stdin)


async def login(served: Served, email: str, password: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        body = await gql(client, LOGIN, {"email": email, "password": password})
    payload: dict[str, object] = body["data"]["login"]
    return payload


class TestProductionServe:
    async def test_loads_no_demo_data_into_an_empty_database(self, served: Served) -> None:
        # then: the database was migrated, and served, without a single employee
        assert served.employees_at_start == 0

    async def test_has_no_graphiql(self, served: Served) -> None:
        # when
        async with httpx.AsyncClient(base_url=served.base_url) as client:
            response = await client.get("/graphql", headers={"Accept": "text/html"})
        # then
        assert not response.headers["content-type"].startswith("text/html")
        assert "graphiql" not in response.text.lower()


class TestCreateAdmin:
    async def test_a_piped_password_makes_an_administrator_who_can_log_in(self, served: Served) -> None:
        # when
        created = await create_admin(served, "first@example.com", stdin=f"{PASSWORD}\n")
        # then
        assert created.status == 0, created.stderr
        assert created.stdout.splitlines()[-1] == "casetime: administrator first@example.com created"
        payload = await login(served, "first@example.com", PASSWORD)
        assert payload["token"]
        assert payload["viewer"] == {
            "email": "first@example.com",
            "role": {"name": "Administrator", "isAdministrator": True},
        }

    async def test_two_equal_lines_are_taken_and_the_administrator_role_is_reused(self, served: Served) -> None:
        # given
        assert (await create_admin(served, "one@example.com", stdin=f"{PASSWORD}\n")).status == 0
        # when
        created = await create_admin(served, "two@example.com", stdin=f"{PASSWORD}\n{PASSWORD}\n")
        # then
        assert created.status == 0, created.stderr
        assert (await login(served, "two@example.com", PASSWORD))["token"]
        assert await count(served.database_url, select(func.count()).where(Role.name == "Administrator")) == 1

    async def test_an_existing_email_is_refused(self, served: Served) -> None:
        # given
        assert (await create_admin(served, "taken@example.com", stdin=f"{PASSWORD}\n")).status == 0
        # when
        again = await create_admin(served, "TAKEN@example.com", stdin="another long password\n")
        # then
        assert "already exists" in again.refusal
        assert (await login(served, "taken@example.com", PASSWORD))["token"]

    async def test_a_short_password_is_refused_by_the_password_rules(self, served: Served) -> None:
        # when
        refused = await create_admin(served, "short@example.com", stdin="short\n")
        # then
        assert "password must be" in refused.refusal
        assert await self.employees_named(served, "short@example.com") == 0

    async def test_two_different_lines_are_refused(self, served: Served) -> None:
        # when
        refused = await create_admin(served, "differ@example.com", stdin=f"{PASSWORD}\n{PASSWORD}!\n")
        # then
        assert refused.refusal == "casetime: the two passwords differ"
        assert await self.employees_named(served, "differ@example.com") == 0

    async def test_an_empty_standard_input_is_refused(self, served: Served) -> None:
        # when: as `docker run` without -i
        refused = await create_admin(served, "empty@example.com", stdin="")
        # then
        assert refused.refusal == "casetime: no password on standard input: pipe it in, or run at a terminal"

    async def test_a_terminal_is_asked_twice_without_echo(self, served: Served) -> None:
        # given: standard input is a terminal, the command's controlling terminal
        env = cli_env(CASETIME_ENV="production", DATABASE_URL=served.database_url)
        process, terminal = on_terminal("create-admin", "--email", "tty@example.com", "--name", "Tty Admin", env=env)
        # when
        screen = await asyncio.to_thread(answer, terminal, [("Password: ", PASSWORD), ("Password again: ", PASSWORD)])
        # then
        assert await asyncio.to_thread(process.wait, 30) == 0, screen
        assert PASSWORD not in screen  # nothing typed was echoed
        assert "administrator tty@example.com created" in screen
        assert (await login(served, "tty@example.com", PASSWORD))["token"]

    @staticmethod
    async def employees_named(served: Served, email: str) -> int:
        return await count(served.database_url, select(func.count()).where(Employee.email == email))


def on_terminal(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """`cli.py ARGS` with a new terminal as its standard streams and controlling terminal (which getpass opens);
    returns the process and our side of the terminal."""
    ours, theirs = os.openpty()
    process = subprocess.Popen(
        [*CLI, *args],
        env=env,
        stdin=theirs,
        stdout=theirs,
        stderr=theirs,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(theirs)
    return process, ours


def answer(terminal: int, prompts: list[tuple[str, str]], *, within: float = 30) -> str:
    """Type each answer once its prompt shows; returns all the terminal showed until the command closed it."""
    screen = b""
    deadline = time.monotonic() + within
    for prompt, reply in prompts:
        while not screen.endswith(prompt.encode()):
            assert time.monotonic() < deadline, screen
            screen += os.read(terminal, 1024)
        os.write(terminal, f"{reply}\n".encode())
    try:
        while chunk := os.read(terminal, 1024):
            screen += chunk
    except OSError:  # EIO once the command has ended and closed its side
        pass
    os.close(terminal)
    return screen.decode()


async def test_migrations_started_at_once_run_once(database_url: str) -> None:
    async with fresh_database(database_url) as url:
        # given
        env = cli_env(CASETIME_ENV="production", DATABASE_URL=url)
        scripts = ScriptDirectory.from_config(cli.alembic_config(url))
        head = scripts.get_current_head()
        # when: three containers start together on one empty database
        processes = [cli_process("migrate", env=env) for _ in range(3)]
        finished = [await finish(process) for process in processes]
        # then: all succeed, one applied every migration, the others waited and found the database current
        assert [f.status for f in finished] == [0, 0, 0], finished
        every_revision = ", ".join(reversed([script.revision for script in scripts.walk_revisions()]))
        assert sorted(f.stdout for f in finished) == [
            f"casetime: migrations applied: {every_revision}\n",
            f"casetime: the database is current ({head}), no migrations to apply\n",
            f"casetime: the database is current ({head}), no migrations to apply\n",
        ]
        assert await count(url, text("SELECT count(*) FROM alembic_version WHERE version_num = :head"), head=head) == 1


# (settings, command, the start of the one line it must print); {closed} is a port nothing listens on, {silent} one
# that accepts connections and never answers. Every URL holds the password "secret", which must never be printed.
MISTAKES = {
    "port not a number": ({"PORT": "abc"}, "serve", "casetime: PORT must be a whole number, got 'abc'"),
    "port too large": ({"PORT": "70000"}, "serve", "casetime: PORT must be at most 65535, got 70000"),
    "not a URL": (
        {"DATABASE_URL": "postgresql://casetime:secret@db:port/x"},
        "migrate",
        "casetime: DATABASE_URL: not a URL",
    ),
    "wrong scheme": (
        {"DATABASE_URL": "mysql://casetime:secret@db/casetime"},
        "migrate",
        "casetime: DATABASE_URL: the scheme must be postgresql://",
    ),
    "unknown sslmode": (
        {"DATABASE_URL": "postgresql://casetime:secret@db/casetime?sslmode=always"},
        "serve",
        "casetime: DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full",
    ),
    "missing root certificate": (
        {"DATABASE_URL": "postgresql://casetime:secret@db/casetime?sslmode=verify-full&sslrootcert=/nowhere/ca.pem"},
        "migrate",
        "casetime: DATABASE_URL: sslrootcert file '/nowhere/ca.pem' does not exist",
    ),
    "unknown parameter": (
        {"DATABASE_URL": "postgresql://casetime:secret@db/casetime?sslmode=require&pool_size=5"},
        "serve",
        "casetime: DATABASE_URL: unknown parameter 'pool_size'",
    ),
    "bad read replica URL": (
        {
            "DATABASE_URL": "postgresql://casetime:secret@db/casetime",
            "DATABASE_READ_URL": "postgresql://casetime:secret@replica/casetime?connect_timeout=soon",
        },
        "serve",
        "casetime: DATABASE_READ_URL: connect_timeout must be a whole number of seconds",
    ),
    "the cap lock switched off outside tests": (
        {"DATABASE_URL": "postgresql://casetime:secret@db/casetime", "CASETIME_CAP_LOCK_OFF_FOR_TESTS": "1"},
        "serve",
        "casetime: CASETIME_CAP_LOCK_OFF_FOR_TESTS breaks the cap on purpose; only CASETIME_ENV=test",
    ),
    "production without a database": (
        {"CASETIME_ENV": "production"},
        "serve",
        "casetime: CASETIME_ENV=production needs",
    ),
    "database refusing connections at serve": (
        {"CASETIME_ENV": "production", "DATABASE_URL": "postgresql://casetime:secret@127.0.0.1:{closed}/casetime"},
        "serve",
        "casetime: cannot reach the database at 127.0.0.1:{closed}: ",
    ),
    "trusted documents unreadable at serve": (
        {
            "CASETIME_ENV": "production",
            "DATABASE_URL": "postgresql://casetime:secret@127.0.0.1:{closed}/casetime",
            "TRUSTED_DOCUMENTS": "/nowhere/manifest.json",
        },
        "serve",
        "casetime: TRUSTED_DOCUMENTS (/nowhere/manifest.json) cannot be read: ",
    ),
    "trusted documents only without a manifest": (
        {"DATABASE_URL": "postgresql://casetime:secret@127.0.0.1:{closed}/casetime", "TRUSTED_DOCUMENTS_ONLY": "true"},
        "serve",
        "casetime: TRUSTED_DOCUMENTS_ONLY=true needs TRUSTED_DOCUMENTS",
    ),
    "database refusing connections at migrate": (
        {"DATABASE_URL": "postgresql://casetime:secret@127.0.0.1:{closed}/casetime"},
        "migrate",
        "casetime: cannot reach the database at 127.0.0.1:{closed}: ",
    ),
    "database not answering": (
        {"DATABASE_URL": "postgresql://casetime:secret@127.0.0.1:{silent}/casetime?connect_timeout=1"},
        "migrate",
        "casetime: cannot reach the database at 127.0.0.1:{silent}: timed out",
    ),
}


@pytest.fixture(scope="module")
async def mistakes() -> AsyncIterator[dict[str, tuple[Finished, str]]]:
    """Every mistake's command run at once (each is a whole interpreter starting): what it printed, and what
    it had to."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        ports = {"closed": free_port(), "silent": silent.getsockname()[1]}
        started = {
            name: (cli_process(command, env=cli_env(**{k: v.format(**ports) for k, v in settings.items()})), expected)
            for name, (settings, command, expected) in MISTAKES.items()
        }
        yield {name: (await finish(process), expected.format(**ports)) for name, (process, expected) in started.items()}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_at_start_is_one_line_and_a_failed_exit(
    mistakes: dict[str, tuple[Finished, str]], mistake: str
) -> None:
    # given / when: the command started with the mistake (the fixture)
    finished, expected = mistakes[mistake]
    # then
    assert finished.refusal.startswith(expected)
    assert "secret" not in finished.stdout + finished.stderr
