from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from api.activity.types import Activity
from api.case.types import Case, Debtor
from api.employee.types import Employee
from graph.context import Info
from graph.objects import described_enum
from models import TimeStatus
from services.reporting import Dimension
from services.reporting import ReportRow as ReportRowData

T = TypeVar("T")

ReportDimension = described_enum(
    Dimension,
    name="ReportDimension",
    description='Period labels: DAY "2026-11-23", WEEK ISO "2026-W48", MONTH "2026-11", '
    'BOOK_YEAR the book year\'s first day "2026-04-01". At most one period dimension per report.',
    values={
        "DEBTOR": "One row per debtor (`debtor`).",
        "CASE": "One row per case (`case`); time without a case makes a row whose `case` is null.",
        "EMPLOYEE": "One row per employee (`employee`); those the viewer may not see fold into one hidden row.",
        "ACTIVITY": "One row per activity (`activity`).",
        "STATUS": "One row per status (`status`).",
        "DAY": 'One row per work date, `period` like "2026-11-23".',
        "WEEK": 'One row per ISO week, `period` like "2026-W48".',
        "MONTH": 'One row per month, `period` like "2026-11".',
        "BOOK_YEAR": 'One row per book year, `period` its first day, like "2026-04-01".',
    },
)


@strawberry.type(description="One group of the report; the dimensions not grouped by are null.")
class ReportRow:
    """Plain fields only: the debtors, cases, employees and activities are built once per report, not per row."""

    debtor: Debtor | None = strawberry.field(description="The group's debtor, when grouped by DEBTOR.")
    case: Case | None = strawberry.field(
        description="The group's case, when grouped by CASE; null for time without one."
    )
    employee: Employee | None = strawberry.field(
        description="The group's employee, when grouped by EMPLOYEE; null on the row of hidden employees."
    )
    employee_hidden: bool = strawberry.field(
        description="True on the one row per group that folds the employees whose names the viewer may not see."
    )
    activity: Activity | None = strawberry.field(description="The group's activity, when grouped by ACTIVITY.")
    status: TimeStatus | None = strawberry.field(description="The group's status, when grouped by STATUS.")
    period: str | None = strawberry.field(
        description='DAY "2026-11-23", WEEK "2026-W48" (ISO week), MONTH "2026-11", BOOK_YEAR "2026-04-01".'
    )
    minutes: int = strawberry.field(description="Minutes of all the group's entries, whatever their status.")
    amount: Decimal = strawberry.field(description="Amount of all the group's entries, whatever their status.")
    billable_minutes: int = strawberry.field(description="Minutes of status J and F.")
    non_billable_minutes: int = strawberry.field(description="Minutes of status N (L counts in neither).")
    billable_amount: Decimal = strawberry.field(description="Amount of status J and F.")
    entry_count: int = strawberry.field(description="How many entries the group holds.")


async def report_rows(info: Info, rows: list[ReportRowData]) -> list[ReportRow]:
    """The rows with their debtors, cases, employees and activities, each read in one query (through the loaders of
    `read_db`, which the report was read from) and built once."""
    visibility = info.context.visibility
    loaders = info.context.loaders.replica

    def wanted(ids: set[int | None]) -> list[int]:
        return sorted(i for i in ids if i)

    async def built(loader: DataLoader[int, Any], ids: list[int], build: Callable[[Any], T]) -> dict[int | None, T]:
        found = await loader.load_many(ids)
        return {i: build(row) for i, row in zip(ids, found, strict=True) if row is not None}

    debtor_ids = wanted({r.debtor_id for r in rows})
    case_ids = wanted({r.case_id for r in rows})
    employee_ids = wanted({r.employee_id for r in rows if visibility.can_see(r.employee_id)})
    activity_ids = wanted({r.activity_id for r in rows})
    debtor_of = await built(loaders.debtor_by_id, debtor_ids, Debtor.from_row)
    # a case's debtor is built once per debtor, not once per case
    shared = {i: d for i, d in debtor_of.items() if i is not None}
    case_of = await built(loaders.case_by_id, case_ids, lambda row: Case.from_row(row, shared))
    employee_of = await built(loaders.employee_by_id, employee_ids, Employee.from_row)
    activity_of = await built(loaders.activity_by_id, activity_ids, Activity.from_model)
    debtor, case, employee, activity = debtor_of.get, case_of.get, employee_of.get, activity_of.get
    # ids are never 0 and None finds nothing, so `get` needs no test
    return [
        ReportRow(
            debtor=debtor(row.debtor_id),
            case=case(row.case_id),
            employee=employee(row.employee_id),
            employee_hidden=row.employee_hidden,
            activity=activity(row.activity_id),
            status=row.status,
            period=row.period,
            minutes=row.minutes,
            amount=row.amount,
            billable_minutes=row.billable_minutes,
            non_billable_minutes=row.non_billable_minutes,
            billable_amount=row.billable_amount,
            entry_count=row.entry_count,
        )
        for row in rows
    ]


@strawberry.type(
    description="Time and money of the filtered entries, grouped; names the viewer may not see stay hidden."
)
class TimeReport:
    rows: list[ReportRow] = strawberry.field(description="One row per group.")
    total_minutes: int = strawberry.field(description="Minutes of all the filtered entries: the sum of the rows.")
    total_amount: Decimal = strawberry.field(description="Amount of all the filtered entries: the sum of the rows.")
