"""SPEC 8: two concurrent createInvoice calls for one debtor never bill an entry twice, and the numbers stay
consecutive with no gap. Each call runs in its own session and transaction and commits for real."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapKind, EntryMode, Invoice, InvoiceCounter, InvoiceLine, TimeEntry, TimeStatus, invoice_entries
from services import invoicing, time_entries
from services.time_entries import EntryData
from tests.concurrency.conftest import World
from tests.concurrency.support import Maker, Outcome, all_at_once, audit, tally, write

ROUNDS = 20
BILLING_TABLES = "invoice_entries, invoice_lines, invoices"


@dataclass(frozen=True)
class Billed:
    invoice_id: int
    number: str
    total: Decimal


@pytest.fixture
async def books(committed: Maker) -> AsyncIterator[Maker]:
    """The committed sessionmaker; afterwards the invoices go and the number sequence starts again at 1."""
    yield committed
    async with committed() as session, session.begin():
        await session.execute(text(f"TRUNCATE {BILLING_TABLES} RESTART IDENTITY CASCADE"))
        await session.execute(update(InvoiceCounter).values(last_number=0))


async def _fresh_entries(world: World, maker: Maker, cases: list[int], round_no: int) -> tuple[list[int], list[int]]:
    """Committed J entries for the debtor (on two cases and without a case), and N time that is never invoiced."""
    day = date(2026, 1, 5 + round_no)
    billable: list[int] = []
    async with maker() as session, session.begin():
        for case_id, minutes in [(cases[0], 30), (cases[1], 45), (None, 20), (cases[0], 15 + round_no)]:
            data: EntryData = {
                "debtor_id": world.debtor_id,
                "case_id": case_id,
                "activity_id": world.activity_id,
                "work_date": day,
                "minutes": minutes,
                "status": TimeStatus.BILLABLE,
            }
            result = await time_entries.create(session, world.writer, data, mode=EntryMode.PER_DEBTOR)
            billable.append(result.entry.id)
        other = await time_entries.create(
            session, world.writer, {**data, "status": TimeStatus.NON_BILLABLE}, mode=EntryMode.PER_DEBTOR
        )
    return billable, [other.entry.id]


async def _invoice(world: World, session: AsyncSession) -> Billed:
    invoice = await invoicing.create(session, world.writer.viewer, debtor_id=world.debtor_id)
    return Billed(invoice.id, invoice.number, invoice.total)


@pytest.mark.concurrency
class TestConcurrentCreateInvoice:
    async def test_no_entry_is_billed_twice_and_numbers_have_no_gap(self, world: World, books: Maker) -> None:
        # given
        cases = [(await world.case()).id, (await world.case(max_per_book_year=CapKind.TIME, max_minutes=10_000)).id]
        async with books() as session:
            first_number = (await session.scalar(select(InvoiceCounter.last_number)) or 0) + 1
        numbers: list[str] = []
        for round_no in range(ROUNDS):
            billable, never = await _fresh_entries(world, books, cases, round_no)
            start = asyncio.Barrier(2)
            # when
            outcomes: list[Outcome[Billed]] = await all_at_once(
                write(books, lambda session: _invoice(world, session), start) for _ in range(2)
            )
            # then
            counts = tally(outcomes)
            assert counts["ok"] >= 1, counts
            assert counts["ok"] + counts["NOTHING_TO_INVOICE"] == 2, counts
            made = [o.value for o in outcomes if o.value is not None]
            numbers += [b.number for b in made]
            async with books() as session:
                billed_per_entry: dict[int, int] = dict(
                    (
                        await session.execute(
                            select(invoice_entries.c.time_entry_id, func.count())
                            .where(invoice_entries.c.time_entry_id.in_(billable + never))
                            .group_by(invoice_entries.c.time_entry_id)
                        )
                    ).all()
                )
                assert billed_per_entry == dict.fromkeys(billable, 1)
                stored = {
                    row.id: row
                    for row in await session.execute(
                        select(TimeEntry.id, TimeEntry.status, TimeEntry.invoice_id, TimeEntry.amount).where(
                            TimeEntry.id.in_(billable + never)
                        )
                    )
                }
                assert {stored[i].status for i in billable} == {TimeStatus.INVOICED}
                assert {stored[i].invoice_id for i in billable} <= {b.invoice_id for b in made}
                assert [(stored[i].status, stored[i].invoice_id) for i in never] == [(TimeStatus.NON_BILLABLE, None)]
                for billed in made:
                    lines = await session.scalar(
                        select(func.sum(InvoiceLine.amount)).where(InvoiceLine.invoice_id == billed.invoice_id)
                    )
                    on_it = sum(
                        (stored[i].amount for i in billable if stored[i].invoice_id == billed.invoice_id), Decimal(0)
                    )
                    kept_total = await session.scalar(select(Invoice.total).where(Invoice.id == billed.invoice_id))
                    assert billed.total == kept_total == lines == on_it
        running = sorted(int(n.removeprefix("INV-")) for n in numbers)
        assert running == list(range(first_number, first_number + len(numbers)))
        async with books() as session:
            assert await session.scalar(select(InvoiceCounter.last_number)) == running[-1]
            assert await session.scalar(select(func.count()).select_from(Invoice)) == len(numbers)
        assert await audit(books) == []
