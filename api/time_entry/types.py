from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from sqlalchemy import BigInteger, Integer, bindparam, column

from api.activity.types import Activity
from api.case.types import Case, Debtor
from api.employee.types import Employee
from api.history.types import HistoryEntry
from api.role.types import Role
from graph import ids
from graph.compiler import Source
from graph.context import Context, Info
from graph.declarations import TIME_ENTRY, Seeing
from graph.errors import UserError
from graph.node import Node
from graph.objects import (
    Fields,
    Prefixed,
    declared_view,
    described_enum,
    described_field,
    fields,
    given,
    shown_key,
    user_errors_field,
)
from graph.pagination import Edge, PageInfo, decode_cursor, encode_cursor, page_info, page_size
from models import EntryMode, EntrySource, TimeStatus
from models import TimeEntry as TimeEntryRow
from models import Timer as TimerModel
from services import time_queries
from services.paging import AnyRow, Keyset, Page, Window
from services.time_entries import EntryData, WarningCode
from services.time_entries import Warning as WarningData
from services.time_queries import EntryFilter, TimeListMode, TimeListOrder
from services.timers import TimerData

EntryModeEnum = described_enum(
    EntryMode,
    name="EntryMode",
    description="The screen a write comes from, which decides whether the cap check runs.",
    values={
        "PER_DATE": "The Time per date screen (the default): time beyond a case's maximum goes to an over-limit entry.",
        "PER_DEBTOR": "The Time per debtor screen: no cap check.",
    },
)
EntrySourceEnum = described_enum(
    EntrySource,
    name="EntrySource",
    description="How an entry was written.",
    values={
        "PER_DATE": "On the Time per date screen (PER_DATE mode), or as a case time list's row.",
        "PER_DEBTOR": "On the Time per debtor screen (PER_DEBTOR mode).",
        "COPY": "By `copyTimeEntries`.",
        "TIMER": "By `stopTimer`.",
        "IMPORT": "By an import.",
    },
)
TimeListOrderEnum = described_enum(
    TimeListOrder,
    name="TimeListOrder",
    description="The order of an EDITABLE case time list; ties go by id.",
    values={
        "WORK_DATE_DESC": "Newest work date first (the default).",
        "WORK_DATE_ASC": "Oldest work date first.",
        "MINUTES_DESC": "Longest first.",
        "MINUTES_ASC": "Shortest first.",
    },
)
TimeListModeEnum = described_enum(
    TimeListMode,
    name="TimeListMode",
    description="How a case time list behaves, set by its entry count against `Settings.staticListThreshold`.",
    values={
        "EDITABLE": "At most the threshold: sorted by `orderBy`, and saved in bulk with `saveCaseTimeList`.",
        "STATIC": "Above it: newest first whatever `orderBy` says, every entry `editable: false`, and "
        "`saveCaseTimeList` refused (STATIC_LIST); entries are edited one by one.",
    },
)
WarningCodeEnum = described_enum(
    WarningCode,
    name="WarningCode",
    description="What a warning is about.",
    values={
        "CAP_EXCEEDED": "The time went beyond its case's book-year maximum: what did not fit went to an over-limit "
        "(L) entry.",
        "TIMER_TRUNCATED": "The timer ran past 1440 minutes: 1440 were written.",
    },
)
if TYPE_CHECKING:
    from api.invoice.types import Invoice


@strawberry.type(description="Something the user should know about a write that was made.")
class Warning:
    code: WarningCode = strawberry.field(description="What it is about.")
    message: str = strawberry.field(
        description="A sentence for the user, e.g. the maximum, what was used and what went to L."
    )

    @classmethod
    def of(cls, warning: WarningData) -> Warning:
        return cls(code=warning.code, message=warning.message)


# the relations a TimeEntry's resolvers read, each with its declared rule
_RELATIONS = {name: TIME_ENTRY.relation(name) for name in ("invoice", "createdBy", "updatedBy")}


