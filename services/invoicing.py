"""Invoices (SPEC 8): billable time of a debtor turned F on one invoice, never billed twice; voiding returns it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    Row,
    Select,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import Reader
from models import Case, Debtor, Invoice, InvoiceCounter, InvoiceLine, TimeEntry, TimeStatus, invoice_entries
from services import company, events, paging, rollup, totals, validation
from services.auth import Viewer
from services.book_year import book_year_of
from services.errors import DomainError, ErrorCode, invalid, not_found
from services.filters import Filter, Filters, Matching, PerCombination
from services.paging import AnyRow, Count, Keyset, Ordered, Page, Window
from services.totals import Share

NUMBER_PREFIX = "INV-"
NUMBER_DIGITS = 6


def invoice_number(running: int) -> str:
    """ "INV-" and the running number, at least six digits: INV-000001, INV-000002, … INV-1000000."""
    return f"{NUMBER_PREFIX}{running:0{NUMBER_DIGITS}d}"


async def _next_number(session: AsyncSession) -> str:
    # the counter row stays locked until this transaction ends: consecutive, gap-free, never reused
    running = await session.scalar(
        update(InvoiceCounter)
        .where(InvoiceCounter.id == 1)
        .values(last_number=InvoiceCounter.last_number + 1)
        .returning(InvoiceCounter.last_number)
    )
    if running is None:
        raise RuntimeError("the invoice counter row is missing")
    return invoice_number(running)


_ENTRIES: Table = TimeEntry.__table__  # type: ignore[assignment]

# what a move reads of each entry: its totals share, its rollup key and its invoice line
_MOVED = (
    _ENTRIES.c.id,
    _ENTRIES.c.employee_id,
    _ENTRIES.c.debtor_id,
    _ENTRIES.c.case_id,
    _ENTRIES.c.activity_id,
    _ENTRIES.c.work_date,
    _ENTRIES.c.status,
    _ENTRIES.c.rate,
    _ENTRIES.c.minutes,
    _ENTRIES.c.amount,
)
_IDS = bindparam("ids", type_=ARRAY(BigInteger))


def _locked(*where: ColumnElement[bool]) -> Select[Any]:
    """The entries to move, locked in id order: two concurrent moves never wait on each other in a circle, and an
    entry two invoices both want is billed by the first only (the second reads it F, not J, and leaves it)."""
    return select(*_MOVED).where(*where).order_by(_ENTRIES.c.id).with_for_update()


# the moved entries' link to their invoice, all in one statement
_LINK = insert(invoice_entries).from_select(
    ["invoice_id", "time_entry_id"],
    select(bindparam("link_invoice_id", type_=BigInteger), func.unnest(_IDS)),
)


def _move(*, release: bool) -> Any:
    values: dict[str, Any] = {
        # binds named apart from the columns they set: SQLAlchemy reserves a column's own name for its SET
        "status": bindparam("to_status", type_=_ENTRIES.c.status.type),
        "invoice_id": bindparam("to_invoice_id", type_=BigInteger),
        "version": _ENTRIES.c.version + 1,
        "updated_at": bindparam("now", type_=DateTime(timezone=True)),
        "updated_by_id": bindparam("writer_id", type_=BigInteger),
    }
    if release:
        values["over_limit_of_id"] = None  # a released line is ordinary time now; its entry may park anew
    return update(_ENTRIES).where(_ENTRIES.c.id == any_(_IDS)).values(values)


_MOVES = {False: _move(release=False), True: _move(release=True)}


async def _shift(
    session: AsyncSession,
    entries: Sequence[Row[Any]],
    to: TimeStatus,
    viewer: Viewer,
    invoice_id: int | None,
    *,
    start_month: int,
    release: bool = False,
) -> None:
    """Move entries (`_MOVED`'s columns, locked already) to status `to` with one UPDATE, keeping totals rows and
    the rollup exact."""
    years: dict[date, date] = {}
    shares: list[Share] = []
    for e in entries:
        if e.case_id is not None:
            year = years.get(e.work_date)
            if year is None:
                year = years[e.work_date] = book_year_of(e.work_date, start_month).start
            shares.append(Share((e.case_id, year), e.status, e.minutes, e.amount))
    rows = await totals.lock(session, [share.key for share in shares])
    for share in shares:
        totals.add(rows[share.key], share, -1)
        totals.add(rows[share.key], Share(share.key, to, share.minutes, share.amount))
    await session.execute(
        _MOVES[release],
        {
            "ids": [e.id for e in entries],
            "to_status": to,
            "to_invoice_id": invoice_id,
            "now": datetime.now(UTC),
            "writer_id": viewer.employee_id,
        },
    )
    before, after = [], []
    for e in entries:
        key = (e.work_date, e.employee_id, e.debtor_id, e.case_id or 0, e.activity_id)
        before.append(rollup.Contribution(rollup.Key(*key, str(e.status)), e.minutes, e.amount))
        after.append(rollup.Contribution(rollup.Key(*key, str(to)), e.minutes, e.amount))
    await rollup.apply(session, removed=before, added=after)


async def create(
    session: AsyncSession,
    viewer: Viewer,
    *,
    debtor_id: int,
    case_ids: Sequence[int] | None = None,
    up_to: date | None = None,
    invoice_date: date | None = None,
) -> Invoice:
    """Invoice the debtor's J entries (optionally some cases, up to a work date) with one line per case,
    activity and rate. Entries are locked in id order, so two concurrent calls never bill one twice."""
    problems = validation.Problems()
    problems.check(validation.day, up_to, "upTo")
    problems.check(validation.day, invoice_date, "invoiceDate")
    problems.raise_if_any()
    if await session.get(Debtor, debtor_id) is None:
        raise not_found("Debtor", "debtorId")
    if case_ids:
        owners = dict((await session.execute(select(Case.id, Case.debtor_id).where(Case.id.in_(case_ids)))).all())
        if len(owners) != len(set(case_ids)):
            raise not_found("Case", "caseIds")
        if any(owner != debtor_id for owner in owners.values()):
            raise DomainError(ErrorCode.CASE_DEBTOR_MISMATCH, "A case belongs to another debtor", ("caseIds",))
    where = [
        _ENTRIES.c.debtor_id == debtor_id,
        _ENTRIES.c.status == TimeStatus.BILLABLE,
        _ENTRIES.c.invoice_id.is_(None),
    ]
    if case_ids:
        where.append(_ENTRIES.c.case_id.in_(case_ids))
    if up_to is not None:
        where.append(_ENTRIES.c.work_date <= up_to)
    entries = (await session.execute(_locked(*where))).all()
    if not entries:
        raise DomainError(ErrorCode.NOTHING_TO_INVOICE, "There is no billable time to invoice")
    settings = await company.get(session)
    lines: dict[tuple[int | None, int, Decimal], list[int | Decimal]] = defaultdict(lambda: [0, Decimal(0)])
    for entry in entries:
        line = lines[(entry.case_id, entry.activity_id, entry.rate)]
        line[0] = int(line[0]) + entry.minutes
        line[1] = Decimal(line[1]) + entry.amount
    invoice = Invoice(
        number=await _next_number(session),
        debtor_id=debtor_id,
        invoice_date=invoice_date or company.today(settings),
        total=sum((e.amount for e in entries), Decimal(0)),
        created_by_id=viewer.employee_id,
    )
    session.add(invoice)
    await session.flush()
    session.add_all(
        InvoiceLine(
            invoice_id=invoice.id,
            case_id=case_id,
            activity_id=activity_id,
            rate=rate,
            minutes=int(minutes),
            amount=Decimal(amount),
        )
        for (case_id, activity_id, rate), (minutes, amount) in sorted(
            lines.items(), key=lambda item: (item[0][0] or 0, item[0][1], item[0][2])
        )
    )
    await session.execute(_LINK, {"link_invoice_id": invoice.id, "ids": [e.id for e in entries]})
    await _shift(session, entries, TimeStatus.INVOICED, viewer, invoice.id, start_month=settings.book_year_start_month)
    await session.flush()
    return invoice


async def void(session: AsyncSession, viewer: Viewer, invoice_id: int) -> Invoice:
    """Void an invoice: it keeps its number, its entries go back to J (SPEC 8)."""
    invoice = await session.get(Invoice, invoice_id, with_for_update=True, populate_existing=True)
    if invoice is None:
        raise not_found("Invoice", "id")
    if invoice.voided:
        raise invalid("id names an invoice that is voided already", "id")
    entries = (await session.execute(_locked(_ENTRIES.c.invoice_id == invoice.id))).all()
    settings = await company.get(session)
    await events.act_as(session, viewer.employee_id)  # the voided invoice's row does not name who voided it
    await _shift(session, entries, TimeStatus.BILLABLE, viewer, None, start_month=settings.book_year_start_month)
    invoice.voided, invoice.voided_at = True, datetime.now(UTC)
    invoice.version += 1
    invoice.updated_at = invoice.voided_at
    await session.flush()
    return invoice


async def release_over_limit(
    session: AsyncSession, viewer: Viewer, entry_ids: Sequence[int], status: TimeStatus
) -> list[Row[Any]]:
    """Billing's decision over a cap: L entries become J or N, with no cap check, recorded as an edit (SPEC 3); at
    most `validation.MAX_BULK` entries (SPEC 12). Returns the released entries' rows (`id` …) in id order."""
    problems = validation.Problems()
    problems.check(validation.bulk, entry_ids, "ids", required=True)
    problems.check(validation.writable_status, status, "status")
    problems.raise_if_any()
    entries = list((await session.execute(_locked(_ENTRIES.c.id == any_(_IDS)), {"ids": list(entry_ids)})).all())
    found = {e.id: e for e in entries}
    for index, entry_id in enumerate(entry_ids):
        entry = found.get(entry_id)
        if entry is None:
            raise not_found("Time entry", "ids", str(index))
        if entry.status is not TimeStatus.OVER_LIMIT:
            raise DomainError(ErrorCode.NOT_OVER_LIMIT, "Only over-limit (L) time can be released", ("ids", str(index)))
    settings = await company.get(session)
    await events.act_as(session, viewer.employee_id, releasing=True)
    await _shift(session, entries, status, viewer, None, start_month=settings.book_year_start_month, release=True)
    await session.flush()
    return entries


INVOICE_KEYSET = Keyset((Invoice.id,), descending=True)


_BY_IDS = paging.by_ids(select(Invoice.__table__), Invoice.id)


async def rows_by_ids(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    return await paging.rows_by_ids(reader, _BY_IDS, ids)


async def lines_by_invoice_ids(session: AsyncSession, ids: Sequence[int]) -> list[list[InvoiceLine]]:
    grouped: dict[int, list[InvoiceLine]] = {i: [] for i in ids}
    for line in await session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id.in_(ids)).order_by(InvoiceLine.id)
    ):
        grouped[line.invoice_id].append(line)
    return [grouped[i] for i in ids]


# the list's filter, on invoice columns: the page, its count and a compiled list's source are built once with it
# and once without
FILTERS = Filters(Filter("debtor_id", Invoice.debtor_id == bindparam("debtor_id", type_=Integer)))
_PAGES = PerCombination(lambda combination: Ordered(combination.narrowed(select(Invoice.__table__)), INVOICE_KEYSET))
_COUNTS = PerCombination(lambda combination: Count.of(combination.narrowed(select(func.count()).select_from(Invoice))))


def filters(debtor_id: int | None) -> Matching:
    """Whether the list's debtor filter applies, with its value, shared by the page and its count."""
    return FILTERS.matching(debtor_id=debtor_id)


async def page(
    session: AsyncSession, *, first: int, after: Sequence[Any] | None, debtor_id: int | None
) -> Page[AnyRow]:
    """Invoices, newest first, optionally of one debtor."""
    matching = filters(debtor_id)
    return await _PAGES.of(matching).page(session, Window(first, after), params=matching.values)


async def total(session: AsyncSession, *, debtor_id: int | None) -> int:
    matching = filters(debtor_id)
    return await _COUNTS.of(matching)(session, matching.values)
