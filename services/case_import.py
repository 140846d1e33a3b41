"""Import cases from a CSV file (SPEC 10): the whole file is read and every row's cells checked before the database
is touched; each bad row says why, naming its column (`max_minutes: must be a whole number, got '1.5'`).

Columns (header row required; only `debtor_code` and `code` are mandatory):
debtor_code, code, description, invoicing (BILLABLE|NON_BILLABLE), is_default (true|false),
active_from, active_until (YYYY-MM-DD), adjusted_rate, blocked (true|false), max_amount,
max_minutes, max_per_book_year (NONE|TIME|AMOUNT), max_based_on (BILLABLE|NON_BILLABLE).

Numbers and dates are written with the ASCII digits 0-9 only, as the API's Int, Decimal and Date take them: digits
of other scripts (Arabic-Indic, fullwidth, superscript), which Python's int() and Decimal() would read, are refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapBasis, CapKind, Debtor, TimeStatus
from services import cases, policy, validation
from services.cases import CaseData
from services.errors import DomainError, DomainErrors, ErrorCode, invalid

COLUMNS = (
    "debtor_code",
    "code",
    "description",
    "invoicing",
    "is_default",
    "active_from",
    "active_until",
    "adjusted_rate",
    "blocked",
    "max_amount",
    "max_minutes",
    "max_per_book_year",
    "max_based_on",
)
# a refusal names a field as the API spells it (`maxMinutes`); a message of this import names the CSV column
_COLUMN_OF = {validation.camel(column): column for column in COLUMNS} | {"debtorId": "debtor_code"}
_WHOLE = re.compile(r"[0-9]+")
_AMOUNT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# more digits than any column holds: the range rule refuses the number without int() reading them all
_DIGITS_MAX = 18
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class Row:
    """A row whose cells passed every check that needs no database."""

    line: int
    debtor_code: str
    data: CaseData


@dataclass
class CheckedFile:
    """A file after the checks that need no database: its good rows, and what is wrong with the others. A file that
    is not `readable` (not UTF-8, not CSV, a bad header) is refused whole."""

    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    readable: bool = True


@dataclass
class ImportReport:
    created: int = 0
    errors: list[RowError] = field(default_factory=list)


def check_file(raw: bytes) -> CheckedFile:
    """Decode and parse a whole CSV file and check every row's cells, with no database (SPEC 10)."""
    checked = CheckedFile()
    # a cell may be as long as the file: its column's rule then refuses it by name, where the csv module would refuse
    # the line (its limit is process-wide, so it is put back)
    limit = csv.field_size_limit()
    try:
        text = _decoded(raw)
        csv.field_size_limit(max(len(text), limit))
        records = _records(text)
        line, header = next(records, (1, []))
        try:
            columns = check_header(header)
        except (DomainError, DomainErrors) as refusal:
            return CheckedFile(errors=[_row_error(line, e) for e in validation.refusals(refusal)], readable=False)
        for line, cells in records:
            row = check_row(line, columns, cells)
            if isinstance(row, Row):
                checked.rows.append(row)
            else:
                checked.errors.extend(_row_error(line, error) for error in row)
    except _Unreadable as error:
        return CheckedFile(errors=[RowError(error.line, ErrorCode.VALIDATION, error.message)], readable=False)
    finally:
        csv.field_size_limit(limit)
    return checked


