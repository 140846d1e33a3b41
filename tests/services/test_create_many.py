"""`create_many` writes new entries at once as if one by one (SPEC 6, 7): for any list of entries, on capped and
uncapped cases and without a case, across two book years, its entries, L lines, warnings, totals, rollups and entry
counts are those of the same entries written by `create` in turn. The negative control takes away what the batch
carries from one entry to the next (the totals the entries before it used) and shows the comparison then fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapBasis, CapKind, Case, Debtor, TimeStatus
from services import books, time_entries
from services.time_entries import EntryData, New, Writer, WriteResult, Written
from tests.factories import Factory
from tests.services.time_support import admin_writer, assert_books_match

# the second and third days lie in the next book year (January starts them)
DAYS = (date(2026, 12, 30), date(2027, 1, 4), date(2027, 1, 5))


@dataclass(frozen=True)
class Spec:
    """One entry of a list: on which of the places, when, how long, with which J/N, and its tags."""

    place: int  # 0: the TIME-capped case, 1: the AMOUNT-capped case, 2: the uncapped case, 3: no case
    day: int
    minutes: int
    status: TimeStatus | None
    tags: tuple[str, ...]


specs = st.builds(
    Spec,
    place=st.integers(0, 3),
    day=st.integers(0, len(DAYS) - 1),
    minutes=st.integers(1, 120),
    status=st.sampled_from([None, TimeStatus.BILLABLE, TimeStatus.NON_BILLABLE]),
    tags=st.lists(st.sampled_from(["urgent", "Travel", "x,y"]), max_size=2, unique=True).map(tuple),
)


@dataclass
class Places:
    debtor: Debtor
    cases: tuple[Case, Case, Case]

    @classmethod
    async def make(cls, factory: Factory) -> Places:
        debtor = await factory.debtor()
        return cls(
            debtor,
            (
                await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=150),
                await factory.case(
                    debtor=debtor,
                    max_per_book_year=CapKind.AMOUNT,
                    max_amount=Decimal("100.00"),
                    max_based_on=CapBasis.BILLABLE,
                ),
                await factory.case(debtor=debtor),
            ),
        )

    def data(self, spec: Spec, activity_id: int) -> EntryData:
        fields: dict[str, Any] = {
            "activity_id": activity_id,
            "work_date": DAYS[spec.day],
            "minutes": spec.minutes,
            "tags": list(spec.tags),
        }
        if spec.status is not None:
            fields["status"] = spec.status
        if spec.place == 3:
            fields["debtor_id"] = self.debtor.id
        else:
            fields["case_id"] = self.cases[spec.place].id
        return cast(EntryData, fields)


def _outcome(result: WriteResult[Written]) -> tuple[Any, ...]:
    def written(entry: Written | None) -> tuple[Any, ...] | None:
        if entry is None:
            return None
        return (entry.work_date, entry.minutes, entry.status, entry.rate, entry.amount, entry.tags, entry.source)

    return written(result.entry), written(result.over_limit_entry), [(w.code, w.message) for w in result.warnings]


_BOOKS = {
    "entries": """SELECT work_date, minutes, status, rate, amount, tags, source, over_limit_of_id IS NOT NULL
                  FROM time_entries WHERE debtor_id = :debtor ORDER BY id""",
    "totals": """SELECT c.code, t.year_start, t.j_minutes, t.n_minutes, t.l_minutes, t.j_amount, t.n_amount, t.l_amount
                 FROM case_year_totals t JOIN cases c ON c.id = t.case_id WHERE c.debtor_id = :debtor
                 ORDER BY c.id, t.year_start""",
    "rollup": """SELECT work_date, case_id = 0, status, minutes, amount, entries FROM time_rollup
                 WHERE debtor_id = :debtor ORDER BY case_id, work_date, status""",
    "months": """SELECT month, case_id = 0, status, minutes, amount, entries FROM time_rollup_month
                 WHERE debtor_id = :debtor ORDER BY case_id, month, status""",
    "counts": "SELECT time_entry_count FROM cases WHERE debtor_id = :debtor ORDER BY id",
}


async def _books(session: AsyncSession, places: Places) -> dict[str, list[tuple[Any, ...]]]:
    """What the places' debtor holds, case codes left out (each side has its own)."""
    books = {}
    for name, sql in _BOOKS.items():
        rows = [tuple(row) for row in await session.execute(text(sql), {"debtor": places.debtor.id})]
        books[name] = [row[1:] for row in rows] if name == "totals" else rows
    return books


