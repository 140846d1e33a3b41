"""Debtors, the customers (SPEC 2)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypedDict, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import Reader
from models import Debtor
from services import paging, validation
from services.errors import not_found
from services.filters import Filters, Matching, PerCombination, search_pattern, searching
from services.integrity import flush, touch
from services.paging import AnyRow, Count, Keyset, Ordered, Page, Window

_RULES = {"uq_debtors_code_ci": validation.duplicate("a debtor with this code", "code")}
COLUMNS = (Debtor.id, Debtor.code, Debtor.name, Debtor.adjusted_rate, Debtor.version)
KEYSET = Keyset((Debtor.code, Debtor.id))


class DebtorData(TypedDict, total=False):
    code: str | None
    name: str | None
    adjusted_rate: Decimal | None


# the list's filter, on debtor columns: the page, its count and a compiled list's source are built once with it and
# once without
FILTERS = Filters(searching(Debtor.code, Debtor.name))
_PAGES = PerCombination(lambda combination: Ordered(combination.narrowed(select(*COLUMNS)), KEYSET))
_COUNTS = PerCombination(lambda combination: Count.of(combination.narrowed(select(func.count()).select_from(Debtor))))


def filters(search: str | None) -> Matching:
    """Whether the list's search applies, with its value, shared by the page and its count."""
    return FILTERS.matching(search=search_pattern(search))


async def page(reader: Reader, *, first: int, after: Sequence[Any] | None, search: str | None) -> Page[AnyRow]:
    matching = filters(search)
    return await _PAGES.of(matching).page(reader, Window(first, after), params=matching.values)


async def total(session: AsyncSession, *, search: str | None) -> int:
    matching = filters(search)
    return await _COUNTS.of(matching)(session, matching.values)


_BY_IDS = paging.by_ids(select(*COLUMNS), Debtor.id)


async def rows_by_ids(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    return await paging.rows_by_ids(reader, _BY_IDS, ids)


_FIELDS = validation.Fields(
    {"code": validation.name, "name": validation.name, "adjusted_rate": validation.money}, needed=("code", "name")
)


def _checked(data: DebtorData, *, creating: bool) -> DebtorData:
    """The given fields, each checked (SPEC 5b); every broken rule is refused at once."""
    return cast(DebtorData, _FIELDS.checked(data, creating=creating))


async def create(session: AsyncSession, data: DebtorData) -> Debtor:
    """Create a debtor; its code is stored trimmed and unique ignoring case."""
    debtor = Debtor(**_checked(data, creating=True))
    session.add(debtor)
    await flush(session, _RULES)
    return debtor


async def update(session: AsyncSession, debtor_id: int, data: DebtorData) -> Debtor:
    checked = _checked(data, creating=False)
    debtor = await session.get(Debtor, debtor_id, with_for_update=True)
    if debtor is None:
        raise not_found("Debtor", "id")
    for key, value in checked.items():
        setattr(debtor, key, value)
    touch(debtor)
    await flush(session, _RULES)
    return debtor
