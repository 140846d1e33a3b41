from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned


class Employee(Base, Versioned):
    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("default_rate >= 0", name="default_rate_not_negative"),
        CheckConstraint("supervisor_id <> id", name="not_own_supervisor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    default_rate: Mapped[Decimal | None]


Index("uq_employees_email_ci", func.lower(Employee.email), unique=True)
Index("ix_employees_name_id", Employee.name, Employee.id)


class EmployeeRate(Base):
    """An employee's own rate for one activity (SPEC 4, third level)."""

    __tablename__ = "employee_rates"
    __table_args__ = (CheckConstraint("rate >= 0", name="rate_not_negative"),)

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), primary_key=True, index=True)
    rate: Mapped[Decimal]
