from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AuthToken(Base):
    """A bearer token, stored only as its SHA-256 digest (SPEC 5a)."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
