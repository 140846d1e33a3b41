"""Billing (SPEC 3, 8): invoices and the release of over-limit time; gated to billing staff in the schema."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.invoice.types import Invoice, InvoiceInput, InvoicePayload
from api.time_entry.schema import entry_rows, written_entries
from api.time_entry.types import TimeEntriesPayload
from graph import ids
from graph.compiler import Source
from graph.context import Info
from graph.pagination import After, Connection, First, connection, decode_cursor, page_size
from graph.permissions import BILLING
from graph.write import Refused, read_back, write
from models import TimeStatus
from services import invoicing
from services.paging import Window


async def create_invoice(
    info: Info, input: Annotated[InvoiceInput, strawberry.argument(description="Which time to invoice.")]
) -> InvoicePayload:
    ctx = info.context
    outcome = await write(
        info,
        lambda: (
            ids.require(input.debtor_id, "Debtor", "debtorId"),
            [ids.require(c, "Case", "caseIds") for c in input.case_ids] if input.case_ids else None,
        ),
        lambda session, given: invoicing.create(
            session, ctx.me, debtor_id=given[0], case_ids=given[1], up_to=input.up_to, invoice_date=input.invoice_date
        ),
    )
    if isinstance(outcome, Refused):
        return InvoicePayload(user_errors=outcome.errors)
    return InvoicePayload(invoice=Invoice.from_row(outcome))


async def void_invoice(
    info: Info,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The invoice to void; one voided already is VALIDATION.")
    ],
) -> InvoicePayload:
    outcome = await write(
        info,
        lambda: ids.require(id, "Invoice", "id"),
        lambda session, invoice_id: invoicing.void(session, info.context.me, invoice_id),
    )
    if isinstance(outcome, Refused):
        return InvoicePayload(user_errors=outcome.errors)
    return InvoicePayload(invoice=Invoice.from_row(outcome))


async def release_over_limit(
    info: Info,
    ids_: Annotated[
        list[strawberry.ID],
        strawberry.argument(
            name="ids", description="1 to 500 over-limit (L) entries; any other entry is NOT_OVER_LIMIT."
        ),
    ],
    status: Annotated[TimeStatus, strawberry.argument(description="BILLABLE or NON_BILLABLE: what they become.")],
) -> TimeEntriesPayload:
    outcome = await write(
        info,
        lambda: [ids.require(i, "TimeEntry", "ids") for i in ids_],
        read_back(
            lambda session, entry_ids: invoicing.release_over_limit(session, info.context.me, entry_ids, status),
            lambda session, released: entry_rows(session, [e.id for e in released]),
        ),
    )
    if isinstance(outcome, Refused):
        return TimeEntriesPayload(user_errors=outcome.errors)
    return TimeEntriesPayload(time_entries=written_entries(info, outcome[1]))


async def invoices_page(
    info: Info,
    first: First = 50,
    after: After = None,
    debtor_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only this debtor's invoices; every debtor's when left out."),
    ] = None,
) -> Connection[Invoice]:
    size = page_size(first)
    cursor = decode_cursor(after, invoicing.INVOICE_KEYSET)
    debtor = None if debtor_id is None else (ids.decode(debtor_id, "Debtor") or 0)
    ctx = info.context
    db = ctx.read_db

    async def count_total() -> int:
        async with db.read() as session:
            return await invoicing.total(session, debtor_id=debtor)

    compiled = ctx.compiled_edges(info)
    if compiled is not None:
        source, values = Source.matching(invoicing.filters(debtor))
        return await ctx.connection(
            info, compiled, source, invoicing.INVOICE_KEYSET, Window(size, cursor), params=values
        )
    async with db.read() as session:
        page = await invoicing.page(session, first=size, after=cursor, debtor_id=debtor)
    return connection(page, invoicing.INVOICE_KEYSET, Invoice.from_row, count_total)


@strawberry.type
class InvoiceQueries:
    invoices: Connection[Invoice] = strawberry.field(
        resolver=invoices_page,
        permission_classes=BILLING,
        description="Invoices, newest first. Billing staff (`canInvoice`) and administrators only.",
    )


@strawberry.type
class InvoiceMutations:
    create_invoice: InvoicePayload = strawberry.mutation(
        resolver=create_invoice,
        permission_classes=BILLING,
        description="Put a debtor's billable (J) time not yet invoiced on a new invoice, one line per case, activity "
        "and rate, and turn it F. None is NOTHING_TO_INVOICE. Billing staff and administrators only.",
    )
    void_invoice: InvoicePayload = strawberry.mutation(
        resolver=void_invoice,
        permission_classes=BILLING,
        description="Void an invoice: its entries go back to J, its number stays used. Billing staff and "
        "administrators only.",
    )
    release_over_limit: TimeEntriesPayload = strawberry.mutation(
        resolver=release_over_limit,
        permission_classes=BILLING,
        description="Release over-limit (L) entries to J or N, without cap check. Billing staff and administrators "
        "only.",
    )
