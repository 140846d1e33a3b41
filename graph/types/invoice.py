from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph import ids
from graph.context import Info
from graph.errors import UserError
from graph.pagination import Connection, connection, decode_cursor, page_size
from graph.types.activity import Activity
from graph.types.case import Case, Debtor
from graph.types.node import Node
from models import Invoice as InvoiceModel
from models import InvoiceLine as InvoiceLineModel
from services import time_queries

if TYPE_CHECKING:
    from graph.types.time_entry import TimeEntry


@strawberry.type
class InvoiceLine:
    minutes: int
    rate: Decimal
    amount: Decimal
    case_id: strawberry.Private[int | None]
    activity_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, line: InvoiceLineModel) -> InvoiceLine:
        return cls(
            minutes=line.minutes, rate=line.rate, amount=line.amount, case_id=line.case_id, activity_id=line.activity_id
        )

    @strawberry.field
    async def case(self, info: Info) -> Case | None:
        row = await info.context.loaders.case_by_id.load(self.case_id) if self.case_id else None
        return Case.from_row(row) if row else None

    @strawberry.field
    async def activity(self, info: Info) -> Activity:
        activity = await info.context.loaders.activity_by_id.load(self.activity_id)
        assert activity is not None  # a foreign key holds it
        return Activity.from_model(activity)


@strawberry.type
class Invoice(Node):
    id: strawberry.ID
    number: str = strawberry.field(
        description='"INV-" and the running number of the company-wide, gap-free sequence, at least six digits: '
        '"INV-000001", "INV-000002", … A voided invoice keeps its number; numbers are never reused.'
    )
    invoice_date: date
    total: Decimal
    voided: bool
    db_id: strawberry.Private[int]
    debtor_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, invoice: InvoiceModel) -> Invoice:
        return cls(
            id=ids.encode("Invoice", invoice.id),
            db_id=invoice.id,
            number=invoice.number,
            invoice_date=invoice.invoice_date,
            total=invoice.total,
            voided=invoice.voided,
            debtor_id=invoice.debtor_id,
        )

    @strawberry.field
    async def debtor(self, info: Info) -> Debtor:
        row = await info.context.loaders.debtor_by_id.load(self.debtor_id)
        assert row is not None  # a foreign key holds it
        return Debtor.from_row(row)

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        """One line per case, activity and rate, minutes and amounts summed."""
        return [
            InvoiceLine.from_model(line) for line in await info.context.loaders.lines_by_invoice_id.load(self.db_id)
        ]

    @strawberry.field
    async def time_entries(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Connection[Annotated[TimeEntry, strawberry.lazy("graph.types.time_entry")]]:
        """The entries this invoice billed; a voided invoice still lists them."""
        from graph.types.time_entry import EntryBuilder

        ctx = info.context
        size = page_size(first)
        cursor = decode_cursor(after, time_queries.BY_ID)
        async with ctx.db.read() as session:
            page = await time_queries.invoice_page(session, invoice_id=self.db_id, first=size, after=cursor)

        async def count_total() -> int:
            async with ctx.db.read() as session:
                return await time_queries.invoice_total(session, invoice_id=self.db_id)

        return connection(page, time_queries.BY_ID, EntryBuilder(ctx).build, count_total)


@strawberry.input
class InvoiceInput:
    debtor_id: strawberry.ID
    case_ids: list[strawberry.ID] | None = None
    up_to: date | None = None
    invoice_date: date | None = None


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
