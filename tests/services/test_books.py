"""The books audit (services/books.py): exact books give no problem, and each kept figure or billing rule broken
behind the services' back is named. The soak and `cli.py check` trust it, so each rule has its own negative case."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import EntryMode, TimeStatus
from services import books, invoicing, time_entries
from tests.factories import Factory
from tests.services.time_support import Desk, make_desk


@pytest.fixture
async def written(session: AsyncSession, factory: Factory) -> Desk:
    """Entries on the capped case (one split onto L) and the open one, invoiced once and voided once."""
    desk = await make_desk(session, factory)
    for case, minutes in ((desk.capped, 45), (desk.capped, 30), (desk.open, 20), (desk.open, 15)):
        await time_entries.create(session, desk.writer, desk.entry(case, minutes), mode=EntryMode.PER_DATE)
    voided = await invoicing.create(session, desk.writer.viewer, debtor_id=desk.capped.debtor_id)
    await invoicing.void(session, desk.writer.viewer, voided.id)
    await invoicing.create(session, desk.writer.viewer, debtor_id=desk.capped.debtor_id)
    await session.flush()
    return desk


async def test_books_written_by_the_services_are_exact(session: AsyncSession, written: Desk) -> None:
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
async def test_each_broken_rule_is_named(session: AsyncSession, written: Desk, broken: str) -> None:
    statement, found = BROKEN[broken]
    await session.execute(text(statement))
    problems = await books.audit(session, capped_cases=[written.capped.id])
    assert any(problem.startswith(found) for problem in problems), problems


async def test_an_overshot_cap_is_named_only_for_the_cases_held_to_it(session: AsyncSession, written: Desk) -> None:
    # released over the cap on purpose (no cap check, SPEC 3): the totals move with it, the maximum is exceeded
    released = (await session.scalars(text("SELECT id FROM time_entries WHERE status = 'L'"))).all()
    await invoicing.release_over_limit(session, written.writer.viewer, list(released), TimeStatus.BILLABLE)
    assert await books.audit(session) == []
    over = await books.audit(session, capped_cases=[written.capped.id])
    assert over == [f"case {written.capped.id} over its maximum in book year 2026-01-01: 75 > 60"]
