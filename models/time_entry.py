from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, LargeBinary, Numeric, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import ColumnElement

from models.base import Base, Versioned, enum_column
from models.enums import EntrySource, TimeStatus


class TimeEntry(Base, Versioned):
    """Time one employee spent for a debtor, optionally on a case (SPEC 2)."""

    __tablename__ = "time_entries"
    __table_args__ = (
        CheckConstraint("minutes BETWEEN 1 AND 1440", name="minutes_range"),
        CheckConstraint("rate >= 0", name="rate_not_negative"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("char_length(description) <= 4000", name="description_length"),
        CheckConstraint("over_limit_of_id IS NULL OR status = 'L'", name="over_limit_line_is_l"),
        CheckConstraint("cardinality(tags) <= 10", name="tags_count"),
        # a NULL item would break `[String!]!`; a multidimensional array makes array_position raise, refused too
        CheckConstraint("array_position(tags, NULL) IS NULL", name="tags_no_null"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    work_date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int]
    status: Mapped[TimeStatus] = mapped_column(enum_column(TimeStatus, "time_status"))
    rate: Mapped[Decimal]
    amount: Mapped[Decimal]
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    source: Mapped[EntrySource] = mapped_column(enum_column(EntrySource, "entry_source"))
    invoice_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("invoices.id"), index=True)
    over_limit_of_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("time_entries.id", ondelete="SET NULL"), unique=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))


# the STATIC list's fixed order, and the EDITABLE list's orders, each served by its own index
Index("ix_time_entries_case_date", TimeEntry.case_id, TimeEntry.work_date.desc(), TimeEntry.id.desc())
Index("ix_time_entries_case_minutes", TimeEntry.case_id, TimeEntry.minutes, TimeEntry.id)
Index("ix_time_entries_date", TimeEntry.work_date.desc(), TimeEntry.id.desc())
Index("ix_time_entries_employee_date", TimeEntry.employee_id, TimeEntry.work_date)
Index("ix_time_entries_debtor_date", TimeEntry.debtor_id, TimeEntry.work_date)
Index("ix_time_entries_activity", TimeEntry.activity_id)


def tag_keys(tags: Any) -> ColumnElement[list[str]]:
    """The tags as the filter compares them, ignoring case: the database function of migration 0006."""
    return func.tag_keys(tags, type_=ARRAY(Text))


# the tags filter's `&&`, without which a filter of tags alone reads every entry
Index("ix_time_entries_tag_keys", tag_keys(TimeEntry.tags), postgresql_using="gin")


class CaseYearTotals(Base):
    """Minutes and amounts of one case in one book year, per status (SPEC 6 step 2).

    The row is also the lock that queues concurrent writers on the case's book year.
    """

    __tablename__ = "case_year_totals"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    year_start: Mapped[date] = mapped_column(Date, primary_key=True)
    j_minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    f_minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    n_minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    l_minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    j_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0, server_default="0")
    f_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0, server_default="0")
    n_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0, server_default="0")
    l_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0, server_default="0")


class IdempotencyKey(Base):
    """A writer's key for one create: a repeat returns the first result (SPEC 6)."""

    __tablename__ = "idempotency_keys"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary)
    time_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    over_limit_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    warnings: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)


class Timer(Base):
    """The one running timer of an employee, shared by web and mobile (SPEC 2, 6)."""

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # one running timer per employee, held by the database
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    description: Mapped[str | None] = mapped_column(Text)
