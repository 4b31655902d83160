"""Every table of the evaluation service.

Infrastructure tables (outbox, inbox, dead letters, idempotency keys) and the directory
projection come from cpd_common mixins; the needs projection comes from audit events; the
domain tables follow.

An activity is what CPD happened (a course, an INSET session, coaching, a lesson study ...);
participants are the people who took part, with attendance per session. Hours are never
stored as a total: they are computed from what was recorded (an explicit figure, a lesson
study's hours from its events, or the sessions attended), see ``participants.hours``.
Whether an activity is sustained or one-off is derived from its sessions, never typed.
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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata, sync_indexes
from cpd_common.directory import PersonMixin, SchoolMixin
from cpd_common.events.inbox import DeadLetterMixin, InboxMixin
from cpd_common.events.outbox import OutboxMixin
from cpd_common.heartbeat import WorkerHeartbeatMixin
from cpd_common.idempotency import IdempotencyKeyMixin
from cpd_common.revocation import TokenRevocationMixin
from cpd_common.tombstones import TombstoneMixin
from cpd_evaluation.terms import (
    ACTIVITY_KINDS,
    ACTIVITY_SOURCES,
    ACTIVITY_STATUSES,
    PARTICIPANT_ROLES,
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = new_metadata()


class OutboxEvent(OutboxMixin, Base):
    __tablename__ = "outbox"


class InboxEntry(InboxMixin, Base):
    __tablename__ = "inbox"


class DeadLetter(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"


class IdempotencyKey(IdempotencyKeyMixin, Base):
    __tablename__ = "idempotency_keys"


class Tombstone(TombstoneMixin, Base):
    """Deleted resources, for incremental sync (``?updated_since=``)."""


class Person(PersonMixin, Base):
    """Staff known from ``directory.person.upserted`` events (with FTE and start date, which
    pro-rate the entitlement)."""

    __tablename__ = "people"


class TokenRevocation(TokenRevocationMixin, Base):
    """What each token subject may still do (see :mod:`cpd_common.revocation`)."""


class WorkerHeartbeat(WorkerHeartbeatMixin, Base):
    """The worker's sign of life, read by ``/readyz`` (see :mod:`cpd_common.heartbeat`)."""


class School(SchoolMixin, Base):
    __tablename__ = "schools"


