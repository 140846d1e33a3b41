"""Cases: projects of one debtor with invoicing, period, rate, block and book-year cap (SPEC 2, 10)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict, cast

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import Prebuilt, Reader
from models import CapBasis, CapKind, Case, Debtor, TimeStatus
from services import company, paging, policy, validation
from services.errors import DomainError, DomainErrors, ErrorCode, invalid, not_found
from services.filters import Filter, Filters, Matching, PerCombination, search_pattern, searching
from services.integrity import flush, touch
from services.paging import AnyRow, AnySelect, Count, Keyset, Ordered, Page, Window

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
    Case.cap_thresholds,
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
    cap_thresholds: list[int] | None


# built once: statements are immutable, and a reused one keeps its SQL cache key (saves ~0.2 ms a page)
_ROWS: AnySelect = select(*COLUMNS).join(Debtor, Debtor.id == Case.debtor_id)
UNBLOCKED = Case.blocked.is_(False)
# every case has exactly one debtor (a non-null foreign key), so counting needs no join
_COUNT_STMT = select(func.count()).select_from(Case)

# the list's filters, on case columns only: the page, its count and a compiled list's source are each built once
# for each combination of them
FILTERS = Filters(
    Filter("debtor_id", Case.debtor_id == bindparam("debtor_id", type_=Integer)),
    searching(Case.code, Case.description),
    Filter("unblocked", UNBLOCKED),
)
_PAGES = PerCombination(lambda combination: Ordered(combination.narrowed(_ROWS), KEYSET))
_COUNTS = PerCombination(lambda combination: Count.of(combination.narrowed(_COUNT_STMT)))


def filters(*, debtor_id: int | None, search: str | None, include_blocked: bool = True) -> Matching:
    """Which of the list's filters apply, with their values, shared by the page and its count."""
    return FILTERS.matching(debtor_id=debtor_id, search=search_pattern(search), unblocked=not include_blocked)


async def page(
    reader: Reader,
    *,
    first: int,
    after: Sequence[Any] | None,
    debtor_id: int | None = None,
    search: str | None = None,
    include_blocked: bool = False,
) -> Page[AnyRow]:
    matching = filters(debtor_id=debtor_id, search=search, include_blocked=include_blocked)
    return await _PAGES.of(matching).page(reader, Window(first, after), params=matching.values)


async def total(
    session: AsyncSession, *, debtor_id: int | None = None, search: str | None = None, include_blocked: bool = False
) -> int:
    matching = filters(debtor_id=debtor_id, search=search, include_blocked=include_blocked)
    return await _COUNTS.of(matching)(session, matching.values)


_BY_IDS = paging.by_ids(_ROWS, Case.id)


