"""The CSV import command (SPEC 10): all or nothing unless --best-effort, each bad line named on stderr.

The command opens its own engine and commits, so it cannot see a test's rolled-back transaction: the
debtors it needs are committed on their own connection, and everything made here is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

import cli
from models import Case, Debtor


@asynccontextmanager
async def committed_debtors(engine: AsyncEngine, *names: str) -> AsyncIterator[dict[str, str]]:
    """Debtors committed for real, keyed by `names`; their codes are unique to this run. Removed afterwards."""
    run = uuid.uuid4().hex[:8].upper()
    codes = {name: f"CLI-{run}-{name}" for name in names}
    async with engine.begin() as conn:
        result = await conn.execute(
            insert(Debtor).returning(Debtor.id), [{"code": code, "name": f"Debtor {code}"} for code in codes.values()]
        )
        debtor_ids = list(result.scalars())
    try:
        yield codes
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(Case).where(Case.debtor_id.in_(debtor_ids)))
            await conn.execute(delete(Debtor).where(Debtor.id.in_(debtor_ids)))


async def imported(engine: AsyncEngine, codes: dict[str, str]) -> list[tuple[Any, ...]]:
    """(debtor code, case code, description, blocked) of every case of these debtors, committed."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(Debtor.code, Case.code, Case.description, Case.blocked)
            .join(Debtor, Debtor.id == Case.debtor_id)
            .where(Debtor.code.in_(codes.values()))
            .order_by(Debtor.code, Case.code)
        )
        return [tuple(r) for r in rows]


def csv_file(directory: Path, text: str) -> Path:
    path = directory / "cases.csv"
    path.write_text(text, encoding="utf-8")
    return path


async def run_import(database_url: str, path: Path, *, dry_run: bool = False, best_effort: bool = False) -> int:
    return await asyncio.to_thread(cli.import_cases, database_url, path, dry_run=dry_run, best_effort=best_effort)


