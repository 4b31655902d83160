"""Every table of the lessonstudy service.

Infrastructure tables (outbox, inbox, dead letters, idempotency keys) and the directory
projection come from cpd_common mixins; the domain tables follow.

Pupils are never named: a case pupil is a 1-3 character label with a profile. Everything a
group records (predictions, observations, interviews, reflections) is about pupils' learning,
never a judgement of the teacher. Authorship is kept as a membership id, so erasing a person
turns their membership into an anonymous "former member" without losing the group's record.

This package's ``__init__`` holds the base, the infrastructure and projection tables and the
lesson study tables; collaborative enquiry lives beside it (:mod:`.enquiries` for classroom
action enquiries, :mod:`.communities` for learning communities), imported at the bottom so
the one metadata knows every table.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
from cpd_lessonstudy import terms

# The words CHECK constraints allow: the vocabulary of :mod:`cpd_lessonstudy.terms`.
STUDY_STATUSES: tuple[str, ...] = get_args(terms.StudyStatus)
LESSON_STATUSES: tuple[str, ...] = get_args(terms.LessonStatus)
MEMBER_ROLES: tuple[str, ...] = get_args(terms.MemberRole)
OUTCOMES: tuple[str, ...] = get_args(terms.Outcome)
TIME_KINDS: tuple[str, ...] = get_args(terms.TimeKind)


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
    """Staff known from ``directory.person.upserted`` events."""

    __tablename__ = "people"


class TokenRevocation(TokenRevocationMixin, Base):
    """What each token subject may still do (see :mod:`cpd_common.revocation`)."""


class WorkerHeartbeat(WorkerHeartbeatMixin, Base):
    """The worker's sign of life, read by ``/readyz`` (see :mod:`cpd_common.heartbeat`)."""


class School(SchoolMixin, Base):
    __tablename__ = "schools"


# ---- lesson study domain ------------------------------------------------------------------


class LessonStudy(IdMixin, TenantMixin, TimestampMixin, Base):
    """A group's enquiry: what pupils should learn better, the technique to develop, and the
    research lessons (cycles) that test it."""

    __tablename__ = "lesson_studies"
    __table_args__ = (
        CheckConstraint(_one_of("status", STUDY_STATUSES), name="status"),
        CheckConstraint("planned_cycles BETWEEN 1 AND 10", name="planned_cycles"),
    )

    title: Mapped[str] = mapped_column(String(200))
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    subject: Mapped[str | None] = mapped_column(String(100))
    year_group: Mapped[str | None] = mapped_column(String(40))
    learning_goal: Mapped[str] = mapped_column(Text)
    success_evidence: Mapped[str | None] = mapped_column(Text)
    technique: Mapped[str | None] = mapped_column(Text)
    research_question: Mapped[str | None] = mapped_column(Text)
    planned_cycles: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[str] = mapped_column(String(20), default="planning")
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    findings_agreed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StudyMember(IdMixin, TenantMixin, TimestampMixin, Base):
    """A person's place in a study. ``person_id`` is null once they were erased (the row stays
    as an anonymous former member so the group's record keeps its shape)."""

    __tablename__ = "study_members"
    __table_args__ = (
        UniqueConstraint("study_id", "person_id"),
        CheckConstraint(_one_of("role", MEMBER_ROLES), name="role"),
    )

    study_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lesson_studies.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    role: Mapped[str] = mapped_column(String(30))
    former_member: Mapped[bool] = mapped_column(Boolean, default=False)


class CasePupil(IdMixin, TenantMixin, TimestampMixin, Base):
    """A pupil the group follows, by label only (A, B, C) with an anonymous profile."""

    __tablename__ = "case_pupils"
    __table_args__ = (
        UniqueConstraint("study_id", "label"),
        CheckConstraint("char_length(label) BETWEEN 1 AND 3", name="label_length"),
    )

    study_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lesson_studies.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(3))
    position: Mapped[int] = mapped_column(Integer)
    profile: Mapped[str] = mapped_column(Text)
    starting_point: Mapped[str | None] = mapped_column(Text)
    success_criteria: Mapped[str | None] = mapped_column(Text)


class ResearchLesson(IdMixin, TenantMixin, TimestampMixin, Base):
    """One cycle's research lesson: planned (with predictions), taught and observed, then
    completed once its post-lesson discussion is done."""

    __tablename__ = "research_lessons"
    __table_args__ = (
        UniqueConstraint("study_id", "cycle"),
        CheckConstraint(_one_of("status", LESSON_STATUSES), name="status"),
    )

    study_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lesson_studies.id", ondelete="CASCADE"), index=True
    )
    cycle: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(200))
    planned_for: Mapped[date | None] = mapped_column(Date)
    teacher_member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("study_members.id"))
    plan_summary: Mapped[str | None] = mapped_column(Text)
    changes_from_previous: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    taught_on: Mapped[date | None] = mapped_column(Date)
    marked_taught_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LessonStage(IdMixin, TenantMixin, Base):
    """An ordered stage of a research lesson (the rows of the prediction/observation grid)."""

    __tablename__ = "lesson_stages"
    __table_args__ = (UniqueConstraint("lesson_id", "position"),)

    lesson_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("research_lessons.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class Prediction(IdMixin, TenantMixin, TimestampMixin, Base):
    """How the group predicts a case pupil will respond at a stage, written before teaching."""

    __tablename__ = "predictions"
    __table_args__ = (UniqueConstraint("stage_id", "case_pupil_id"),)

    lesson_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("research_lessons.id", ondelete="CASCADE"), index=True
    )
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lesson_stages.id", ondelete="CASCADE"))
    case_pupil_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case_pupils.id", ondelete="CASCADE"), index=True
    )
    response: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("study_members.id"))


