"""Billing services (SPEC 3, 8, 9): invoices, voiding, releasing over-limit time and cap usage."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    CapBasis,
    CapKind,
    Case,
    CaseYearTotals,
    Debtor,
    Employee,
    EntryMode,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    TimeEntry,
    TimeStatus,
    invoice_entries,
)
from services import auth, books, cap_usage, company, invoicing, time_entries, visibility
from services.errors import DomainError, ErrorCode
from services.time_entries import Writer
from tests.conftest import StatementCounter
from tests.factories import Factory
from tests.services.support import refused

J, F, N, L = TimeStatus.BILLABLE, TimeStatus.INVOICED, TimeStatus.NON_BILLABLE, TimeStatus.OVER_LIMIT
DAY = date(2026, 11, 2)


async def writer_of(session: AsyncSession, factory: Factory, employee: Employee) -> Writer:
    viewer = await auth.authenticate(session, token=await factory.token(employee))
    assert viewer is not None
    return Writer(viewer, await visibility.for_viewer(session, viewer))


async def write(
    session: AsyncSession,
    writer: Writer,
    *,
    activity: Activity,
    case: Case | None = None,
    debtor: Debtor | None = None,
    day: date = DAY,
    minutes: int = 60,
    status: TimeStatus = J,
    mode: EntryMode = EntryMode.PER_DEBTOR,
    employee: Employee | None = None,
) -> list[int]:
    """Write one entry through the service; returns its id and, when the cap split it, its L line's id."""
    result = await time_entries.create(
        session,
        writer,
        {
            "employee_id": employee.id if employee else None,
            "debtor_id": debtor.id if debtor else None,
            "case_id": case.id if case else None,
            "activity_id": activity.id,
            "work_date": day,
            "minutes": minutes,
            "status": status,
        },
        mode=mode,
    )
    return [e.id for e in (result.entry, result.over_limit_entry) if e is not None]


@dataclass(frozen=True)
class EntryRow:
    id: int
    employee_id: int
    debtor_id: int
    case_id: int | None
    activity_id: int
    work_date: date
    minutes: int
    status: TimeStatus
    rate: Decimal
    amount: Decimal
    invoice_id: int | None
    version: int
    updated_by_id: int


async def entries(session: AsyncSession, ids: list[int] | None = None) -> dict[int, EntryRow]:
    """The entries as stored (read with SQL, not from the session's identity map)."""
    stmt = select(*(getattr(TimeEntry, name) for name in EntryRow.__dataclass_fields__))
    if ids is not None:
        stmt = stmt.where(TimeEntry.id.in_(ids))
    return {row.id: EntryRow(*row) for row in await session.execute(stmt)}


async def invoice_lines(session: AsyncSession, invoice_id: int) -> set[tuple[int | None, int, Decimal, int, Decimal]]:
    rows = await session.execute(
        select(
            InvoiceLine.case_id, InvoiceLine.activity_id, InvoiceLine.rate, InvoiceLine.minutes, InvoiceLine.amount
        ).where(InvoiceLine.invoice_id == invoice_id)
    )
    return {tuple(row) for row in rows}  # type: ignore[misc]


async def billed_entry_ids(session: AsyncSession, invoice_id: int) -> set[int]:
    rows = await session.scalars(
        select(invoice_entries.c.time_entry_id).where(invoice_entries.c.invoice_id == invoice_id)
    )
    return set(rows)


def running_number(number: str) -> int:
    assert re.fullmatch(r"INV-\d{6,}", number), number
    return int(number.removeprefix("INV-"))