async def test_a_good_file_imports_every_row(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with committed_debtors(engine, "A", "B") as codes:
        # given
        path = csv_file(
            tmp_path,
            "debtor_code,code,description,invoicing,is_default,blocked,max_per_book_year,max_minutes\n"
            f"{codes['A']},P-1,First project,NON_BILLABLE,true,,TIME,600\n"
            f"{codes['A'].lower()},P-2,,J,no,yes,,\n"
            f"{codes['B']}, P-1 ,Same code elsewhere,,,,,\n",
        )
        # when
        status = await run_import(database_url, path)
        # then
        assert status == 0
        assert await imported(engine, codes) == [
            (codes["A"], "P-1", "First project", False),
            (codes["A"], "P-2", None, True),
            (codes["B"], "P-1", "Same code elsewhere", False),
        ]
        out, err = capsys.readouterr()
        assert "3 good row(s), 0 bad row(s); 3 case(s) imported" in out
        assert err == ""


BAD_ROWS = [
    ("{A},GOOD-1,,,,,,", None),
    ("UNKNOWN-DEBTOR-XYZ,P-9,,,,,,", "NOT_FOUND"),
    ("{A},P-2,,,maybe,,,", "VALIDATION"),
    ("{A},P-3,,,,2026-13-01,,", "VALIDATION"),
    ("{A},good-1,,,,,,", "DUPLICATE"),
    ("{A},P-4,,,,2026-01-01,TIME,600", "PERIOD_WITH_CAP"),
    ("{B},GOOD-2,,,,,,", None),
    ("{A},,,,,,,", "VALIDATION"),
    ("{A},P-5,,INVOICED,,,,", "VALIDATION"),
]
BAD_HEADER = "debtor_code,code,description,invoicing,is_default,active_from,max_per_book_year,max_minutes\n"


def bad_file(directory: Path, codes: dict[str, str]) -> Path:
    return csv_file(directory, BAD_HEADER + "".join(row.format(**codes) + "\n" for row, _ in BAD_ROWS))


def expected_errors(path: Path) -> list[tuple[str, str]]:
    """(`path:line`, code) of each bad row; the header is line 1."""
    return [(f"{path}:{line}", code) for line, (_, code) in enumerate(BAD_ROWS, start=2) if code]


def reported(err: str) -> list[tuple[str, str]]:
    """(`path:line`, code) of each error line the command wrote to stderr."""
    found = []
    for line in err.splitlines():
        where, _, rest = line.rpartition(".csv:")
        number, _, rest = rest.partition(": ")
        code, _, message = rest.partition(": ")
        assert message, line  # every bad row says why
        found.append((f"{where}.csv:{number}", code))
    return found


async def test_a_file_with_bad_rows_writes_nothing_and_names_each_bad_line(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with committed_debtors(engine, "A", "B") as codes:
        # given
        path = bad_file(tmp_path, codes)
        # when
        status = await run_import(database_url, path)
        # then
        assert status == 1
        assert await imported(engine, codes) == []
        out, err = capsys.readouterr()
        assert reported(err) == expected_errors(path)
        assert "nothing imported" in out


async def test_best_effort_keeps_the_good_rows(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with committed_debtors(engine, "A", "B") as codes:
        # given
        path = bad_file(tmp_path, codes)
        # when
        status = await run_import(database_url, path, best_effort=True)
        # then
        assert status == 1
        assert await imported(engine, codes) == [
            (codes["A"], "GOOD-1", None, False),
            (codes["B"], "GOOD-2", None, False),
        ]
        out, err = capsys.readouterr()
        assert reported(err) == expected_errors(path)
        assert "2 good row(s), 7 bad row(s); 2 case(s) imported" in out


@pytest.mark.parametrize("best_effort", [False, True])
async def test_a_dry_run_writes_nothing(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], best_effort: bool
) -> None:
    async with committed_debtors(engine, "A") as codes:
        # given
        path = csv_file(tmp_path, f"debtor_code,code\n{codes['A']},P-1\n{codes['A']},P-2\n")
        # when
        status = await run_import(database_url, path, dry_run=True, best_effort=best_effort)
        # then
        assert status == 0
        assert await imported(engine, codes) == []
        out, _ = capsys.readouterr()
        assert "2 good row(s), 0 bad row(s); dry run, nothing written" in out


async def test_a_dry_run_of_a_bad_file_reports_every_bad_line(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with committed_debtors(engine, "A", "B") as codes:
        # given
        path = bad_file(tmp_path, codes)
        # when
        status = await run_import(database_url, path, dry_run=True, best_effort=True)
        # then
        assert status == 1
        assert await imported(engine, codes) == []
        assert reported(capsys.readouterr().err) == expected_errors(path)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        pytest.param("debtor_code,code,colour", "unknown column(s): colour", id="unknown-column"),
        pytest.param("debtor_code,description", "missing column(s): code", id="missing-code"),
        pytest.param("", "missing column(s): debtor_code, code", id="empty-file"),
    ],
)
async def test_a_bad_header_is_refused_before_any_row(
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    header: str,
    message: str,
) -> None:
    async with committed_debtors(engine, "A") as codes:
        # given
        path = csv_file(tmp_path, f"{header}\n{codes['A']},P-1,red\n" if header else "")
        # when
        status = await run_import(database_url, path)
        # then
        assert status == 1
        assert await imported(engine, codes) == []
        assert message in capsys.readouterr().err


async def test_a_missing_file_is_refused(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given
    path = tmp_path / "absent.csv"
    # when
    status = await run_import(database_url, path)
    # then
    assert status == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"debtor_code,code\n{A},CAF\xe9\n", "not a readable UTF-8 CSV file", id="latin-1"),
        pytest.param(
            b"debtor_code,code,description\n{A},P-1," + b"x" * 200_000 + b"\n",
            "field larger than field limit",
            id="field-over-the-csv-limit",
        ),
    ],
)
async def test_an_unreadable_file_is_refused_without_a_traceback(
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    async with committed_debtors(engine, "A") as codes:
        # given
        path = tmp_path / "cases.csv"
        path.write_bytes(content.replace(b"{A}", codes["A"].encode()))
        # when
        status = await run_import(database_url, path)
        # then
        assert status == 1
        assert await imported(engine, codes) == []
        assert message in capsys.readouterr().err
