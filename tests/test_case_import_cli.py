"""The CSV import command (SPEC 10): all or nothing unless --best-effort, each bad line named on stderr with its
column, and the whole file checked before the database is touched.

The command opens its own engine and commits, so it cannot see a test's rolled-back transaction: the
debtors it needs are committed on their own connection, and everything made here is deleted afterwards.
"""

from __future__ import annotations

import argparse
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
from settings import Config


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


class Database:
    """The command's way to the database, counting how often it asked for it."""

    def __init__(self, url: str) -> None:
        self.url, self.asked = url, 0

    def __call__(self) -> str:
        self.asked += 1
        return self.url


async def run_import(database: str | Database, path: Path, *, dry_run: bool = False, best_effort: bool = False) -> int:
    reach = database if isinstance(database, Database) else Database(database)
    return await asyncio.to_thread(cli.import_cases, reach, path, dry_run=dry_run, best_effort=best_effort)


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


# what only the database can tell: the rest is found before it is touched
FOUND_IN_THE_DATABASE = {"NOT_FOUND", "DUPLICATE"}


def expected_errors(path: Path, *, database: bool = True) -> list[tuple[str, str]]:
    """(`path:line`, code) of each bad row (the header is line 1); without `database`, those found before it."""
    return [
        (f"{path}:{line}", code)
        for line, (_, code) in enumerate(BAD_ROWS, start=2)
        if code and (database or code not in FOUND_IN_THE_DATABASE)
    ]


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


async def test_a_file_with_bad_rows_writes_nothing_and_names_each_bad_line_before_touching_the_database(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with committed_debtors(engine, "A", "B") as codes:
        # given
        path = bad_file(tmp_path, codes)
        database = Database(database_url)
        # when
        status = await run_import(database, path)
        # then
        assert status == 1
        assert database.asked == 0
        assert await imported(engine, codes) == []
        out, err = capsys.readouterr()
        assert reported(err) == expected_errors(path, database=False)
        assert "5 bad row(s) found before any database work; nothing imported" in out


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
        database = Database(database_url)
        # when
        status = await run_import(database, path)
        # then
        assert status == 1
        assert database.asked == 0
        assert await imported(engine, codes) == []
        assert f"{path}:1: VALIDATION: header: {message}" in capsys.readouterr().err


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
        pytest.param(
            b"debtor_code,code\n{A},CAF\xe9\n", ":2: VALIDATION: file: must be UTF-8, byte 0xe9", id="latin-1"
        ),
        pytest.param(
            "debtor_code,code\n{A},P-1\n".encode("utf-16"),
            ":1: VALIDATION: file: must be UTF-8, not UTF-16",
            id="utf-16",
        ),
        pytest.param(
            b"debtor_code,code,description\n{A},P-1," + b"x" * 200_000 + b"\n",
            ":2: VALIDATION: description: must be at most 4000 characters",
            id="cell-over-the-csv-module-limit",
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
        database = Database(database_url)
        # when
        status = await run_import(database, path)
        # then
        assert status == 1
        assert database.asked == 0
        assert await imported(engine, codes) == []
        err = capsys.readouterr().err
        assert f"{path}{message}" in err
        assert "Traceback" not in err


HEADER = "debtor_code,code,description,max_minutes,adjusted_rate,active_from,max_per_book_year\n"
MB = 1024 * 1024


def row(**cells: str) -> str:
    """A CSV line under HEADER: a good row unless `cells` overrides some (none of them quoted by CSV)."""
    values = {"debtor_code": "D-1", "code": "P-1", "description": "", "max_minutes": "", "adjusted_rate": ""}
    values |= {"active_from": "", "max_per_book_year": ""} | cells
    return ",".join(values.values()) + "\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(
            row(max_minutes="\u0663\u0660"),
            "max_minutes: must be a whole number (digits 0-9), got '\u0663\u0660'",
            id="arabic-indic-digits",
        ),
        pytest.param(
            row(max_minutes="\uff13\uff10"),
            "max_minutes: must be a whole number (digits 0-9), got '\uff13\uff10'",
            id="fullwidth-digits",
        ),
        pytest.param(
            row(max_minutes="\u00b2"),
            "max_minutes: must be a whole number (digits 0-9), got '\u00b2'",
            id="superscript-two",
        ),
        pytest.param(
            row(max_minutes="1.5"), "max_minutes: must be a whole number (digits 0-9), got '1.5'", id="a-fraction"
        ),
        pytest.param(row(max_minutes="9" * 5000), "max_minutes: must be between 0 and 2,000,000,000", id="5000-digits"),
        pytest.param(
            row(max_minutes="x" * MB),
            f"max_minutes: must be a whole number (digits 0-9), got '{'x' * 100}\u2026'",
            id="1-mb-number",
        ),
        pytest.param(row(code="c" * MB), "code: must be at most 200 characters", id="1-mb-code"),
        pytest.param(row(description="d" * MB), "description: must be at most 4000 characters", id="1-mb-description"),
        pytest.param(row(debtor_code="D" * MB), "debtor_code: must be at most 200 characters", id="1-mb-debtor-code"),
        pytest.param(row(code="P\x00"), "code: may not contain NUL characters", id="nul-in-code"),
        pytest.param(row(max_minutes="3\x000"), "max_minutes: may not contain NUL characters", id="nul-in-number"),
        pytest.param(row(code=""), "code: may not be empty", id="empty-code"),
        pytest.param(row(debtor_code="  "), "debtor_code: may not be empty", id="blank-debtor-code"),
        pytest.param(
            row(adjusted_rate="\u0661\u0662\u0665"),
            "adjusted_rate: must be an amount like 125.50 (digits 0-9), got '\u0661\u0662\u0665'",
            id="arabic-indic-amount",
        ),
        pytest.param(
            row(adjusted_rate="1e3"),
            "adjusted_rate: must be an amount like 125.50 (digits 0-9), got '1e3'",
            id="exponent-amount",
        ),
        pytest.param(row(adjusted_rate="12.345"), "adjusted_rate: must have at most 2 decimals", id="three-decimals"),
        pytest.param(
            row(active_from="\uff12\uff10\uff12\uff16-01-01"),
            "active_from: must be a date like 2026-11-23, got '\uff12\uff10\uff12\uff16-01-01'",
            id="fullwidth-date",
        ),
        pytest.param(
            row(active_from="1999-12-31"),
            "active_from: must be between 2000-01-01 and 2100-12-31",
            id="date-out-of-range",
        ),
        pytest.param(
            row(max_per_book_year="TIME"), "max_minutes: may not be empty with a TIME maximum", id="cap-without-minutes"
        ),
        pytest.param(
            row().replace("\n", ",extra\n"),
            "row: must have at most 7 cells, one for each column of the header",
            id="too-many-cells",
        ),
    ],
)
async def test_a_bad_cell_is_one_line_naming_its_column_and_no_database_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    # given: a good row after the bad one, which the pre-check holds back too
    path = tmp_path / "cases.csv"
    path.write_text(HEADER + line + row(code="P-2"), encoding="utf-8")
    database = Database("postgresql://nobody@127.0.0.1:1/never")
    # when
    status = await run_import(database, path)
    # then
    assert status == 1
    assert database.asked == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"{path}:2: VALIDATION: {message}"]
    assert "1 bad row(s) found before any database work; nothing imported" in out