async def assert_kept_rows_match_entries(session: AsyncSession) -> None:
    """The totals rows and the report rollup equal sums recomputed from the entries (SPEC 6 step 2, 9)."""
    start_month = (await company.get(session)).book_year_start_month
    expected_totals: dict[tuple[int, date], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for e in (await entries(session)).values():
        if e.case_id is not None:
            year = e.work_date.year if e.work_date.month >= start_month else e.work_date.year - 1
            row = expected_totals[(e.case_id, date(year, start_month, 1))]
            row[f"{e.status.value.lower()}_minutes"] += e.minutes
            row[f"{e.status.value.lower()}_amount"] += e.amount
    columns = [f"{s}_{unit}" for s in "jfnl" for unit in ("minutes", "amount")]
    kept_totals = {
        (row.case_id, row.year_start): {c: getattr(row, c) for c in columns if getattr(row, c)}
        for row in (await session.scalars(select(CaseYearTotals))).all()
    }
    assert {k: v for k, v in kept_totals.items() if v} == {
        k: {c: v for c, v in row.items() if v} for k, row in expected_totals.items()
    }
    assert await books.rollup_problems(session) == []


@dataclass
class Book:
    """A billing employee, an administrator who writes time, and a debtor with two cases."""

    admin: Writer
    biller: Writer
    biller_id: int
    debtor: Debtor
    case: Case
    other_case: Case
    activity: Activity
    other_activity: Activity


@pytest.fixture
async def book(session: AsyncSession, factory: Factory) -> Book:
    admin = await factory.employee(role=await factory.role(admin=True))
    biller = await factory.employee(role=await factory.role(can_invoice=True))
    debtor = await factory.debtor()
    return Book(
        admin=await writer_of(session, factory, admin),
        biller=await writer_of(session, factory, biller),
        biller_id=biller.id,
        debtor=debtor,
        case=await factory.case(debtor=debtor),
        other_case=await factory.case(debtor=debtor),
        activity=await factory.activity(default_rate=Decimal("60.00")),
        other_activity=await factory.activity(default_rate=Decimal("90.00")),
    )


class TestCreate:
    async def test_one_line_per_case_activity_and_rate(
        self, session: AsyncSession, factory: Factory, book: Book
    ) -> None:
        # given
        dearer = await factory.employee(default_rate=Decimal("100.00"))  # the employee's default beats the activity's
        billable = [
            *await write(session, book.admin, case=book.case, activity=book.activity, minutes=30),
            *await write(
                session, book.admin, case=book.case, activity=book.activity, minutes=45, day=date(2026, 11, 5)
            ),
            *await write(session, book.admin, case=book.case, activity=book.activity, minutes=20, employee=dearer),
            *await write(session, book.admin, case=book.case, activity=book.other_activity, minutes=7),
            *await write(session, book.admin, case=book.other_case, activity=book.activity, minutes=61),
            *await write(session, book.admin, debtor=book.debtor, activity=book.activity, minutes=15),
        ]
        untouched = [
            *await write(session, book.admin, case=book.case, activity=book.activity, status=N),
            *await write(session, book.admin, activity=book.activity, case=await factory.case()),
        ]
        before = await entries(session)
        # when
        invoice = await invoicing.create(
            session, book.biller.viewer, debtor_id=book.debtor.id, invoice_date=date(2026, 11, 30)
        )
        # then
        after = await entries(session)
        assert await invoice_lines(session, invoice.id) == {
            (book.case.id, book.activity.id, Decimal("60.00"), 75, Decimal("75.00")),
            (book.case.id, book.activity.id, Decimal("100.00"), 20, Decimal("33.33")),
            (book.case.id, book.other_activity.id, Decimal("90.00"), 7, Decimal("10.50")),
            (book.other_case.id, book.activity.id, Decimal("60.00"), 61, Decimal("61.00")),
            (None, book.activity.id, Decimal("60.00"), 15, Decimal("15.00")),
        }
        line_sum = sum((line[4] for line in await invoice_lines(session, invoice.id)), Decimal(0))
        assert invoice.total == line_sum == sum((after[i].amount for i in billable), Decimal(0))
        assert invoice.invoice_date == date(2026, 11, 30)
        assert await billed_entry_ids(session, invoice.id) == set(billable)
        for entry_id in billable:
            assert (after[entry_id].status, after[entry_id].invoice_id) == (F, invoice.id)
            assert after[entry_id].version == before[entry_id].version + 1
        for entry_id in untouched:
            assert after[entry_id] == before[entry_id]
        await assert_kept_rows_match_entries(session)

    async def test_over_limit_and_non_billable_time_is_never_invoiced(
        self, session: AsyncSession, factory: Factory, book: Book
    ) -> None:
        # given
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
        fits, parked = await write(
            session, book.admin, case=capped, activity=book.activity, minutes=100, mode=EntryMode.PER_DATE
        )
        non_billable = await write(session, book.admin, case=book.case, activity=book.activity, status=N)
        # when
        invoice = await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        # then
        after = await entries(session)
        assert await billed_entry_ids(session, invoice.id) == {fits}
        assert (after[parked].status, after[parked].invoice_id) == (L, None)
        assert (after[non_billable[0]].status, after[non_billable[0]].invoice_id) == (N, None)
        assert invoice.total == Decimal("60.00")

    async def test_case_filter_and_last_work_date_inclusive(self, session: AsyncSession, book: Book) -> None:
        # given
        on_day = await write(session, book.admin, case=book.case, activity=book.activity, day=date(2026, 11, 2))
        before = await write(session, book.admin, case=book.case, activity=book.activity, day=date(2026, 10, 31))
        later = await write(session, book.admin, case=book.case, activity=book.activity, day=date(2026, 11, 3))
        other_case = await write(
            session, book.admin, case=book.other_case, activity=book.activity, day=date(2026, 11, 1)
        )
        # when
        invoice = await invoicing.create(
            session, book.biller.viewer, debtor_id=book.debtor.id, case_ids=[book.case.id], up_to=date(2026, 11, 2)
        )
        # then
        assert await billed_entry_ids(session, invoice.id) == {*on_day, *before}
        after = await entries(session, [*later, *other_case])
        assert {e.status for e in after.values()} == {J}
        assert invoice.total == Decimal("120.00")

    async def test_case_of_another_debtor_is_a_mismatch(
        self, session: AsyncSession, factory: Factory, book: Book
    ) -> None:
        # given
        foreign = await factory.case()
        written = await write(session, book.admin, case=book.case, activity=book.activity)
        counter = await session.scalar(select(InvoiceCounter.last_number))
        # when
        error = await refused(
            session,
            invoicing.create(
                session, book.biller.viewer, debtor_id=book.debtor.id, case_ids=[book.case.id, foreign.id]
            ),
        )
        # then
        assert error.code is ErrorCode.CASE_DEBTOR_MISMATCH
        assert await session.scalar(select(InvoiceCounter.last_number)) == counter
        assert await session.scalar(select(func.count()).select_from(Invoice)) == 0
        assert (await entries(session, written))[written[0]].status is J

    async def test_nothing_to_invoice(self, session: AsyncSession, factory: Factory, book: Book) -> None:
        # given
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=0)
        await write(session, book.admin, case=capped, activity=book.activity, mode=EntryMode.PER_DATE)  # wholly L
        await write(session, book.admin, case=book.case, activity=book.activity, status=N)
        await write(session, book.admin, case=book.case, activity=book.activity, day=date(2026, 12, 1))
        counter = await session.scalar(select(InvoiceCounter.last_number))
        # when
        error = await refused(
            session, invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id, up_to=date(2026, 11, 30))
        )
        # then
        assert error.code is ErrorCode.NOTHING_TO_INVOICE
        assert await session.scalar(select(InvoiceCounter.last_number)) == counter
        assert {e.status for e in (await entries(session)).values()} == {L, N, J}

    async def test_invoiced_time_is_not_invoiced_again(self, session: AsyncSession, book: Book) -> None:
        # given
        await write(session, book.admin, case=book.case, activity=book.activity)
        await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        # when
        error = await refused(session, invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id))
        # then
        assert error.code is ErrorCode.NOTHING_TO_INVOICE

    async def test_invoiced_entries_cannot_be_edited_or_deleted(self, session: AsyncSession, book: Book) -> None:
        # given
        (entry_id,) = await write(session, book.admin, case=book.case, activity=book.activity)
        await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        before = await entries(session, [entry_id])
        # when
        edit = await refused(session, time_entries.update(session, book.admin, entry_id, {"minutes": 5}))
        removal = await refused(session, time_entries.delete(session, book.admin, entry_id))
        # then
        assert (edit.code, removal.code) == (ErrorCode.INVOICED_LOCKED, ErrorCode.INVOICED_LOCKED)
        assert await entries(session, [entry_id]) == before


