"""What each field of the API's object types is, declared once per type: a column with its codec, an expression of
the row, a relation to one row of another type, or a field only Python answers.

Both renderers come from here. `graph.compiler` writes a selection of these fields as one SQL expression of JSON
text; `graph.objects.declared_view` makes the Strawberry objects that mutation payloads and graphql-core need, each
column read from the row, each ID through its codec's Python twin, each expression and each relation's `shown` rule
through its Python twin (`Seeing`, the twin of `Viewing` and its parameters). A field declared `Python` (a resolver
with its own rules or loaders) keeps the whole selection on the object path. tests/graph/test_declarations.py fails
when a type gains a field without a declaration, and holds each expression's twins equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from sqlalchemy import ARRAY, Boolean, ColumnElement, Integer, and_, any_, bindparam, case, cast, func, true

from graph import codecs
from graph.codecs import Codec
from models import (
    Activity,
    Case,
    Debtor,
    DeliveryStatus,
    Employee,
    EntrySource,
    Invoice,
    Role,
    TimeEntry,
    TimeStatus,
    Webhook,
    WebhookDelivery,
)
from models.enums import CapBasis, CapKind, EmployeeVisibility
from services import cases, policy, time_queries, webhooks
from services.auth import Viewer
from services.json_sql import json_constant
from services.paging import Keyset
from services.time_queries import TimeListMode, TimeListOrder
from services.visibility import Visibility

_ID_ARRAY = ARRAY(Integer)


@dataclass(frozen=True, slots=True, eq=False)
class Viewing:
    """What the request's viewer changes in a compiled statement: each value a bind parameter, except whether the
    viewer sees every name, which picks one of two statements. `editing`: below a connection whose rows nobody
    may edit in some of its parents (a STATIC `timeList`), the condition of the parent's row that they may."""

    sees_all: bool
    editing: ColumnElement[bool] | None = None

    def within(self, editing: ColumnElement[bool] | None) -> Viewing:
        """The viewing of a connection's rows whose editing `editing` allows (None: as the parent's)."""
        if editing is None:
            return self
        return Viewing(self.sees_all, editing if self.editing is None else and_(self.editing, editing))

    @staticmethod
    def of(visibility: Visibility) -> Viewing:
        return _SEES_ALL if visibility.sees_all else _SEES_SOME

    @staticmethod
    def parameters(visibility: Visibility, viewer: Viewer | None, *, editing: bool) -> dict[str, Any]:
        """The bind parameters of `visible`, `may_edit` and `bills`; `editing` false: nobody may edit (a STATIC
        list)."""
        editor = viewer if editing else None
        params: dict[str, Any] = {
            "me": editor.employee_id if editor is not None else 0,  # no employee has id 0
            "writes": int(policy.writes_for(editor)),
            "bills": viewer is not None and viewer.is_billing_staff,
        }
        if not visibility.sees_all:
            params["visible_ids"] = sorted(visibility.visible_ids or ())
        return params

    def bills(self) -> ColumnElement[bool]:
        """Whether the viewer is billing staff, who alone see invoices (SPEC 5a)."""
        return bindparam("bills", type_=Boolean).is_(True)

    def visible(self, employee_id: Any) -> ColumnElement[bool]:
        """Whether the viewer may see the name of the employee `employee_id` (SPEC 5), which is not NULL."""
        if self.sees_all:
            return true()
        # cast: an empty array written out as a literal (a report's statement, `CompiledRows`) has no type
        seen: ColumnElement[bool] = employee_id == any_(cast(bindparam("visible_ids", type_=_ID_ARRAY), _ID_ARRAY))
        return seen

    def may_edit(self, row: Any) -> ColumnElement[bool]:
        """`policy.entry_editable` of the row for the viewer the parameters name: `me` 0 and `writes` OWN when nobody
        may edit, as in a STATIC list."""
        editable = policy.entry_editable_sql(
            row.status,
            row.employee_id,
            writer_id=bindparam("me", type_=Integer),
            writes=bindparam("writes", type_=Integer),
            employee_visible=self.visible(row.employee_id),
        )
        return editable if self.editing is None else and_(self.editing, editable)