async def test_every_bad_cell_of_a_row_is_named_in_the_order_of_the_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    path = csv_file(tmp_path, HEADER + row(code="", max_minutes="\u00b2", adjusted_rate="-1", active_from="2026-02-30"))
    # when
    status = await run_import(Database("postgresql://nobody@127.0.0.1:1/never"), path)
    # then
    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:2: VALIDATION: code: may not be empty",
        f"{path}:2: VALIDATION: max_minutes: must be a whole number (digits 0-9), got '\u00b2'",
        f"{path}:2: VALIDATION: adjusted_rate: must be between 0 and 99,999,999.99",
        f"{path}:2: VALIDATION: active_from: must be a date like 2026-11-23, got '2026-02-30'",
    ]


async def test_a_file_with_a_byte_order_mark_imports(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with committed_debtors(engine, "A") as codes:
        # given
        path = tmp_path / "cases.csv"
        path.write_text(f"debtor_code,code,max_minutes\n{codes['A']},P-1,30\n", encoding="utf-8-sig")
        # when
        status = await run_import(database_url, path)
        # then
        assert status == 0
        assert await imported(engine, codes) == [(codes["A"], "P-1", None, False)]
        assert capsys.readouterr().err == ""


async def test_rows_the_database_refuses_name_their_column(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with committed_debtors(engine, "A") as codes:
        # given
        path = csv_file(tmp_path, f"debtor_code,code\nNO-SUCH-DEBTOR,P-1\n{codes['A']},P-1\n{codes['A']},p-1\n")
        # when
        status = await run_import(database_url, path)
        # then
        assert status == 1
        assert capsys.readouterr().err.splitlines() == [
            f"{path}:2: NOT_FOUND: debtor_code: no debtor has the code 'NO-SUCH-DEBTOR'",
            f"{path}:4: DUPLICATE: code: a case with this code for this debtor already exists",
        ]
        assert await imported(engine, codes) == []


UNREACHABLE = Config(database_url="postgresql://nobody@127.0.0.1:1/never")


def import_command(path: Path) -> argparse.Namespace:
    return argparse.Namespace(command="import-cases", file=path, dry_run=False, best_effort=False)


def test_the_command_checks_the_file_before_it_reaches_for_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a database that cannot be reached
    path = csv_file(tmp_path, HEADER + row(max_minutes="\u0663\u0660"))
    # when
    status = cli.run(import_command(path), UNREACHABLE)
    # then
    assert status == 1
    assert f"{path}:2: VALIDATION: max_minutes: must be a whole number" in capsys.readouterr().err


def test_a_good_file_reaches_for_the_database_and_says_it_cannot(tmp_path: Path) -> None:
    # given
    path = csv_file(tmp_path, HEADER + row())
    # when / then
    with pytest.raises(cli.Refusal, match="cannot reach the database"):
        cli.run(import_command(path), UNREACHABLE)