async def _both_ways(
    session: AsyncSession, factory: Factory, writer: Writer, activity_id: int, entries: list[Spec]
) -> tuple[tuple[list[Any], dict[str, Any]], tuple[list[Any], dict[str, Any]]]:
    """The same entries at once on one set of places and one by one on another: outcomes and books of each."""
    at_once, one_by_one = await Places.make(factory), await Places.make(factory)
    batch = await time_entries.create_many(session, writer, [New(at_once.data(e, activity_id)) for e in entries])
    singles = [await time_entries.create(session, writer, one_by_one.data(e, activity_id)) for e in entries]
    return (
        ([_outcome(r) for r in batch], await _books(session, at_once)),
        ([_outcome(r) for r in singles], await _books(session, one_by_one)),
    )


@pytest.fixture
async def writer(session: AsyncSession, factory: Factory) -> Writer:
    return (await admin_writer(session, factory))[1]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(specs, min_size=1, max_size=12))
async def test_at_once_is_one_by_one(
    session: AsyncSession, factory: Factory, writer: Writer, entries: list[Spec]
) -> None:
    activity = await factory.activity(default_rate=Decimal("60.00"))
    (batch, batch_books), (singles, single_books) = await _both_ways(session, factory, writer, activity.id, entries)
    assert batch == singles
    assert batch_books == single_books
    await assert_books_match(session)  # totals and counts as recounted from the entries
    assert await books.rollup_problems(session) == []  # both rollups as recounted from the entries


async def test_a_list_fills_a_cap_entry_by_entry(session: AsyncSession, factory: Factory, writer: Writer) -> None:
    """The example behind the property: 100 and 100 minutes on a 150-minute maximum, the second split 50 + 50 L."""
    activity = await factory.activity(default_rate=Decimal("60.00"))
    places = await Places.make(factory)
    two = [Spec(0, 0, 100, None, ()), Spec(0, 0, 100, None, ())]
    first, second = await time_entries.create_many(session, writer, [New(places.data(s, activity.id)) for s in two])
    assert (first.entry.minutes, first.over_limit_entry) == (100, None)
    assert second.entry.minutes == 50
    assert second.over_limit_entry is not None
    assert (second.over_limit_entry.minutes, second.over_limit_entry.status) == (50, TimeStatus.OVER_LIMIT)


async def test_negative_control_without_the_running_totals(
    session: AsyncSession, factory: Factory, writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each entry decided against the totals as they were before the list: the second entry then fits whole, so
    the comparison with one-by-one writes catches it."""
    activity = await factory.activity(default_rate=Decimal("60.00"))
    decide = time_entries._decide

    def forgetting(
        writer: Writer, settings: Any, item: New, want: Any, facts: Any, running: Any, mode: Any, source: Any
    ) -> Any:
        # `running`, the totals rows as the entries before left them, forgotten for each entry
        return decide(writer, settings, item, want, facts, {}, mode, source)

    monkeypatch.setattr(time_entries, "_decide", forgetting)
    two = [Spec(0, 0, 100, None, ()), Spec(0, 0, 100, None, ())]
    (batch, _), (singles, _) = await _both_ways(session, factory, writer, activity.id, two)
    assert batch != singles


async def test_nothing_to_write_writes_nothing(session: AsyncSession, writer: Writer) -> None:
    """An empty list (a copy of no entries) is no list: nothing is read or written, and nothing is answered."""
    assert await time_entries.create_many(session, writer, []) == []
    assert await time_entries.copy(session, writer, [], date(2026, 12, 2)) == []