class TestVoid:
    async def test_void_keeps_the_number_and_returns_entries_to_billable(
        self, session: AsyncSession, book: Book
    ) -> None:
        # given
        written = [
            *await write(session, book.admin, case=book.case, activity=book.activity),
            *await write(session, book.admin, case=book.other_case, activity=book.other_activity, minutes=33),
        ]
        invoice = await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        number = invoice.number
        invoiced = await entries(session, written)
        # when
        voided = await invoicing.void(session, book.biller.viewer, invoice.id)
        # then
        after = await entries(session, written)
        assert (voided.voided, voided.number) == (True, number)
        for entry_id in written:
            assert (after[entry_id].status, after[entry_id].invoice_id) == (J, None)
            assert after[entry_id].version == invoiced[entry_id].version + 1
        assert await billed_entry_ids(session, invoice.id) == set(written)
        await assert_kept_rows_match_entries(session)

    async def test_voiding_twice_is_refused(self, session: AsyncSession, book: Book) -> None:
        # given
        written = await write(session, book.admin, case=book.case, activity=book.activity)
        invoice = await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        await invoicing.void(session, book.biller.viewer, invoice.id)
        before = await entries(session, written)
        # when
        error = await refused(session, invoicing.void(session, book.biller.viewer, invoice.id))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert await entries(session, written) == before

    async def test_invoicing_again_takes_the_next_number(self, session: AsyncSession, book: Book) -> None:
        # given
        written = await write(session, book.admin, case=book.case, activity=book.activity)
        first = await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        await invoicing.void(session, book.biller.viewer, first.id)
        # when
        second = await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        third_entry = await write(session, book.admin, case=book.other_case, activity=book.activity)
        third = await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        # then
        numbers = [running_number(i.number) for i in (first, second, third)]
        assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
        assert await billed_entry_ids(session, second.id) == set(written)
        assert await billed_entry_ids(session, third.id) == set(third_entry)
        assert await session.scalar(select(InvoiceCounter.last_number)) == numbers[2]

    async def test_kept_rows_match_the_entries_after_invoice_void_invoice(
        self, session: AsyncSession, factory: Factory, book: Book
    ) -> None:
        # given
        await company.update(session, {"book_year_start_month": 4})
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.AMOUNT, max_amount=Decimal("100.00"))
        for day, minutes in ((date(2026, 3, 31), 70), (date(2026, 4, 1), 80), (date(2026, 11, 2), 50)):
            await write(
                session,
                book.admin,
                case=capped,
                activity=book.activity,
                day=day,
                minutes=minutes,
                mode=EntryMode.PER_DATE,
            )
            await write(session, book.admin, case=book.case, activity=book.other_activity, day=day, minutes=minutes)
            await write(session, book.admin, case=capped, activity=book.activity, day=day, status=N)
            await write(session, book.admin, debtor=book.debtor, activity=book.activity, day=day, minutes=minutes)
        # when
        invoice = await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        await assert_kept_rows_match_entries(session)
        await invoicing.void(session, book.biller.viewer, invoice.id)
        await assert_kept_rows_match_entries(session)
        await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id, up_to=date(2026, 4, 1))
        # then
        await assert_kept_rows_match_entries(session)


