from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from orjson import Fragment
from strawberry.types.nodes import SelectedField, Selection

from graph import ids
from graph.context import Context, Info
from graph.errors import UserError
from graph.pagination import Edge, PageInfo, decode_cursor, encode_cursor, page_size
from graph.types.activity import Activity
from graph.types.case import Case, Debtor
from graph.types.common import Fields, fields, given, named_members, per_field, plain_fields, row_view
from graph.types.employee import Employee
from graph.types.node import Node
from graph.types.role import Role
from models import EntryMode, EntrySource, TimeStatus
from services import entry_json, time_queries
from services.entry_json import ATTRIBUTES as ENTRY_ATTRIBUTES
from services.entry_json import Cursor, EdgeProjection, EntryField, EntryObject, Named, Related
from services.json_sql import Constant
from services.paging import AnyRow, Keyset, Page, Window
from services.time_entries import BILLABLE_STATUSES, EDITABLE_STATUSES, EntryData, WarningCode, Writer
from services.time_entries import Warning as WarningData
from services.time_queries import EntryFilter, TimeListMode, TimeListOrder

EntryModeEnum = strawberry.enum(EntryMode, name="EntryMode")
EntrySourceEnum = strawberry.enum(EntrySource, name="EntrySource")
TimeListOrderEnum = strawberry.enum(TimeListOrder, name="TimeListOrder")
TimeListModeEnum = strawberry.enum(TimeListMode, name="TimeListMode")
WarningCodeEnum = strawberry.enum(WarningCode, name="WarningCode")
if TYPE_CHECKING:
    from graph.types.invoice import Invoice


class Prefixed:
    """A view of a joined row's columns that carry `prefix`, for the types' `from_row` and `from_fields`."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Fields, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getitem__(self, name: str) -> Any:
        return self._row[self._prefix + name]


@strawberry.type
class Warning:
    code: WarningCode
    message: str

    @classmethod
    def of(cls, warning: WarningData) -> Warning:
        return cls(code=warning.code, message=warning.message)


@strawberry.type
class TimeEntry(Node):
    id: strawberry.ID
    work_date: date
    minutes: int
    status: TimeStatus
    billable: bool
    rate: Decimal
    amount: Decimal
    description: str | None
    source: EntrySource
    employee: Employee | None
    employee_hidden: bool
    debtor: Debtor
    case: Case | None
    activity: Activity
    editable: bool
    version: int
    created_at: datetime
    updated_at: datetime
    db_id: strawberry.Private[int]
    over_limit_of_id: strawberry.Private[int | None]
    invoice_id: strawberry.Private[int | None]
    over_limit_entry_id: strawberry.Private[int | None]
    created_by_id: strawberry.Private[int]
    updated_by_id: strawberry.Private[int]

    @strawberry.field
    async def invoice(self, info: Info) -> Annotated[Invoice, strawberry.lazy("graph.types.invoice")] | None:
        """The invoice that billed this entry; null for roles that may not see invoices (SPEC 5a)."""
        viewer = info.context.viewer
        if self.invoice_id is None or viewer is None or not viewer.is_billing_staff:
            return None
        from graph.types.invoice import Invoice

        invoice = await info.context.loaders.invoice_by_id.load(self.invoice_id)
        return Invoice.from_model(invoice) if invoice else None

    @strawberry.field
    async def over_limit_of(self, info: Info) -> TimeEntry | None:
        """On an L line: the entry whose excess it holds."""
        return await _load_entry(info, self.over_limit_of_id)

    @strawberry.field
    async def over_limit_entry(self, info: Info) -> TimeEntry | None:
        """On an entry cut at its case's maximum: the L line holding the excess."""
        return await _load_entry(info, self.over_limit_entry_id)

    @strawberry.field
    async def created_by(self, info: Info) -> Employee | None:
        return await _load_employee(info, self.created_by_id)

    @strawberry.field
    async def updated_by(self, info: Info) -> Employee | None:
        return await _load_employee(info, self.updated_by_id)


async def _load_entry(info: Info, entry_id: int | None) -> TimeEntry | None:
    if entry_id is None:
        return None
    row = await info.context.loaders.time_entry_by_id.load(entry_id)
    return EntryBuilder(info.context).build(row) if row else None


