"""An entry's tags (services.time_entries, services.validation.tags): kept through create, edit, copy, the case list's
Save and the L line split off by a cap; none for a timer's entry; refused all at once with each tag's index; found
by the filter ignoring case."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapKind, Case, TimeEntry, TimeStatus
from services import books, time_entries, time_queries, timers, validation
from services.errors import DomainError, DomainErrors, ErrorCode
from services.time_entries import EntryData, ListChange, Writer
from services.time_queries import EntryFilter
from tests.factories import Factory
from tests.services.time_support import RATE, assert_books_match, snapshot, writer_for

DAY = date(2026, 11, 2)


class Scene:
    def __init__(self, writer: Writer, debtor_id: int, activity_id: int, case: Case) -> None:
        self.writer, self.debtor_id, self.activity_id, self.case = writer, debtor_id, activity_id, case

    def data(self, *, minutes: int = 30, on_case: bool = True, **extra: Any) -> EntryData:
        fields: dict[str, Any] = {"activity_id": self.activity_id, "work_date": DAY, "minutes": minutes}
        fields |= {"case_id": self.case.id} if on_case else {"debtor_id": self.debtor_id}
        return cast(EntryData, fields | extra)


@pytest.fixture
async def scene(session: AsyncSession, factory: Factory) -> Scene:
    me = await factory.employee()
    debtor = await factory.debtor()
    activity = await factory.activity(default_rate=RATE)
    case = await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=100)
    return Scene(await writer_for(session, factory, me), debtor.id, activity.id, case)


async def stored(session: AsyncSession, entry_id: int) -> TimeEntry:
    entry = await session.get(TimeEntry, entry_id, populate_existing=True)
    assert entry is not None
    return entry


async def line_of(session: AsyncSession, entry_id: int) -> TimeEntry:
    line = await session.scalar(
        select(TimeEntry).where(TimeEntry.over_limit_of_id == entry_id).execution_options(populate_existing=True)
    )
    assert line is not None
    return line


async def refusals_of(session: AsyncSession, action: Any) -> list[tuple[ErrorCode, tuple[str, ...], str]]:
    """Every refusal of `action`, run in a savepoint that must leave every table as it was."""
    before = await snapshot(session)
    with pytest.raises((DomainError, DomainErrors)) as caught:
        async with session.begin_nested():
            await action
    assert await snapshot(session) == before
    refusal = caught.value
    assert isinstance(refusal, DomainError | DomainErrors)
    return [(e.code, e.field, e.message) for e in validation.refusals(refusal)]


class TestRules:
    @pytest.mark.parametrize(
        ("given", "kept"),
        [
            (None, []),
            ([], []),
            ([" Urgent ", "review", "URGENT", "urgent ", "Zürich ☕"], ["Urgent", "review", "Zürich ☕"]),
            (["b", "a", "B"], ["b", "a"]),
            (["x" * 40], ["x" * 40]),
            ([f"t{n}" for n in range(10)] + ["T0", "t9 "], [f"t{n}" for n in range(10)]),  # 10 once duplicates go
        ],
    )
    def test_trimmed_deduplicated_ignoring_case_in_order(self, given: list[str] | None, kept: list[str]) -> None:
        assert validation.tags(given) == kept

    def test_every_broken_rule_at_once_with_each_tags_index(self) -> None:
        given = ["ok", "   ", "x" * 41, "nul\x00"] + [f"t{n}" for n in range(9)]
        with pytest.raises(DomainErrors) as caught:
            validation.tags(given)
        assert [(e.code, e.field) for e in caught.value.errors] == [
            (ErrorCode.VALIDATION, ("tags", "1")),
            (ErrorCode.VALIDATION, ("tags", "2")),
            (ErrorCode.VALIDATION, ("tags", "3")),
            (ErrorCode.VALIDATION, ("tags",)),
        ]
        assert [e.message for e in caught.value.errors] == [
            "tags may not hold an empty tag",
            "tags must hold tags of at most 40 characters",
            "tags may not contain NUL characters",
            "tags must hold at most 10 tags, not 12",
        ]


class TestWrites:
    async def test_create_keeps_the_tags_and_a_timers_entry_has_none(self, session: AsyncSession, scene: Scene) -> None:
        # when
        tagged = await time_entries.create(session, scene.writer, scene.data(tags=[" Call", "call", "Billing "]))
        plain = await time_entries.create(session, scene.writer, scene.data())
        await timers.start(session, scene.writer, {"debtor_id": scene.debtor_id, "activity_id": scene.activity_id})
        timed = await timers.stop(session, scene.writer)
        # then
        assert (await stored(session, tagged.entry.id)).tags == ["Call", "Billing"]
        assert (await stored(session, plain.entry.id)).tags == []
        assert (await stored(session, timed.entry.id)).tags == []

    async def test_an_edit_left_without_tags_keeps_them_given_replaces_empty_or_null_clears(
        self, session: AsyncSession, scene: Scene
    ) -> None:
        entry_id = (await time_entries.create(session, scene.writer, scene.data(tags=["a", "b"]))).entry.id
        for patch, expected, version in (
            ({"minutes": 20}, ["a", "b"], 2),
            ({"tags": ["C", "a", "c"]}, ["C", "a"], 3),
            ({"tags": []}, [], 4),
            ({"tags": ["d"]}, ["d"], 5),
            ({"tags": None}, [], 6),
        ):
            # when
            await time_entries.update(session, scene.writer, entry_id, cast(EntryData, patch))
            # then
            entry = await stored(session, entry_id)
            assert (entry.tags, entry.version) == (expected, version), patch

    async def test_a_refused_edit_writes_nothing(self, session: AsyncSession, scene: Scene) -> None:
        entry_id = (await time_entries.create(session, scene.writer, scene.data(tags=["kept"]))).entry.id
        patch = cast(EntryData, {"minutes": 0, "tags": [f"t{n}" for n in range(11)] + [""]})
        refusals = await refusals_of(session, time_entries.update(session, scene.writer, entry_id, patch))
        assert [(code, field) for code, field, _ in refusals] == [
            (ErrorCode.VALIDATION, ("minutes",)),
            (ErrorCode.VALIDATION, ("tags", "11")),
            (ErrorCode.VALIDATION, ("tags",)),
        ]
        assert (await stored(session, entry_id)).tags == ["kept"]

    async def test_a_copy_keeps_the_tags(self, session: AsyncSession, scene: Scene) -> None:
        source = await time_entries.create(session, scene.writer, scene.data(on_case=False, tags=["Travel", "x"]))
        # when
        copies = await time_entries.copy(session, scene.writer, [source.entry.id], date(2026, 11, 9))
        # then
        assert (await stored(session, copies[0].entry.id)).tags == ["Travel", "x"]

    async def test_the_l_line_a_cap_splits_off_carries_its_entrys_tags(
        self, session: AsyncSession, scene: Scene
    ) -> None:
        # given: 130 minutes on a case of at most 100
        result = await time_entries.create(session, scene.writer, scene.data(minutes=130, tags=["Over", "night"]))
        assert result.over_limit_entry is not None
        line = await line_of(session, result.entry.id)
        assert (line.status, line.minutes, line.tags) == (
            TimeStatus.OVER_LIMIT,
            30,
            ["Over", "night"],
        )
        # when: the entry's tags change; then its line follows, changed once
        await time_entries.update(session, scene.writer, result.entry.id, {"tags": ["retagged"]})
        line = await line_of(session, result.entry.id)
        assert (line.tags, line.version) == (["retagged"], 2)
        # when: an edit adds excess and retags at once; then the line takes both in one change
        await time_entries.update(session, scene.writer, result.entry.id, {"minutes": 120, "tags": ["both"]})
        line = await line_of(session, result.entry.id)
        assert (line.minutes, line.tags, line.version) == (50, ["both"], 3)
        # when: an edit leaves the tags out; then the line keeps its own
        await time_entries.update(session, scene.writer, line.id, {"tags": ["mine"]})
        await time_entries.update(session, scene.writer, result.entry.id, {"description": "no tags given"})
        line = await line_of(session, result.entry.id)
        assert line.tags == ["mine"]
        await assert_books_match(session)
        assert await books.rollup_problems(session) == []

    async def test_an_edit_that_first_overshoots_makes_a_line_with_the_tags(
        self, session: AsyncSession, scene: Scene
    ) -> None:
        entry_id = (await time_entries.create(session, scene.writer, scene.data(minutes=90, tags=["t"]))).entry.id
        # when
        result = await time_entries.update(session, scene.writer, entry_id, {"minutes": 110})
        # then
        assert result.over_limit_entry is not None
        assert (await stored(session, result.over_limit_entry.id)).tags == ["t"]

    async def test_the_case_lists_save_writes_tags_and_names_a_broken_one_under_its_change(
        self, session: AsyncSession, scene: Scene
    ) -> None:
        entry_id = (await time_entries.create(session, scene.writer, scene.data(tags=["old"]))).entry.id
        changes = [
            ListChange(entry_id, None, False, cast(EntryData, {"tags": ["New", "new", "other"]})),
            ListChange(None, None, False, scene.data(tags=["fresh"])),
        ]
        # when
        results = await time_entries.save_case_list(session, scene.writer, scene.case.id, changes)
        # then
        assert [(await stored(session, r.entry.id)).tags for r in results] == [["New", "other"], ["fresh"]]
        # a refused Save: every tag's problem under its change, nothing written
        broken = [
            ListChange(entry_id, None, False, cast(EntryData, {"tags": ["fine", " "]})),
            ListChange(None, None, False, scene.data(tags=["y" * 41])),
        ]
        refusals = await refusals_of(session, time_entries.save_case_list(session, scene.writer, scene.case.id, broken))
        assert [field for _, field, _ in refusals] == [("changes", "0", "tags", "1"), ("changes", "1", "tags", "0")]


class TestFilter:
    async def test_entries_with_any_of_the_tags_ignoring_case_and_spaces(
        self, session: AsyncSession, scene: Scene
    ) -> None:
        # given
        written = {}
        for name, tags in (("urgent", ["Urgent"]), ("both", ["review", "URGENT"]), ("none", []), ("other", ["x"])):
            result = await time_entries.create(session, scene.writer, scene.data(minutes=10, tags=tags))
            written[name] = result.entry.id
        await session.flush()

        async def found(tags: list[str] | None) -> set[int]:
            matching = time_queries.conditions(scene.writer.visibility, EntryFilter(tags=tags))
            return set(await session.scalars(matching.combination.narrowed(select(TimeEntry.id)), matching.values))

        # then
        assert await found([" urgent"]) == {written["urgent"], written["both"]}
        assert await found(["REVIEW", "X"]) == {written["both"], written["other"]}
        assert await found(["nothing"]) == set()
        assert await found([]) == set()  # as an empty list of ids: nothing matches
        assert await found(None) == set(written.values())
        total = await time_queries.entries_total(session, scene.writer.visibility, EntryFilter(tags=["urgent"]))
        assert total == 2
