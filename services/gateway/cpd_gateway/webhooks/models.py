"""Tables of outbound webhooks: subscriptions, one delivery per (subscription, event), and
every attempt at a delivery."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin, utcnow
from cpd_gateway.models import Base


class WebhookSubscription(IdMixin, TenantMixin, TimestampMixin, Base):
    """Where a trust (or one of its API clients, ``owner_client_id``) wants events posted.
        The secret signs the deliveries (``whsec_`` + base64); it is shown once and kept, encrypted,
    to sign."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (CheckConstraint("status IN ('active', 'paused')", name="status"),)

    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(120)))
    description: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Encrypted (cpd_gateway.secret_box): decrypted only to sign a delivery.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    owner_client_id: Mapped[str | None] = mapped_column(String(100), index=True)
    created_by: Mapped[str] = mapped_column(String(200))


class WebhookDelivery(IdMixin, TenantMixin, Base):
    """One event for one subscription. ``event_id`` is the ``webhook-id`` of every attempt;
    ``seq`` keeps the stream's order (an aggregate's later event waits for its earlier one)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription_id_seq", "subscription_id", "seq"),
        Index(
            "ix_webhook_deliveries_subscription_id_updated_at_id",
            "subscription_id",
            "updated_at",
            "id",
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), unique=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Retries stop after this (24 hours after the first try, or after a replay).
    give_up_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Incremental sync of a subscription's deliveries (each attempt or replay moves it).
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=utcnow
    )


class WebhookAttempt(IdMixin, Base):
    """One POST of a delivery: its outcome, the receiver's status code and the latency."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
