"""Backup and restore (db/backup.py, `make backup` / `make restore FILE=…`): a database with the demo data, backed up,
then changed, comes back from the backup exactly: every table's rows and every sequence, compared before and after;
the comparison itself catches the change (negative control). Wrong input is one line and exit status 2."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from cli import main, migrate, seed
from db import backup
from db.backup import libpq_url
from settings import Config

DATABASE = "casetime_backup_test"


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(libpq_url(make_url(url).set(database="postgres").render_as_string(False)))


async def _recreate(url: str, *, drop_only: bool = False) -> None:
    admin = await _admin(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if not drop_only:
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()


@pytest.fixture
def demo_url(database_url: str) -> Iterator[str]:
    """A database of its own holding the demo data, dropped afterwards (made outside the tests' event loop: the
    migrations run one of their own)."""
    asyncio.run(_recreate(database_url))
    url = make_url(database_url).set(database=DATABASE).render_as_string(hide_password=False)
    migrate(url)
    assert asyncio.run(seed(url, Config()))
    yield url
    asyncio.run(_recreate(database_url, drop_only=True))


async def _snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows in order, and every sequence's last value."""
    conn = await asyncpg.connect(libpq_url(url))
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE "
            "TABLE' ORDER BY table_name"
        )
        found: dict[str, tuple[int, str]] = {}
        for (name,) in tables:
            count, digest = await conn.fetchrow(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" AS t"
            )
            found[name] = (count, digest)
        for (name,) in await conn.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"):
            found[f"sequence {name}"] = (await conn.fetchval(f'SELECT last_value FROM "{name}"'), "")
        return found
    finally:
        await conn.close()


async def _change(url: str) -> None:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute("UPDATE cases SET description = 'changed after the backup'")
        await conn.execute("DELETE FROM time_rollup")
        await conn.execute("INSERT INTO debtors (code, name) VALUES ('AFTER', 'Written after the backup')")
    finally:
        await conn.close()


async def test_a_backup_restores_every_table_exactly(demo_url: str, tmp_path: Path) -> None:
    before = await _snapshot(demo_url)
    assert before["time_entries"][0] > 0
    assert len(before) > 15
    written = backup.dump(demo_url, tmp_path / "demo.dump")
    assert written.stat().st_size > 0
    await _change(demo_url)
    changed = await _snapshot(demo_url)
    # the negative control: the comparison sees what changed
    assert {name for name in before if changed[name] != before[name]} >= {"cases", "time_rollup", "debtors"}
    backup.restore(demo_url, written)
    assert await _snapshot(demo_url) == before


def test_a_backup_never_overwrites_a_file(demo_url: str, tmp_path: Path) -> None:
    existing = tmp_path / "kept.dump"
    existing.write_bytes(b"not a backup")
    with pytest.raises(backup.BackupError, match="exists already"):
        backup.dump(demo_url, existing)
    assert existing.read_bytes() == b"not a backup"


async def test_a_restore_that_fails_changes_nothing(demo_url: str, tmp_path: Path) -> None:
    before = await _snapshot(demo_url)
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP" + b"\x00" * 64)
    with pytest.raises(backup.BackupError, match="pg_restore failed"):
        backup.restore(demo_url, broken)
    assert await _snapshot(demo_url) == before


def test_the_commands_say_what_is_wrong_in_one_line(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    assert main(["restore", str(tmp_path / "missing.dump")]) == 2
    assert capsys.readouterr().err.strip() == f"casetime: no such backup file: {tmp_path / 'missing.dump'}"
    target = tmp_path / "made.dump"
    assert main(["backup", str(target)]) == 0
    assert target.is_file()
    assert main(["backup", str(target)]) == 2
    assert "exists already" in capsys.readouterr().err


def test_check_finds_the_demo_books_exact_and_names_a_changed_figure(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    assert main(["check"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "casetime: the books are exact"
    asyncio.run(_change(demo_url))  # the day rollup emptied
    assert main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("casetime: the books differ in ")
    assert any(line.startswith("casetime: time_rollup ") for line in lines)
