"""A state machine over the time-writing services (SPEC 6, 7): any sequence of creates, edits, deletes, copies
and timers keeps the kept totals and both report rollups equal to the entries, every case's entry count exact,
and, where only PER_DATE writes touched a case's book year, its counted sum within the maximum.

Hypothesis drives the machine synchronously from a worker thread; each rule runs its service call on the test's
event loop (`run_coroutine_threadsafe`), so the one AsyncSession is only ever used from that loop. Each example
runs inside a SAVEPOINT rolled back at its end, and each step inside its own, as a request's transaction would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from models import CapBasis, CapKind, EmployeeVisibility, EntryMode, Timer, TimeStatus
from services import books, company, time_entries, timers
from services.auth import Viewer
from services.book_year import book_year_of
from services.errors import DomainError, ErrorCode
from services.time_entries import EntryData, Writer, WriteResult
from services.visibility import EVERYONE
from tests.factories import Factory

T = TypeVar("T")

START_MONTH = 4  # book years from April: 2026-03-31 and 2026-04-01 lie in different ones
DAYS = [date(2026, 3, 20), date(2026, 3, 31), date(2026, 4, 1), date(2026, 5, 15)]
# an edit may only be refused for an over-limit line that would pass 1440 minutes
ALLOWED_REFUSALS = {ErrorCode.VALIDATION}

RECOUNT = text(
    """
    SELECT e.case_id,
           (date_trunc('year', e.work_date - make_interval(months => s.book_year_start_month - 1))
            + make_interval(months => s.book_year_start_month - 1))::date AS year_start,
           e.status::text AS status, sum(e.minutes) AS minutes, sum(e.amount) AS amount
    FROM time_entries e CROSS JOIN company_settings s
    WHERE e.case_id IS NOT NULL
    GROUP BY 1, 2, 3
    """
)
STORED = text(
    "SELECT case_id, year_start, j_minutes, j_amount, f_minutes, f_amount, n_minutes, n_amount, l_minutes, l_amount"
    " FROM case_year_totals"
)
COUNTS = text(
    "SELECT c.id, c.time_entry_count, count(e.id) AS counted FROM cases c"
    " LEFT JOIN time_entries e ON e.case_id = c.id WHERE c.id = ANY(:ids) GROUP BY c.id"
)


@dataclass(frozen=True)
class CappedCase:
    id: int
    kind: CapKind
    basis: CapBasis
    limit: Decimal  # minutes for TIME, money for AMOUNT


@dataclass(frozen=True)
class Fixture:
    writer: Writer
    debtor_id: int
    activity_id: int
    cases: tuple[CappedCase, ...]


class TimeMachine(RuleBasedStateMachine):
    """Model: which entries exist, which case book years saw a write without the cap check, whether a timer runs."""

    loop: ClassVar[asyncio.AbstractEventLoop]
    session: ClassVar[AsyncSession]
    fixture: ClassVar[Fixture]

    entries = Bundle("entries")

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[int] = set()
        self.unchecked: set[tuple[int, date]] = set()  # (case, book year) written by PER_DEBTOR or COPY
        self.timer: Timer | None = None
        self.savepoint: AsyncSessionTransaction | None = None

    # --- plumbing ------------------------------------------------------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def attempt(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T | DomainError:
        """One step as one transaction: a refusal rolls back whatever it had flushed."""

        async def step() -> T | DomainError:
            try:
                async with self.session.begin_nested():
                    return await work(self.session)
            except DomainError as error:
                return error

        return self.run(step())

    def written(self, result: WriteResult[Any] | DomainError) -> list[int]:
        """Ids a write added; refusals are allowed only where the rules say so."""
        if isinstance(result, DomainError):
            assert result.code in ALLOWED_REFUSALS, (result.code, result.message)
            return []
        new = [e.id for e in (result.entry, result.over_limit_entry) if e is not None and e.id not in self.ids]
        self.ids.update(new)
        return new

    def case(self, index: int | None) -> CappedCase | None:
        return None if index is None else self.fixture.cases[index]

    @initialize()
    def open_savepoint(self) -> None:
        async def begin() -> AsyncSessionTransaction:
            return await self.session.begin_nested()

        self.savepoint = self.run(begin())

    def teardown(self) -> None:
        if self.savepoint is not None:
            self.run(self.savepoint.rollback())

    # --- rules ---------------------------------------------------------------------------------------------------

    @rule(
        target=entries,
        case=st.sampled_from([0, 1, 2, None]),
        day=st.sampled_from(DAYS),
        minutes=st.integers(min_value=1, max_value=400),
        status=st.sampled_from([None, TimeStatus.BILLABLE, TimeStatus.NON_BILLABLE]),
        mode=st.sampled_from([EntryMode.PER_DATE, EntryMode.PER_DEBTOR]),
    )
    def create(self, case: int | None, day: date, minutes: int, status: TimeStatus | None, mode: EntryMode) -> Any:
        capped = self.case(case)
        data: EntryData = {
            "debtor_id": self.fixture.debtor_id,
            "case_id": capped.id if capped else None,
            "activity_id": self.fixture.activity_id,
            "work_date": day,
            "minutes": minutes,
            "status": status,
        }
        result = self.attempt(lambda s: time_entries.create(s, self.fixture.writer, data, mode=mode))
        assert not isinstance(result, DomainError), result.message
        if mode is EntryMode.PER_DEBTOR and capped is not None:
            self.unchecked.add((capped.id, book_year_of(day, START_MONTH).start))
        return multiple(*self.written(result))

    @rule(
        target=entries,
        entry=entries,
        change=st.sampled_from(["minutes", "status", "date", "case"]),
        minutes=st.integers(min_value=1, max_value=400),
        status=st.sampled_from([TimeStatus.BILLABLE, TimeStatus.NON_BILLABLE]),
        day=st.sampled_from(DAYS),
        case=st.sampled_from([0, 1, 2]),
    )
    def edit(self, entry: int, change: str, minutes: int, status: TimeStatus, day: date, case: int) -> Any:
        changes: dict[str, EntryData] = {
            "minutes": {"minutes": minutes},
            "status": {"status": status},
            "date": {"work_date": day},
            "case": {"case_id": self.fixture.cases[case].id},
        }
        data = changes[change]
        result = self.attempt(lambda s: time_entries.update(s, self.fixture.writer, entry, data))
        return multiple(*self.written(result))

    @rule(entry=consumes(entries))
    def delete(self, entry: int) -> None:
        result = self.attempt(lambda s: time_entries.delete(s, self.fixture.writer, entry))
        assert result == entry
        self.ids.discard(entry)

    @rule(target=entries, sources=st.lists(entries, min_size=1, max_size=3, unique=True), day=st.sampled_from(DAYS))
    def copy(self, sources: list[int], day: date) -> Any:
        async def case_ids(session: AsyncSession) -> list[int | None]:
            rows = await session.execute(
                text("SELECT case_id FROM time_entries WHERE id = ANY(:ids)"), {"ids": sources}
            )
            return [row.case_id for row in rows]

        copied_cases = self.run(case_ids(self.session))
        results = self.attempt(lambda s: time_entries.copy(s, self.fixture.writer, sources, day))
        assert not isinstance(results, DomainError), results.message
        year = book_year_of(day, START_MONTH).start
        self.unchecked.update((case_id, year) for case_id in copied_cases if case_id is not None)
        return multiple(*[i for result in results for i in self.written(result)])

    @precondition(lambda self: self.timer is None)
    @rule(case=st.sampled_from([0, 1, 2, None]))
    def start_timer(self, case: int | None) -> None:
        capped = self.case(case)
        data: timers.TimerData = {
            "debtor_id": self.fixture.debtor_id,
            "case_id": capped.id if capped else None,
            "activity_id": self.fixture.activity_id,
        }
        result = self.attempt(lambda s: timers.start(s, self.fixture.writer, data))
        assert not isinstance(result, DomainError), result.message
        self.timer = result

    @precondition(lambda self: self.timer is not None)
    @rule(target=entries, elapsed=st.integers(min_value=1, max_value=300))
    def stop_timer(self, elapsed: int) -> Any:
        timer = self.timer
        assert timer is not None

        async def backdate(session: AsyncSession) -> None:
            await session.execute(
                text("UPDATE timers SET started_at = now() - make_interval(mins => :m) WHERE id = :id"),
                {"m": elapsed, "id": timer.id},
            )
            session.expire(timer)  # the service must read the backdated start, not the one it remembers

        self.run(backdate(self.session))
        result = self.attempt(lambda s: timers.stop(s, self.fixture.writer))
        assert not isinstance(result, DomainError), result.message
        self.timer = None
        entry_minutes = result.entry.minutes + (result.over_limit_entry.minutes if result.over_limit_entry else 0)
        assert entry_minutes in (elapsed, elapsed + 1)  # rounded up; a second may pass between backdating and stopping
        return multiple(*self.written(result))

    # --- invariants ----------------------------------------------------------------------------------------------

    @invariant()
    def books_match_the_entries(self) -> None:
        if self.savepoint is None:
            return
        self.run(self._check())

    async def _check(self) -> None:
        session = self.session
        await session.flush()
        case_ids = [c.id for c in self.fixture.cases]
        present = set((await session.execute(text("SELECT id FROM time_entries"))).scalars())
        assert present == self.ids
        recomputed = {
            (r.case_id, r.year_start, r.status): (int(r.minutes), Decimal(r.amount))
            for r in await session.execute(RECOUNT)
        }
        stored: dict[tuple[int, date, str], tuple[int, Decimal]] = {}
        for r in await session.execute(STORED):
            for status, minutes, amount in (
                ("J", r.j_minutes, r.j_amount),
                ("F", r.f_minutes, r.f_amount),
                ("N", r.n_minutes, r.n_amount),
                ("L", r.l_minutes, r.l_amount),
            ):
                if minutes or amount:
                    stored[(r.case_id, r.year_start, status)] = (int(minutes), Decimal(amount))
        assert stored == recomputed
        assert await books.rollup_problems(session) == []
        for row in await session.execute(COUNTS, {"ids": case_ids}):
            assert row.time_entry_count == row.counted, row
        for capped in self.fixture.cases:
            counted = {"J", "F"} if capped.basis is CapBasis.BILLABLE else {"N"}
            for year in {book_year_of(d, START_MONTH).start for d in DAYS} | {date(2026, 4, 1)}:
                if (capped.id, year) in self.unchecked:
                    continue
                minutes = sum(recomputed.get((capped.id, year, s), (0, Decimal(0)))[0] for s in counted)
                amount = sum(recomputed.get((capped.id, year, s), (0, Decimal(0)))[1] for s in counted)
                used = Decimal(minutes) if capped.kind is CapKind.TIME else amount
                assert used <= capped.limit, (capped, year, used)


async def build_fixture(session: AsyncSession, factory: Factory) -> Fixture:
    await company.update(session, {"book_year_start_month": START_MONTH})
    role = await factory.role(visibility=EmployeeVisibility.ALL)
    employee = await factory.employee(role=role)
    viewer = Viewer(
        employee_id=employee.id,
        role_id=role.id,
        is_administrator=False,
        can_enter_time_for_others=False,
        can_invoice=False,
        visibility=EmployeeVisibility.ALL,
    )
    debtor = await factory.debtor()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    time_case = await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=300)
    amount_case = await factory.case(
        debtor=debtor, max_per_book_year=CapKind.AMOUNT, max_amount=Decimal("250.00"), adjusted_rate=Decimal("45.00")
    )
    unbilled_case = await factory.case(
        debtor=debtor,
        max_per_book_year=CapKind.TIME,
        max_minutes=200,
        max_based_on=CapBasis.NON_BILLABLE,
        invoicing=TimeStatus.NON_BILLABLE,
    )
    return Fixture(
        writer=Writer(viewer, EVERYONE),
        debtor_id=debtor.id,
        activity_id=activity.id,
        cases=(
            CappedCase(time_case.id, CapKind.TIME, CapBasis.BILLABLE, Decimal(300)),
            CappedCase(amount_case.id, CapKind.AMOUNT, CapBasis.BILLABLE, Decimal("250.00")),
            CappedCase(unbilled_case.id, CapKind.TIME, CapBasis.NON_BILLABLE, Decimal(200)),
        ),
    )


async def test_time_writes_keep_the_books_and_the_caps(session: AsyncSession, factory: Factory) -> None:
    # given
    TimeMachine.fixture = await build_fixture(session, factory)
    TimeMachine.session = session
    TimeMachine.loop = asyncio.get_running_loop()
    machine_settings = settings(
        max_examples=25,
        stateful_step_count=15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    # when / then: every step is checked by the machine's invariant
    await asyncio.to_thread(run_state_machine_as_test, TimeMachine, settings=machine_settings)