async def _load_employee(info: Info, employee_id: int) -> Employee | None:
    if not info.context.visibility.can_see(employee_id):
        return None
    row = await info.context.loaders.employee_by_id.load(employee_id)
    return Employee.from_row(row) if row else None


class EntryBuilder:
    """Builds TimeEntry objects from joined rows, sharing one object per employee, case and activity.

    `case`: the rows are one case's list (`time_queries.CASE_ENTRY_COLUMNS`, without case and debtor columns); its
    entries share that case and its debtor."""

    def __init__(self, context: Context, *, static: bool = False, case: Case | None = None) -> None:
        self.visibility = context.visibility
        self.writer = Writer(context.me, context.visibility) if context.viewer else None
        self.static = static
        self._employees: dict[int, Employee] = {}
        self._cases: dict[int, Case] = {}
        self._activities: dict[int, Activity] = {}
        self._debtors: dict[int, Debtor] = {}
        self._roles: dict[int, Role] = {}
        if case is not None:
            self._cases[case.db_id] = case
            self._debtors[case.debtor.db_id] = case.debtor

    def build(self, row: AnyRow) -> TimeEntry:
        # by mapping: a Row's attribute access is ~20x slower (graph.types.common.fields)
        return self._build(fields(row))

    def _build(self, f: Fields) -> TimeEntry:
        return _entry_of_row(f, self)

    def employee_of(self, f: Fields) -> Employee | None:
        employee_id = f["employee_id"]
        if not self.visibility.can_see(employee_id):
            return None
        return self._employees.get(employee_id) or self._employee(f, employee_id)

    def editable(self, f: Fields) -> bool:
        return (
            not self.static
            and f["status"] in EDITABLE_STATUSES
            and self.writer is not None
            and self.writer.may_write_for(f["employee_id"])
        )

    def case_of(self, f: Fields) -> Case | None:
        case_id = f["case_id"]
        if case_id is None:
            return None
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
        info = PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return edges, info


# a page builds 50 entries of 24 fields and a query selects a handful: each field is read from the row when asked
_entry_of_row = row_view(
    TimeEntry,
    {
        "id": lambda entry: ids.encode("TimeEntry", entry._f["id"]),
        "db_id": lambda entry: entry._f["id"],
        "billable": lambda entry: entry._f["status"] in BILLABLE_STATUSES,
        "employee": lambda entry: entry._shared.employee_of(entry._f),
        "employee_hidden": lambda entry: not entry._shared.visibility.can_see(entry._f["employee_id"]),
        "debtor": lambda entry: entry._shared.debtor_of(entry._f),
        "case": lambda entry: entry._shared.case_of(entry._f),
        "activity": lambda entry: entry._shared.activity_of(entry._f),
        "editable": lambda entry: entry._shared.editable(entry._f),
    },
)


@strawberry.type
class CaseTimeList:
    mode: TimeListMode
    page_info: PageInfo
    edges: list[Edge[TimeEntry]]
    total_count: int


@strawberry.type
class Timer:
    id: strawberry.ID
    started_at: datetime
    debtor: Debtor
    case: Case | None
    activity: Activity
    description: str | None


@strawberry.input
class TimeEntryInput:
    employee_id: strawberry.ID | None = strawberry.UNSET
    debtor_id: strawberry.ID | None = strawberry.UNSET
    case_id: strawberry.ID | None = strawberry.UNSET
    activity_id: strawberry.ID | None = strawberry.UNSET
    work_date: date | None = strawberry.UNSET
    minutes: int | None = strawberry.UNSET
    status: TimeStatus | None = strawberry.UNSET
    billable: bool | None = strawberry.UNSET
    description: str | None = strawberry.UNSET

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


@strawberry.input
class TimeEntryFilter:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    employee_ids: list[strawberry.ID] | None = None
    debtor_ids: list[strawberry.ID] | None = None
    case_ids: list[strawberry.ID] | None = None
    activity_ids: list[strawberry.ID] | None = None
    statuses: list[TimeStatus] | None = None
    active_cases_only: bool | None = False

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
        )


@strawberry.input
class TimeListChange:
    id: strawberry.ID | None = None
    expected_version: int | None = None
    delete: bool | None = False
    entry: TimeEntryInput | None = None


