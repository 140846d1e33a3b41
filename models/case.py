from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned, enum_column
from models.enums import CapBasis, CapKind, TimeStatus


class Case(Base, Versioned):
    """A project of one debtor, with the fields of the Cases maintenance page (SPEC 2)."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("char_length(code) BETWEEN 1 AND 200 AND code = btrim(code)", name="code_trimmed"),
        CheckConstraint("char_length(description) <= 4000", name="description_length"),
        CheckConstraint("invoicing IN ('J', 'N')", name="invoicing_writable"),
        CheckConstraint("active_until >= active_from", name="period_in_order"),
        CheckConstraint(
            "max_per_book_year = 'NONE' OR (active_from IS NULL AND active_until IS NULL)",
            name="no_period_with_cap",
        ),
        CheckConstraint("max_per_book_year <> 'TIME' OR max_minutes IS NOT NULL", name="time_cap_has_minutes"),
        CheckConstraint("max_per_book_year <> 'AMOUNT' OR max_amount IS NOT NULL", name="amount_cap_has_amount"),
        CheckConstraint("adjusted_rate >= 0", name="adjusted_rate_not_negative"),
        CheckConstraint("max_amount >= 0", name="max_amount_not_negative"),
        CheckConstraint("max_minutes >= 0", name="max_minutes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    code: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    invoicing: Mapped[TimeStatus] = mapped_column(
        enum_column(TimeStatus, "case_invoicing"), default=TimeStatus.BILLABLE, server_default="J"
    )
    is_default: Mapped[bool] = mapped_column(default=False, server_default="false")
    active_from: Mapped[date | None]
    active_until: Mapped[date | None]
    adjusted_rate: Mapped[Decimal | None]
    blocked: Mapped[bool] = mapped_column(default=False, server_default="false")
    max_amount: Mapped[Decimal | None]
    max_minutes: Mapped[int | None]
    max_per_book_year: Mapped[CapKind] = mapped_column(
        enum_column(CapKind, "cap_kind"), default=CapKind.NONE, server_default="NONE"
    )
    max_based_on: Mapped[CapBasis] = mapped_column(
        enum_column(CapBasis, "cap_basis"), default=CapBasis.BILLABLE, server_default="BILLABLE"
    )
    # percentages of the maximum whose crossing is an event (`cap.threshold`, SPEC 13)
    cap_thresholds: Mapped[list[int]] = mapped_column(
        ARRAY(SmallInteger), default=lambda: [50, 80, 100], server_default="{50,80,100}"
    )
    # kept by every write path so choosing the time list's mode costs no COUNT (SPEC 7)
    time_entry_count: Mapped[int] = mapped_column(default=0, server_default="0")


Index("uq_cases_debtor_code_ci", Case.debtor_id, func.lower(Case.code), unique=True)
Index("ix_cases_code_id", Case.code, Case.id)
