"""The pure rules of time writing: default status (SPEC 3), rates and amounts (SPEC 4), the cap split (SPEC 6),
book years, and the time list's mode (SPEC 7). No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from models import CapBasis, CapKind, Case, TimeStatus
from services.book_year import BookYear, book_year_of
from services.cap import counts_towards, split_amount, split_minutes
from services.errors import DomainError, ErrorCode
from services.rates import RateLevel, amount, first_rate
from services.time_entries import default_status
from services.time_queries import KEYSETS, NEWEST_FIRST, TimeListMode, TimeListOrder, keyset_for, list_mode

J, F, N, L = TimeStatus.BILLABLE, TimeStatus.INVOICED, TimeStatus.NON_BILLABLE, TimeStatus.OVER_LIMIT


def a_case(*, invoicing: TimeStatus = J, cap: CapKind = CapKind.NONE, basis: CapBasis = CapBasis.BILLABLE) -> Case:
    return Case(invoicing=invoicing, max_per_book_year=cap, max_based_on=basis)


class TestDefaultStatus:
    @pytest.mark.parametrize("given", [J, N])
    def test_status_given_wins_over_case_and_activity(self, given: TimeStatus) -> None:
        # given
        other = N if given is J else J
        # when
        chosen = default_status(status=given, billable=None, case=a_case(invoicing=other), activity_default=other)
        # then
        assert chosen is given

    @pytest.mark.parametrize(("billable", "expected"), [(True, J), (False, N)])
    def test_billable_checkbox_wins_over_case_and_activity(self, billable: bool, expected: TimeStatus) -> None:
        # given
        other = N if expected is J else J
        # when
        chosen = default_status(status=None, billable=billable, case=a_case(invoicing=other), activity_default=other)
        # then
        assert chosen is expected

    @pytest.mark.parametrize(("status", "billable"), [(J, True), (N, False)])
    def test_status_and_checkbox_agreeing_give_that_status(self, status: TimeStatus, billable: bool) -> None:
        # when
        chosen = default_status(status=status, billable=billable, case=None, activity_default=N if billable else J)
        # then
        assert chosen is status

    @pytest.mark.parametrize(("status", "billable"), [(J, False), (N, True)])
    def test_status_and_checkbox_disagreeing_are_validation(self, status: TimeStatus, billable: bool) -> None:
        # when
        with pytest.raises(DomainError) as caught:
            default_status(status=status, billable=billable, case=None, activity_default=J)
        # then
        assert caught.value.code is ErrorCode.VALIDATION
        assert caught.value.field == ("billable",)

    @pytest.mark.parametrize("status", [F, L])
    @pytest.mark.parametrize("billable", [None, True, False])
    def test_invoiced_or_over_limit_given_is_validation(self, status: TimeStatus, billable: bool | None) -> None:
        # when
        with pytest.raises(DomainError) as caught:
            default_status(status=status, billable=billable, case=a_case(), activity_default=J)
        # then
        assert caught.value.code is ErrorCode.VALIDATION
        assert caught.value.field == ("status",)

    @pytest.mark.parametrize(("invoicing", "activity_default"), [(N, J), (J, N), (J, J), (N, N)])
    def test_without_writer_choice_the_case_invoicing_decides(
        self, invoicing: TimeStatus, activity_default: TimeStatus
    ) -> None:
        # when
        chosen = default_status(
            status=None, billable=None, case=a_case(invoicing=invoicing), activity_default=activity_default
        )
        # then
        assert chosen is invoicing

    @pytest.mark.parametrize("activity_default", [J, N])
    def test_without_case_the_activity_default_decides(self, activity_default: TimeStatus) -> None:
        # when
        chosen = default_status(status=None, billable=None, case=None, activity_default=activity_default)
        # then
        assert chosen is activity_default


LEVELS = ["case_rate", "debtor_rate", "employee_activity_rate", "employee_rate", "activity_rate"]
LEVEL_OF = dict(
    zip(
        LEVELS,
        [RateLevel.CASE, RateLevel.DEBTOR, RateLevel.EMPLOYEE_ACTIVITY, RateLevel.EMPLOYEE, RateLevel.ACTIVITY],
        strict=True,
    )
)


class TestFirstRate:
    @pytest.mark.parametrize("winner", range(len(LEVELS)))
    def test_the_first_level_that_exists_wins_over_all_below(self, winner: int) -> None:
        # given: levels above the winner are missing, every level below it has a (different) rate
        rates: dict[str, Decimal | None] = {
            name: None if i < winner else Decimal(f"{10 * (i + 1)}.00") for i, name in enumerate(LEVELS)
        }
        # when
        resolved = first_rate(**rates)
        # then
        assert resolved.rate == Decimal(f"{10 * (winner + 1)}.00")
        assert resolved.level is LEVEL_OF[LEVELS[winner]]

    @pytest.mark.parametrize("only", LEVELS)
    def test_a_single_level_is_found_wherever_it_sits(self, only: str) -> None:
        # given
        rates: dict[str, Decimal | None] = dict.fromkeys(LEVELS)
        rates[only] = Decimal("42.50")
        # when
        resolved = first_rate(**rates)
        # then
        assert (resolved.rate, resolved.level) == (Decimal("42.50"), LEVEL_OF[only])

    def test_a_zero_rate_exists_and_overrules_the_levels_below(self) -> None:
        # when
        resolved = first_rate(
            case_rate=None,
            debtor_rate=Decimal("0.00"),
            employee_activity_rate=Decimal("80.00"),
            employee_rate=Decimal("70.00"),
            activity_rate=Decimal("60.00"),
        )
        # then
        assert (resolved.rate, resolved.level) == (Decimal("0.00"), RateLevel.DEBTOR)

    def test_no_level_is_no_rate(self) -> None:
        # when
        with pytest.raises(DomainError) as caught:
            first_rate(**dict.fromkeys(LEVELS))
        # then
        assert caught.value.code is ErrorCode.NO_RATE


class TestAmount:
    @pytest.mark.parametrize(
        ("minutes", "rate", "expected"),
        [
            (1, "0.30", "0.01"),  # 0.005: a tie goes up
            (1, "0.90", "0.02"),  # 0.015
            (3, "0.10", "0.01"),  # 0.005
            (30, "0.01", "0.01"),  # 0.005
            (7, "12.30", "1.44"),  # 1.435
            (1, "0.29", "0.00"),  # 0.00483…
            (29, "0.01", "0.00"),  # 0.00483…
            (59, "0.01", "0.01"),  # 0.00983…
            (1, "1.00", "0.02"),  # 0.01666…
            (60, "100.00", "100.00"),
            (45, "85.00", "63.75"),
            (1440, "99999.99", "2399999.76"),
            (1440, "0.00", "0.00"),
        ],
    )
    def test_rounds_half_up_to_cents(self, minutes: int, rate: str, expected: str) -> None:
        # when
        result = amount(minutes, Decimal(rate))
        # then
        assert result == Decimal(expected)
        assert str(result) == expected  # always exactly two decimals


class TestSplitMinutes:
    @pytest.mark.parametrize(
        ("limit", "used", "requested", "expected"),
        [
            (100, 0, 80, (80, 0)),
            (100, 70, 30, (30, 0)),  # exactly fills the cap
            (100, 70, 50, (30, 20)),
            (100, 100, 30, (0, 30)),
            (100, 130, 30, (0, 30)),  # already over (released L time): nothing fits
            (0, 0, 5, (0, 5)),
        ],
    )
    def test_fits_what_is_left(self, limit: int, used: int, requested: int, expected: tuple[int, int]) -> None:
        # when
        result = split_minutes(limit=limit, used=used, requested=requested)
        # then
        assert result == expected


class TestSplitAmount:
    @pytest.mark.parametrize(
        ("limit", "used", "requested", "rate", "expected"),
        [
            ("100.00", "70.00", 60, "70.00", (25, 35)),  # floor(30 * 60 / 70) = floor(25.71)
            ("100.00", "0.00", 60, "100.00", (60, 0)),  # exactly the limit
            ("100.00", "0.00", 61, "100.00", (60, 1)),
            ("0.01", "0.00", 5, "0.61", (0, 5)),  # 0.6 / 0.61 < 1 minute, though 1 minute would round to 0.01
            ("100.00", "100.00", 10, "60.00", (0, 10)),
            ("100.00", "120.00", 10, "60.00", (0, 10)),
            ("100.00", "100.00", 10, "0.00", (10, 0)),  # free time never exceeds an amount
        ],
    )
    def test_fits_floor_of_space_times_60_over_rate(
        self, limit: str, used: str, requested: int, rate: str, expected: tuple[int, int]
    ) -> None:
        # when
        result = split_amount(limit=Decimal(limit), used=Decimal(used), requested=requested, rate=Decimal(rate))
        # then
        assert result == expected


class TestCountsTowards:
    @pytest.mark.parametrize(
        ("basis", "counted"),
        [(CapBasis.BILLABLE, {J, F}), (CapBasis.NON_BILLABLE, {N})],
    )
    @pytest.mark.parametrize("cap", [CapKind.TIME, CapKind.AMOUNT])
    def test_statuses_of_the_basis_count_and_l_never(
        self, cap: CapKind, basis: CapBasis, counted: set[TimeStatus]
    ) -> None:
        # given
        case = a_case(cap=cap, basis=basis)
        # when
        result = {status for status in TimeStatus if counts_towards(case, status)}
        # then
        assert result == counted

    @pytest.mark.parametrize("basis", list(CapBasis))
    def test_nothing_counts_without_a_cap(self, basis: CapBasis) -> None:
        # given
        case = a_case(cap=CapKind.NONE, basis=basis)
        # when
        result = {status for status in TimeStatus if counts_towards(case, status)}
        # then
        assert result == set()


class TestBookYearOf:
    @pytest.mark.parametrize(
        ("day", "start_month", "expected"),
        [
            (date(2026, 1, 1), 1, BookYear(date(2026, 1, 1), date(2027, 1, 1))),
            (date(2026, 12, 31), 1, BookYear(date(2026, 1, 1), date(2027, 1, 1))),
            (date(2026, 3, 31), 4, BookYear(date(2025, 4, 1), date(2026, 4, 1))),
            (date(2026, 4, 1), 4, BookYear(date(2026, 4, 1), date(2027, 4, 1))),
            (date(2024, 2, 29), 3, BookYear(date(2023, 3, 1), date(2024, 3, 1))),
            (date(2024, 2, 29), 2, BookYear(date(2024, 2, 1), date(2025, 2, 1))),
            (date(2000, 1, 1), 12, BookYear(date(1999, 12, 1), date(2000, 12, 1))),
            (date(2100, 12, 31), 12, BookYear(date(2100, 12, 1), date(2101, 12, 1))),
        ],
    )
    def test_twelve_months_from_the_start_month(self, day: date, start_month: int, expected: BookYear) -> None:
        # when
        year = book_year_of(day, start_month)
        # then
        assert year == expected
        assert day in year


class TestListMode:
    @pytest.mark.parametrize("threshold", [1, 2, 9500])
    def test_exactly_the_threshold_is_editable(self, threshold: int) -> None:
        # when
        mode = list_mode(threshold, threshold)
        # then
        assert mode is TimeListMode.EDITABLE

    @pytest.mark.parametrize("threshold", [1, 2, 9500])
    def test_one_over_the_threshold_is_static(self, threshold: int) -> None:
        # when
        mode = list_mode(threshold + 1, threshold)
        # then
        assert mode is TimeListMode.STATIC

    def test_an_empty_case_is_editable(self) -> None:
        # when
        mode = list_mode(0, 1)
        # then
        assert mode is TimeListMode.EDITABLE

    @pytest.mark.parametrize("order", list(TimeListOrder))
    def test_static_ignores_the_order_and_editable_honours_it(self, order: TimeListOrder) -> None:
        # when
        static, editable = keyset_for(TimeListMode.STATIC, order), keyset_for(TimeListMode.EDITABLE, order)
        # then
        assert static is NEWEST_FIRST
        assert editable is KEYSETS[order]