_SEES_ALL, _SEES_SOME = Viewing(sees_all=True), Viewing(sees_all=False)


class Row(Protocol):
    """A row's columns by name, on the object path (`graph.objects.fields`)."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Seeing:
    """`Viewing` with its parameters, on the object path: the Python twin of each expression of the viewer."""

    visibility: Visibility
    viewer: Viewer | None
    editing: bool = True  # false: nobody may edit (a STATIC list)

    def bills(self) -> bool:
        return self.viewer is not None and self.viewer.is_billing_staff

    def administers(self) -> bool:
        return self.viewer is not None and self.viewer.is_administrator

    def visible(self, employee_id: int | None) -> bool:
        return self.visibility.can_see(employee_id)

    def may_edit(self, row: Row) -> bool:
        editor = self.viewer if self.editing else None
        return policy.entry_editable(
            row["status"],
            row["employee_id"],
            writer_id=editor.employee_id if editor is not None else 0,
            writes=policy.writes_for(editor),
            employee_visible=self.visible(row["employee_id"]),
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """A condition of the row and the viewer, twice: `sql` for the compiled statement, `python` for objects."""

    sql: Callable[[Any, Viewing], ColumnElement[bool]]
    python: Callable[[Row, Seeing], bool]


@dataclass(frozen=True, slots=True)
class Column:
    """The row's column `name`, written by `codec`."""

    name: str
    codec: Codec


@dataclass(frozen=True, slots=True)
class Derived:
    """An expression of the row (and of the viewer), written by `codec`; never NULL unless `nullable`. `python` is
    its twin on the object path: the field's value."""

    expression: Callable[[Any, Viewing], Any]
    python: Callable[[Row, Seeing], Any]
    codec: Codec
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class ToOne:
    """One row of `type_name`: the one whose id is this row's column `key`; null when `key` is NULL or `shown` (of
    the row and the viewer) is false."""

    type_name: str
    key: str
    shown: Rule | None = None


@dataclass(frozen=True, slots=True)
class Python:
    """Answered by the type's resolver only (loaders, arguments, rules of its own): `why` says what it needs."""

    why: str


@dataclass(frozen=True, slots=True, eq=False)
class Filter:
    """An argument of a `ToMany` that narrows its rows: `condition` (of the related table's columns) when
    `applies(value)` for the argument's value."""

    applies: Callable[[Any], bool]
    condition: ColumnElement[bool]


@dataclass(frozen=True, slots=True, eq=False)
class ToMany:
    """A connection of rows of `type_name` per row: the related rows `of(rows, row)` holds (`rows`: the related
    table's columns, `row`: this row's), in `keyset`'s order, narrowed by `filters` (by argument name). `total`: its
    `totalCount` from this row (else the rows are counted); `fields`: the connection's other fields, each the JSON
    text of an expression of this row; `editing`: the condition of this row that its rows may be edited at all;
    `compiled`: whether a request's arguments (by name, as graphql-core coerced them) are ones the compiled form
    answers (Relay's `last`/`before` and anything else is left to the field's resolver)."""

    type_name: str
    of: Callable[[Any, Any], ColumnElement[bool]]
    keyset: Keyset
    filters: Mapping[str, Filter] = field(default_factory=dict)
    total: Callable[[Any], ColumnElement[int]] | None = None
    fields: Mapping[str, Callable[[Any], ColumnElement[str]]] = field(default_factory=dict)
    editing: Callable[[Any], ColumnElement[bool]] | None = None
    compiled: Callable[[Mapping[str, Any]], bool] = lambda arguments: True


Field: TypeAlias = Column | Derived | ToOne | ToMany | Python


