from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned


class Debtor(Base, Versioned):
    """A customer (SPEC 2)."""

    __tablename__ = "debtors"
    __table_args__ = (
        CheckConstraint("char_length(code) BETWEEN 1 AND 200 AND code = btrim(code)", name="code_trimmed"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("adjusted_rate >= 0", name="adjusted_rate_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    adjusted_rate: Mapped[Decimal | None]


Index("uq_debtors_code_ci", func.lower(Debtor.code), unique=True)
