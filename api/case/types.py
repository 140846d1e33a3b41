from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from graph import ids
from graph.compiler import Source
from graph.context import Info
from graph.errors import ApiError, TopCode, UserError
from graph.node import Node
from graph.objects import (
    Fields,
    Prefixed,
    declared_view,
    described_enum,
    described_field,
    fields,
    given,
    user_errors_field,
)
from graph.pagination import After, Connection, First, connection, decode_cursor, page_size
from models import CapBasis, CapKind, TimeStatus
from services import cases
from services.cases import CaseData
from services.debtors import DebtorData
from services.errors import DomainError
from services.paging import Window
from services.time_queries import TimeListOrder

if TYPE_CHECKING:
    from api.time_entry.types import CaseTimeList

IncludeBlocked = Annotated[bool | None, strawberry.argument(description="Also list blocked cases; false by default.")]

CapKindEnum = described_enum(
    CapKind,
    name="CapKind",
    description="Which maximum a case has per book year.",
    values={
        "NONE": "No maximum (the default).",
        "TIME": "At most `maxMinutes` minutes of counted time per book year.",
        "AMOUNT": "At most `maxAmount` of counted money per book year.",
    },
)
CapBasisEnum = described_enum(
    CapBasis,
    name="CapBasis",
    description="Which time counts toward a case's maximum; over-limit (L) time counts for neither.",
    values={
        "BILLABLE": "Statuses J and F (the default).",
        "NON_BILLABLE": "Status N.",
    },
)


@strawberry.type(description="A customer: time is written on its cases and invoiced to it.")
class Debtor(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    code: str = strawberry.field(description="Short code, unique ignoring case.")
    name: str = strawberry.field(description="Display name.")
    adjusted_rate: Decimal | None = strawberry.field(
        description="Hourly rate for all time on this debtor, before any employee's or activity's rate (a case's "
        "adjusted rate comes first); null when none."
    )
    db_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any, prefix: str = "") -> Debtor:
        return cls.from_fields(fields(row), prefix)

    @classmethod
    def from_fields(cls, row: Fields, prefix: str = "") -> Debtor:
        return _debtor_of_row(Prefixed(row, prefix) if prefix else row, None)

    @described_field("The debtor's cases, by code.")
    async def cases(
        self,
        info: Info,
        first: First = 50,
        after: After = None,
        include_blocked: IncludeBlocked = False,
    ) -> Connection[Case]:
        return await case_connection(
            info, first=first, after=after, debtor_id=self.db_id, include_blocked=bool(include_blocked)
        )


@strawberry.type(description="How much of a case's maximum one book year has used; the counted time is the basis's.")
class CapUsage:
    kind: CapKind = strawberry.field(description="TIME or AMOUNT: which maximum applies.")
    basis: CapBasis = strawberry.field(description="Which statuses count toward it.")
    book_year_start: date = strawberry.field(description="First day of the book year.")
    book_year_end: date = strawberry.field(description="Last day of the book year.")
    limit_minutes: int | None = strawberry.field(description="The maximum in minutes; null unless TIME.")
    limit_amount: Decimal | None = strawberry.field(description="The maximum in money; null unless AMOUNT.")
    used_minutes: int = strawberry.field(description="Minutes of the counted entries in the book year.")
    used_amount: Decimal = strawberry.field(description="Amount of the counted entries in the book year.")
    available_minutes: int | None = strawberry.field(description="Minutes still free, never below 0; null unless TIME.")
    available_amount: Decimal | None = strawberry.field(
        description="Money still free, never below 0; null unless AMOUNT."
    )


