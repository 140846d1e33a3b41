from __future__ import annotations

from decimal import Decimal

import strawberry

from graph.context import Info
from graph.types.activity import Activity
from graph.types.case import Case, Debtor
from graph.types.employee import Employee
from models import TimeStatus
from services.reporting import Dimension
from services.reporting import ReportRow as ReportRowData

ReportDimension = strawberry.enum(
    Dimension,
    name="ReportDimension",
    description='Period labels: DAY "2026-11-23", WEEK ISO "2026-W48", MONTH "2026-11", '
    'BOOK_YEAR the book year\'s first day "2026-04-01". At most one period dimension per report.',
)


@strawberry.type(description="One group of the report; the dimensions not grouped by are null.")
class ReportRow:
    employee_hidden: bool = strawberry.field(
        description="True on the one row per group that folds the employees whose names the viewer may not see."
    )
    status: TimeStatus | None
    period: str | None = strawberry.field(
        description='DAY "2026-11-23", WEEK "2026-W48" (ISO week), MONTH "2026-11", BOOK_YEAR "2026-04-01".'
    )
    minutes: int
    amount: Decimal
    billable_minutes: int = strawberry.field(description="Minutes of status J and F.")
    non_billable_minutes: int = strawberry.field(description="Minutes of status N (L counts in neither).")
    billable_amount: Decimal
    entry_count: int
    debtor_id: strawberry.Private[int | None]
    case_id: strawberry.Private[int | None]
    employee_id: strawberry.Private[int | None]
    activity_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: ReportRowData) -> ReportRow:
        return cls(
            employee_hidden=row.employee_hidden,
            status=row.status,
            period=row.period,
            minutes=row.minutes,
            amount=row.amount,
            billable_minutes=row.billable_minutes,
            non_billable_minutes=row.non_billable_minutes,
            billable_amount=row.billable_amount,
            entry_count=row.entry_count,
            debtor_id=row.debtor_id,
            case_id=row.case_id,
            employee_id=row.employee_id,
            activity_id=row.activity_id,
        )

    @strawberry.field
    async def debtor(self, info: Info) -> Debtor | None:
        row = await info.context.loaders.debtor_by_id.load(self.debtor_id) if self.debtor_id else None
        return Debtor.from_row(row) if row else None

    @strawberry.field
    async def case(self, info: Info) -> Case | None:
        row = await info.context.loaders.case_by_id.load(self.case_id) if self.case_id else None
        return Case.from_row(row) if row else None

    @strawberry.field
    async def employee(self, info: Info) -> Employee | None:
        if not info.context.visibility.can_see(self.employee_id):
            return None
        assert self.employee_id is not None
        row = await info.context.loaders.employee_by_id.load(self.employee_id)
        return Employee.from_row(row) if row else None

    @strawberry.field
    async def activity(self, info: Info) -> Activity | None:
        activity = await info.context.loaders.activity_by_id.load(self.activity_id) if self.activity_id else None
        return Activity.from_model(activity) if activity else None


@strawberry.type
class TimeReport:
    rows: list[ReportRow]
    total_minutes: int
    total_amount: Decimal
