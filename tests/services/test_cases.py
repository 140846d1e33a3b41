"""services.cases: the rules of a case (SPEC 2 Case, 5b, 10), on a real PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapBasis, CapKind, Case, TimeStatus
from services import cases
from services.cases import CaseData
from services.errors import DomainErrors, ErrorCode
from services.integrity import constraint_name
from tests.factories import Factory
from tests.services.support import refused

UNKNOWN_ID = 2_000_000_000


async def stored(session: AsyncSession, case_id: int) -> Case:
    """The case as the database holds it now (not the session's in-memory copy)."""
    case = await session.get(Case, case_id, populate_existing=True)
    assert case is not None
    return case


async def count_cases(session: AsyncSession, *, code: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(Case).where(Case.code == code)) or 0)


class TestCreate:
    async def test_code_is_stored_trimmed(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        # when
        case = await cases.create(session, {"debtor_id": debtor.id, "code": "  PRJ-1 \t"})
        # then
        assert (await stored(session, case.id)).code == "PRJ-1"

    async def test_defaults_of_the_004_page(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        # when
        case = await cases.create(session, {"debtor_id": debtor.id, "code": "P"})
        # then
        row = await stored(session, case.id)
        assert row.invoicing is TimeStatus.BILLABLE
        assert row.is_default is False
        assert row.blocked is False
        assert row.max_per_book_year is CapKind.NONE
        assert row.max_based_on is CapBasis.BILLABLE
        assert row.version == 1
        assert row.updated_at == row.created_at

    @pytest.mark.parametrize("same_code", ["prj-1", "PRJ-1", "  Prj-1  ", "pRJ-1\t"])
    async def test_code_differing_in_case_or_spaces_is_duplicate_for_one_debtor(
        self, session: AsyncSession, factory: Factory, same_code: str
    ) -> None:
        # given
        debtor = await factory.debtor()
        await factory.case(debtor=debtor, code="Prj-1")
        # when
        error = await refused(session, cases.create(session, {"debtor_id": debtor.id, "code": same_code}))
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert error.field == ("code",)
        assert await count_cases(session, code="Prj-1") == 1

    async def test_same_code_is_allowed_for_another_debtor(self, session: AsyncSession, factory: Factory) -> None:
        # given
        first, second = await factory.debtor(), await factory.debtor()
        await factory.case(debtor=first, code="Support")
        # when
        case = await cases.create(session, {"debtor_id": second.id, "code": " SUPPORT "})
        # then
        assert (await stored(session, case.id)).code == "SUPPORT"
        assert case.debtor_id == second.id

    @pytest.mark.parametrize(
        "cap",
        [
            {"max_per_book_year": CapKind.TIME, "max_minutes": 600},
            {"max_per_book_year": CapKind.AMOUNT, "max_amount": Decimal("1000.00")},
        ],
        ids=["time", "amount"],
    )
    @pytest.mark.parametrize(
        "period",
        [
            {"active_from": date(2026, 1, 1), "active_until": date(2026, 12, 31)},
            {"active_from": date(2026, 1, 1)},
            {"active_until": date(2026, 12, 31)},
        ],
        ids=["both-ends", "from-only", "until-only"],
    )
    async def test_period_with_a_cap_is_period_with_cap(
        self, session: AsyncSession, factory: Factory, cap: dict[str, Any], period: dict[str, Any]
    ) -> None:
        # given
        debtor = await factory.debtor()
        data = cast(CaseData, {"debtor_id": debtor.id, "code": "CAPPED", **cap, **period})
        # when
        error = await refused(session, cases.create(session, data))
        # then
        assert error.code is ErrorCode.PERIOD_WITH_CAP
        assert await count_cases(session, code="CAPPED") == 0

    async def test_period_without_a_cap_is_allowed(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        # when
        case = await cases.create(
            session,
            {
                "debtor_id": debtor.id,
                "code": "P",
                "active_from": date(2026, 1, 1),
                "active_until": date(2026, 1, 1),
                "max_per_book_year": CapKind.NONE,
            },
        )
        # then
        row = await stored(session, case.id)
        assert (row.active_from, row.active_until) == (date(2026, 1, 1), date(2026, 1, 1))

    async def test_until_before_from_is_validation(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        data: CaseData = {
            "debtor_id": debtor.id,
            "code": "P",
            "active_from": date(2026, 3, 2),
            "active_until": date(2026, 3, 1),
        }
        # when
        error = await refused(session, cases.create(session, data))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("activeUntil",)

    @pytest.mark.parametrize(
        ("cap", "field"),
        [
            ({"max_per_book_year": CapKind.TIME, "max_amount": Decimal(100)}, "maxMinutes"),
            ({"max_per_book_year": CapKind.AMOUNT, "max_minutes": 600}, "maxAmount"),
        ],
        ids=["time-without-minutes", "amount-without-amount"],
    )
    async def test_cap_without_its_maximum_is_validation(
        self, session: AsyncSession, factory: Factory, cap: dict[str, Any], field: str
    ) -> None:
        # given
        debtor = await factory.debtor()
        # when
        error = await refused(
            session, cases.create(session, cast(CaseData, {"debtor_id": debtor.id, "code": "P", **cap}))
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (field,)

    @pytest.mark.parametrize(
        "cap",
        [
            {"max_per_book_year": CapKind.TIME, "max_minutes": 600},
            {"max_per_book_year": CapKind.AMOUNT, "max_amount": Decimal("99999999.99")},
        ],
        ids=["time", "amount"],
    )
    async def test_cap_with_its_maximum_is_stored(
        self, session: AsyncSession, factory: Factory, cap: dict[str, Any]
    ) -> None:
        # given
        debtor = await factory.debtor()
        # when
        case = await cases.create(session, cast(CaseData, {"debtor_id": debtor.id, "code": "P", **cap}))
        # then
        row = await stored(session, case.id)
        assert row.max_per_book_year is cap["max_per_book_year"]
        assert (row.max_minutes, row.max_amount) == (cap.get("max_minutes"), cap.get("max_amount"))

    @pytest.mark.parametrize("invoicing", [TimeStatus.INVOICED, TimeStatus.OVER_LIMIT])
    async def test_invoicing_f_or_l_is_validation(
        self, session: AsyncSession, factory: Factory, invoicing: TimeStatus
    ) -> None:
        # given
        debtor = await factory.debtor()
        # when
        error = await refused(
            session, cases.create(session, {"debtor_id": debtor.id, "code": "P", "invoicing": invoicing})
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("invoicing",)

    async def test_invoicing_non_billable_is_stored(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        # when
        case = await cases.create(session, {"debtor_id": debtor.id, "code": "P", "invoicing": TimeStatus.NON_BILLABLE})
        # then
        assert (await stored(session, case.id)).invoicing is TimeStatus.NON_BILLABLE

    @pytest.mark.parametrize("key", ["adjusted_rate", "max_amount"])
    @pytest.mark.parametrize("amount", ["12.345", "0.001", "-0.01", "-5", "100000000.00", "99999999.991"])
    async def test_money_out_of_range_or_with_three_decimals_is_validation(
        self, session: AsyncSession, factory: Factory, key: str, amount: str
    ) -> None:
        # given
        debtor = await factory.debtor()
        data = cast(CaseData, {"debtor_id": debtor.id, "code": "P", key: Decimal(amount)})
        # when
        error = await refused(session, cases.create(session, data))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ({"adjusted_rate": "adjustedRate", "max_amount": "maxAmount"}[key],)

    @pytest.mark.parametrize("amount", ["0", "0.01", "12.5", "99999999.99"])
    async def test_money_within_range_is_stored(self, session: AsyncSession, factory: Factory, amount: str) -> None:
        # given
        debtor = await factory.debtor()
        # when
        case = await cases.create(session, {"debtor_id": debtor.id, "code": "P", "adjusted_rate": Decimal(amount)})
        # then
        assert (await stored(session, case.id)).adjusted_rate == Decimal(amount)

    @pytest.mark.parametrize("code", [None, "", "   ", "x" * 201])
    async def test_code_missing_empty_or_too_long_is_validation(
        self, session: AsyncSession, factory: Factory, code: str | None
    ) -> None:
        # given
        debtor = await factory.debtor()
        # when
        error = await refused(session, cases.create(session, {"debtor_id": debtor.id, "code": code}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("code",)

    async def test_code_of_200_characters_is_allowed(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        # when
        case = await cases.create(session, {"debtor_id": debtor.id, "code": "x" * 200})
        # then
        assert len((await stored(session, case.id)).code) == 200

    async def test_description_is_trimmed_and_at_most_4000_characters(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        debtor = await factory.debtor()
        # when
        longest = await cases.create(session, {"debtor_id": debtor.id, "code": "A", "description": "d" * 4000})
        blank = await cases.create(session, {"debtor_id": debtor.id, "code": "B", "description": "   "})
        error = await refused(
            session, cases.create(session, {"debtor_id": debtor.id, "code": "C", "description": "d" * 4001})
        )
        # then
        assert len((await stored(session, longest.id)).description or "") == 4000
        assert (await stored(session, blank.id)).description is None
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("description",)

    @pytest.mark.parametrize("day", [date(1999, 12, 31), date(2101, 1, 1)])
    async def test_date_outside_2000_to_2100_is_validation(
        self, session: AsyncSession, factory: Factory, day: date
    ) -> None:
        # given
        debtor = await factory.debtor()
        # when
        error = await refused(session, cases.create(session, {"debtor_id": debtor.id, "code": "P", "active_from": day}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("activeFrom",)

    @pytest.mark.parametrize("minutes", [-1, 2_000_000_001, 2**31 - 1])
    async def test_max_minutes_out_of_range_is_validation(
        self, session: AsyncSession, factory: Factory, minutes: int
    ) -> None:
        # given
        debtor = await factory.debtor()
        data: CaseData = {
            "debtor_id": debtor.id,
            "code": "P",
            "max_per_book_year": CapKind.TIME,
            "max_minutes": minutes,
        }
        # when
        error = await refused(session, cases.create(session, data))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("maxMinutes",)
        assert error.message == "maxMinutes must be between 0 and 2,000,000,000"

    async def test_unknown_debtor_is_not_found(self, session: AsyncSession) -> None:
        # when
        error = await refused(session, cases.create(session, {"debtor_id": UNKNOWN_ID, "code": "P"}))
        # then
        assert error.code is ErrorCode.NOT_FOUND
        assert error.field == ("debtorId",)

    async def test_missing_debtor_is_validation(self, session: AsyncSession) -> None:
        # when
        error = await refused(session, cases.create(session, {"code": "P"}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("debtorId",)


class TestOptions:
    async def test_blocked_cases_are_left_out(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        open_case = await factory.case(debtor=debtor, code="OPEN")
        await factory.case(debtor=debtor, code="BLOCKED", blocked=True)
        # when
        options = await cases.options(session, debtor_id=debtor.id, on=date(2026, 5, 1))
        # then
        assert [o.id for o in options] == [open_case.id]

    async def test_cases_not_active_on_the_date_are_left_out(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        always = await factory.case(debtor=debtor, code="ALWAYS")
        may = await factory.case(
            debtor=debtor, code="MAY", active_from=date(2026, 5, 1), active_until=date(2026, 5, 31)
        )
        since_may = await factory.case(debtor=debtor, code="SINCE-MAY", active_from=date(2026, 5, 1))
        until_may = await factory.case(debtor=debtor, code="UNTIL-MAY", active_until=date(2026, 5, 31))
        # when
        on = {
            day: {o.id for o in await cases.options(session, debtor_id=debtor.id, on=day)}
            for day in (date(2026, 4, 30), date(2026, 5, 1), date(2026, 5, 31), date(2026, 6, 1))
        }
        # then both days of a period are included
        assert on[date(2026, 4, 30)] == {always.id, until_may.id}
        assert on[date(2026, 5, 1)] == {always.id, may.id, since_may.id, until_may.id}
        assert on[date(2026, 5, 31)] == {always.id, may.id, since_may.id, until_may.id}
        assert on[date(2026, 6, 1)] == {always.id, since_may.id}

    async def test_default_cases_come_first(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        alpha = await factory.case(debtor=debtor, code="ALPHA")
        zulu = await factory.case(debtor=debtor, code="ZULU", is_default=True)
        mike = await factory.case(debtor=debtor, code="MIKE")
        bravo = await factory.case(debtor=debtor, code="BRAVO", is_default=True)
        # when
        options = await cases.options(session, debtor_id=debtor.id, on=date(2026, 5, 1))
        # then
        assert [o.id for o in options] == [bravo.id, zulu.id, alpha.id, mike.id]

    async def test_cases_of_other_debtors_are_left_out(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor, other = await factory.debtor(), await factory.debtor()
        mine = await factory.case(debtor=debtor, code="X")
        await factory.case(debtor=other, code="X")
        # when
        options = await cases.options(session, debtor_id=debtor.id, on=date(2026, 5, 1))
        # then
        assert [o.id for o in options] == [mine.id]


class TestUpdate:
    async def test_a_field_left_out_stays(self, session: AsyncSession, factory: Factory) -> None:
        # given
        case = await factory.case(
            code="KEEP",
            description="the original",
            adjusted_rate=Decimal("95.00"),
            invoicing=TimeStatus.NON_BILLABLE,
            is_default=True,
            active_from=date(2026, 1, 1),
        )
        # when
        await cases.update(session, case.id, {"blocked": True})
        # then
        row = await stored(session, case.id)
        assert row.blocked is True
        assert row.code == "KEEP"
        assert row.description == "the original"
        assert row.adjusted_rate == Decimal("95.00")
        assert row.invoicing is TimeStatus.NON_BILLABLE
        assert row.is_default is True
        assert row.active_from == date(2026, 1, 1)

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("description", "some text"),
            ("adjusted_rate", Decimal("80.00")),
            ("active_from", date(2026, 1, 1)),
            ("active_until", date(2026, 12, 31)),
            ("max_amount", Decimal("10.00")),
            ("max_minutes", 60),
        ],
    )
    async def test_explicit_none_clears_a_nullable_field(
        self, session: AsyncSession, factory: Factory, key: str, value: Any
    ) -> None:
        # given
        case = await factory.case(**{key: value})
        assert getattr(await stored(session, case.id), key) == value
        # when
        await cases.update(session, case.id, cast(CaseData, {key: None}))
        # then
        assert getattr(await stored(session, case.id), key) is None

    @pytest.mark.parametrize(
        ("key", "field"),
        [
            ("code", "code"),
            ("debtor_id", "debtorId"),
            ("invoicing", "invoicing"),
            ("is_default", "isDefault"),
            ("blocked", "blocked"),
            ("max_per_book_year", "maxPerBookYear"),
            ("max_based_on", "maxBasedOn"),
        ],
    )
    async def test_none_for_a_required_field_is_validation(
        self, session: AsyncSession, factory: Factory, key: str, field: str
    ) -> None:
        # given
        case = await factory.case(code="REQ")
        case_id = case.id
        # when
        error = await refused(session, cases.update(session, case_id, cast(CaseData, {key: None})))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == (field,)
        row = await stored(session, case_id)
        assert (row.code, row.version) == ("REQ", 1)

    async def test_version_rises_by_one_per_update(self, session: AsyncSession, factory: Factory) -> None:
        # given
        case = await factory.case()
        # when
        await cases.update(session, case.id, {"description": "one"})
        after_one = (await stored(session, case.id)).version
        await cases.update(session, case.id, {"description": "two"})
        after_two = (await stored(session, case.id)).version
        # then
        assert (after_one, after_two) == (2, 3)

    async def test_code_is_stored_trimmed(self, session: AsyncSession, factory: Factory) -> None:
        # given
        case = await factory.case(code="OLD")
        # when
        await cases.update(session, case.id, {"code": "  NEW  "})
        # then
        assert (await stored(session, case.id)).code == "NEW"

    async def test_changing_only_the_letter_case_of_its_own_code_is_allowed(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        case = await factory.case(code="code")
        # when
        await cases.update(session, case.id, {"code": "CODE"})
        # then
        assert (await stored(session, case.id)).code == "CODE"

    async def test_code_of_a_sibling_differing_in_case_is_duplicate(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        debtor = await factory.debtor()
        await factory.case(debtor=debtor, code="TAKEN")
        case = await factory.case(debtor=debtor, code="FREE")
        case_id = case.id
        # when
        error = await refused(session, cases.update(session, case_id, {"code": " taken "}))
        # then
        assert error.code is ErrorCode.DUPLICATE
        assert (await stored(session, case_id)).code == "FREE"

    @pytest.mark.parametrize(
        "cap",
        [
            {"max_per_book_year": CapKind.TIME, "max_minutes": 600},
            {"max_per_book_year": CapKind.AMOUNT, "max_amount": Decimal("500.00")},
        ],
        ids=["time", "amount"],
    )
    async def test_adding_a_cap_to_a_case_with_a_period_is_period_with_cap(
        self, session: AsyncSession, factory: Factory, cap: dict[str, Any]
    ) -> None:
        # given
        case = await factory.case(active_from=date(2026, 1, 1))
        case_id = case.id
        # when
        error = await refused(session, cases.update(session, case_id, cast(CaseData, cap)))
        # then
        assert error.code is ErrorCode.PERIOD_WITH_CAP
        row = await stored(session, case_id)
        assert (row.max_per_book_year, row.version) == (CapKind.NONE, 1)

    @pytest.mark.parametrize(
        "cap",
        [
            {"max_per_book_year": CapKind.TIME, "max_minutes": 600},
            {"max_per_book_year": CapKind.AMOUNT, "max_amount": Decimal("500.00")},
        ],
        ids=["time", "amount"],
    )
    @pytest.mark.parametrize("key", ["active_from", "active_until"])
    async def test_adding_a_period_to_a_capped_case_is_period_with_cap(
        self, session: AsyncSession, factory: Factory, cap: dict[str, Any], key: str
    ) -> None:
        # given
        case = await factory.case(**cap)
        case_id = case.id
        # when
        error = await refused(session, cases.update(session, case_id, cast(CaseData, {key: date(2026, 6, 1)})))
        # then
        assert error.code is ErrorCode.PERIOD_WITH_CAP
        row = await stored(session, case_id)
        assert (row.active_from, row.active_until) == (None, None)

    async def test_removing_the_cap_and_adding_a_period_at_once_is_allowed(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        case = await factory.case(max_per_book_year=CapKind.TIME, max_minutes=600)
        # when
        await cases.update(session, case.id, {"max_per_book_year": CapKind.NONE, "active_from": date(2026, 6, 1)})
        # then
        row = await stored(session, case.id)
        assert (row.max_per_book_year, row.active_from) == (CapKind.NONE, date(2026, 6, 1))

    async def test_clearing_the_maximum_of_a_time_cap_is_validation(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        case = await factory.case(max_per_book_year=CapKind.TIME, max_minutes=600)
        case_id = case.id
        # when
        error = await refused(session, cases.update(session, case_id, {"max_minutes": None}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("maxMinutes",)

    async def test_moving_until_before_from_is_validation(self, session: AsyncSession, factory: Factory) -> None:
        # given
        case = await factory.case(active_from=date(2026, 6, 1), active_until=date(2026, 6, 30))
        case_id = case.id
        # when
        error = await refused(session, cases.update(session, case_id, {"active_until": date(2026, 5, 31)}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("activeUntil",)

    async def test_invoicing_f_is_validation(self, session: AsyncSession, factory: Factory) -> None:
        # given
        case = await factory.case()
        case_id = case.id
        # when
        error = await refused(session, cases.update(session, case_id, {"invoicing": TimeStatus.INVOICED}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("invoicing",)

    async def test_moving_to_another_debtor_is_validation(self, session: AsyncSession, factory: Factory) -> None:
        # given
        case = await factory.case()
        other = await factory.debtor()
        case_id = case.id
        # when
        error = await refused(session, cases.update(session, case_id, {"debtor_id": other.id}))
        # then
        assert error.code is ErrorCode.VALIDATION
        assert (await stored(session, case_id)).debtor_id != other.id

    async def test_unknown_case_is_not_found(self, session: AsyncSession) -> None:
        # when
        error = await refused(session, cases.update(session, UNKNOWN_ID, {"blocked": True}))
        # then
        assert error.code is ErrorCode.NOT_FOUND


class TestImportForDebtors:
    async def test_creates_the_same_case_for_every_debtor(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtors = [await factory.debtor() for _ in range(3)]
        # when
        created, errors = await cases.import_for_debtors(
            session,
            debtor_ids=[d.id for d in debtors],
            data={"code": " IMPORTED ", "invoicing": TimeStatus.NON_BILLABLE, "is_default": True},
            best_effort=False,
        )
        # then
        assert errors == []
        assert sorted(c.debtor_id for c in created) == sorted(d.id for d in debtors)
        for case in created:
            row = await stored(session, case.id)
            assert (row.code, row.invoicing, row.is_default) == ("IMPORTED", TimeStatus.NON_BILLABLE, True)

    async def test_all_or_nothing_refuses_every_row_when_one_debtor_has_the_code(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        first, taken, last = await factory.debtor(), await factory.debtor(), await factory.debtor()
        await factory.case(debtor=taken, code="imported")
        # when the caller's transaction (here a savepoint) rolls back on the error, as a mutation does
        with pytest.raises(DomainErrors) as caught:
            async with session.begin_nested():
                await cases.import_for_debtors(
                    session, debtor_ids=[first.id, taken.id, last.id], data={"code": "IMPORTED"}, best_effort=False
                )
        # then
        [error] = caught.value.errors
        assert error.code is ErrorCode.DUPLICATE
        assert error.field[:2] == ("debtorIds", "1")
        assert "#2" in error.message
        assert await count_cases(session, code="IMPORTED") == 0
        assert await count_cases(session, code="imported") == 1

    async def test_all_or_nothing_reports_an_unknown_debtor(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        # when
        with pytest.raises(DomainErrors) as caught:
            async with session.begin_nested():
                await cases.import_for_debtors(
                    session, debtor_ids=[debtor.id, UNKNOWN_ID, None], data={"code": "IMP"}, best_effort=False
                )
        # then
        assert [(e.code, e.field[:2]) for e in caught.value.errors] == [
            (ErrorCode.NOT_FOUND, ("debtorIds", "1")),
            (ErrorCode.NOT_FOUND, ("debtorIds", "2")),
        ]
        assert await count_cases(session, code="IMP") == 0

    async def test_best_effort_keeps_the_good_rows_and_reports_the_bad(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        first, taken, last = await factory.debtor(), await factory.debtor(), await factory.debtor()
        await factory.case(debtor=taken, code="Imported")
        # when
        created, errors = await cases.import_for_debtors(
            session,
            debtor_ids=[first.id, taken.id, UNKNOWN_ID, last.id],
            data={"code": "IMPORTED"},
            best_effort=True,
        )
        # then
        assert sorted(c.debtor_id for c in created) == sorted([first.id, last.id])
        assert [(e.code, e.field[:2]) for e in errors] == [
            (ErrorCode.DUPLICATE, ("debtorIds", "1")),
            (ErrorCode.NOT_FOUND, ("debtorIds", "2")),
        ]
        assert await count_cases(session, code="IMPORTED") == 2
        assert await count_cases(session, code="Imported") == 1

    async def test_a_debtor_named_twice_gets_the_case_once(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        # when
        created, errors = await cases.import_for_debtors(
            session, debtor_ids=[debtor.id, debtor.id], data={"code": "TWICE"}, best_effort=True
        )
        # then
        assert [c.debtor_id for c in created] == [debtor.id]
        assert [(e.code, e.field[:2]) for e in errors] == [(ErrorCode.DUPLICATE, ("debtorIds", "1"))]
        assert await count_cases(session, code="TWICE") == 1

    async def test_a_rule_broken_by_the_data_fails_every_row(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtors = [await factory.debtor() for _ in range(2)]
        data: CaseData = {
            "code": "BAD",
            "max_per_book_year": CapKind.TIME,
            "max_minutes": 60,
            "active_from": date(2026, 1, 1),
        }
        # when
        created, errors = await cases.import_for_debtors(
            session, debtor_ids=[d.id for d in debtors], data=data, best_effort=True
        )
        # then
        assert created == []
        assert [e.code for e in errors] == [ErrorCode.PERIOD_WITH_CAP, ErrorCode.PERIOD_WITH_CAP]

    async def test_no_debtors_is_validation(self, session: AsyncSession) -> None:
        # when
        error = await refused(
            session, cases.import_for_debtors(session, debtor_ids=[], data={"code": "X"}, best_effort=True)
        )
        # then
        assert error.code is ErrorCode.VALIDATION
        assert error.field == ("debtorIds",)


class TestDatabaseConstraints:
    """The database holds the case rules even for a writer that bypasses the service."""

    @pytest.mark.parametrize(
        ("columns", "constraint"),
        [
            (
                "code, max_per_book_year, max_minutes, active_from",
                "ck_cases_no_period_with_cap",
            ),
            ("code, active_from, active_until", "ck_cases_period_in_order"),
            ("code, max_per_book_year", "ck_cases_time_cap_has_minutes"),
            ("code, invoicing", "ck_cases_invoicing_writable"),
            ("code", "ck_cases_code_trimmed"),
            ("code, max_amount", "ck_cases_max_amount_not_negative"),
        ],
        ids=[
            "period-with-cap",
            "until-before-from",
            "time-cap-without-minutes",
            "invoicing-f",
            "untrimmed",
            "negative",
        ],
    )
    async def test_a_row_breaking_a_case_rule_is_refused(
        self, session: AsyncSession, factory: Factory, columns: str, constraint: str
    ) -> None:
        # given
        debtor = await factory.debtor()
        values = {
            "ck_cases_no_period_with_cap": "'P', 'TIME', 600, DATE '2026-01-01'",
            "ck_cases_period_in_order": "'P', DATE '2026-02-01', DATE '2026-01-31'",
            "ck_cases_time_cap_has_minutes": "'P', 'TIME'",
            "ck_cases_invoicing_writable": "'P', 'F'",
            "ck_cases_code_trimmed": "' P '",
            "ck_cases_max_amount_not_negative": "'P', -1",
        }[constraint]
        # when
        with pytest.raises(IntegrityError) as caught:
            async with session.begin_nested():
                await session.execute(
                    text(f"INSERT INTO cases (debtor_id, {columns}) VALUES (:debtor_id, {values})"),
                    {"debtor_id": debtor.id},
                )
        # then
        assert constraint_name(caught.value) == constraint

    async def test_a_code_differing_only_in_case_is_refused(self, session: AsyncSession, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        await factory.case(debtor=debtor, code="Support")
        # when
        with pytest.raises(IntegrityError) as caught:
            async with session.begin_nested():
                await session.execute(
                    text("INSERT INTO cases (debtor_id, code) VALUES (:debtor_id, 'SUPPORT')"), {"debtor_id": debtor.id}
                )
        # then
        assert constraint_name(caught.value) == "uq_cases_debtor_code_ci"