class Need(TenantMixin, Base):
    """A need of the audit service's register, known from ``audit.need.recorded`` events, so
    activities can say which needs they answer."""

    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint(_one_of("level", ("whole_school", "team", "individual")), name="level"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    school_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    level: Mapped[str] = mapped_column(String(20))
    need_types: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    priority: Mapped[str | None] = mapped_column(String(40))
    audit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    item_keys: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrustSettings(Base):
    """Per-trust settings of the service: the annual CPD entitlement (hours for a full-time
    member of staff employed all year; 35 unless the trust says otherwise)."""

    __tablename__ = "trust_settings"
    __table_args__ = (
        CheckConstraint("annual_entitlement_hours BETWEEN 0 AND 500", name="entitlement"),
    )

    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    annual_entitlement_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---- activities ---------------------------------------------------------------------------


class Activity(IdMixin, TenantMixin, TimestampMixin, Base):
    """A CPD activity or programme. ``source`` says whether it was recorded by hand or arrives
    from another service's events (``source_id`` is then that service's id: one activity per
    source id, whatever is redelivered or replayed)."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ACTIVITY_KINDS), name="kind"),
        CheckConstraint(_one_of("status", ACTIVITY_STATUSES), name="status"),
        CheckConstraint(_one_of("source", ACTIVITY_SOURCES), name="source"),
        CheckConstraint("(source = 'manual') = (source_id IS NULL)", name="source_id"),
        CheckConstraint("subject_specific OR subject IS NULL", name="subject"),
        CheckConstraint(
            "fees >= 0 AND materials_cost >= 0 AND supply_cover_cost >= 0 "
            "AND release_time_hours >= 0",
            name="costs",
        ),
        UniqueConstraint("source", "source_id"),
        Index("ix_activities_school_ids", "school_ids", postgresql_using="gin"),
        Index("ix_activities_trust_id_starts_on", "trust_id", "starts_on"),
    )

    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="active")
    # A provider of the trust (``/v1/providers``; one with activities cannot be deleted).
    provider_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    subject_specific: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str | None] = mapped_column(String(100))
    focus: Mapped[str | None] = mapped_column(Text)
    # Training with a gap task: the intent (what it should change for pupils), the task
    # between sessions and its due date, and the school's longer-term impact note.
    intent: Mapped[str | None] = mapped_column(Text)
    gap_task: Mapped[str | None] = mapped_column(Text)
    gap_task_due_on: Mapped[date | None] = mapped_column(Date)
    impact_note: Mapped[str | None] = mapped_column(Text)
    impact_noted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fees: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    materials_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    supply_cover_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    release_time_hours: Mapped[Decimal] = mapped_column(Numeric(7, 2), default=Decimal(0))
    source: Mapped[str] = mapped_column(String(20), default="manual")
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # First and last session dates, kept with the sessions (index-backed year and date filters).
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class ActivityNeed(TenantMixin, Base):
    """An activity answers a recorded need."""

    __tablename__ = "activity_needs"

    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    need_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ActivitySession(IdMixin, TenantMixin, Base):
    """A dated session of an activity (a course day, an INSET session, a research lesson).
    ``source_ref`` names the event that made it (one session per source ref)."""

    __tablename__ = "activity_sessions"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 0 AND 1440", name="duration"),
        UniqueConstraint("activity_id", "source_ref"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str | None] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    source_ref: Mapped[str | None] = mapped_column(String(100))


class Participant(IdMixin, TenantMixin, TimestampMixin, Base):
    """A person's part in an activity. ``person_id`` is null once they were erased (the row
    stays as an anonymous former participant so the activity's figures keep their shape).

    ``hours`` is an explicitly recorded figure; when it is null the hours come from the
    lesson study's events or from the sessions attended."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("activity_id", "person_id"),
        CheckConstraint(_one_of("role", PARTICIPANT_ROLES), name="role"),
        CheckConstraint("hours IS NULL OR hours BETWEEN 0 AND 2000", name="hours"),
        CheckConstraint(_one_of("source", ACTIVITY_SOURCES), name="source"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    role: Mapped[str] = mapped_column(String(30), default="participant")
    hours: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    source: Mapped[str] = mapped_column(String(20), default="manual")
    former_participant: Mapped[bool] = mapped_column(Boolean, default=False)
    # Training with a gap task: the delegate's gap task and impact report.
    gap_task_done_on: Mapped[date | None] = mapped_column(Date)
    impact_report: Mapped[str | None] = mapped_column(Text)
    impact_reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attendance(TenantMixin, Base):
    """Whether a participant attended a session (and for how long, when not all of it)."""

    __tablename__ = "attendance"
    __table_args__ = (
        CheckConstraint("minutes IS NULL OR minutes BETWEEN 0 AND 1440", name="minutes"),
    )

    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activity_sessions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    attended: Mapped[bool] = mapped_column(Boolean)
    minutes: Mapped[int | None] = mapped_column(Integer)


class SourceHours(TenantMixin, Base):
    """Hours a person spent, as another service reported them: one row per reported figure
    (``lesson:<id>`` for a research lesson's cycle, ``meeting:<id>`` for a learning community
    meeting, ``total`` for a lesson study's or enquiry's total once it completed).
    Rows are set, never added to, so redelivered and replayed events change nothing."""

    __tablename__ = "source_hours"
    __table_args__ = (
        CheckConstraint("hours BETWEEN 0 AND 2000", name="hours"),
        Index("ix_source_hours_participant_id", "participant_id"),
    )

    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    source_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    reported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )


# Incremental sync (``?updated_since=``) of the big lists reads (trust, updated_at, id) in order.
Index("ix_activities_trust_id_updated_at_id", Activity.trust_id, Activity.updated_at, Activity.id)


# Participant voice, coaching, providers, follow-ups, evaluation plans, measures with their
# observations and outcome evidence (audit rounds, case pupils), the trust's CPD offer and the
# QA metrics release log live beside the core tables; so do an evaluation's organisational
# support records and the trust's costing settings (evidence).
from cpd_evaluation.models import evidence, measures, metrics, offer, plans, voice  # noqa: E402,F401

# Incremental sync of every other list: (trust or parent, updated_at, id), the list's filter first.
SYNC_INDEXES = {
    "participants": "activity_id",
    "reflections": "activity_id",
    "coaching_sessions": "activity_id",
    "providers": "trust_id",
    "evaluation_plans": "trust_id",
    "programmes": "trust_id",
    "cpd_requests": "trust_id",
    "measures": "plan_id",
    "support_records": "plan_id",
    "programme_runs": "programme_id",
}
sync_indexes(Base.metadata, SYNC_INDEXES)
