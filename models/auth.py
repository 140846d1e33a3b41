from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, LargeBinary, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AuthToken(Base):
    """A bearer token, stored only as its SHA-256 digest (SPEC 5a)."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginFailure(Base):
    """A failed password check, or one still being checked, counted per email and per client address (SPEC 12).

    `key` is the SHA-256 of the kind and the value: the table holds no email or address in the clear (someone who
    types a password into the email field leaves no trace of it here)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)


class RecentWrite(Base):
    """When an employee last began a write, kept only while a read replica serves (SPEC 12): for a while after it,
    their reports and lists read the primary, so they see what they wrote (services/read_your_writes.py)."""

    __tablename__ = "recent_writes"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