@strawberry.type(description="A project of one debtor that time is written on, with its billing rules and maximum.")
class Case(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    debtor: Debtor = strawberry.field(description="The debtor the case belongs to.")
    code: str = strawberry.field(description="Project code, unique per debtor ignoring case.")
    description: str | None = strawberry.field(description="Free text; null when none.")
    invoicing: TimeStatus = strawberry.field(
        description="Status its time gets when the writer does not say: BILLABLE (J, the default) or NON_BILLABLE "
        "(N); it overrules the activity's."
    )
    is_default: bool = strawberry.field(
        description="Preselected once its debtor is chosen: `caseOptions` lists default cases first."
    )
    active_from: date | None = strawberry.field(
        description="First day time may be dated on it, included; null when open. Outside the period: CASE_NOT_ACTIVE."
    )
    active_until: date | None = strawberry.field(
        description="Last day time may be dated on it, included; null when open."
    )
    adjusted_rate: Decimal | None = strawberry.field(
        description="Hourly rate that overrules every other rate for new time on the case; null when none."
    )
    blocked: bool = strawberry.field(
        description="No time can be written on it (CASE_BLOCKED) and pickers leave it out; its time stays reported."
    )
    max_amount: Decimal | None = strawberry.field(
        description="The book-year maximum in money, used when `maxPerBookYear` is AMOUNT; null when none."
    )
    max_minutes: int | None = strawberry.field(
        description="The book-year maximum in minutes, used when `maxPerBookYear` is TIME; null when none."
    )
    max_per_book_year: CapKind = strawberry.field(
        description="Which maximum applies per book year. Time beyond it, written per date, goes to an over-limit (L) "
        "entry."
    )
    max_based_on: CapBasis = strawberry.field(description="Which statuses count toward the maximum.")
    cap_thresholds: list[int] = strawberry.field(
        description="Percentages of the book-year maximum whose crossing by counted time is told "
        "(`capThresholdReached`, webhooks' `cap.threshold`), ascending."
    )
    time_entry_count: int = strawberry.field(
        description="How many entries the case has; above `Settings.staticListThreshold` its `timeList` is STATIC."
    )
    db_id: strawberry.Private[int]

    @described_field(
        "The case's entries: EDITABLE, in `orderBy`, while the case has at most the static list threshold of them; "
        "STATIC above it, newest first. Names the viewer may not see stay hidden."
    )
    async def time_list(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many from the start or after `after`: 50 by default, at most 100."),
        ] = None,
        after: After = None,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="How many from the end or before `before`, at most 100; not together with `first`."
            ),
        ] = None,
        before: Annotated[
            str | None, strawberry.argument(description="The `startCursor` of the page after, to page backwards.")
        ] = None,
        order_by: Annotated[
            TimeListOrder | None,
            strawberry.argument(description="The order of an EDITABLE list, ties by id; a STATIC list ignores it."),
        ] = TimeListOrder.WORK_DATE_DESC,
    ) -> Annotated[CaseTimeList, strawberry.lazy("api.time_entry.types")]:
        """EDITABLE up to the company's static list threshold, in `orderBy`; STATIC above it, newest first."""
        from api.time_entry.types import case_time_list

        return await case_time_list(info, self, first=first, after=after, last=last, before=before, order_by=order_by)

    @described_field("How much of the maximum the book year holding `date` has used; null for a case without one.")
    async def cap_usage(
        self,
        info: Info,
        date: Annotated[
            date | None,
            strawberry.argument(description="A day of the book year; today in the company's time zone by default."),
        ] = None,
    ) -> CapUsage | None:
        """Limit, used and available for the book year holding `date` (today by default); null without a cap."""
        return await cap_usage_of(info, self, date)

    @classmethod
    def from_row(cls, row: Any, debtors: dict[int, Debtor] | None = None) -> Case:
        """From a row of `services.cases.COLUMNS` (case with its debtor joined)."""
        return cls.from_fields(fields(row), debtors)

    @classmethod
    def from_fields(cls, f: Fields, debtors: dict[int, Debtor] | None = None) -> Case:
        """`debtors` shares one Debtor object per debtor among the rows of one answer."""
        return _case_of_row(f, {} if debtors is None else debtors)


async def cap_usage_of(info: Info, case: Case, on: date | None) -> CapUsage | None:
    """How much of `case`'s maximum the book year holding `on` (today by default) has used; None without a cap."""
    try:
        usage = await info.context.loaders.cap_usage_of(case.db_id, case, on)
    except DomainError as error:
        raise ApiError(TopCode.VALIDATION, error.message) from error
    return CapUsage(**dataclasses.asdict(usage)) if usage else None


def _debtor_of(case: Any) -> Debtor:
    f, debtors = case._f, case._shared
    debtor: Debtor | None = debtors.get(f["debtor_id"])
    if debtor is None:
        debtor = debtors[f["debtor_id"]] = Debtor.from_fields(f, prefix="debtor_")
    return debtor