class Observation(IdMixin, TenantMixin, TimestampMixin, Base):
    """What one observer saw a case pupil do at a stage, and whether the pupil met the success
    criteria at that point. Several observers may record the same cell."""

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("stage_id", "case_pupil_id", "observer_member_id"),
        CheckConstraint(_one_of("outcome", OUTCOMES), name="outcome"),
    )

    lesson_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("research_lessons.id", ondelete="CASCADE"), index=True
    )
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lesson_stages.id", ondelete="CASCADE"))
    case_pupil_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case_pupils.id", ondelete="CASCADE"), index=True
    )
    observer_member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("study_members.id"))
    response: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)


class PupilInterview(IdMixin, TenantMixin, TimestampMixin, Base):
    """Pupil voice after a research lesson: a case pupil, or another pupil (never named)."""

    __tablename__ = "pupil_interviews"

    lesson_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("research_lessons.id", ondelete="CASCADE"), index=True
    )
    case_pupil_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("case_pupils.id", ondelete="CASCADE"), index=True
    )
    interviewer_member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("study_members.id"))
    notes: Mapped[str] = mapped_column(Text)


class Discussion(IdMixin, TenantMixin, TimestampMixin, Base):
    """The post-lesson discussion. What to change is only accepted once every case pupil has a
    reflection; the next lesson's plan only once what to change is agreed."""

    __tablename__ = "discussions"

    lesson_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("research_lessons.id", ondelete="CASCADE"), unique=True
    )
    started_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("study_members.id"))
    what_to_change: Mapped[str | None] = mapped_column(Text)
    what_to_change_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_lesson_plan: Mapped[str | None] = mapped_column(Text)


class PupilReflection(IdMixin, TenantMixin, TimestampMixin, Base):
    """What the group learnt about one case pupil's learning in one research lesson."""

    __tablename__ = "pupil_reflections"
    __table_args__ = (UniqueConstraint("discussion_id", "case_pupil_id"),)

    discussion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("discussions.id", ondelete="CASCADE"), index=True
    )
    case_pupil_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case_pupils.id", ondelete="CASCADE"), index=True
    )
    learning: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("study_members.id"))


class StudyFindings(IdMixin, TenantMixin, TimestampMixin, Base):
    """The findings the group agreed at the end of its cycles."""

    __tablename__ = "study_findings"

    study_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lesson_studies.id", ondelete="CASCADE"), unique=True
    )
    summary: Mapped[str | None] = mapped_column(Text)
    practices: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # [{"case_pupil_ids": [...], "text": "..."}]
    what_worked: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    to_share: Mapped[list[str]] = mapped_column(JSONB, default=list)


class OpenHouseLesson(IdMixin, TenantMixin, TimestampMixin, Base):
    """The public research lesson where the group shares what it found with colleagues."""

    __tablename__ = "open_house_lessons"
    __table_args__ = (CheckConstraint("audience_count >= 0", name="audience_count"),)

    study_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lesson_studies.id", ondelete="CASCADE"), unique=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    audience_count: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)


class TimeRecord(IdMixin, TenantMixin, TimestampMixin, Base):
    """A meeting, planning, teaching or observing session and who spent how long on it."""

    __tablename__ = "time_records"
    __table_args__ = (CheckConstraint(_one_of("kind", TIME_KINDS), name="kind"),)

    study_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lesson_studies.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    research_lesson_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("research_lessons.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("study_members.id"))


class MemberMinutes(TenantMixin, Base):
    """Minutes one member spent in one time record."""

    __tablename__ = "member_minutes"
    __table_args__ = (CheckConstraint("minutes BETWEEN 1 AND 720", name="minutes"),)

    time_record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("time_records.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("study_members.id"), primary_key=True, index=True
    )
    minutes: Mapped[int] = mapped_column(Integer)


class KnownNeed(TenantMixin, Base):
    """Needs of the register (audit service) known from ``audit.need.recorded``: links from
    enquiries and learning communities must name a need of the caller's trust."""

    __tablename__ = "known_needs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    school_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    level: Mapped[str] = mapped_column(String(20))


# Collaborative enquiry (enquiries and learning communities) lives beside the lesson study tables.
from cpd_lessonstudy.models import communities, enquiries  # noqa: E402,F401

# Incremental sync of every other list: (trust or parent, updated_at, id), the list's filter first.
SYNC_INDEXES = {
    "lesson_studies": "trust_id",
    "study_members": "study_id",
    "case_pupils": "study_id",
    "research_lessons": "study_id",
    "observations": "lesson_id",
    "pupil_interviews": "lesson_id",
    "time_records": "study_id",
    "enquiries": "trust_id",
    "enquiry_members": "enquiry_id",
    "enquiry_data_entries": "enquiry_id",
    "enquiry_findings": "enquiry_id",
    "enquiry_validity_checks": "enquiry_id",
    "enquiry_replications": "enquiry_id",
    "enquiry_disseminations": "enquiry_id",
    "enquiry_pupil_voice": "enquiry_id",
    "enquiry_case_pupils": "enquiry_id",
    "enquiry_time_records": "enquiry_id",
    "learning_communities": "trust_id",
    "community_meetings": "community_id",
    "community_activities": "community_id",
    "community_shares": "community_id",
    "community_members": "community_id",
}
sync_indexes(Base.metadata, SYNC_INDEXES)
