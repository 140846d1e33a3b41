from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned


class Invoice(Base, Versioned):
    """Billable time of one debtor, turned F (SPEC 8). Voided invoices keep their number."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(Text, unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    invoice_date: Mapped[date] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    voided: Mapped[bool] = mapped_column(default=False, server_default="false")
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))


Index("ix_invoices_debtor_id", Invoice.debtor_id, Invoice.id)


class InvoiceLine(Base):
    """Minutes and amount of one case, activity and rate on an invoice."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    rate: Mapped[Decimal]
    minutes: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))


# which entries an invoice billed, kept after voiding so a voided invoice still lists them
invoice_entries = Table(
    "invoice_entries",
    Base.metadata,
    Column("invoice_id", ForeignKey("invoices.id"), primary_key=True),
    Column("time_entry_id", ForeignKey("time_entries.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class InvoiceCounter(Base):
    """The gap-free invoice sequence: a row locked in each invoice's transaction, never a database sequence."""

    __tablename__ = "invoice_counter"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    last_number: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class RollupCounts:
    """The key beyond the date, and the sums, of both report rollups."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    case_id: Mapped[int] = mapped_column(default=0, server_default="0")  # 0: no case, so the key has no NULL
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    status: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0, server_default="0")
    entries: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class TimeRollup(RollupCounts, Base):
    """Minutes, amounts and entry counts per day, employee, debtor, case, activity and status.

    Every write path keeps it in the entry's transaction; reports read it instead of the entries.
    """

    __tablename__ = "time_rollup"

    work_date: Mapped[date] = mapped_column(Date)


Index(
    "uq_time_rollup_key",
    TimeRollup.work_date,
    TimeRollup.employee_id,
    TimeRollup.debtor_id,
    TimeRollup.case_id,
    TimeRollup.activity_id,
    TimeRollup.status,
    unique=True,
)
Index("ix_time_rollup_debtor_date", TimeRollup.debtor_id, TimeRollup.work_date)


class TimeRollupMonth(RollupCounts, Base):
    """The rollup per month (`month`, its first day), employee, debtor, case, activity and status.

    Kept by the same writes in the same transactions as `TimeRollup`; reports read it for whole months.
    """

    __tablename__ = "time_rollup_month"

    month: Mapped[date] = mapped_column(Date)


Index(
    "uq_time_rollup_month_key",
    TimeRollupMonth.month,
    TimeRollupMonth.employee_id,
    TimeRollupMonth.debtor_id,
    TimeRollupMonth.case_id,
    TimeRollupMonth.activity_id,
    TimeRollupMonth.status,
    unique=True,
)
