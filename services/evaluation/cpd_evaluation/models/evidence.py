"""Tables of what an evaluation adds beyond its plan: the organisational support leaders record
(evaluation level 3: time given, resources, barriers) and the trust's costing settings (the
hourly cost of staff time, which prices participants' hours in value for money)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin
from cpd_evaluation.models import Base


class SupportRecord(IdMixin, TenantMixin, TimestampMixin, Base):
    """Organisational support given to the CPD a plan evaluates, as a leader recorded it."""

    __tablename__ = "support_records"
    __table_args__ = (
        CheckConstraint("hours_given IS NULL OR hours_given BETWEEN 0 AND 100000", name="hours"),
        CheckConstraint(
            "hours_given IS NOT NULL OR resources IS NOT NULL OR barriers IS NOT NULL "
            "OR notes IS NOT NULL",
            name="says_something",
        ),
        Index("ix_support_records_plan_id_id", "plan_id", "id"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evaluation_plans.id", ondelete="CASCADE")
    )
    recorded_on: Mapped[date] = mapped_column(Date)
    # Time the school gave the CPD (protected time, cover, meetings), in hours.
    hours_given: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    resources: Mapped[str | None] = mapped_column(Text)
    barriers: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class EvaluationSettings(Base):
    """A trust's costing settings. ``hourly_staff_cost`` prices an hour of a participant's
    time (salary and on-costs); null until the trust sets it."""

    __tablename__ = "evaluation_settings"
    __table_args__ = (
        CheckConstraint(
            "hourly_staff_cost IS NULL OR hourly_staff_cost BETWEEN 0 AND 10000", name="hourly"
        ),
    )

    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hourly_staff_cost: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
