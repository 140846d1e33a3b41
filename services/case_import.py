"""Import cases from CSV rows (SPEC 10): every row is checked, each bad row says why.

Columns (header row required; only `debtor_code` and `code` are mandatory):
debtor_code, code, description, invoicing (BILLABLE|NON_BILLABLE), is_default (true|false),
active_from, active_until (YYYY-MM-DD), adjusted_rate, blocked (true|false), max_amount,
max_minutes, max_per_book_year (NONE|TIME|AMOUNT), max_based_on (BILLABLE|NON_BILLABLE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapBasis, CapKind, Debtor, TimeStatus
from services import cases, validation
from services.cases import CaseData
from services.errors import DomainError, ErrorCode, invalid, not_found

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
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    code: ErrorCode
    message: str


@dataclass
class ImportReport:
    created: int = 0
    errors: list[RowError] = field(default_factory=list)


def check_header(header: Iterable[str] | None) -> None:
    names = [h.strip() for h in header or []]
    unknown = sorted(set(names) - set(COLUMNS))
    if unknown:
        raise invalid(f"unknown column(s): {validation.clipped(', '.join(unknown))}", "header")
    missing = [c for c in ("debtor_code", "code") if c not in names]
    if missing:
        raise invalid(f"missing column(s): {', '.join(missing)}", "header")


def parse_row(row: Mapping[str, str | None]) -> tuple[str, CaseData]:
    """The debtor code and case fields of one CSV row; empty cells are left out."""
    cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
    data: CaseData = {"code": cells.get("code") or None}
    text = {k: v for k, v in cells.items() if v}
    if "description" in text:
        data["description"] = text["description"]
    if "invoicing" in text:
        data["invoicing"] = _status(text["invoicing"])
    for key in ("is_default", "blocked"):
        if key in text:
            data[key] = _bool(text[key], key)
    for key in ("active_from", "active_until"):
        if key in text:
            data[key] = _date(text[key], key)  # type: ignore[literal-required]
    for key in ("adjusted_rate", "max_amount"):
        if key in text:
            data[key] = _decimal(text[key], key)  # type: ignore[literal-required]
    if "max_minutes" in text:
        if not text["max_minutes"].isdigit():
            raise invalid("max_minutes must be a whole number", "max_minutes")
        data["max_minutes"] = int(text["max_minutes"])
    if "max_per_book_year" in text:
        data["max_per_book_year"] = _enum(CapKind, text["max_per_book_year"], "max_per_book_year")
    if "max_based_on" in text:
        data["max_based_on"] = _enum(CapBasis, text["max_based_on"], "max_based_on")
    debtor_code = cells.get("debtor_code", "")
    if not debtor_code:
        raise invalid("debtor_code may not be empty", "debtor_code")
    return debtor_code, data


async def import_rows(
    session: AsyncSession,
    rows: Iterable[tuple[int, Mapping[str, str | None]]],
    *,
    on_row: Callable[[], object] = lambda: None,
) -> ImportReport:
    """Create a case per row, each in its own savepoint; the caller commits or rolls back the whole."""
    report = ImportReport()
    debtor_ids: dict[str, int | None] = {}
    for line, row in rows:
        try:
            debtor_code, data = parse_row(row)
            key = debtor_code.lower()
            if key not in debtor_ids:
                debtor_ids[key] = await session.scalar(select(Debtor.id).where(func.lower(Debtor.code) == key))
            debtor_id = debtor_ids[key]
            if debtor_id is None:
                raise not_found(f"Debtor {validation.clipped(debtor_code)!r}", "debtor_code")
            async with session.begin_nested():
                await cases.create(session, {**data, "debtor_id": debtor_id})
            report.created += 1
        except DomainError as error:
            report.errors.append(RowError(line=line, code=error.code, message=error.message))
        on_row()
    return report


def _bool(value: str, column: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "1", "y"):
        return True
    if lowered in ("false", "no", "0", "n"):
        return False
    raise invalid(f"{column} must be true or false", column)


def _date(value: str, column: str) -> date:
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_date(column)
    except ValueError as error:
        raise invalid(f"{column} must be a date like 2026-11-23", column) from error


def _bad_date(column: str) -> date:
    raise invalid(f"{column} must be a date like 2026-11-23", column)


def _decimal(value: str, column: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise invalid(f"{column} must be an amount like 125.50", column) from error
    if not number.is_finite() or "e" in value.lower():
        raise invalid(f"{column} must be an amount like 125.50", column)
    return number


def _enum(enum: type[E], value: str, column: str) -> E:
    try:
        return enum[value.upper()]
    except KeyError as error:
        raise invalid(f"{column} must be one of {', '.join(m.name for m in enum)}", column) from error


def _status(value: str) -> TimeStatus:
    aliases = {"J": "BILLABLE", "YES": "BILLABLE", "N": "NON_BILLABLE", "NO": "NON_BILLABLE"}
    return _enum(TimeStatus, aliases.get(value.upper(), value), "invoicing")