@strawberry.type(
    description="Time one employee spent for a debtor (and maybe a case) on one day; its rate and amount are fixed "
    "when written."
)
class TimeEntry(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    work_date: date = strawberry.field(description="The day the work was done.")
    minutes: int = strawberry.field(description="How long, in whole minutes: 1 to 1440.")
    status: TimeStatus = strawberry.field(description="J, F, N or L: whether and how it is billed.")
    billable: bool = strawberry.field(description="True for J and F (the Billable checkbox).")
    rate: Decimal = strawberry.field(
        description="The hourly rate found when written: case's or debtor's adjusted rate, the employee's rate for "
        "the activity, the employee's default, the activity's default, the first that exists."
    )
    amount: Decimal = strawberry.field(description="minutes * rate / 60, rounded half up to 2 decimals.")
    description: str | None = strawberry.field(description="Free text; null when none.")
    tags: list[str] = strawberry.field(
        description="Labels of the work, in the order written; an over-limit (L) entry has its entry's. Empty when "
        "none."
    )
    source: EntrySource = strawberry.field(description="How it was written.")
    employee: Employee | None = strawberry.field(
        description="Who did the work; null, with `employeeHidden` true, when the viewer may not see their name."
    )
    employee_hidden: bool = strawberry.field(
        description="True when `employee` is null because the viewer may not see the name; the entry still counts."
    )
    debtor: Debtor = strawberry.field(description="The debtor the time is for.")
    case: Case | None = strawberry.field(description="The case it is written on; null when none.")
    activity: Activity = strawberry.field(description="What kind of work it was.")
    editable: bool = strawberry.field(
        description="Whether the viewer may change or delete it: not F, their own or an employee's they may write "
        "for; always false in a STATIC list."
    )
    version: int = strawberry.field(
        description="Up by one on every change; send it as `expectedVersion` to have a stale edit refused."
    )
    created_at: datetime = strawberry.field(description="When it was written.")
    updated_at: datetime = strawberry.field(description="When it last changed; equal to `createdAt` after a create.")
    db_id: strawberry.Private[int]
    over_limit_of_id: strawberry.Private[int | None]
    invoice_id: strawberry.Private[int | None]
    over_limit_entry_id: strawberry.Private[int | None]
    created_by_id: strawberry.Private[int]
    updated_by_id: strawberry.Private[int]

    @described_field(
        "The invoice that billed it; null when none, and for roles without `canInvoice` (its F status still shows)."
    )
    async def invoice(self, info: Info) -> Annotated[Invoice, strawberry.lazy("api.invoice.types")] | None:
        """The invoice that billed this entry; null for roles that may not see invoices (SPEC 5a)."""
        invoice_id = shown_key(self, _RELATIONS["invoice"])
        if invoice_id is None:
            return None
        from api.invoice.types import Invoice

        invoice = await info.context.loaders.invoice_by_id.load(invoice_id)
        return Invoice.from_row(invoice) if invoice else None

    @described_field("On an L entry: the entry whose excess over the case's maximum it holds; null otherwise.")
    async def over_limit_of(self, info: Info) -> TimeEntry | None:
        """On an L line: the entry whose excess it holds."""
        return await _load_entry(info, self.over_limit_of_id)

    @described_field("On an entry cut at its case's maximum: the L entry holding the excess; null otherwise.")
    async def over_limit_entry(self, info: Info) -> TimeEntry | None:
        """On an entry cut at its case's maximum: the L line holding the excess."""
        return await _load_entry(info, self.over_limit_entry_id)

    @described_field(
        "What happened to it, oldest first: each create, edit, invoicing, voiding and release, with who, when and "
        "each field's value before and after."
    )
    async def history(self, info: Info) -> list[HistoryEntry]:
        recorded = await info.context.loaders.history_by_entry_id.load(self.db_id)
        return [HistoryEntry.of("TimeEntry", event, info.context.visibility) for event in recorded]

    @described_field("Who wrote it; null when the viewer may not see their name.")
    async def created_by(self, info: Info) -> Employee | None:
        return await _load_employee(info, shown_key(self, _RELATIONS["createdBy"]))

    @described_field("Who changed it last (the creator after a create); null when the viewer may not see their name.")
    async def updated_by(self, info: Info) -> Employee | None:
        return await _load_employee(info, shown_key(self, _RELATIONS["updatedBy"]))


async def _load_entry(info: Info, entry_id: int | None) -> TimeEntry | None:
    if entry_id is None:
        return None
    row = await info.context.loaders.time_entry_by_id.load(entry_id)
    return EntryBuilder(info.context).build(row) if row else None


async def _load_employee(info: Info, employee_id: int | None) -> Employee | None:
    if employee_id is None:  # none, or hidden from the viewer
        return None
    row = await info.context.loaders.employee_by_id.load(employee_id)
    return Employee.from_row(row) if row else None


class EntryBuilder:
    """Builds TimeEntry objects from joined rows, sharing one object per employee, case and activity.

    `case`: the rows are one case's list (`time_queries.CASE_ENTRY_COLUMNS`, without case and debtor columns); its
    entries share that case and its debtor."""

    def __init__(self, context: Context, *, static: bool = False, case: Case | None = None) -> None:
        self.seeing = Seeing(context.visibility, context.viewer, editing=not static)
        self._employees: dict[int, Employee] = {}
        self._cases: dict[int, Case] = {}
        self._activities: dict[int, Activity] = {}
        self._debtors: dict[int, Debtor] = {}
        self._roles: dict[int, Role] = {}
        if case is not None:
            self._cases[case.db_id] = case
            self._debtors[case.debtor.db_id] = case.debtor

    def build(self, row: AnyRow) -> TimeEntry:
        # by mapping: a Row's attribute access is ~20x slower (graph.objects.fields)
        return self._build(fields(row))

    def _build(self, f: Fields) -> TimeEntry:
        return _entry_of_row(f, self)

    def employee_of(self, f: Fields) -> Employee:
        employee_id = f["employee_id"]
        return self._employees.get(employee_id) or self._employee(f, employee_id)

    def case_of(self, f: Fields) -> Case:
        case_id = f["case_id"]
        return self._cases.get(case_id) or self._case(f, case_id)

    def debtor_of(self, f: Fields) -> Debtor:
        return self._debtors.get(f["debtor_id"]) or self._debtor(f)

    def activity_of(self, f: Fields) -> Activity:
        return self._activities.get(f["activity_id"]) or self._activity(f)

    def _employee(self, f: Fields, employee_id: int) -> Employee:
        found = self._employees.get(employee_id)
        if found is None:
            found = self._employees[employee_id] = Employee.from_fields(Prefixed(f, "emp_"), self._roles)
        return found

    def _debtor(self, f: Fields) -> Debtor:
        debtor_id = f["debtor_id"]
        found = self._debtors.get(debtor_id)
        if found is None:
            found = self._debtors[debtor_id] = Debtor.from_fields(f, prefix="debtor_")
        return found

    def _case(self, f: Fields, case_id: int) -> Case:
        found = self._cases.get(case_id)
        if found is None:
            found = self._cases[case_id] = Case.from_fields(Prefixed(f, "c_"), self._debtors)
        return found

    def _activity(self, f: Fields) -> Activity:
        activity_id = f["activity_id"]
        found = self._activities.get(activity_id)
        if found is None:
            found = self._activities[activity_id] = Activity.from_fields(f, prefix="act_")
        return found

    def edges(self, page: Page[AnyRow], keyset: Keyset) -> tuple[list[Edge[TimeEntry]], PageInfo]:
        keys = [column.key for column in keyset.columns]
        edges = []
        for row in page.rows:
            f = row._mapping  # built anew on every access of `_mapping`: once per row
            edges.append(Edge(cursor=encode_cursor([f[key] for key in keys]), node=self._build(f)))
        return edges, page_info(page, [edge.cursor for edge in edges])


# a page builds 50 entries of 24 fields and a query selects a handful: each field is read from the row when asked
_entry_of_row = declared_view(
    TimeEntry,
    {
        "employee": lambda entry: entry._shared.employee_of(entry._f),
        "debtor": lambda entry: entry._shared.debtor_of(entry._f),
        "case": lambda entry: entry._shared.case_of(entry._f),
        "activity": lambda entry: entry._shared.activity_of(entry._f),
    },
)


@strawberry.type(description="One page of a case's entries, in the mode its entry count sets.")
class CaseTimeList:
    mode: TimeListMode = strawberry.field(description="EDITABLE or STATIC.")
    page_info: PageInfo = strawberry.field(description="Where this page lies, and the cursors to go on from.")
    edges: list[Edge[TimeEntry]] = strawberry.field(description="The entries of this page, in the list's order.")
    total_count: int = strawberry.field(description="How many entries the case has.")


@strawberry.type(description="A running timer: one per employee, shared by web and mobile.")
class Timer:
    id: strawberry.ID = strawberry.field(description="Opaque ID.")
    started_at: datetime = strawberry.field(
        description="When it started; the entry `stopTimer` writes is dated that day in the company's time zone."
    )
    debtor: Debtor = strawberry.field(description="The debtor its time will be for.")
    case: Case | None = strawberry.field(description="The case its time will be written on; null when none.")
    activity: Activity = strawberry.field(description="The activity its time will be written on.")
    description: str | None = strawberry.field(description="The entry's description to be; null when none.")


@strawberry.input(
    description="An entry to write, or the changes to one: a field left out stays as it is, null clears a nullable "
    "one. A create needs `workDate`, `minutes`, `activityId`, and `debtorId` or `caseId`."
)
class TimeEntryInput:
    employee_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whose time; the viewer by default. Another employee needs `canEnterTimeForOthers` (else "
        "FORBIDDEN), and one the viewer may not see is NOT_FOUND.",
    )
    debtor_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The debtor; the case's by default. A case of another debtor is CASE_DEBTOR_MISMATCH.",
    )
    case_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The case, when `Settings.useCaseColumn` is on (else CASES_DISABLED); it must not be blocked "
        "(CASE_BLOCKED) and must be active on `workDate` (CASE_NOT_ACTIVE).",
    )
    activity_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="The activity.")
    work_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="The day worked, 2000-01-01 to 2100-12-31."
    )
    minutes: int | None = strawberry.field(default=strawberry.UNSET, description="1 to 1440 whole minutes.")
    status: TimeStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="BILLABLE or NON_BILLABLE only; left out, the case's `invoicing`, else the activity's default.",
    )
    billable: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="The Billable checkbox: true is J, false is N; disagreeing with `status` is VALIDATION.",
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 4,000 characters, trimmed; empty becomes null."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The entry's tags, replacing all it had: each trimmed, 1 to 40 characters; a tag equal to an "
        "earlier one ignoring case is dropped, the first spelling and the order kept; at most 10. Empty or null "
        "clears them. A broken rule is VALIDATION, a tag's under its index (`tags.2`).",
    )

    def to_data(self) -> EntryData:
        data: dict[str, Any] = given(self)
        for key, type_name, field in (
            ("employee_id", "Employee", "employeeId"),
            ("debtor_id", "Debtor", "debtorId"),
            ("case_id", "Case", "caseId"),
            ("activity_id", "Activity", "activityId"),
        ):
            if data.get(key) is not None:
                data[key] = ids.require(data[key], type_name, field)
        return cast(EntryData, data)


