"""Tables of the trust's CPD offer: the progression ladder, the programme catalogue and its
published runs, requests for places and for professional study, schools' CPD budgets and
people's secret calendar-feed tokens.

Two rules are held by the database whatever runs concurrently: a run is never overbooked
(``places_booked <= capacity``, raised by one conditional UPDATE per approval), and a school
has one budget per academic year.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin
from cpd_evaluation.models import Base, _one_of
from cpd_evaluation.terms.offer import (
    PROGRAMME_FORMATS,
    REQUEST_KINDS,
    REQUEST_STATUSES,
    RUN_STATUSES,
    TRACKS,
)


class CareerStage(IdMixin, TenantMixin, TimestampMixin, Base):
    """A rung of the trust's progression ladder. ``staff_groups`` and ``career_stages`` say
    which directory people sit on it (the highest matching rung of their track wins)."""

    __tablename__ = "career_stages"
    __table_args__ = (
        CheckConstraint(_one_of("track", TRACKS), name="track"),
        CheckConstraint("rank BETWEEN 1 AND 50", name="rank"),
        UniqueConstraint("trust_id", "key"),
    )

    track: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    staff_groups: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    career_stages: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)


class Programme(IdMixin, TenantMixin, TimestampMixin, Base):
    """An entry of the trust's CPD offer. Runs of it are published with dated sessions."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint(_one_of("format", PROGRAMME_FORMATS), name="format"),
        CheckConstraint("cost_per_place >= 0", name="cost"),
        CheckConstraint("subject_specific OR subject IS NULL", name="subject"),
        UniqueConstraint("trust_id", "title"),
        Index("ix_programmes_stage_keys", "stage_keys", postgresql_using="gin"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    format: Mapped[str] = mapped_column(String(30))
    stage_keys: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    staff_groups: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    need_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    subject_specific: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str | None] = mapped_column(String(100))
    cost_per_place: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    # Places paid centrally: the trust team decides requests, and no school budget is charged.
    trust_funded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ProgrammeRun(IdMixin, TenantMixin, TimestampMixin, Base):
    """A published run of a programme: its sessions, capacity and the activity that
    attendance and hours are recorded on."""

    __tablename__ = "programme_runs"
    __table_args__ = (
        CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
        CheckConstraint("capacity BETWEEN 1 AND 10000", name="capacity"),
        CheckConstraint("places_booked BETWEEN 0 AND capacity", name="booked"),
        Index("ix_programme_runs_trust_id_starts_on", "trust_id", "starts_on"),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programmes.id", ondelete="RESTRICT"), index=True
    )
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="RESTRICT"), unique=True
    )
    # Whose staff may book it (every school of the trust when it was published for all).
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    capacity: Mapped[int] = mapped_column(Integer)
    places_booked: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="published")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    published_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class RunSession(IdMixin, TenantMixin, Base):
    """A dated, timed session of a run (times are instants; shown in Europe/London)."""

    __tablename__ = "programme_run_sessions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="times"),)

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programme_runs.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str | None] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(500))


class CpdRequest(IdMixin, TenantMixin, TimestampMixin, Base):
    """A request for a place on a run or for support with professional study.

    ``person_id`` is null once the person was erased (requests are then deleted: see erasure).
    ``decided_by_trust`` says whether the trust team (trust-funded places) or a leader of
    ``school_id`` decides; approved costs count against ``school_id``'s budget unless the
    trust pays."""

    __tablename__ = "cpd_requests"
    __table_args__ = (
        CheckConstraint(_one_of("kind", REQUEST_KINDS), name="kind"),
        CheckConstraint(_one_of("status", REQUEST_STATUSES), name="status"),
        CheckConstraint("(kind = 'place') = (run_id IS NOT NULL)", name="run"),
        CheckConstraint("cost >= 0", name="cost"),
        CheckConstraint("time_off_days IS NULL OR time_off_days BETWEEN 0 AND 365", name="days"),
        Index(
            "ix_cpd_requests_one_open_per_run",
            "run_id",
            "person_id",
            unique=True,
            postgresql_where="status IN ('submitted', 'approved')",
        ),
        Index("ix_cpd_requests_school_id_status", "school_id", "status"),
    )

    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("programme_runs.id", ondelete="RESTRICT"), index=True
    )
    institution: Mapped[str | None] = mapped_column(String(200))
    course: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    time_off_days: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    rationale: Mapped[str | None] = mapped_column(Text)
    need_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    decided_by_trust: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    participant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Budget(IdMixin, TenantMixin, TimestampMixin, Base):
    """A school's CPD budget for one academic year (``2025-26``)."""

    __tablename__ = "cpd_budgets"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount"),
        UniqueConstraint("school_id", "academic_year"),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    academic_year: Mapped[str] = mapped_column(String(7))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    set_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class CalendarFeed(TenantMixin, Base):
    """A person's secret calendar-feed token (stored as its SHA-256; rotating replaces it)."""

    __tablename__ = "calendar_feeds"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
