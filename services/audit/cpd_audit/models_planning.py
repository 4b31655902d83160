"""Tables of needs analysis and planning: the needs register, the three-year alignment
framework, the strategic CPD plan and personal career plans (with their mentor shares).

Kept apart from :mod:`cpd_audit.models` (instruments, audits, responses) but on the same
``Base``, so the service still has one MetaData and one migration history.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_audit.models import Base
from cpd_common.db import IdMixin, TenantMixin, TimestampMixin, utcnow


class Need(IdMixin, TenantMixin, TimestampMixin, Base):
    """A professional-learning need at one of three levels: the whole school, a team (a phase,
    department or subject) or one person. Individual needs are personal: see
    :mod:`cpd_audit.needs.service` for who may read them."""

    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint("level IN ('whole_school', 'team', 'individual')", name="level"),
        CheckConstraint(
            "status IN ('identified', 'planned', 'in_progress', 'met', 'dropped')", name="status"
        ),
        CheckConstraint(
            "(level = 'individual') = (person_id IS NOT NULL)", name="individual_person"
        ),
        CheckConstraint("(level = 'team') = (team_kind IS NOT NULL)", name="team_kind"),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    level: Mapped[str] = mapped_column(String(20))
    team_kind: Mapped[str | None] = mapped_column(String(20))
    team_name: Mapped[str | None] = mapped_column(String(100))
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    need_types: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    # [{"source": "observation", "notes": "..."}]
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    priority: Mapped[str] = mapped_column(String(10))
    outcome_short_term: Mapped[str | None] = mapped_column(Text)
    outcome_medium_term: Mapped[str | None] = mapped_column(Text)
    outcome_long_term: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="identified")
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class NeedAuditItem(Base):
    """An audit item that is evidence for a need (``3c`` of a diagnostic round, say)."""

    __tablename__ = "need_audit_items"

    need_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True
    )
    audit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    item_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class AcceptedSuggestion(Base):
    """That an audit's suggested need was accepted as a need of a school (and team): one need
    per audit item, school and team, held by the primary key so that concurrent accepts
    make one need, not several. ``team`` is the lower-cased team name, empty for the whole
    school. The row stays when the need is dropped (the need can be reopened instead)."""

    __tablename__ = "accepted_suggestions"

    audit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    item_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    need_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("needs.id", ondelete="CASCADE"), index=True
    )


class AlignmentPlan(IdMixin, TenantMixin, TimestampMixin, Base):
    """The three-year alignment framework of one school from one starting year: two domains x
    SWOT x this year / next year / the year after (the grid is one JSON document)."""

    __tablename__ = "alignment_plans"
    __table_args__ = (UniqueConstraint("school_id", "start_year"),)

    school_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    start_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    grid: Mapped[dict[str, Any]] = mapped_column(JSONB)


class CpdPlan(IdMixin, TenantMixin, TimestampMixin, Base):
    """The strategic CPD plan of one school for one academic year."""

    __tablename__ = "cpd_plans"
    __table_args__ = (UniqueConstraint("school_id", "start_year"),)

    school_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    start_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")


class CpdPlanRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """One planned piece of CPD in a month, against a need: what, who is responsible, the
    cost and where the money comes from. ``need_id`` becomes null only when the need is
    erased with its person, so the plan's budget still adds up."""

    __tablename__ = "cpd_plan_rows"
    __table_args__ = (CheckConstraint("cost >= 0", name="cost_not_negative"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cpd_plans.id", ondelete="CASCADE"), index=True
    )
    need_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("needs.id", ondelete="SET NULL"), index=True
    )
    month: Mapped[date] = mapped_column(Date)
    activity: Mapped[str] = mapped_column(Text)
    responsible: Mapped[str] = mapped_column(String(200))
    responsible_person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    funding_source: Mapped[str] = mapped_column(String(30))
    notes: Mapped[str] = mapped_column(Text, default="")


class CareerPlan(IdMixin, TenantMixin, TimestampMixin, Base):
    """A person's career plan and self-review. Private: only its owner and the mentors they
    share it with can read it (not leaders, not trust admins)."""

    __tablename__ = "career_plans"
    # One plan per person and academic year (undated plans are not limited).
    __table_args__ = (UniqueConstraint("owner_id", "start_year"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    title: Mapped[str] = mapped_column(String(200))
    start_year: Mapped[int | None] = mapped_column(Integer)
    came_from: Mapped[dict[str, Any]] = mapped_column(JSONB)
    where_i_am: Mapped[dict[str, Any]] = mapped_column(JSONB)
    aims_three_years: Mapped[dict[str, Any]] = mapped_column(JSONB)
    aims_five_years: Mapped[dict[str, Any]] = mapped_column(JSONB)
    strengths: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    aspects_to_develop: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    action_plan: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)


class CareerPlanShare(Base):
    """The owner shared the plan with this mentor (deleting the row revokes it)."""

    __tablename__ = "career_plan_shares"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("career_plans.id", ondelete="CASCADE"), primary_key=True
    )
    mentor_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    shared_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
