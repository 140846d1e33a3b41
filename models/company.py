from __future__ import annotations

from sqlalchemy import CheckConstraint, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned


class CompanySettings(Base, Versioned):
    """The single settings row (SPEC 2, Settings)."""

    __tablename__ = "company_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("book_year_start_month BETWEEN 1 AND 12", name="book_year_start_month"),
        CheckConstraint("static_list_threshold >= 1", name="static_list_threshold"),
        CheckConstraint("use_case_column OR NOT require_case", name="require_case_needs_column"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    time_tracking_enabled: Mapped[bool] = mapped_column(default=True, server_default="true")
    use_case_column: Mapped[bool] = mapped_column(default=True, server_default="true")
    require_case: Mapped[bool] = mapped_column(default=False, server_default="false")
    book_year_start_month: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    static_list_threshold: Mapped[int] = mapped_column(default=9500, server_default="9500")
    time_zone: Mapped[str] = mapped_column(Text, default="UTC", server_default="UTC")
