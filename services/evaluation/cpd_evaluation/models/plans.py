"""Tables of evaluation plans: how a CPD activity or programme will be evaluated (the
evaluation tool's prompts), and which activities each plan covers.

An activity belongs to at most one plan: the unique constraint on
``evaluation_plan_activities.activity_id`` holds that rule, whatever runs concurrently.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin
from cpd_evaluation.models import Base, _one_of
from cpd_evaluation.terms.plans import PLAN_STATUSES


class EvaluationPlan(IdMixin, TenantMixin, TimestampMixin, Base):
    """How one activity or programme will be evaluated. ``baseline_data``,
    ``short_term_data`` and ``medium_term_data`` each hold ``{"quantitative": [...],
    "qualitative": [...], "analysis": ...}``: what is (or will be) collected and how it is
    analysed."""

    __tablename__ = "evaluation_plans"
    __table_args__ = (
        CheckConstraint(_one_of("status", PLAN_STATUSES), name="status"),
        CheckConstraint("cardinality(levels) >= 1", name="levels"),
        CheckConstraint("pupils_reached IS NULL OR pupils_reached >= 0", name="pupils_reached"),
        Index("ix_evaluation_plans_school_ids", "school_ids", postgresql_using="gin"),
    )

    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), default="planned")
    # The design check: does the chain reach from staff learning to pupil outcomes?
    reaches_pupil_outcomes: Mapped[bool] = mapped_column(Boolean)
    design_note: Mapped[str | None] = mapped_column(Text)
    short_term_outcome: Mapped[str] = mapped_column(Text)
    medium_term_outcome: Mapped[str] = mapped_column(Text)
    baseline_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    short_term_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    medium_term_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reported_to: Mapped[str | None] = mapped_column(Text)
    leads_to_action: Mapped[str | None] = mapped_column(Text)
    levels: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    baseline_due_on: Mapped[date | None] = mapped_column(Date)
    short_term_due_on: Mapped[date | None] = mapped_column(Date)
    medium_term_due_on: Mapped[date | None] = mapped_column(Date)
    report_due_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Who gathers the data and is told when a point falls due (the creator unless changed).
    responsible_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The schools of the activities the plan covered whenever its list was set. Kept when an
    # activity is later deleted, so the plan stays visible to those schools' leaders and
    # governors rather than only to trust admins.
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    # How many pupils the CPD reaches (the classes of the staff taking part): value for money
    # per pupil.
    pupils_reached: Mapped[int | None] = mapped_column(Integer)


class EvaluationPlanActivity(TenantMixin, Base):
    """An activity covered by a plan (several activities of a programme share one)."""

    __tablename__ = "evaluation_plan_activities"
    __table_args__ = (UniqueConstraint("activity_id"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evaluation_plans.id", ondelete="CASCADE"), primary_key=True
    )
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
