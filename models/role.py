from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Table, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned, enum_column
from models.enums import EmployeeVisibility

role_visible_roles = Table(
    "role_visible_roles",
    Base.metadata,
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    Column("visible_role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Role(Base, Versioned):
    __tablename__ = "roles"
    __table_args__ = (CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    is_administrator: Mapped[bool] = mapped_column(default=False, server_default="false")
    can_enter_time_for_others: Mapped[bool] = mapped_column(default=False, server_default="false")
    can_invoice: Mapped[bool] = mapped_column(default=False, server_default="false")
    employee_visibility: Mapped[EmployeeVisibility] = mapped_column(
        enum_column(EmployeeVisibility, "employee_visibility"),
        default=EmployeeVisibility.ALL,
        server_default=EmployeeVisibility.ALL.value,
    )


Index("uq_roles_name_ci", func.lower(Role.name), unique=True)