@dataclass(frozen=True, slots=True)
class Declaration:
    """A GraphQL object type over rows of `model`; `model` None: over rows of a selectable each request gives
    (`graph.compiler.CompiledRows`), its columns named as the fields say."""

    type_name: str
    model: Any
    fields: Mapping[str, Field]
    # who may see a row at all, by its id (`node`, which asks before reading it): everyone when None
    seen: Callable[[int, Seeing], bool] | None = None

    def relation(self, name: str) -> ToOne:
        """The field `name`, a relation to one row."""
        field = self.fields[name]
        if not isinstance(field, ToOne):
            raise TypeError(f"{self.type_name}.{name} is not a relation")
        return field


def _list_mode(editable: ColumnElement[bool]) -> ColumnElement[str]:
    """The JSON text of a time list's `mode`, EDITABLE when `editable` (`time_queries.list_mode`'s SQL twin)."""
    return case((editable, json_constant(TimeListMode.EDITABLE.name)), else_=json_constant(TimeListMode.STATIC.name))


def _id(type_name: str) -> Column:
    return Column("id", codecs.global_id(type_name))


def _visible_employee(key: str) -> Rule:
    """The employee `key` names is one whose name the viewer may see (SPEC 5)."""
    return Rule(lambda row, viewing: viewing.visible(getattr(row, key)), lambda row, seeing: seeing.visible(row[key]))


_BILLS = Rule(lambda row, viewing: viewing.bills(), lambda row, seeing: seeing.bills())


