"""Cost and abuse rules of SPEC 12 in the services: bulk writes of at most 500 items, IANA zone names only, messages
that quote at most 100 characters of a value, and cursor keys each column can hold."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Case, Debtor, Employee, TimeEntry, TimeStatus
from services import cases, company, invoicing, paging, time_entries, validation
from services.errors import ErrorCode
from services.time_entries import ListChange
from tests.factories import Factory
from tests.services.support import refused
from tests.services.time_support import admin_writer, refused_with

TOO_MANY = validation.MAX_BULK + 1
DAY = date(2026, 11, 23)


class TestBulk:
    async def test_copying_501_entries_is_validation_and_writes_nothing(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        _, writer = await admin_writer(session, factory)
        # when / then
        await refused_with(
            session, time_entries.copy(session, writer, list(range(1, TOO_MANY + 1)), DAY), ErrorCode.VALIDATION, "ids"
        )

    async def test_saving_501_list_changes_is_validation_and_writes_nothing(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        _, writer = await admin_writer(session, factory)
        case = await factory.case()
        changes = [ListChange(None, None, False, {"minutes": 5, "work_date": DAY})] * TOO_MANY
        # when / then
        await refused_with(
            session, time_entries.save_case_list(session, writer, case.id, changes), ErrorCode.VALIDATION, "changes"
        )

    async def test_releasing_501_entries_is_validation_and_writes_nothing(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        _, writer = await admin_writer(session, factory)
        entry_ids = list(range(1, TOO_MANY + 1))
        # when / then
        await refused_with(
            session,
            invoicing.release_over_limit(session, writer.viewer, entry_ids, TimeStatus.BILLABLE),
            ErrorCode.VALIDATION,
            "ids",
        )

    async def test_importing_a_case_for_501_debtors_is_validation_and_writes_nothing(
        self, session: AsyncSession
    ) -> None:
        # given
        debtor_ids = await _debtors(session, TOO_MANY)
        # when
        error = await refused(
            session, cases.import_for_debtors(session, debtor_ids=debtor_ids, data={"code": "X"}, best_effort=True)
        )
        # then
        assert (error.code, error.field) == (ErrorCode.VALIDATION, ("debtorIds",))
        assert "500" in error.message
        assert await session.scalar(select(func.count()).select_from(Case).where(Case.code == "X")) == 0

    async def test_importing_a_case_for_500_debtors_is_allowed(self, session: AsyncSession) -> None:
        # given
        debtor_ids = await _debtors(session, validation.MAX_BULK)
        # when
        created, errors = await cases.import_for_debtors(
            session, debtor_ids=debtor_ids, data={"code": "X"}, best_effort=False
        )
        # then
        assert (len(created), errors) == (validation.MAX_BULK, [])


async def _debtors(session: AsyncSession, count: int) -> list[int | None]:
    """`count` debtors in one statement (the factory's one-by-one creates would take seconds)."""
    first = await session.scalar(select(func.coalesce(func.max(Debtor.id), 0)))
    rows = [{"code": f"BULK-{first}-{n}", "name": f"Bulk {n}"} for n in range(count)]
    return list((await session.scalars(insert(Debtor).returning(Debtor.id), rows)).all())


class TestZoneNames:
    @pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
    def test_an_iana_zone_name_is_taken(self, zone: str) -> None:
        # when / then
        assert company.zone_name(zone) == zone

    @pytest.mark.parametrize(
        "zone",
        [
            "localtime",
            "posixrules",
            "Factory",
            "posix/Europe/Amsterdam",
            "right/UTC",
            "europe/amsterdam",
            "Europe",
            "Europe/Amsterdam/",
            "/usr/share/zoneinfo/UTC",
            "Europe/" + "x" * 10_000,
        ],
    )
    async def test_a_file_of_the_host_or_no_zone_is_validation_and_writes_nothing(
        self, session: AsyncSession, zone: str
    ) -> None:
        # given
        before = (await company.get(session)).time_zone
        # when
        error = await refused(session, company.update(session, {"time_zone": zone}))
        # then
        assert (error.code, error.field) == (ErrorCode.VALIDATION, ("timeZone",))
        assert len(error.message) < 150
        assert (await company.get(session)).time_zone == before

    async def test_a_stored_zone_of_a_host_still_reads(self, session: AsyncSession) -> None:
        # given: a zone stored before the rule (a host file ZoneInfo loads all the same)
        settings = await company.get(session)
        settings.time_zone = "posix/Europe/Amsterdam"
        await session.flush()
        # when / then: today's date is still answered
        assert isinstance(company.today(settings), date)


class TestClipped:
    def test_a_short_value_is_quoted_whole(self) -> None:
        # when / then
        assert validation.clipped("2026-13-40") == "2026-13-40"

    def test_a_long_value_is_cut_to_100_characters_and_an_ellipsis(self) -> None:
        # when
        shown = validation.clipped("x" * 10_000)
        # then
        assert shown == "x" * 100 + "…"

    @pytest.mark.parametrize(
        "message",
        [
            "Expected value of type 'Date', found \"" + "x" * 10_000 + '"; Date must look like 2026-11-23',
            "Variable '$input' got invalid value '" + "y" * 10_000 + "'",
            "unknown field '" + "z" * 10_000 + "'. Did you mean 'code'?",
            "a value with escapes: '" + "\\'" * 5_000 + "'",
        ],
    )
    def test_each_quoted_span_of_a_message_is_cut(self, message: str) -> None:
        # when
        clipped = validation.clip_quotes(message)
        # then
        assert len(clipped) < 200
        assert "…" in clipped

    def test_a_message_quoting_only_short_values_stays_as_it_is(self) -> None:
        # given
        message = "Expected value of type 'Date', found \"2026-13-40\"; Date must look like 2026-11-23"
        # when / then
        assert validation.clip_quotes(message) == message


class TestIntegerRange:
    def test_each_key_type_has_its_range(self) -> None:
        # when / then
        assert validation.integer_range(Employee.__table__.c.id.type) == (-(2**31), 2**31 - 1)
        assert validation.integer_range(TimeEntry.__table__.c.id.type) == (-(2**63), 2**63 - 1)


KEYSET = paging.Keyset((TimeEntry.work_date, TimeEntry.minutes, Employee.name))


class TestKeysetAccepts:
    def test_a_key_each_column_holds_is_accepted(self) -> None:
        # when / then
        assert KEYSET.accepts([DAY, 2**31 - 1, "Ada"])

    @pytest.mark.parametrize(
        "key",
        [
            [DAY, 2**31, "Ada"],  # beyond an Integer column
            [DAY, -(2**31) - 1, "Ada"],
            [DAY, True, "Ada"],
            [DAY, 1.5, "Ada"],
            ["2026-11-23", 1, "Ada"],  # a date not decoded
            [DAY, 1, "A\x00da"],  # text PostgreSQL cannot hold
            [DAY, 1, None],
            [DAY, 1],
            [DAY, 1, "Ada", 4],
            [],
        ],
    )
    def test_a_key_a_column_cannot_hold_is_refused(self, key: list[Any]) -> None:
        # when / then
        assert not KEYSET.accepts(key)

    def test_a_column_type_no_cursor_holds_yet_is_refused(self) -> None:
        # given
        keyset = paging.Keyset((TimeEntry.amount,))
        # when / then
        assert not keyset.accepts([1])