async def rows_by_ids(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    return await paging.rows_by_ids(reader, _BY_IDS, ids)


# the case by id with the settings row in the same statement: a case's time list needs both (its mode)
_WITH_SETTINGS = Prebuilt(
    select(*COLUMNS, *company.PREFIXED)
    .join(Debtor, Debtor.id == Case.debtor_id)
    .outerjoin(company.SETTINGS, company.JOIN_ON)
    .where(Case.id == bindparam("id", type_=Integer))
)


async def row_with_settings(reader: Reader, case_id: int) -> AnyRow | None:
    """The case's row (as `rows_by_ids` gives it) with `company.PREFIXED` too, or None."""
    return await _WITH_SETTINGS.first(reader, {"id": case_id})


async def options(session: AsyncSession, *, debtor_id: int, on: date) -> list[AnyRow]:
    """The debtor's cases one can write time on at `on`: not blocked, active then; defaults first (SPEC 2)."""
    stmt = _ROWS.where(
        Case.debtor_id == debtor_id, policy.may_take_time_sql(Case.blocked, Case.active_from, Case.active_until, on)
    ).order_by(Case.is_default.desc(), Case.code, Case.id)
    return list((await session.execute(stmt)).all())


async def create(session: AsyncSession, data: CaseData) -> Case:
    """Create a case for a debtor; the code is trimmed and unique per debtor ignoring case."""
    problems = validation.Problems()
    debtor_id = problems.check(validation.required, data.get("debtor_id"), "debtorId")
    case = Case(debtor_id=debtor_id, **check_new(data, problems))
    problems.raise_if_any()
    if await session.get(Debtor, debtor_id) is None:
        raise not_found("Debtor", "debtorId")
    session.add(case)
    await flush(session, _RULES)
    return case


async def update(session: AsyncSession, case_id: int, data: CaseData) -> Case:
    problems = validation.Problems()
    checked = _checked(data, problems, creating=False)
    problems.raise_if_any()
    case = await session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise not_found("Case", "id")
    if "debtor_id" in data and data["debtor_id"] != case.debtor_id:
        problems.add(invalid("debtorId may not change: a case stays with its debtor", "debtorId"))
    for key, value in checked.items():
        setattr(case, key, value)
    _check_rules(case, problems)
    problems.raise_if_any()
    touch(case)
    await flush(session, _RULES)
    return case


def check_new(data: CaseData, problems: validation.Problems) -> CaseData:
    """A new case's fields (its debtor apart) and the rules between them, with no database (SPEC 2, 5b): the values
    of the fields that passed, each broken rule noted in `problems`."""
    checked = _checked(data, problems, creating=True)
    _check_rules(Case(**checked), problems)
    return checked


_FIELDS = validation.Fields(
    {
        "debtor_id": validation.required,
        "code": validation.name,
        "description": validation.description,
        "invoicing": validation.writable_status,
        "active_from": validation.day,
        "active_until": validation.day,
        "adjusted_rate": validation.money,
        "max_amount": validation.money,
        "max_minutes": validation.minutes_limit,
        "cap_thresholds": validation.cap_thresholds,
    },
    needed=("code",),
    # fields that always hold a value: left out on create they take their default, cleared in a patch they are refused
    defaulted=("invoicing", "is_default", "blocked", "max_per_book_year", "max_based_on", "cap_thresholds"),
)


def _checked(data: CaseData, problems: validation.Problems, *, creating: bool) -> CaseData:
    """The given fields, each checked by its rule; a new case needs a code. The debtor is `create`'s to check (it
    must exist), and in a patch it may not be cleared (nor changed, which `update` checks)."""
    fields = {key: value for key, value in data.items() if key != "debtor_id" or not creating}
    checked = _FIELDS.check(fields, problems, creating=creating)
    checked.pop("debtor_id", None)
    return cast(CaseData, checked)


def _check_rules(case: Case, problems: validation.Problems) -> None:
    """The rules that tie a case's fields together, on the case as it would be stored (SPEC 2, 6)."""
    cap = case.max_per_book_year or CapKind.NONE
    if case.active_from and case.active_until and case.active_until < case.active_from:
        problems.add(invalid("activeUntil may not lie before activeFrom", "activeUntil"))
    if cap is not CapKind.NONE and (case.active_from is not None or case.active_until is not None):
        field = "activeFrom" if case.active_from is not None else "activeUntil"
        message = f"{field} may not be set on a case with a book-year maximum"
        problems.add(DomainError(ErrorCode.PERIOD_WITH_CAP, message, (field,)))
    if cap is CapKind.TIME and case.max_minutes is None:
        problems.add(invalid("maxMinutes may not be empty with a TIME maximum", "maxMinutes"))
    if cap is CapKind.AMOUNT and case.max_amount is None:
        problems.add(invalid("maxAmount may not be empty with an AMOUNT maximum", "maxAmount"))


async def import_for_debtors(
    session: AsyncSession, *, debtor_ids: Sequence[int | None], data: CaseData, best_effort: bool
) -> tuple[list[Case], list[DomainError]]:
    """Create the same case for each of at most `validation.MAX_BULK` debtors (SPEC 10, 12). All or nothing unless
    `best_effort`. The command-line import (`case_import.import_rows`) reads a file of any length row by row instead.

    A `None` debtor id stands for an ID that did not decode; it fails its own row only.
    """
    created: list[Case] = []
    errors: list[DomainError] = []
    validation.bulk(debtor_ids, "debtorIds", required=True)
    for index, debtor_id in enumerate(debtor_ids):
        try:
            if debtor_id is None:
                raise not_found("Debtor")
            async with session.begin_nested():
                created.append(await create(session, {**data, "debtor_id": debtor_id}))
        except (DomainError, DomainErrors) as refusal:
            errors.extend(
                DomainError(e.code, f"debtor #{index + 1}: {e.message}", ("debtorIds", str(index), *e.field))
                for e in validation.refusals(refusal)
            )
    if errors and not best_effort:
        raise DomainErrors(errors)
    return created, errors