ROLE = Declaration(
    "Role",
    Role,
    {
        "id": _id("Role"),
        "name": Column("name", codecs.TEXT),
        "isAdministrator": Column("is_administrator", codecs.BOOLEAN),
        "canEnterTimeForOthers": Column("can_enter_time_for_others", codecs.BOOLEAN),
        "canInvoice": Column("can_invoice", codecs.BOOLEAN),
        "employeeVisibility": Column("employee_visibility", codecs.enum(EmployeeVisibility)),
        "visibleRoles": Python("a list of its own, from loaders"),
    },
)
EMPLOYEE = Declaration(
    "Employee",
    Employee,
    seen=lambda db_id, seeing: seeing.visible(db_id),
    fields={
        "id": _id("Employee"),
        "name": Column("name", codecs.TEXT),
        "email": Column("email", codecs.TEXT),
        "role": ToOne("Role", "role_id"),
        "active": Column("active", codecs.BOOLEAN),
        "defaultRate": Column("default_rate", codecs.MONEY),
        "supervisor": ToOne("Employee", "supervisor_id", shown=_visible_employee("supervisor_id")),
        "activityRates": Python("administrators and the employee only, from a loader"),
    },
)
ACTIVITY = Declaration(
    "Activity",
    Activity,
    {
        "id": _id("Activity"),
        "code": Column("code", codecs.TEXT),
        "name": Column("name", codecs.TEXT),
        "defaultStatus": Column("default_status", codecs.enum(TimeStatus)),
        "defaultRate": Column("default_rate", codecs.MONEY),
    },
)
DEBTOR = Declaration(
    "Debtor",
    Debtor,
    {
        "id": _id("Debtor"),
        "code": Column("code", codecs.TEXT),
        "name": Column("name", codecs.TEXT),
        "adjustedRate": Column("adjusted_rate", codecs.MONEY),
        "cases": ToMany(
            "Case",
            lambda rows, row: rows.debtor_id == row.id,
            cases.KEYSET,
            filters={"includeBlocked": Filter(lambda include: not include, cases.UNBLOCKED)},
        ),
    },
)
CASE = Declaration(
    "Case",
    Case,
    {
        "id": _id("Case"),
        "debtor": ToOne("Debtor", "debtor_id"),
        "code": Column("code", codecs.TEXT),
        "description": Column("description", codecs.TEXT),
        "invoicing": Column("invoicing", codecs.enum(TimeStatus)),
        "isDefault": Column("is_default", codecs.BOOLEAN),
        "activeFrom": Column("active_from", codecs.DATE),
        "activeUntil": Column("active_until", codecs.DATE),
        "adjustedRate": Column("adjusted_rate", codecs.MONEY),
        "blocked": Column("blocked", codecs.BOOLEAN),
        "maxAmount": Column("max_amount", codecs.MONEY),
        "maxMinutes": Column("max_minutes", codecs.INT),
        "maxPerBookYear": Column("max_per_book_year", codecs.enum(CapKind)),
        "maxBasedOn": Column("max_based_on", codecs.enum(CapBasis)),
        "capThresholds": Column("cap_thresholds", codecs.INT_LIST),
        "timeEntryCount": Column("time_entry_count", codecs.INT),
        "timeList": ToMany(
            "TimeEntry",
            lambda rows, row: rows.case_id == row.id,
            time_queries.NEWEST_FIRST,  # in both modes unless `orderBy` asks for another: then the resolver answers
            total=lambda row: row.time_entry_count,
            fields={"mode": lambda row: _list_mode(time_queries.list_editable_sql(row.time_entry_count))},
            editing=lambda row: time_queries.list_editable_sql(row.time_entry_count),
            compiled=lambda arguments: (
                arguments.get("last") is None
                and arguments.get("before") is None
                and arguments.get("orderBy") in (None, TimeListOrder.WORK_DATE_DESC)
            ),
        ),
        "capUsage": Python("the book year's totals, from the company's settings"),
    },
)
INVOICE = Declaration(
    "Invoice",
    Invoice,
    seen=lambda db_id, seeing: seeing.bills(),  # billing staff only, as the `invoices` list (SPEC 5a)
    fields={
        "id": _id("Invoice"),
        "number": Column("number", codecs.TEXT),
        "invoiceDate": Column("invoice_date", codecs.DATE),
        "total": Column("total", codecs.MONEY),
        "voided": Column("voided", codecs.BOOLEAN),
        "debtor": ToOne("Debtor", "debtor_id"),
        "lines": Python("a list of its own, from a loader"),
        "history": Python("its events, from a loader"),
        "timeEntries": ToMany("TimeEntry", lambda rows, row: time_queries.billed_by(row.id), time_queries.BY_ID),
    },
)


def _rounded_money(name: str) -> Derived:
    # a sum of 2-decimal amounts keeps their scale, but a sum coalesced to 0 would print "0": rounded, it prints "0.00"
    return Derived(
        lambda row, viewing: func.round(getattr(row, name), 2),
        lambda row, seeing: row[name],
        codecs.MONEY,
        nullable=True,
    )