@strawberry.input
class StartTimerInput:
    debtor_id: strawberry.ID
    activity_id: strawberry.ID
    case_id: strawberry.ID | None = None
    description: str | None = None


@strawberry.type
class TimeEntryPayload:
    time_entry: TimeEntry | None = None
    over_limit_entry: TimeEntry | None = None
    warnings: list[Warning] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TimeEntriesPayload:
    time_entries: list[TimeEntry] = strawberry.field(default_factory=list)
    warnings: list[Warning] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


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
    edge = per_field(info, json_edges) if ctx.json_lists else None
    if edge is not None:
        async with ctx.db.read() as session:
            written = await entry_json.case_page(
                session,
                case_id=case.db_id,
                keyset=keyset,
                window=window,
                edge=edge,
                visibility=ctx.visibility,
                writer=Writer(ctx.me, ctx.visibility) if ctx.viewer else None,
                static=static,
            )
        page_info = PageInfo(
            has_next_page=written.has_next,
            has_previous_page=written.has_previous,
            start_cursor=None if written.first_key is None else encode_cursor(written.first_key),
            end_cursor=None if written.last_key is None else encode_cursor(written.last_key),
        )
        edges = cast(list[Edge[TimeEntry]], Fragment(written.edges))
        return CaseTimeList(mode=mode, page_info=page_info, edges=edges, total_count=case.time_entry_count)
    async with ctx.db.read() as session:
        page = await time_queries.case_page(session, case_id=case.db_id, keyset=keyset, window=window)
    edges, page_info = EntryBuilder(ctx, static=static, case=case).edges(page, keyset)
    return CaseTimeList(mode=mode, page_info=page_info, edges=edges, total_count=case.time_entry_count)


_NODE_FIELDS = {
    "id": EntryField.ID,
    "workDate": EntryField.WORK_DATE,
    "minutes": EntryField.MINUTES,
    "status": EntryField.STATUS,
    "billable": EntryField.BILLABLE,
    "rate": EntryField.RATE,
    "amount": EntryField.AMOUNT,
    "description": EntryField.DESCRIPTION,
    "source": EntryField.SOURCE,
    "version": EntryField.VERSION,
    "employeeHidden": EntryField.EMPLOYEE_HIDDEN,
    "editable": EntryField.EDITABLE,
}
_RELATED = {"employee": Related.EMPLOYEE, "activity": Related.ACTIVITY}


def json_edges(info: Info) -> EdgeProjection | None:
    """What each edge of `timeList { edges { ... } }` shows, when the database can write it (`services.entry_json`):
    the cursor, plain fields of the entry and the ids, names and codes of its employee and activity. None for
    anything else, or when the edges are not selected once: the page is then built as objects."""
    selected = info.selected_fields
    if len(selected) != 1 or not isinstance(selected[0], SelectedField):
        return None
    edges = [field for _, field in plain_fields(selected[0].selections) or () if field.name == "edges"]
    edge_fields = plain_fields(edges[0].selections) if len(edges) == 1 else None
    if edge_fields is None:
        return None
    edge: list[tuple[str, Cursor | Constant | EntryObject]] = []
    for key, field in edge_fields:
        if field.name == "__typename":
            edge.append((key, Constant("TimeEntryEdge")))
        elif field.name == "cursor":
            edge.append((key, Cursor()))
        elif field.name == "node" and (node := _json_node(field.selections)) is not None:
            edge.append((key, node))
        else:
            return None
    return tuple(edge)


def _json_node(selections: list[Selection]) -> EntryObject | None:
    fields = plain_fields(selections)
    if fields is None:
        return None
    members: list[tuple[str, EntryField | Constant | Named]] = []
    for key, field in fields:
        if field.name == "__typename":
            members.append((key, Constant("TimeEntry")))
        elif field.name in _NODE_FIELDS:
            members.append((key, _NODE_FIELDS[field.name]))
        elif field.name in _RELATED and (named := _json_named(_RELATED[field.name], field.selections)) is not None:
            members.append((key, named))
        else:
            return None
    return EntryObject(tuple(members))


def _json_named(related: Related, selections: list[Selection]) -> Named | None:
    members = named_members(selections, related.value, ENTRY_ATTRIBUTES[related])
    return None if members is None else Named(related, members)