class _Unreadable(Exception):
    """A file this import cannot read at all: not UTF-8, or not CSV."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def _decoded(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Unreadable(1, "file: must be UTF-8, not UTF-16; save it as CSV UTF-8")
    body = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body[: error.start].count(b"\n") + 1
        byte = body[error.start]
        raise _Unreadable(line, f"file: must be UTF-8, byte 0x{byte:02x} is not; save it as CSV UTF-8") from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each record; blank lines are skipped, a record may span lines (a quoted newline)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _Unreadable(line, f"file: not CSV from here on ({error})") from None
        if cells:
            yield line, cells


def check_header(header: Sequence[str]) -> list[str]:
    """The columns the header names, in its order; unknown, repeated and missing columns are refused."""
    names = [h.strip() for h in header]
    errors: list[DomainError] = []
    unknown = sorted(set(names) - set(COLUMNS))
    if unknown:
        errors.append(invalid(f"unknown column(s): {validation.clipped(', '.join(unknown))}", "header"))
    repeated = sorted({n for n in names if names.count(n) > 1} & set(COLUMNS))
    if repeated:
        errors.append(invalid(f"column(s) named twice: {', '.join(repeated)}", "header"))
    missing = [c for c in ("debtor_code", "code") if c not in names]
    if missing:
        errors.append(invalid(f"missing column(s): {', '.join(missing)}", "header"))
    if errors:
        raise DomainErrors(errors)
    return names


def check_row(line: int, columns: Sequence[str], cells: Sequence[str]) -> Row | list[DomainError]:
    """A row of `cells` under `columns` with every cell checked, or every problem it has; no database (SPEC 10)."""
    problems = validation.Problems()
    if len(cells) > len(columns):
        problems.add(invalid(f"row must have at most {len(columns)} cells, one for each column of the header", "row"))
    given: dict[str, str] = {}
    for column, cell in zip(columns, cells, strict=False):
        name = validation.camel(column)
        if "\x00" in cell:
            problems.add(invalid(f"{name} may not contain NUL characters", name))
        elif cell.strip():
            given[column] = cell.strip()
    debtor_code = problems.check(validation.name, given.get("debtor_code"), "debtorCode")
    data = parse_cells(given, problems)
    checked = cases.check_new(data, problems)
    if problems.errors or debtor_code is None:
        order = {validation.camel(column): index for index, column in enumerate(columns)}
        return sorted(problems.errors, key=lambda error: order.get(error.field[0], -1) if error.field else -1)
    return Row(line, debtor_code, checked)


def parse_cells(given: Mapping[str, str], problems: validation.Problems) -> CaseData:
    """The case fields of a row's non-empty cells, each read by its column's syntax; a cell that does not read is
    noted in `problems` and left out."""
    data: dict[str, Any] = {"code": given.get("code")}
    if "description" in given:
        data["description"] = given["description"]
    for column, read in _READERS.items():
        if column in given:
            name = validation.camel(column)
            value = problems.check(read, given[column], name)
            if not problems.broken(name):
                data[column] = value
    return cast(CaseData, data)


async def import_rows(
    session: AsyncSession, rows: Iterable[Row], *, on_row: Callable[[], object] = lambda: None
) -> ImportReport:
    """Create a case per checked row, each in its own savepoint; the caller commits or rolls back the whole."""
    report = ImportReport()
    debtor_ids: dict[str, int | None] = {}
    for row in rows:
        try:
            key = row.debtor_code.lower()
            if key not in debtor_ids:
                debtor_ids[key] = await session.scalar(select(Debtor.id).where(func.lower(Debtor.code) == key))
            debtor_id = debtor_ids[key]
            if debtor_id is None:
                quoted = validation.clipped(row.debtor_code)
                raise DomainError(ErrorCode.NOT_FOUND, f"no debtor has the code {quoted!r}", ("debtorCode",))
            async with session.begin_nested():
                await cases.create(session, {**row.data, "debtor_id": debtor_id})
            report.created += 1
        except (DomainError, DomainErrors) as refusal:
            report.errors.extend(_row_error(row.line, error) for error in validation.refusals(refusal))
        on_row()
    return report


def _row_error(line: int, error: DomainError) -> RowError:
    """`error` as a line of this import: `<column>: <what is wrong>`, the column named as the file names it."""
    name = error.field[0] if error.field else ""
    column = _COLUMN_OF.get(name, name)
    message = error.message.removeprefix(f"{name} ") if name else error.message
    return RowError(line, error.code, f"{column}: {message}" if column else message)


def _got(value: str) -> str:
    return f"got {validation.clipped(value)!r}"


def _whole(value: str, name: str) -> int:
    if not _WHOLE.fullmatch(value):
        raise invalid(f"{name} must be a whole number (digits 0-9), {_got(value)}", name)
    digits = value.lstrip("0") or "0"
    return int(digits) if len(digits) <= _DIGITS_MAX else 10**_DIGITS_MAX


def _amount(value: str, name: str) -> Decimal:
    if not _AMOUNT.fullmatch(value):
        raise invalid(f"{name} must be an amount like 125.50 (digits 0-9), {_got(value)}", name)
    return Decimal(value)


def _day(value: str, name: str) -> date:
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise invalid(f"{name} must be a date like 2026-11-23, {_got(value)}", name)


def _bool(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "1", "y"):
        return True
    if lowered in ("false", "no", "0", "n"):
        return False
    raise invalid(f"{name} must be true or false, {_got(value)}", name)


def _enum(enum: type[E], value: str, name: str) -> E:
    member = enum.__members__.get(value.upper())
    if member is None:
        raise invalid(f"{name} must be one of {', '.join(enum.__members__)}, {_got(value)}", name)
    return member


def _status(value: str, name: str) -> TimeStatus:
    # a case's invoicing is a writable status: its code (J, N) is the spreadsheet's word for it too
    aliases = {**{s.value: s.name for s in policy.WRITABLE}, "YES": "BILLABLE", "NO": "NON_BILLABLE"}
    return _enum(TimeStatus, aliases.get(value.upper(), value), name)


_READERS: dict[str, Callable[[str, str], object]] = {
    "invoicing": _status,
    "is_default": _bool,
    "blocked": _bool,
    "active_from": _day,
    "active_until": _day,
    "adjusted_rate": _amount,
    "max_amount": _amount,
    "max_minutes": _whole,
    "max_per_book_year": lambda value, name: _enum(CapKind, value, name),
    "max_based_on": lambda value, name: _enum(CapBasis, value, name),
}
