"""The input rules of SPEC 5b and `Problems`, which gathers every broken one of an input (SPEC 12)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from models import TimeStatus
from services import validation
from services.errors import DomainError, DomainErrors, ErrorCode, invalid
from services.validation import Problems


def refusal_of(rule: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        rule()
    return caught.value


class TestProblems:
    def test_a_passing_check_gives_the_rule_s_value_and_notes_nothing(self) -> None:
        # given
        problems = Problems()
        # when
        value = problems.check(validation.name, "  Acme ", "name")
        # then
        assert value == "Acme"
        assert problems.errors == []
        problems.raise_if_any()  # nothing to refuse

    def test_every_broken_rule_is_kept_in_order(self) -> None:
        # given
        problems = Problems()
        # when
        values = [
            problems.check(validation.name, "", "name"),
            problems.check(validation.money, Decimal("1.005"), "rate"),
            problems.check(validation.day, date(1999, 1, 1), "workDate"),
        ]
        # then
        assert values == [None, None, None]
        assert [(e.code, e.field) for e in problems.errors] == [
            (ErrorCode.VALIDATION, ("name",)),
            (ErrorCode.VALIDATION, ("rate",)),
            (ErrorCode.VALIDATION, ("workDate",)),
        ]

    def test_several_problems_are_refused_together(self) -> None:
        # given
        problems = Problems()
        problems.check(validation.name, None, "code")
        problems.check(validation.name, None, "name")
        # when
        with pytest.raises(DomainErrors) as caught:
            problems.raise_if_any()
        # then
        assert [e.field for e in caught.value.errors] == [("code",), ("name",)]

    def test_one_problem_is_refused_as_a_domain_error(self) -> None:
        # given
        problems = Problems()
        problems.check(validation.name, None, "code")
        # when
        error = refusal_of(problems.raise_if_any)
        # then
        assert (error.field, error.message) == (("code",), "code may not be empty")

    def test_a_field_keeps_its_first_problem(self) -> None:
        # given
        problems = Problems()
        problems.check(validation.minutes_limit, -1, "maxMinutes")
        # when: a rule between fields blames the value that was refused already
        problems.add(invalid("maxMinutes may not be empty with a TIME maximum", "maxMinutes"))
        problems.add(invalid("a problem of the whole input"))
        problems.add(invalid("another problem of the whole input"))
        # then
        assert [e.message for e in problems.errors] == [
            "maxMinutes must be between 0 and 2,000,000,000",
            "a problem of the whole input",
            "another problem of the whole input",
        ]
        assert problems.broken("maxMinutes")
        assert not problems.broken("minutes")

    def test_a_nested_input_is_named_under_its_path_in_the_same_collection(self) -> None:
        # given
        problems = Problems()
        # when
        problems.check(validation.bulk, [1] * 501, "changes")
        problems.within("changes", "3").check(validation.between, 0, 1, 1440, "minutes")
        problems.within("changes", "4").add(DomainErrors([invalid("x", "a"), invalid("y", "b")]))
        # then
        assert [e.field for e in problems.errors] == [
            ("changes",),
            ("changes", "3", "minutes"),
            ("changes", "4", "a"),
            ("changes", "4", "b"),
        ]
        assert problems.within("changes", "3").broken("minutes")
        assert problems.errors[1].message == "minutes must be between 1 and 1440"

    def test_checks_that_raise_several_at_once_are_gathered_too(self) -> None:
        # given
        def two(_: object) -> None:
            raise DomainErrors([invalid("first", "a"), invalid("second", "b")])

        problems = Problems()
        # when
        problems.check(two, None)
        # then
        assert validation.refusals(DomainErrors(problems.errors)) == problems.errors
        assert [e.message for e in problems.errors] == ["first", "second"]

    def test_something_other_than_a_refusal_is_not_swallowed(self) -> None:
        # given
        def broken(_: object) -> None:
            raise ZeroDivisionError

        # when / then
        with pytest.raises(ZeroDivisionError):
            Problems().check(broken, None)


class TestMessages:
    """Every message reads `<fieldName> <what is wrong>`."""

    @pytest.mark.parametrize(
        ("rule", "message"),
        [
            (lambda: validation.name(None, "code"), "code may not be empty"),
            (lambda: validation.name(" \t", "code"), "code may not be empty"),
            (lambda: validation.name("c" * 201, "code"), "code must be at most 200 characters"),
            (lambda: validation.name("a\x00b", "name"), "name may not contain NUL characters"),
            (lambda: validation.description("d" * 4001), "description must be at most 4000 characters"),
            (lambda: validation.email("nobody"), "email must be an email address like name@example.com"),
            (lambda: validation.money(Decimal("NaN"), "rate"), "rate must be a number"),
            (lambda: validation.money(Decimal("-0.01"), "rate"), "rate must be between 0 and 99,999,999.99"),
            (lambda: validation.money(Decimal("1.005"), "rate"), "rate must have at most 2 decimals"),
            (lambda: validation.day(date(2101, 1, 1), "upTo"), "upTo must be between 2000-01-01 and 2100-12-31"),
            (lambda: validation.required(None, "roleId"), "roleId may not be empty"),
            (lambda: validation.between(0, 1, 1440, "minutes"), "minutes must be between 1 and 1440"),
            (lambda: validation.minutes_limit(-1, "maxMinutes"), "maxMinutes must be between 0 and 2,000,000,000"),
            (lambda: validation.bulk([], "ids", required=True), "ids may not be empty"),
            (lambda: validation.bulk([0] * 501, "ids"), "ids must hold at most 500 items, not 501"),
            (
                lambda: validation.writable_status(TimeStatus.INVOICED, "status"),
                "status must be BILLABLE or NON_BILLABLE",
            ),
        ],
    )
    def test_a_rule_names_its_field_first(self, rule: Callable[[], object], message: str) -> None:
        # when
        error = refusal_of(rule)
        # then
        assert error.message == message
        assert error.message.startswith(error.field[-1] + " ")

    def test_a_huge_number_with_many_decimals_is_refused_not_rounded(self) -> None:
        # when: rounding it to cents would exceed the decimal context's precision
        error = refusal_of(lambda: validation.money(Decimal("9" * 100 + ".001"), "rate"))
        # then
        assert error.message == "rate must be between 0 and 99,999,999.99"

    @pytest.mark.parametrize(("number", "written"), [(1440, "1440"), (9999, "9999"), (10_000, "10,000")])
    def test_numbers_from_ten_thousand_on_are_grouped(self, number: int, written: str) -> None:
        assert validation.number(number) == written


class TestFields:
    FIELDS = validation.Fields(
        {"code": validation.name, "rate": validation.money, "role_id": validation.required},
        needed=("code", "role_id"),
        defaulted=("blocked",),
    )

    def test_a_new_input_is_checked_in_its_needed_fields_too(self) -> None:
        # when
        with pytest.raises(DomainErrors) as caught:
            self.FIELDS.checked({"rate": Decimal("0.001"), "blocked": None}, creating=True)
        # then
        assert [(e.field, e.message) for e in caught.value.errors] == [
            (("code",), "code may not be empty"),
            (("roleId",), "roleId may not be empty"),
            (("rate",), "rate must have at most 2 decimals"),
        ]

    def test_a_new_input_leaves_a_defaulted_field_left_empty_out(self) -> None:
        # when
        checked = self.FIELDS.checked({"code": " C ", "role_id": 7, "blocked": None, "free": "x"}, creating=True)
        # then
        assert checked == {"code": "C", "role_id": 7, "free": "x"}

    def test_a_patch_is_checked_in_the_fields_it_gives_and_may_not_clear_a_defaulted_one(self) -> None:
        # when
        with pytest.raises(DomainErrors) as caught:
            self.FIELDS.checked({"blocked": None, "role_id": None}, creating=False)
        # then
        assert [e.field for e in caught.value.errors] == [("blocked",), ("roleId",)]
        assert self.FIELDS.checked({"rate": Decimal("1.5")}, creating=False) == {"rate": Decimal("1.50")}

    def test_check_leaves_a_broken_field_out_and_notes_it(self) -> None:
        # given
        problems = Problems()
        # when
        checked = self.FIELDS.check({"code": "", "role_id": 1, "rate": Decimal(2)}, problems, creating=True)
        # then
        assert checked == {"role_id": 1, "rate": Decimal("2.00")}
        assert [e.field for e in problems.errors] == [("code",)]