class TestReleaseOverLimit:
    @pytest.mark.parametrize("to", [J, N])
    async def test_release_runs_no_cap_check_and_records_the_releaser(
        self, session: AsyncSession, factory: Factory, book: Book, to: TimeStatus
    ) -> None:
        # given
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
        _, parked = await write(
            session, book.admin, case=capped, activity=book.activity, minutes=100, mode=EntryMode.PER_DATE
        )
        before = await entries(session)
        # when
        released = await invoicing.release_over_limit(session, book.biller.viewer, [parked], to)
        # then
        after = await entries(session)
        assert [e.id for e in released] == [parked]
        assert set(after) == set(before)  # no new L line: no cap check ran
        assert (after[parked].status, after[parked].minutes, after[parked].amount) == (to, 40, Decimal("40.00"))
        assert after[parked].version == before[parked].version + 1
        assert after[parked].updated_by_id == book.biller_id
        usage = await cap_usage.of_case(session, capped.id, capped, DAY)
        assert usage is not None
        assert (usage.used_minutes, usage.available_minutes) == ((100, 0) if to is J else (60, 0))
        await assert_kept_rows_match_entries(session)

    async def test_released_time_can_be_invoiced(self, session: AsyncSession, factory: Factory, book: Book) -> None:
        # given
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
        fits, parked = await write(
            session, book.admin, case=capped, activity=book.activity, minutes=100, mode=EntryMode.PER_DATE
        )
        await invoicing.release_over_limit(session, book.biller.viewer, [parked], J)
        # when
        invoice = await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id)
        # then
        assert await billed_entry_ids(session, invoice.id) == {fits, parked}
        assert invoice.total == Decimal("100.00")

    async def test_anything_not_over_limit_changes_nothing(
        self, session: AsyncSession, factory: Factory, book: Book
    ) -> None:
        # given
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
        fits, parked = await write(
            session, book.admin, case=capped, activity=book.activity, minutes=100, mode=EntryMode.PER_DATE
        )
        before = await entries(session)
        # when
        error = await refused(session, invoicing.release_over_limit(session, book.biller.viewer, [parked, fits], J))
        # then
        assert error.code is ErrorCode.NOT_OVER_LIMIT
        assert await entries(session) == before

    @pytest.mark.parametrize("to", [F, L])
    async def test_release_to_a_system_status_is_refused(
        self, session: AsyncSession, factory: Factory, book: Book, to: TimeStatus
    ) -> None:
        # given
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=0)
        (parked,) = await write(session, book.admin, case=capped, activity=book.activity, mode=EntryMode.PER_DATE)
        before = await entries(session)
        # when
        error = await refused(session, invoicing.release_over_limit(session, book.biller.viewer, [parked], to))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert await entries(session) == before