# the groups of `services.reporting.Grouped.rows`: a dimension not grouped by is NULL in every row
REPORT_ROW = Declaration(
    "ReportRow",
    None,
    {
        "debtor": ToOne("Debtor", "debtor_id"),
        "case": ToOne("Case", "case_id"),
        # the folded row of hidden employees has no employee id either; the rule is said here as the API says it
        "employee": ToOne(
            "Employee",
            "employee_id",
            shown=Rule(lambda row, viewing: ~row.employee_hidden, lambda row, seeing: not row["employee_hidden"]),
        ),
        "employeeHidden": Column("employee_hidden", codecs.BOOLEAN),
        "activity": ToOne("Activity", "activity_id"),
        "status": Column("status", codecs.enum(TimeStatus)),
        "period": Column("period_label", codecs.TEXT),
        "minutes": Column("minutes", codecs.INT),
        "amount": _rounded_money("amount"),
        "billableMinutes": Column("billable_minutes", codecs.INT),
        "nonBillableMinutes": Column("non_billable", codecs.INT),
        "billableAmount": _rounded_money("billable_amount"),
        "entryCount": Column("entries", codecs.INT),
    },
)
TIME_ENTRY = Declaration(
    "TimeEntry",
    TimeEntry,
    {
        "id": _id("TimeEntry"),
        "workDate": Column("work_date", codecs.DATE),
        "minutes": Column("minutes", codecs.INT),
        "status": Column("status", codecs.enum(TimeStatus)),
        "billable": Derived(
            lambda row, viewing: policy.billable_sql(row.status),
            lambda row, seeing: policy.is_billable(row["status"]),
            codecs.BOOLEAN,
        ),
        "rate": Column("rate", codecs.MONEY),
        "amount": Column("amount", codecs.MONEY),
        "description": Column("description", codecs.TEXT),
        "tags": Column("tags", codecs.TEXT_LIST),
        "source": Column("source", codecs.enum(EntrySource)),
        "employee": ToOne("Employee", "employee_id", shown=_visible_employee("employee_id")),
        "employeeHidden": Derived(
            lambda row, viewing: ~viewing.visible(row.employee_id),
            lambda row, seeing: not seeing.visible(row["employee_id"]),
            codecs.BOOLEAN,
        ),
        "debtor": ToOne("Debtor", "debtor_id"),
        "case": ToOne("Case", "case_id"),
        "activity": ToOne("Activity", "activity_id"),
        "editable": Derived(
            lambda row, viewing: viewing.may_edit(row), lambda row, seeing: seeing.may_edit(row), codecs.BOOLEAN
        ),
        "version": Column("version", codecs.INT),
        "createdAt": Column("created_at", codecs.DATETIME),
        "updatedAt": Column("updated_at", codecs.DATETIME),
        "invoice": ToOne("Invoice", "invoice_id", shown=_BILLS),
        "overLimitOf": ToOne("TimeEntry", "over_limit_of_id"),
        "overLimitEntry": Python("the L line pointing at this entry, from a loader"),
        "history": Python("its events, from a loader"),
        "createdBy": ToOne("Employee", "created_by_id", shown=_visible_employee("created_by_id")),
        "updatedBy": ToOne("Employee", "updated_by_id", shown=_visible_employee("updated_by_id")),
    },
)


def _administrators(db_id: int, seeing: Seeing) -> bool:
    """Webhooks and their deliveries are administrators' only, as the `webhooks` list (SPEC 13)."""
    return seeing.administers()


WEBHOOK = Declaration(
    "Webhook",
    Webhook,
    seen=_administrators,
    fields={
        "id": _id("Webhook"),
        "url": Column("url", codecs.TEXT),
        "eventTypes": Column("event_types", codecs.TEXT_LIST),
        "active": Column("active", codecs.BOOLEAN),
        "deliveries": ToMany(
            "WebhookDelivery", lambda rows, row: rows.webhook_id == row.id, webhooks.DELIVERIES_KEYSET
        ),
    },
)
WEBHOOK_DELIVERY = Declaration(
    "WebhookDelivery",
    WebhookDelivery,
    seen=_administrators,
    fields={
        "id": _id("WebhookDelivery"),
        "eventId": Column("event_id", codecs.NUMBER_TEXT),
        "eventType": Column("event_type", codecs.TEXT),
        "status": Column("status", codecs.enum(DeliveryStatus)),
        "attempts": Column("attempts", codecs.INT),
        "lastError": Column("last_error", codecs.TEXT),
        "createdAt": Column("created_at", codecs.DATETIME),
        "deliveredAt": Column("delivered_at", codecs.DATETIME),
    },
)

DECLARATIONS: dict[str, Declaration] = {
    declaration.type_name: declaration
    for declaration in (
        ROLE,
        EMPLOYEE,
        ACTIVITY,
        DEBTOR,
        CASE,
        INVOICE,
        REPORT_ROW,
        TIME_ENTRY,
        WEBHOOK,
        WEBHOOK_DELIVERY,
    )
}
