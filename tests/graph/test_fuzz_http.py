"""Fuzzing the running service over real HTTP: the documents of test_fuzz.py, for every root field, sent to `cli.py
serve` (uvicorn, production settings) on a database of its own. Its rows are committed, so fuzzed mutations really
write and later documents meet what earlier ones left. Before each root field both viewers get fresh tokens and are
active again: a fuzzed logout or deactivation would otherwise leave the rest of the run unauthenticated. Every answer
must be coded (no 5xx, no traceback, no INTERNAL), and the server's standard error must hold no traceback at the end.
`make test` runs 2 documents a field; `make fuzz` FUZZ_EXAMPLES (100), as in test_fuzz.py."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from cli import migrate, transaction
from services.auth import token_digest
from services.passwords import Passwords
from tests.deploy_support import CLI, cli_env, free_port, fresh_database, wait_ready
from tests.factories import Factory
from tests.graph.test_fuzz import ROOT_FIELDS, World, _documents, _problems, fuzzing, make_world

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))


@dataclass
class Served:
    url: str
    database_url: str
    world: World
    employees: tuple[int, int]  # the administrator's and the plain employee's ids
    process: subprocess.Popen[bytes]
    stderr: Path


@pytest.fixture(scope="module")
async def served(database_url: str) -> AsyncIterator[Served]:
    async with fresh_database(database_url) as url:
        await asyncio.to_thread(migrate, url)
        async with transaction(url) as session:
            factory = Factory(session, Passwords(time_cost=1, memory_kib=8))
            world = await make_world(factory)
            rows = await session.execute(text("SELECT id FROM employees ORDER BY id"))
            employees = tuple(row.id for row in rows)
        process, stderr = _serve(url)
        served = Served(
            f"http://127.0.0.1:{process.port}", url, world, (employees[0], employees[1]), process.popen, stderr
        )
        try:
            await wait_ready(served.process, served.url)
            yield served
        finally:
            log = _stop(served)
        assert "Traceback" not in log, log[-3000:]


@dataclass(frozen=True)
class Process:
    popen: subprocess.Popen[bytes]
    port: int


def _serve(url: str) -> tuple[Process, Path]:
    """`cli.py serve` in production settings on `url`; its standard error goes to a file (the request log, on
    standard output, is not kept). Fuzzed webhooks send nothing: no delivery loop runs, so no request leaves."""
    port = free_port()
    stderr = Path(tempfile.mkstemp(prefix="casetime-fuzz-", suffix=".log")[1])
    env = cli_env(
        CASETIME_ENV="production", DATABASE_URL=url, HOST="127.0.0.1", PORT=str(port), WEBHOOK_DELIVERY="false"
    )
    with stderr.open("wb") as errors:
        popen = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=errors)
    return Process(popen, port), stderr


def _stop(served: Served) -> str:
    """Stop the server; what it wrote to standard error."""
    served.process.terminate()
    served.process.wait(20)
    log = served.stderr.read_text(errors="replace")
    served.stderr.unlink()
    return log


async def _fresh_tokens(served: Served) -> tuple[str, str]:
    """New tokens for both viewers, who are active again: whatever an earlier field's documents did to them."""
    tokens = (secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    async with transaction(served.database_url) as session:
        await session.execute(
            text("UPDATE employees SET active = true WHERE id = ANY(:ids)"), {"ids": served.employees}
        )
        for employee, token in zip(served.employees, tokens, strict=True):
            await session.execute(
                text("INSERT INTO auth_tokens (token_hash, employee_id, expires_at) VALUES (:hash, :employee, :until)"),
                {"hash": token_digest(token), "employee": employee, "until": datetime.now(UTC) + timedelta(hours=1)},
            )
    return tokens


_TOKENS: dict[str, tuple[str, str]] = {}  # per root field, made before its first document


@pytest.mark.parametrize("root_field", ROOT_FIELDS)
@fuzzing(EXAMPLES)
@given(data=st.data())
async def test_every_answer_over_http_is_coded(served: Served, root_field: str, data: st.DataObject) -> None:
    if root_field not in _TOKENS:
        _TOKENS[root_field] = await _fresh_tokens(served)
    document = data.draw(_documents(root_field, served.world.ids), label="document")
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        for token in _TOKENS[root_field]:
            body = {"query": document}
            response = await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
            assert _problems(response) == [], response.text[:500]
