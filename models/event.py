from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Event(Base):
    """A domain event (SPEC 13), appended by the triggers of migration 0008 in the transaction of the change it tells
    of; never written by the application. `changes` maps each changed column to [before, after] as JSON; `xid` (the
    writing transaction, for reading in commit order) is left to SQL."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    type: Mapped[str] = mapped_column(Text)
    record_type: Mapped[str] = mapped_column(Text)
    record_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int | None]
    employee_id: Mapped[int | None]
    left_employee_id: Mapped[int | None]  # an edit gave the entry to another employee: whose it was
    case_id: Mapped[int | None]
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
