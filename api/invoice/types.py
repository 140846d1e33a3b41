from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.activity.types import Activity
from api.case.types import Case, Debtor
from api.history.types import HistoryEntry
from graph.compiler import Source
from graph.context import Info
from graph.errors import UserError
from graph.node import Node
from graph.objects import declared_view, described_field, fields, user_errors_field
from graph.pagination import After, Connection, First, connection, decode_cursor, page_size
from models import InvoiceLine as InvoiceLineModel
from services import time_queries
from services.paging import Window

if TYPE_CHECKING:
    from api.time_entry.types import TimeEntry


_BILLED = Source(time_queries.of_invoice())


@strawberry.type(description="The invoiced time of one case, activity and rate, summed.")
class InvoiceLine:
    minutes: int = strawberry.field(description="Minutes of the line's entries.")
    rate: Decimal = strawberry.field(description="The hourly rate the entries were written at.")
    amount: Decimal = strawberry.field(description="Sum of the entries' amounts.")
    case_id: strawberry.Private[int | None]
    activity_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, line: InvoiceLineModel) -> InvoiceLine:
        return cls(
            minutes=line.minutes, rate=line.rate, amount=line.amount, case_id=line.case_id, activity_id=line.activity_id
        )

    @described_field("The case of the line's entries; null for time without a case.")
    async def case(self, info: Info) -> Case | None:
        row = await info.context.loaders.case_by_id.load(self.case_id) if self.case_id else None
        return Case.from_row(row) if row else None

    @described_field("The activity of the line's entries.")
    async def activity(self, info: Info) -> Activity:
        activity = await info.context.loaders.activity_by_id.load(self.activity_id)
        assert activity is not None  # a foreign key holds it
        return Activity.from_model(activity)


@strawberry.type(
    description="Billable (J) time of one debtor put on a bill. Only billing staff (`canInvoice`) and administrators "
    "see invoices; for anyone else they are null."
)
class Invoice(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    number: str = strawberry.field(
        description='"INV-" and the running number of the company-wide, gap-free sequence, at least six digits: '
        '"INV-000001", "INV-000002", … A voided invoice keeps its number; numbers are never reused.'
    )
    invoice_date: date = strawberry.field(description="The date on the invoice.")
    total: Decimal = strawberry.field(description="Sum of its lines, equal to the sum of its entries' amounts.")
    voided: bool = strawberry.field(
        description="Whether it was voided: its entries went back to J, and it keeps its number."
    )
    db_id: strawberry.Private[int]
    debtor_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Invoice:
        """From an invoice's row (a dict of `db.driver`, a `Row`) or model."""
        return _invoice_of_row(fields(row), None)

    @described_field("The debtor billed.")
    async def debtor(self, info: Info) -> Debtor:
        row = await info.context.loaders.debtor_by_id.load(self.debtor_id)
        assert row is not None  # a foreign key holds it
        return Debtor.from_row(row)

    @described_field("One line per case, activity and rate, minutes and amounts summed.")
    async def lines(self, info: Info) -> list[InvoiceLine]:
        """One line per case, activity and rate, minutes and amounts summed."""
        return [
            InvoiceLine.from_model(line) for line in await info.context.loaders.lines_by_invoice_id.load(self.db_id)
        ]

    @described_field("What happened to it, oldest first: its creation and its voiding, with who and when.")
    async def history(self, info: Info) -> list[HistoryEntry]:
        recorded = await info.context.loaders.history_by_invoice_id.load(self.db_id)
        return [HistoryEntry.of("Invoice", event, info.context.visibility) for event in recorded]

    @described_field(
        "The entries this invoice billed, in the order they were written; a voided invoice still lists them."
    )
    async def time_entries(
        self, info: Info, first: First = 50, after: After = None
    ) -> Connection[Annotated[TimeEntry, strawberry.lazy("api.time_entry.types")]]:
        """The entries this invoice billed; a voided invoice still lists them."""
        from api.time_entry.types import EntryBuilder

        ctx = info.context
        size = page_size(first)
        cursor = decode_cursor(after, time_queries.BY_ID)

        async def count_total() -> int:
            return await ctx.loaders.invoice_entries_total(self.db_id)

        compiled = ctx.compiled_edges(info)
        if compiled is not None:
            return await ctx.connection(
                info, compiled, _BILLED, time_queries.BY_ID, Window(size, cursor), params={"invoice_id": self.db_id}
            )
        page = await ctx.loaders.invoice_entries_page(self.db_id, first=size, after=cursor)
        return connection(page, time_queries.BY_ID, EntryBuilder(ctx).build, count_total)


@strawberry.input(description="Which billable (J) time of a debtor to invoice: all of it not yet invoiced by default.")
class InvoiceInput:
    debtor_id: strawberry.ID = strawberry.field(description="The debtor to invoice.")
    case_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Only time on these cases; every case when left out. A case of another debtor is "
        "CASE_DEBTOR_MISMATCH.",
    )
    up_to: date | None = strawberry.field(
        default=None, description="The last work date to include, itself included; no limit when left out."
    )
    invoice_date: date | None = strawberry.field(
        default=None, description="The date on the invoice; today in the company's time zone when left out."
    )


@strawberry.type(description="The answer to `createInvoice` and `voidInvoice`.")
class InvoicePayload:
    invoice: Invoice | None = strawberry.field(
        default=None, description="The invoice created or voided; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


_invoice_of_row = declared_view(Invoice)