class TestCapUsage:
    @pytest.mark.parametrize("kind", [CapKind.TIME, CapKind.AMOUNT])
    @pytest.mark.parametrize("basis", [CapBasis.BILLABLE, CapBasis.NON_BILLABLE])
    async def test_used_equals_the_counted_entries_of_the_book_year(
        self, session: AsyncSession, factory: Factory, book: Book, kind: CapKind, basis: CapBasis
    ) -> None:
        # given
        capped = await factory.case(
            debtor=book.debtor,
            max_per_book_year=kind,
            max_based_on=basis,
            max_minutes=150,
            max_amount=Decimal("150.00"),
        )
        for day in (date(2025, 12, 31), date(2026, 1, 1), date(2026, 6, 30), date(2026, 12, 31)):
            for status, minutes in ((J, 40), (N, 50)):
                await write(
                    session,
                    book.admin,
                    case=capped,
                    activity=book.other_activity,
                    day=day,
                    minutes=minutes,
                    status=status,
                )
            await write(
                session,
                book.admin,
                case=capped,
                activity=book.activity,
                day=day,
                mode=EntryMode.PER_DATE,
                status=(J if basis is CapBasis.BILLABLE else N),
            )
        await invoicing.create(session, book.biller.viewer, debtor_id=book.debtor.id, up_to=date(2026, 6, 30))
        counted = {J, F} if basis is CapBasis.BILLABLE else {N}
        in_year = [e for e in (await entries(session)).values() if e.case_id == capped.id and e.work_date.year == 2026]
        expected_minutes = sum(e.minutes for e in in_year if e.status in counted)
        expected_amount = sum((e.amount for e in in_year if e.status in counted), Decimal(0))
        # when
        usage = await cap_usage.of_case(session, capped.id, capped, date(2026, 7, 15))
        elsewhere = await cap_usage.of_case(session, capped.id, capped, date(2027, 1, 1))
        # then
        assert usage is not None
        assert {e.status for e in in_year} == {J, F, N, L}  # every status is present, so the basis decides
        assert (usage.kind, usage.basis) == (kind, basis)
        assert (usage.book_year_start, usage.book_year_end) == (date(2026, 1, 1), date(2026, 12, 31))
        assert (usage.used_minutes, usage.used_amount) == (expected_minutes, expected_amount)
        if kind is CapKind.TIME:
            assert (usage.limit_minutes, usage.limit_amount, usage.available_amount) == (150, None, None)
            assert usage.available_minutes == max(150 - expected_minutes, 0)
        else:
            assert (usage.limit_amount, usage.limit_minutes, usage.available_minutes) == (Decimal("150.00"), None, None)
            assert usage.available_amount == max(Decimal("150.00") - expected_amount, Decimal(0))
        assert elsewhere is not None
        assert (elsewhere.used_minutes, elsewhere.used_amount) == (0, Decimal(0))
        assert (elsewhere.book_year_start, elsewhere.book_year_end) == (date(2027, 1, 1), date(2027, 12, 31))

    async def test_available_never_goes_below_zero(self, session: AsyncSession, factory: Factory, book: Book) -> None:
        # given
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=30)
        await write(session, book.admin, case=capped, activity=book.activity, minutes=90)  # PER_DEBTOR: no cap check
        # when
        usage = await cap_usage.of_case(session, capped.id, capped, DAY)
        # then
        assert usage is not None
        assert (usage.used_minutes, usage.available_minutes) == (90, 0)

    async def test_a_case_without_a_cap_has_no_usage(self, session: AsyncSession, book: Book) -> None:
        # given
        await write(session, book.admin, case=book.case, activity=book.activity)
        # when
        usage = await cap_usage.of_case(session, book.case.id, book.case, DAY)
        # then
        assert usage is None

    async def test_book_year_follows_the_start_month(self, session: AsyncSession, factory: Factory, book: Book) -> None:
        # given
        await company.update(session, {"book_year_start_month": 4})
        capped = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=1000)
        for day, minutes in (
            (date(2026, 3, 31), 11),
            (date(2026, 4, 1), 22),
            (date(2027, 3, 31), 33),
            (date(2027, 4, 1), 44),
        ):
            await write(session, book.admin, case=capped, activity=book.activity, day=day, minutes=minutes)
        # when
        usage = await cap_usage.of_case(session, capped.id, capped, date(2027, 2, 10))
        # then
        assert usage is not None
        assert (usage.book_year_start, usage.book_year_end) == (date(2026, 4, 1), date(2027, 3, 31))
        assert (usage.used_minutes, usage.used_amount, usage.available_minutes) == (55, Decimal("55.00"), 945)

    async def test_many_cases_and_days_at_once_answer_as_each_alone(
        self, session: AsyncSession, factory: Factory, book: Book, sql_statements: StatementCounter
    ) -> None:
        # given: two capped cases with time in two book years
        by_time = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.TIME, max_minutes=100)
        by_amount = await factory.case(debtor=book.debtor, max_per_book_year=CapKind.AMOUNT, max_amount=Decimal(70))
        for case, day, minutes in ((by_time, DAY, 30), (by_time, date(2025, 5, 5), 20), (by_amount, DAY, 45)):
            await write(session, book.admin, case=case, activity=book.activity, day=day, minutes=minutes)
        asked = [
            (case, day)
            for case in (by_time, by_amount)
            for day in (DAY, date(2025, 5, 5), date(2031, 1, 1), None, DAY)  # the same key twice, and today
        ]
        queries = [cap_usage.query(case.id, case, day) for case, day in asked]
        # when
        before = sql_statements.count
        together = await cap_usage.of_cases(session, [q for q in queries if q is not None])
        statements = sql_statements.statements[before:]
        alone = [await cap_usage.of_case(session, case.id, case, day) for case, day in asked]
        # then: the settings and one read of the totals, and the same answers in the order asked
        assert [("case_year_totals" in s, "company_settings" in s) for s in statements] == [
            (False, True),
            (True, False),
        ]
        assert together == alone
        assert [(u.used_minutes, u.used_amount) for u in together[:3]] == [(30, Decimal(30)), (20, Decimal(20)), (0, 0)]
        assert (together[5].used_amount, together[5].available_amount) == (Decimal(45), Decimal(25))

    async def test_no_query_for_a_case_without_a_cap_and_a_day_out_of_range_is_refused(self, book: Book) -> None:
        # when / then
        assert cap_usage.query(book.case.id, book.case, DAY) is None
        with pytest.raises(DomainError, match="date must be between"):
            cap_usage.query(book.case.id, book.case, date(1999, 12, 31))
