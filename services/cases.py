"""Cases: projects of one debtor with invoicing, period, rate, block and book-year cap (SPEC 2, 10)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import Integer, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from db.driver import Prebuilt
from models import CapBasis, CapKind, Case, Debtor, TimeStatus
from services import company, paging, validation
from services.activities import writable_status
from services.errors import DomainError, DomainErrors, ErrorCode, invalid, not_found
from services.integrity import flush, touch
from services.paging import AnyRow, AnySelect, Keyset, Page, fetch_page, like_pattern

_RULES = {"uq_cases_debtor_code_ci": validation.duplicate("a case with this code for this debtor", "code")}

COLUMNS = (
    Case.id,
    Case.debtor_id,
    Case.code,
    Case.description,
    Case.invoicing,
    Case.is_default,
    Case.active_from,
    Case.active_until,
    Case.adjusted_rate,
    Case.blocked,
    Case.max_amount,
    Case.max_minutes,
    Case.max_per_book_year,
    Case.max_based_on,
    Case.time_entry_count,
    Case.version,
    Debtor.code.label("debtor_code"),
    Debtor.name.label("debtor_name"),
    Debtor.adjusted_rate.label("debtor_adjusted_rate"),
    Debtor.version.label("debtor_version"),
)
KEYSET = Keyset((Case.code, Case.id))


class CaseData(TypedDict, total=False):
    debtor_id: int | None
    code: str | None
    description: str | None
    invoicing: TimeStatus | None
    is_default: bool | None
    active_from: date | None
    active_until: date | None
    adjusted_rate: Decimal | None
    blocked: bool | None
    max_amount: Decimal | None
    max_minutes: int | None
    max_per_book_year: CapKind | None
    max_based_on: CapBasis | None


# built once: statements are immutable, and a reused one keeps its SQL cache key (saves ~0.2 ms a page)
_ROWS: AnySelect = select(*COLUMNS).join(Debtor, Debtor.id == Case.debtor_id)
_UNBLOCKED = Case.blocked.is_(False)
_ROWS_UNBLOCKED = _ROWS.where(_UNBLOCKED)
# every case has exactly one debtor (a non-null foreign key), so counting needs no join
_COUNT_STMT = select(func.count()).select_from(Case)
_COUNT, _COUNT_UNBLOCKED = paging.Count.of(_COUNT_STMT), paging.Count.of(_COUNT_STMT.where(_UNBLOCKED))


def _filters(*, debtor_id: int | None, search: str | None) -> list[ColumnElement[bool]]:
    """Conditions on case columns only, shared by the page and its count; `blocked` is applied apart."""
    conditions: list[ColumnElement[bool]] = []
    if debtor_id is not None:
        conditions.append(Case.debtor_id == debtor_id)
    if search and search.strip():
        pattern = like_pattern(search)
        conditions.append(or_(Case.code.ilike(pattern), Case.description.ilike(pattern)))
    return conditions


def _listing(*, debtor_id: int | None, search: str | None, include_blocked: bool) -> AnySelect:
    stmt = _ROWS if include_blocked else _ROWS_UNBLOCKED
    conditions = _filters(debtor_id=debtor_id, search=search)
    return stmt.where(*conditions) if conditions else stmt


async def page(
    session: AsyncSession,
    *,
    first: int,
    after: Sequence[Any] | None,
    debtor_id: int | None = None,
    search: str | None = None,
    include_blocked: bool = False,
) -> Page[AnyRow]:
    stmt = _listing(debtor_id=debtor_id, search=search, include_blocked=include_blocked)
    return await fetch_page(session, stmt, KEYSET, first=first, after=after)


async def total(
    session: AsyncSession, *, debtor_id: int | None = None, search: str | None = None, include_blocked: bool = False
) -> int:
    count = _COUNT if include_blocked else _COUNT_UNBLOCKED
    return await count(session, _filters(debtor_id=debtor_id, search=search))


_BY_IDS = paging.by_ids(_ROWS, Case.id)


async def rows_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[AnyRow | None]:
    return await paging.rows_by_ids(session, _BY_IDS, ids)


# the case by id with the settings row in the same statement: a case's time list needs both (its mode)
_WITH_SETTINGS = Prebuilt(
    select(*COLUMNS, *company.PREFIXED)
    .join(Debtor, Debtor.id == Case.debtor_id)
    .outerjoin(company.SETTINGS, company.JOIN_ON)
    .where(Case.id == bindparam("id", type_=Integer))
)


async def row_with_settings(session: AsyncSession, case_id: int) -> AnyRow | None:
    """The case's row (as `rows_by_ids` gives it) with `company.PREFIXED` too, or None."""
    return await _WITH_SETTINGS.first(session, {"id": case_id})


