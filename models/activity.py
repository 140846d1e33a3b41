from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned, enum_column
from models.enums import TimeStatus


class Activity(Base, Versioned):
    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("char_length(code) BETWEEN 1 AND 200 AND code = btrim(code)", name="code_trimmed"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("default_rate >= 0", name="default_rate_not_negative"),
        CheckConstraint("default_status IN ('J', 'N')", name="default_status_writable"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    default_status: Mapped[TimeStatus] = mapped_column(
        enum_column(TimeStatus, "activity_default_status"), default=TimeStatus.BILLABLE, server_default="J"
    )
    default_rate: Mapped[Decimal | None]


Index("uq_activities_code_ci", func.lower(Activity.code), unique=True)