@strawberry.input(
    description="Which entries to take; every condition given must hold. An ID that names nothing matches nothing."
)
class TimeEntryFilter:
    from_: date | None = strawberry.field(default=None, name="from", description="First work date, itself included.")
    to: date | None = strawberry.field(default=None, description="Last work date, itself included.")
    employee_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only time of these employees."
    )
    debtor_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only time for these debtors.")
    case_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only time on these cases.")
    activity_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only time on these activities."
    )
    statuses: list[TimeStatus] | None = strawberry.field(default=None, description="Only time of these statuses.")
    tags: list[str] | None = strawberry.field(
        default=None, description="Only time with any of these tags, compared trimmed and ignoring case."
    )
    active_cases_only: bool | None = strawberry.field(
        default=False,
        description="Only time on cases that are not blocked and whose period, if any, overlaps `from` to `to`; "
        "time without a case is left out.",
    )

    def to_filter(self) -> EntryFilter:
        """IDs that do not decode, or name another type, match nothing (SPEC 5b)."""
        return EntryFilter(
            start=self.from_,
            end=self.to,
            employee_ids=ids.decode_all(self.employee_ids, "Employee"),
            debtor_ids=ids.decode_all(self.debtor_ids, "Debtor"),
            case_ids=ids.decode_all(self.case_ids, "Case"),
            activity_ids=ids.decode_all(self.activity_ids, "Activity"),
            statuses=self.statuses,
            active_cases_only=bool(self.active_cases_only),
            tags=self.tags,
        )