async def options(session: AsyncSession, *, debtor_id: int, on: date) -> list[AnyRow]:
    """The debtor's cases one can write time on at `on`: not blocked, active then; defaults first (SPEC 2)."""
    stmt = _ROWS_UNBLOCKED.where(
        Case.debtor_id == debtor_id,
        or_(Case.active_from.is_(None), Case.active_from <= on),
        or_(Case.active_until.is_(None), Case.active_until >= on),
    ).order_by(Case.is_default.desc(), Case.code, Case.id)
    return list((await session.execute(stmt)).all())


async def create(session: AsyncSession, data: CaseData) -> Case:
    """Create a case for a debtor; the code is trimmed and unique per debtor ignoring case."""
    debtor_id = data.get("debtor_id")
    validation.required(debtor_id, "debtorId")
    assert debtor_id is not None
    if await session.get(Debtor, debtor_id) is None:
        raise not_found("Debtor", "debtorId")
    case = Case(debtor_id=debtor_id, code=validation.name(data.get("code"), "code"))
    _apply(case, data, creating=True)
    session.add(case)
    await flush(session, _RULES)
    return case


async def update(session: AsyncSession, case_id: int, data: CaseData) -> Case:
    case = await session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise not_found("Case", "id")
    if "debtor_id" in data:
        validation.required(data["debtor_id"], "debtorId")
        if data["debtor_id"] != case.debtor_id:
            raise invalid("a case cannot move to another debtor", "debtorId")
    if "code" in data:
        case.code = validation.name(data["code"], "code")
    _apply(case, data, creating=False)
    touch(case)
    await flush(session, _RULES)
    return case


_REQUIRED = {
    "invoicing": "invoicing",
    "is_default": "isDefault",
    "blocked": "blocked",
    "max_per_book_year": "maxPerBookYear",
    "max_based_on": "maxBasedOn",
}


def _apply(case: Case, data: CaseData, *, creating: bool) -> None:
    """Apply the given fields, then check the rules that tie fields together."""
    for key, field in _REQUIRED.items():
        if key in data:
            value = data[key]  # type: ignore[literal-required]
            if value is None:
                if not creating:
                    raise invalid(f"{field} may not be empty", field)
                continue
            setattr(case, key, writable_status(value, field) if key == "invoicing" else value)
    if "description" in data:
        case.description = validation.description(data["description"])
    if "active_from" in data:
        case.active_from = validation.day(data["active_from"], "activeFrom")
    if "active_until" in data:
        case.active_until = validation.day(data["active_until"], "activeUntil")
    if "adjusted_rate" in data:
        case.adjusted_rate = validation.money(data["adjusted_rate"], "adjustedRate")
    if "max_amount" in data:
        case.max_amount = validation.money(data["max_amount"], "maxAmount")
    if "max_minutes" in data:
        case.max_minutes = validation.minutes_limit(data["max_minutes"], "maxMinutes")
    _check(case)


def _check(case: Case) -> None:
    cap = case.max_per_book_year or CapKind.NONE
    if case.active_from and case.active_until and case.active_until < case.active_from:
        raise invalid("activeUntil lies before activeFrom", "activeUntil")
    if cap is not CapKind.NONE and (case.active_from is not None or case.active_until is not None):
        raise DomainError(
            ErrorCode.PERIOD_WITH_CAP,
            "a case with a book-year maximum cannot have a period",
            ("activeFrom" if case.active_from is not None else "activeUntil",),
        )
    if cap is CapKind.TIME and case.max_minutes is None:
        raise invalid("a TIME maximum needs maxMinutes", "maxMinutes")
    if cap is CapKind.AMOUNT and case.max_amount is None:
        raise invalid("an AMOUNT maximum needs maxAmount", "maxAmount")


async def import_for_debtors(
    session: AsyncSession, *, debtor_ids: Sequence[int | None], data: CaseData, best_effort: bool
) -> tuple[list[Case], list[DomainError]]:
    """Create the same case for each of at most `validation.MAX_BULK` debtors (SPEC 10, 12). All or nothing unless
    `best_effort`. The command-line import (`case_import.import_rows`) reads a file of any length row by row instead.

    A `None` debtor id stands for an ID that did not decode; it fails its own row only.
    """
    created: list[Case] = []
    errors: list[DomainError] = []
    if not debtor_ids:
        raise invalid("debtorIds may not be empty", "debtorIds")
    validation.bulk(debtor_ids, "debtorIds")
    for index, debtor_id in enumerate(debtor_ids):
        try:
            if debtor_id is None:
                raise not_found("Debtor")
            async with session.begin_nested():
                created.append(await create(session, {**data, "debtor_id": debtor_id}))
        except DomainError as error:
            errors.append(
                DomainError(
                    error.code, f"debtor #{index + 1}: {error.message}", ("debtorIds", str(index), *error.field)
                )
            )
    if errors and not best_effort:
        raise DomainErrors(errors)
    return created, errors