# a page builds 50 cases of 16 fields, a report thousands, and a query selects a few: read from the row when asked
_case_of_row = declared_view(Case, {"debtor": _debtor_of})
_debtor_of_row = declared_view(Debtor)


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
    ctx = info.context

    async def count_total() -> int:
        return await ctx.loaders.cases_total(debtor_id=debtor_id, search=search, include_blocked=include_blocked)

    compiled = ctx.compiled_edges(info)
    if compiled is not None:
        source, values = Source.matching(
            cases.filters(debtor_id=debtor_id, search=search, include_blocked=include_blocked)
        )
        return await ctx.connection(info, compiled, source, cases.KEYSET, Window(size, cursor), params=values)
    page = await ctx.loaders.cases_page(
        first=size, after=cursor, debtor_id=debtor_id, search=search, include_blocked=include_blocked
    )
    debtors: dict[int, Debtor] = {}
    return connection(page, cases.KEYSET, lambda row: Case.from_row(row, debtors), count_total)


@strawberry.input(
    description="A debtor to create, or the changes to one: a field left out stays as it is, null clears it."
)
class DebtorInput:
    code: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="1 to 200 characters, trimmed; unique ignoring case (DUPLICATE). Needed to create.",
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters, trimmed. Needed to create."
    )
    adjusted_rate: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Hourly rate, 0 to 99999999.99 with at most 2 decimals; null for none."
    )

    def to_data(self) -> DebtorData:
        data: dict[str, Any] = given(self)
        return cast(DebtorData, data)


@strawberry.input(
    description="A case to create, or the changes to one: a field left out stays as it is, null clears a nullable "
    "one (null for one that cannot be empty is VALIDATION)."
)
class CaseInput:
    debtor_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The case's debtor: needed to create, and a case never moves to another."
    )
    code: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="1 to 200 characters, trimmed; unique per debtor ignoring case (DUPLICATE). Needed to create.",
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 4,000 characters, trimmed; empty becomes null."
    )
    invoicing: TimeStatus | None = strawberry.field(
        default=strawberry.UNSET, description="BILLABLE or NON_BILLABLE only; BILLABLE when left out on create."
    )
    is_default: bool | None = strawberry.field(default=strawberry.UNSET, description="False when left out on create.")
    active_from: date | None = strawberry.field(
        default=strawberry.UNSET,
        description="2000-01-01 to 2100-12-31; not with a maximum (PERIOD_WITH_CAP).",
    )
    active_until: date | None = strawberry.field(
        default=strawberry.UNSET,
        description="Not before `activeFrom` (VALIDATION); not with a maximum (PERIOD_WITH_CAP).",
    )
    adjusted_rate: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Hourly rate, 0 to 99999999.99 with at most 2 decimals; null for none."
    )
    blocked: bool | None = strawberry.field(default=strawberry.UNSET, description="False when left out on create.")
    max_amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Money, 0 to 99999999.99; needed when `maxPerBookYear` is AMOUNT."
    )
    max_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description="0 to 2,000,000,000 minutes; needed when `maxPerBookYear` is TIME."
    )
    max_per_book_year: CapKind | None = strawberry.field(
        default=strawberry.UNSET, description="NONE when left out on create."
    )
    max_based_on: CapBasis | None = strawberry.field(
        default=strawberry.UNSET, description="BILLABLE when left out on create."
    )
    cap_thresholds: list[int] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Percentages of the book-year maximum, 1 to 100, at most 10, whose crossing "
        "`capThresholdReached` and webhooks tell; [50, 80, 100] when left out on create, [] for none.",
    )

    def to_data(self) -> CaseData:
        data: dict[str, Any] = given(self)
        if data.get("debtor_id") is not None:
            data["debtor_id"] = ids.require(data["debtor_id"], "Debtor", "debtorId")
        return cast(CaseData, data)


@strawberry.input(description="One case to create for each of a group of debtors.")
class ImportCasesInput:
    debtor_ids: list[strawberry.ID] = strawberry.field(description="1 to 500 debtors, each getting its own case.")
    case: CaseInput = strawberry.field(description="The case to create; its `debtorId` is ignored.")
    best_effort: bool | None = strawberry.field(
        default=False,
        description="False (the default): one failing debtor writes nothing. True: the others are created.",
    )


@strawberry.type(description="The answer to `createDebtor` and `updateDebtor`.")
class DebtorPayload:
    debtor: Debtor | None = strawberry.field(default=None, description="The debtor as written; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer to `createCase` and `updateCase`.")
class CasePayload:
    case: Case | None = strawberry.field(default=None, description="The case as written; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer to `importCases`.")
class ImportCasesPayload:
    cases: list[Case] = strawberry.field(
        default_factory=list, description="The cases created; empty when the import was refused."
    )
    user_errors: list[UserError] = user_errors_field(
        "Why each failing debtor failed, its field path starting with its index in `debtorIds`; without "
        "`bestEffort`, any of them means nothing was created."
    )
