from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import ApiError, TopCode, UserError
from graph.pagination import Connection, connection, decode_cursor, page_size
from graph.types.common import Fields, fields, given, row_view
from graph.types.node import Node
from models import CapBasis, CapKind, TimeStatus
from services import cap_usage, cases
from services.cases import CaseData
from services.debtors import DebtorData
from services.errors import DomainError
from services.time_queries import TimeListOrder

if TYPE_CHECKING:
    from graph.types.time_entry import CaseTimeList

CapKindEnum = strawberry.enum(CapKind, name="CapKind")
CapBasisEnum = strawberry.enum(CapBasis, name="CapBasis")


@strawberry.type
class Debtor(Node):
    id: strawberry.ID
    code: str
    name: str
    adjusted_rate: Decimal | None
    db_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any, prefix: str = "") -> Debtor:
        return cls.from_fields(fields(row), prefix)

    @classmethod
    def from_fields(cls, row: Fields, prefix: str = "") -> Debtor:
        db_id = row["debtor_id"] if prefix else row["id"]
        return cls(
            id=ids.encode("Debtor", db_id),
            db_id=db_id,
            code=row[f"{prefix}code"],
            name=row[f"{prefix}name"],
            adjusted_rate=row[f"{prefix}adjusted_rate"],
        )

    @strawberry.field
    async def cases(
        self, info: Info, first: int | None = 50, after: str | None = None, include_blocked: bool | None = False
    ) -> Connection[Case]:
        return await case_connection(
            info, first=first, after=after, debtor_id=self.db_id, include_blocked=bool(include_blocked)
        )


@strawberry.type
class CapUsage:
    kind: CapKind
    basis: CapBasis
    book_year_start: date
    book_year_end: date
    limit_minutes: int | None
    limit_amount: Decimal | None
    used_minutes: int
    used_amount: Decimal
    available_minutes: int | None
    available_amount: Decimal | None


@strawberry.type
class Case(Node):
    id: strawberry.ID
    debtor: Debtor
    code: str
    description: str | None
    invoicing: TimeStatus
    is_default: bool
    active_from: date | None
    active_until: date | None
    adjusted_rate: Decimal | None
    blocked: bool
    max_amount: Decimal | None
    max_minutes: int | None
    max_per_book_year: CapKind
    max_based_on: CapBasis
    time_entry_count: int
    db_id: strawberry.Private[int]

    @strawberry.field
    async def time_list(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: TimeListOrder | None = TimeListOrder.WORK_DATE_DESC,
    ) -> Annotated[CaseTimeList, strawberry.lazy("graph.types.time_entry")]:
        """EDITABLE up to the company's static list threshold, in `orderBy`; STATIC above it, newest first."""
        from graph.types.time_entry import case_time_list

        return await case_time_list(info, self, first=first, after=after, last=last, before=before, order_by=order_by)

    @strawberry.field
    async def cap_usage(self, info: Info, date: date | None = None) -> CapUsage | None:
        """Limit, used and available for the book year holding `date` (today by default); null without a cap."""
        try:
            async with info.context.db.read() as session:
                usage = await cap_usage.of_case(session, self.db_id, self, date)
        except DomainError as error:
            raise ApiError(TopCode.VALIDATION, error.message) from error
        return CapUsage(**dataclasses.asdict(usage)) if usage else None

    @classmethod
    def from_row(cls, row: Any, debtors: dict[int, Debtor] | None = None) -> Case:
        """From a row of `services.cases.COLUMNS` (case with its debtor joined)."""
        return cls.from_fields(fields(row), debtors)

    @classmethod
    def from_fields(cls, f: Fields, debtors: dict[int, Debtor] | None = None) -> Case:
        """`debtors` shares one Debtor object per debtor among the rows of one answer."""
        return _case_of_row(f, {} if debtors is None else debtors)


def _debtor_of(case: Any) -> Debtor:
    f, debtors = case._f, case._shared
    debtor: Debtor | None = debtors.get(f["debtor_id"])
    if debtor is None:
        debtor = debtors[f["debtor_id"]] = Debtor.from_fields(f, prefix="debtor_")
    return debtor


# a page builds 50 cases of 16 fields, a report thousands, and a query selects a few: read from the row when asked
_case_of_row = row_view(
    Case,
    {"id": lambda case: ids.encode("Case", case._f["id"]), "db_id": lambda case: case._f["id"], "debtor": _debtor_of},
)


async def case_connection(
    info: Info,
    *,
    first: int | None,
    after: str | None,
    debtor_id: int | None = None,
    search: str | None = None,
    include_blocked: bool = False,
) -> Connection[Case]:
    size = page_size(first)
    cursor = decode_cursor(after, cases.KEYSET)
    db = info.context.db
    async with db.read() as session:
        page = await cases.page(
            session, first=size, after=cursor, debtor_id=debtor_id, search=search, include_blocked=include_blocked
        )

    async def count_total() -> int:
        async with db.read() as session:
            return await cases.total(session, debtor_id=debtor_id, search=search, include_blocked=include_blocked)

    debtors: dict[int, Debtor] = {}
    return connection(page, cases.KEYSET, lambda row: Case.from_row(row, debtors), count_total)


@strawberry.input
class DebtorInput:
    code: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    adjusted_rate: Decimal | None = strawberry.UNSET

    def to_data(self) -> DebtorData:
        data: dict[str, Any] = given(self)
        return cast(DebtorData, data)


@strawberry.input
class CaseInput:
    debtor_id: strawberry.ID | None = strawberry.UNSET
    code: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    invoicing: TimeStatus | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET
    active_from: date | None = strawberry.UNSET
    active_until: date | None = strawberry.UNSET
    adjusted_rate: Decimal | None = strawberry.UNSET
    blocked: bool | None = strawberry.UNSET
    max_amount: Decimal | None = strawberry.UNSET
    max_minutes: int | None = strawberry.UNSET
    max_per_book_year: CapKind | None = strawberry.UNSET
    max_based_on: CapBasis | None = strawberry.UNSET

    def to_data(self) -> CaseData:
        data: dict[str, Any] = given(self)
        if data.get("debtor_id") is not None:
            data["debtor_id"] = ids.require(data["debtor_id"], "Debtor", "debtorId")
        return cast(CaseData, data)


@strawberry.input
class ImportCasesInput:
    debtor_ids: list[strawberry.ID]
    case: CaseInput
    best_effort: bool | None = False


@strawberry.type
class DebtorPayload:
    debtor: Debtor | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CasePayload:
    case: Case | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImportCasesPayload:
    cases: list[Case] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
