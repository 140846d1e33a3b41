"""The CSV import's checks (SPEC 10): the whole file read and every cell checked with no database, each problem
naming its CSV column; then the rows the database decides on."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapKind, TimeStatus
from services import case_import
from services.case_import import Row, RowError
from services.errors import ErrorCode
from tests.factories import Factory

HEADER = "debtor_code,code,invoicing,max_per_book_year,max_minutes,max_amount,active_from,blocked\n"


def messages(checked: case_import.CheckedFile) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in checked.errors]


class TestCheckFile:
    def test_a_good_row_is_read_into_case_fields(self) -> None:
        # when
        checked = case_import.check_file((HEADER + " D-1 , P-1 ,j,time,0600,,,yes\n").encode())
        # then
        assert checked.errors == []
        assert checked.rows == [
            Row(
                2,
                "D-1",
                {
                    "code": "P-1",
                    "invoicing": TimeStatus.BILLABLE,
                    "max_per_book_year": CapKind.TIME,
                    "max_minutes": 600,
                    "blocked": True,
                },
            )
        ]

    @pytest.mark.parametrize(
        ("cell", "message"),
        [
            ("\u0663\u0660", "max_minutes: must be a whole number (digits 0-9), got '\u0663\u0660'"),
            ("\uff13\uff10", "max_minutes: must be a whole number (digits 0-9), got '\uff13\uff10'"),
            ("\u00b2", "max_minutes: must be a whole number (digits 0-9), got '\u00b2'"),
            ("+30", "max_minutes: must be a whole number (digits 0-9), got '+30'"),
            ("1_000", "max_minutes: must be a whole number (digits 0-9), got '1_000'"),
            ("9" * 10_000, "max_minutes: must be between 0 and 2,000,000,000"),
            ("0" * 10_000 + "30", None),
        ],
    )
    def test_max_minutes_takes_ascii_digits_only(self, cell: str, message: str | None) -> None:
        # when
        checked = case_import.check_file(f"{HEADER}D,P,,,{cell},,,\n".encode())
        # then
        assert messages(checked) == ([(2, message)] if message else [])

    def test_a_quote_holds_at_most_100_characters_of_the_cell(self) -> None:
        # when
        checked = case_import.check_file(f"{HEADER}D,P,,,{'x' * 1_000_000},,,\n".encode())
        # then
        [(_, message)] = messages(checked)
        assert message == f"max_minutes: must be a whole number (digits 0-9), got '{'x' * 100}\u2026'"

    def test_every_problem_of_a_row_is_named_in_the_order_of_the_columns(self) -> None:
        # when
        checked = case_import.check_file(f"{HEADER},,INVOICED,TIME,,12.345,2026-01-01,maybe\n".encode())
        # then
        assert messages(checked) == [
            (2, "debtor_code: may not be empty"),
            (2, "code: may not be empty"),
            (2, "invoicing: must be BILLABLE or NON_BILLABLE"),
            (2, "max_minutes: may not be empty with a TIME maximum"),
            (2, "max_amount: must have at most 2 decimals"),
            (2, "active_from: may not be set on a case with a book-year maximum"),
            (2, "blocked: must be true or false, got 'maybe'"),
        ]
        assert {e.code for e in checked.errors} == {ErrorCode.VALIDATION, ErrorCode.PERIOD_WITH_CAP}
        assert checked.rows == []

    def test_good_rows_are_kept_beside_bad_ones_with_the_line_each_starts_on(self) -> None:
        # when
        checked = case_import.check_file(f'{HEADER}D,P-1,,,,,,\n\nD,"P\n2",,,x,,,\nD,P-3,,,,1.50,,\n'.encode())
        # then
        assert [r.line for r in checked.rows] == [2, 6]
        assert checked.rows[1].data["max_amount"] == Decimal("1.50")
        assert messages(checked) == [(4, "max_minutes: must be a whole number (digits 0-9), got 'x'")]
        assert checked.readable

    @pytest.mark.parametrize(
        ("raw", "error"),
        [
            (b"debtor_code,code\nD,CAF\xe9\n", (2, "file: must be UTF-8, byte 0xe9 is not; save it as CSV UTF-8")),
            (
                b"\xef\xbb\xbfdebtor_code,code\nD,\xff\n",
                (2, "file: must be UTF-8, byte 0xff is not; save it as CSV UTF-8"),
            ),
            ("debtor_code,code\n".encode("utf-16"), (1, "file: must be UTF-8, not UTF-16; save it as CSV UTF-8")),
            (b"", (1, "header: missing column(s): debtor_code, code")),
            (b"debtor_code,code,code,colour\n", (1, "header: unknown column(s): colour")),
        ],
    )
    def test_a_file_that_cannot_be_read_is_refused_whole(self, raw: bytes, error: tuple[int, str]) -> None:
        # when
        checked = case_import.check_file(raw)
        # then
        assert not checked.readable
        assert messages(checked)[0] == error
        assert checked.rows == []

    def test_a_byte_order_mark_is_no_part_of_the_header(self) -> None:
        # when
        checked = case_import.check_file(b"\xef\xbb\xbfdebtor_code,code\nD,P\n")
        # then
        assert checked.errors == []
        assert [r.debtor_code for r in checked.rows] == ["D"]

    def test_the_csv_module_s_field_limit_is_put_back(self) -> None:
        # given
        before = csv.field_size_limit()
        # when
        case_import.check_file(f"debtor_code,code,description\nD,P,{'d' * (before * 2)}\n".encode())
        # then
        assert csv.field_size_limit() == before


class TestImportRows:
    async def test_the_database_s_refusals_name_their_column(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor(code="KNOWN")
        await factory.case(debtor=debtor, code="TAKEN")
        checked = case_import.check_file(b"debtor_code,code\nknown,NEW\nUNKNOWN,P\nKNOWN,taken\n")
        # when
        report = await case_import.import_rows(session, checked.rows)
        # then
        assert report.created == 1
        assert report.errors == [
            RowError(3, ErrorCode.NOT_FOUND, "debtor_code: no debtor has the code 'UNKNOWN'"),
            RowError(4, ErrorCode.DUPLICATE, "code: a case with this code for this debtor already exists"),
        ]
