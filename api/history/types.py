"""What happened to a record (SPEC 13): `TimeEntry.history` and `Invoice.history`, written from its events.

Each field a history shows is named as the API names it and written by the codec its own field uses (money with two
decimals, dates ISO, enums by name, IDs as global IDs), as text. An employee the viewer may not see is no name and
no ID here either: `by` is null and an `employeeId` change shows null for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from api.employee.types import Employee
from graph import codecs
from graph.codecs import Codec
from graph.context import Info
from graph.objects import described_field
from models import EmployeeVisibility, TimeStatus
from services.history import Recorded
from services.visibility import Visibility


@strawberry.enum(description="What a change did to its record.")
class HistoryAction(Enum):
    CREATED = strawberry.enum_value("CREATED", description="The record was made.")
    UPDATED = strawberry.enum_value("UPDATED", description="Fields were changed by an edit.")
    DELETED = strawberry.enum_value("DELETED", description="The record was deleted; its history stays.")
    INVOICED = strawberry.enum_value("INVOICED", description="The entry was put on an invoice (J to F).")
    VOIDED = strawberry.enum_value("VOIDED", description="The invoice was voided, or the entry freed by it (F to J).")
    RELEASED = strawberry.enum_value("RELEASED", description="Billing released the L entry to J or N.")


@dataclass(frozen=True, slots=True)
class Shown:
    """How a column appears in a history: its name in the API, the codec of that field, and the stored type its
    JSON value is read back into; `employee`: its values are employees, hidden as names are."""

    name: str
    codec: Codec
    stored: Callable[[Any], Any]
    employee: bool = False


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _id(name: str, type_name: str, *, employee: bool = False) -> Shown:
    return Shown(name, codecs.global_id(type_name), int, employee)


# the columns of migration 0008's histories (tests/graph/test_history.py holds them equal), each as the API shows it
TIME_ENTRY_FIELDS = {
    "employee_id": _id("employeeId", "Employee", employee=True),
    "debtor_id": _id("debtorId", "Debtor"),
    "case_id": _id("caseId", "Case"),
    "activity_id": _id("activityId", "Activity"),
    "work_date": Shown("workDate", codecs.DATE, date.fromisoformat),
    "minutes": Shown("minutes", codecs.INT, int),
    "status": Shown("status", codecs.enum(TimeStatus), TimeStatus),
    "rate": Shown("rate", codecs.MONEY, _money),
    "amount": Shown("amount", codecs.MONEY, _money),
    "description": Shown("description", codecs.TEXT, str),
    "tags": Shown("tags", codecs.TEXT_LIST, list),
    "invoice_id": _id("invoiceId", "Invoice"),
}
INVOICE_FIELDS = {
    "number": Shown("number", codecs.TEXT, str),
    "total": Shown("total", codecs.MONEY, _money),
    "invoice_date": Shown("invoiceDate", codecs.DATE, date.fromisoformat),
    "voided": Shown("voided", codecs.BOOLEAN, bool),
}
ROLE_FIELDS = {
    "name": Shown("name", codecs.TEXT, str),
    "employee_visibility": Shown("employeeVisibility", codecs.enum(EmployeeVisibility), EmployeeVisibility),
    "is_administrator": Shown("isAdministrator", codecs.BOOLEAN, bool),
    "can_enter_time_for_others": Shown("canEnterTimeForOthers", codecs.BOOLEAN, bool),
    "can_invoice": Shown("canInvoice", codecs.BOOLEAN, bool),
}
FIELDS = {"TimeEntry": TIME_ENTRY_FIELDS, "Invoice": INVOICE_FIELDS, "Role": ROLE_FIELDS}


def as_text(shown: Shown, value: Any, visibility: Visibility) -> str | None:
    """The stored JSON `value` of a column as a history shows it; None for no value or a hidden employee."""
    if value is None:
        return None
    stored = shown.stored(value)
    if shown.employee and not visibility.can_see(stored):
        return None
    answered = shown.codec.python(stored)
    return answered if isinstance(answered, str) else json.dumps(answered)


@strawberry.type(description="One field of a record as a change left it, its values as text.")
class FieldChange:
    field: str = strawberry.field(description="The field's name in the API, e.g. `minutes`.")
    before: str | None = strawberry.field(
        description="Its value before, as text (money with two decimals, dates ISO, enums by name, IDs as global "
        "IDs, lists as JSON); null when it had none, or names an employee the viewer may not see."
    )
    after: str | None = strawberry.field(description="Its value after, written as `before` is.")


def field_changes(record_type: str, recorded: Recorded, visibility: Visibility) -> list[FieldChange]:
    shown_fields = FIELDS[record_type]
    return [
        FieldChange(
            field=shown.name, before=as_text(shown, before, visibility), after=as_text(shown, after, visibility)
        )
        for column, shown in shown_fields.items()
        if column in recorded.changes
        for before, after in (recorded.changes[column],)
    ]


@strawberry.type(description="One change of a record: when, by whom, what it did and the fields it changed.")
class HistoryEntry:
    at: datetime = strawberry.field(description="When the change was made (its transaction's start).")
    action: HistoryAction = strawberry.field(description="What the change did.")
    changes: list[FieldChange] = strawberry.field(description="Each field it changed, in the API's field order.")
    by_id: strawberry.Private[int | None]

    @described_field("Who made the change; null when unknown or when the viewer may not see their name.")
    async def by(self, info: Info) -> Employee | None:
        if self.by_id is None or not info.context.visibility.can_see(self.by_id):
            return None
        row = await info.context.loaders.employee_by_id.load(self.by_id)
        return Employee.from_row(row) if row else None

    @staticmethod
    def of(record_type: str, recorded: Recorded, visibility: Visibility) -> HistoryEntry:
        return HistoryEntry(
            at=recorded.at,
            action=HistoryAction(recorded.action),
            changes=field_changes(record_type, recorded, visibility),
            by_id=recorded.by_id,
        )
