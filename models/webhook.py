from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned, enum_column
from models.enums import DeliveryStatus


class Webhook(Base, Versioned):
    """An endpoint that is POSTed each event of its chosen types (SPEC 13). `from_xid`/`from_event_id`: the event
    feed's position when it was made or last switched on; only events after it are its to receive."""

    __tablename__ = "webhooks"
    __table_args__ = (
        CheckConstraint("char_length(url) BETWEEN 1 AND 2000", name="url_length"),
        CheckConstraint("cardinality(event_types) >= 1", name="event_types_given"),
        CheckConstraint("char_length(secret) BETWEEN 16 AND 200", name="secret_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    from_xid: Mapped[int] = mapped_column(BigInteger)
    from_event_id: Mapped[int] = mapped_column(BigInteger)


class WebhookDelivery(Base):
    """One event to one webhook, and how its attempts went. `attempt_limit`: the attempts it may make in all before
    it is FAILED (a replay grants a new series); `leased_until`: an instance is sending it until then."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("uq_webhook_deliveries_webhook_event", "webhook_id", "event_id", unique=True),
        # a webhook's deliveries, newest first (`Webhook.deliveries`)
        Index("ix_webhook_deliveries_webhook_id", "webhook_id", "id"),
        # the deliveries due, in the order they are claimed
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'PENDING'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id"))
    event_type: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"),
        default=DeliveryStatus.PENDING,
        server_default=DeliveryStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    attempt_limit: Mapped[int]
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookFeed(Base):
    """How far the event feed has been turned into deliveries: just after the event of transaction `xid` with id
    `event_id` (services/event_feed.py). One row, locked by the one instance feeding at a time."""

    __tablename__ = "webhook_feed"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    xid: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(BigInteger)