@strawberry.input(
    description="One row of a case time list's Save: with an `id` it edits, or with `delete` deletes, that entry; "
    "without one it creates an entry on the case."
)
class TimeListChange:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="The entry of the case to edit or delete; left out for a new one."
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="The `version` the client saw; a stale one is VERSION_CONFLICT. Left out, the last writer wins.",
    )
    delete: bool | None = strawberry.field(default=False, description="True deletes the entry `id` names.")
    entry: TimeEntryInput | None = strawberry.field(
        default=None, description="The new entry (on this list's case), or the changes to the entry `id` names."
    )


@strawberry.input(description="What the timer's time will be written on.")
class StartTimerInput:
    debtor_id: strawberry.ID = strawberry.field(description="The debtor.")
    activity_id: strawberry.ID = strawberry.field(description="The activity.")
    case_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The case, under the same rules as an entry's (on today's date); null or left out for none.",
    )
    description: str | None = strawberry.field(
        default=None, description="At most 4,000 characters; becomes the entry's description."
    )

    def to_data(self) -> TimerData:
        return {
            "debtor_id": ids.require(self.debtor_id, "Debtor", "debtorId"),
            "activity_id": ids.require(self.activity_id, "Activity", "activityId"),
            "case_id": ids.require(self.case_id, "Case", "caseId") if self.case_id else None,
            "description": self.description,
        }


