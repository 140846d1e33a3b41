"""The books audit (services/books.py): exact books give no problem, and each kept figure or billing rule broken
behind the services' back is named. The soak and `cli.py check` trust it, so each rule has its own negative case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Case, EntryMode, TimeStatus
from services import books, invoicing, time_entries
from services.time_entries import Writer
from tests.factories import Factory
from tests.services.time_support import admin_writer


@dataclass(frozen=True)
class Books:
    capped: Case  # a TIME maximum of 60 minutes, written through the cap check until it split
    writer: Writer


@pytest.fixture
async def written(session: AsyncSession, factory: Factory) -> Books:
    """Entries on a capped case (one split onto L), on an open case, invoiced once and voided once."""
    _, writer = await admin_writer(session, factory)
    debtor = await factory.debtor()
    capped = await factory.case(debtor=debtor, max_per_book_year="TIME", max_minutes=60)
    open_case = await factory.case(debtor=debtor)
    activity = await factory.activity(default_rate=Decimal("90.00"))
    for case, minutes in ((capped, 45), (capped, 30), (open_case, 20), (open_case, 15)):
        data: time_entries.EntryData = {
            "case_id": case.id,
            "activity_id": activity.id,
            "work_date": date(2026, 11, 2),
            "minutes": minutes,
        }
        await time_entries.create(session, writer, data, mode=EntryMode.PER_DATE)
    voided = await invoicing.create(session, writer.viewer, debtor_id=capped.debtor_id)
    await invoicing.void(session, writer.viewer, voided.id)
    await invoicing.create(session, writer.viewer, debtor_id=capped.debtor_id)
    await session.flush()
    return Books(capped, writer)


async def test_books_written_by_the_services_are_exact(session: AsyncSession, written: Books) -> None:
    assert await books.audit(session, capped_cases=[written.capped.id]) == []


# each breaks one kept figure or billing rule, and the start of the problem it must give
BROKEN = {
    "a totals row": ("UPDATE case_year_totals SET f_minutes = f_minutes + 1", "totals of case"),
    "an entry count": ("UPDATE cases SET time_entry_count = time_entry_count + 1", "entry count of case"),
    "the day rollup": ("UPDATE time_rollup SET amount = amount + 0.01", "time_rollup "),
    "the month rollup": ("DELETE FROM time_rollup_month", "time_rollup_month "),
    "an F entry's invoice voided": (
        "UPDATE invoices SET voided = true WHERE NOT voided",
        "an F entry without a live invoice",
    ),
    "a J entry pointing at an invoice": (
        "UPDATE time_entries SET status = 'J' WHERE status = 'F'",
        "an entry pointing at an invoice but not F",
    ),
    "an entry billed twice": (
        "UPDATE invoices SET voided = false",
        "an entry on more than one live invoice",
    ),
    "an entry billed but left off": (
        "DELETE FROM invoice_entries WHERE invoice_id = (SELECT max(id) FROM invoices)",
        "a live invoice's billed entries are not its F entries",
    ),
    "a total beside its lines": (
        "UPDATE invoices SET total = total + 1 WHERE NOT voided",
        "an invoice whose total is not the sum of its lines",
    ),
    "a line beside its entries": (
        "UPDATE invoice_lines SET minutes = minutes + 1",
        "a live invoice whose lines are not its entries summed",
    ),
    "a number skipped": ("UPDATE invoice_counter SET last_number = last_number + 1", "invoice numbers not 1.."),
    "a number out of the sequence": (
        "UPDATE invoices SET number = 'INV-900000' WHERE id = (SELECT max(id) FROM invoices)",
        "invoice numbers not 1..",
    ),
}


@pytest.mark.parametrize("broken", BROKEN)
async def test_each_broken_rule_is_named(session: AsyncSession, written: Books, broken: str) -> None:
    statement, found = BROKEN[broken]
    await session.execute(text(statement))
    problems = await books.audit(session, capped_cases=[written.capped.id])
    assert any(problem.startswith(found) for problem in problems), problems


async def test_an_overshot_cap_is_named_only_for_the_cases_held_to_it(session: AsyncSession, written: Books) -> None:
    # released over the cap on purpose (no cap check, SPEC 3): the totals move with it, the maximum is exceeded
    released = (await session.scalars(text("SELECT id FROM time_entries WHERE status = 'L'"))).all()
    await invoicing.release_over_limit(session, written.writer.viewer, list(released), TimeStatus.BILLABLE)
    assert await books.audit(session) == []
    over = await books.audit(session, capped_cases=[written.capped.id])
    assert over == [f"case {written.capped.id} over its maximum in book year 2026-01-01: 75 > 60"]
