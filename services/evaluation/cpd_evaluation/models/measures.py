"""Tables of baseline and outcome data: an evaluation plan's measures and their observations
(pupils keyed by a pseudonym, staff by their person id), the per-trust secrets the pseudonyms
are made with, and the two projections outcome evidence also comes from: closed audit rounds
(per-item aggregates, for staff perception) and research lessons (case pupils' success
criteria), each with the plan's link to them.

One value per subject, measure and phase: the unique constraint on
``observations (measure_id, subject_key, phase)`` holds that rule however uploads race.
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
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin, uuid7
from cpd_evaluation.models import Base, _one_of
from cpd_evaluation.terms.measures import (
    MEASURE_KINDS,
    MEASURE_SUBJECTS,
    OBSERVATION_GROUPS,
    PHASES,
)


class PseudonymSecret(Base):
    """The trust's key for pupil pseudonyms (HMAC-SHA256 of the school's pupil id), made with
    :mod:`secrets` on first use. Never leaves the service: no API reads it."""

    __tablename__ = "pseudonym_secrets"

    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Measure(IdMixin, TenantMixin, TimestampMixin, Base):
    """What a plan measures at baseline and after: a test score, an observation rating, staff
    confidence ... with its scale and whether a higher value is better. Names are unique in a
    plan."""

    __tablename__ = "measures"
    __table_args__ = (
        CheckConstraint(_one_of("kind", MEASURE_KINDS), name="kind"),
        CheckConstraint(_one_of("subjects", MEASURE_SUBJECTS), name="subjects"),
        CheckConstraint(
            "scale_min IS NULL OR scale_max IS NULL OR scale_min < scale_max", name="scale"
        ),
        UniqueConstraint("plan_id", "name"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evaluation_plans.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    subjects: Mapped[str] = mapped_column(String(10))
    scale_min: Mapped[Decimal | None] = mapped_column(Numeric)
    scale_max: Mapped[Decimal | None] = mapped_column(Numeric)
    scale_description: Mapped[str | None] = mapped_column(Text)
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Observation(Base):
    """One subject's value on a measure at a phase. ``subject_key`` is the pupil's pseudonym
    (64 hex characters) or, for a staff measure, the person's id as text; the clear pupil id
    is never stored. The flags describe the subject (pupil groups whose gaps are tracked) and
    ``group`` the arm of the design (the CPD's own pupils or a comparison group).

    ``trust_id`` is not indexed on its own: every read goes through the measure."""

    __tablename__ = "observations"
    # Append-only (a replaced value is deleted, leaving a tombstone, and written anew):
    # incremental sync of a measure's observations reads the write time.
    __sync_column__ = "created_at"
    __table_args__ = (
        CheckConstraint(_one_of("phase", PHASES), name="phase"),
        CheckConstraint(_one_of('"group"', OBSERVATION_GROUPS), name="group"),
        UniqueConstraint("measure_id", "subject_key", "phase"),
        Index("ix_observations_measure_id_id", "measure_id", "id"),
        Index("ix_observations_measure_id_created_at_id", "measure_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    measure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    subject_key: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(Numeric)
    observed_on: Mapped[date | None] = mapped_column(Date)
    disadvantaged: Mapped[bool] = mapped_column(Boolean, default=False)
    send: Mapped[bool] = mapped_column(Boolean, default=False)
    year_group: Mapped[str | None] = mapped_column(String(20))
    group: Mapped[str] = mapped_column(String(20), default="cpd")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# ---- staff perception: closed audit rounds ---------------------------------------------------


class AuditRound(TenantMixin, Base):
    """A closed audit round, from ``audit.audit.closed`` (replays change nothing)."""

    __tablename__ = "audit_rounds"

    audit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    instrument_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    instrument_key: Mapped[str | None] = mapped_column(String(100))
    instrument_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    scope_kind: Mapped[str] = mapped_column(String(20))
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    respondent_count: Mapped[int | None] = mapped_column(Integer)
    min_group_size: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRoundItem(Base):
    """One item's aggregates over a closed round, exactly as released (``withheld`` says why
    the figures are null when too few answered)."""

    __tablename__ = "audit_round_items"

    audit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("audit_rounds.audit_id", ondelete="CASCADE"), primary_key=True
    )
    item_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    n: Mapped[int | None] = mapped_column(Integer)
    mean: Mapped[float | None] = mapped_column(Float)
    sd: Mapped[float | None] = mapped_column(Float)
    mean_values: Mapped[float | None] = mapped_column(Float)
    sd_values: Mapped[float | None] = mapped_column(Float)
    mean_practice: Mapped[float | None] = mapped_column(Float)
    sd_practice: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    percent_agree: Mapped[float | None] = mapped_column(Float)
    withheld: Mapped[str | None] = mapped_column(Text)


class PlanAuditRounds(TenantMixin, Base):
    """A plan's staff-perception pair: a closed round as baseline, a later round of the same
    instrument as outcome (one pair per plan)."""

    __tablename__ = "plan_audit_rounds"
    __table_args__ = (
        CheckConstraint("baseline_audit_id <> outcome_audit_id", name="distinct_rounds"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evaluation_plans.id", ondelete="CASCADE"), primary_key=True
    )
    baseline_audit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("audit_rounds.audit_id", ondelete="RESTRICT")
    )
    outcome_audit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("audit_rounds.audit_id", ondelete="RESTRICT")
    )
    set_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# ---- lesson study: case pupils -----------------------------------------------------------------


class CasePupilLesson(TenantMixin, Base):
    """How one case pupil did in one research lesson, from ``lessonstudy.lesson.completed``:
    how many of the lesson's stages they met, partly met or had not yet met. Case pupils are
    labels (A, B, C) with a profile, never names."""

    __tablename__ = "case_pupil_lessons"
    __table_args__ = (
        CheckConstraint(
            "stages_met + stages_partly + stages_not_yet <= stages_total", name="stages"
        ),
    )

    lesson_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    label: Mapped[str] = mapped_column(String(100), primary_key=True)
    study_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    cycle: Mapped[int] = mapped_column(Integer)
    taught_on: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    starting_point: Mapped[str | None] = mapped_column(Text)
    success_criteria: Mapped[str | None] = mapped_column(Text)
    stages_total: Mapped[int] = mapped_column(Integer)
    stages_met: Mapped[int] = mapped_column(Integer)
    stages_partly: Mapped[int] = mapped_column(Integer)
    stages_not_yet: Mapped[int] = mapped_column(Integer)


class PlanLessonStudy(TenantMixin, Base):
    """A lesson study whose case pupils are outcome evidence for a plan."""

    __tablename__ = "plan_lesson_studies"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evaluation_plans.id", ondelete="CASCADE"), primary_key=True
    )
    study_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