@strawberry.type(description="The answer to `createTimeEntry`, `updateTimeEntry` and `stopTimer`.")
class TimeEntryPayload:
    time_entry: TimeEntry | None = strawberry.field(
        default=None,
        description="The entry as written: cut to what fitted under its case's maximum, or itself L when no whole "
        "minute fitted. Null when refused.",
    )
    over_limit_entry: TimeEntry | None = strawberry.field(
        default=None, description="The L entry holding what went beyond the case's maximum; null when all fitted."
    )
    warnings: list[Warning] = strawberry.field(
        default_factory=list, description="What the user should know about the write made (CAP_EXCEEDED, …)."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer to `deleteTimeEntry`.")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The ID of the entry deleted; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer to `copyTimeEntries`, `saveCaseTimeList` and `releaseOverLimit`.")
class TimeEntriesPayload:
    time_entries: list[TimeEntry] = strawberry.field(
        default_factory=list,
        description="The entries written, in the order asked, with any over-limit entries; deleted ones are left out.",
    )
    warnings: list[Warning] = strawberry.field(
        default_factory=list, description="What the user should know about the writes made (CAP_EXCEEDED, …)."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer to `startTimer` and `discardTimer`.")
class TimerPayload:
    timer: Timer | None = strawberry.field(
        default=None,
        description="`startTimer`: the timer now running; `discardTimer`: the one dropped. Null when refused.",
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why nothing was started or dropped (TIMER_RUNNING, NO_TIMER, …); empty on success.",
    )


CASE_ENTRIES = Source(TimeEntryRow.case_id == bindparam("case_id", type_=Integer))


async def case_time_list(
    info: Info,
    case: Case,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order_by: TimeListOrder | None,
) -> CaseTimeList:
    """The case's entries as a list whose mode follows its entry count, kept on the case row (SPEC 7)."""
    ctx = info.context
    size = page_size(first, last)
    settings = await ctx.loaders.company_settings()
    mode = time_queries.list_mode(case.time_entry_count, settings.static_list_threshold)
    keyset = time_queries.keyset_for(mode, order_by or TimeListOrder.WORK_DATE_DESC)
    static = mode is TimeListMode.STATIC
    window = Window(size, decode_cursor(after, keyset), decode_cursor(before, keyset), backwards=last is not None)
    compiled = ctx.compiled_edges(info)
    if compiled is not None:
        written = await compiled.page(
            ctx.db,
            CASE_ENTRIES,
            keyset,
            window,
            viewer=ctx.viewer,
            visibility=ctx.visibility,
            editing=not static,
            params={"case_id": case.db_id},
            variables=info.context.variables(info),
        )
        edges = cast(list[Edge[TimeEntry]], written.edges)
        return CaseTimeList(mode=mode, page_info=written.page_info(), edges=edges, total_count=case.time_entry_count)
    page = await ctx.loaders.case_entries_page(case.db_id, keyset, window)
    edges, page_info = EntryBuilder(ctx, static=static, case=case).edges(page, keyset)
    return CaseTimeList(mode=mode, page_info=page_info, edges=edges, total_count=case.time_entry_count)


# what a sync cursor holds: whether it is still listing, a transaction id and an event or entry id
SYNC_CURSOR = Keyset((column("listing", BigInteger), column("xid", BigInteger), column("after", BigInteger)))


@strawberry.type(description="What changed in the viewer's own entries since a cursor, and where to go on from.")
class TimeEntryChanges:
    changed: list[TimeEntry] = strawberry.field(
        description="The viewer's entries created or changed since the cursor, as they are now."
    )
    deleted_ids: list[strawberry.ID] = strawberry.field(
        description="Entries deleted since the cursor, or given to another employee: drop them from the copy."
    )
    cursor: str = strawberry.field(description="Opaque; pass it next time for what changed after this answer.")
    has_more: bool = strawberry.field(description="Whether more changes wait: call again with `cursor` at once.")


async def timer_of(info: Info, timer: TimerModel) -> Timer:
    """The API's view of a running timer."""
    loaders = info.context.loaders
    debtor = await loaders.debtor_by_id.load(timer.debtor_id)
    activity = await loaders.activity_by_id.load(timer.activity_id)
    case = await loaders.case_by_id.load(timer.case_id) if timer.case_id else None
    assert debtor is not None
    assert activity is not None
    return Timer(
        id=ids.encode("Timer", timer.id),
        started_at=timer.started_at,
        debtor=Debtor.from_row(debtor),
        case=Case.from_row(case) if case else None,
        activity=Activity.from_model(activity),
        description=timer.description,
    )
