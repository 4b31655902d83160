"""Every table of the lessonstudy service.

Infrastructure tables (outbox, inbox, dead letters, idempotency keys) and the directory
projection come from cpd_common mixins; the domain tables follow.

Pupils are never named: a case pupil is a 1-3 character label with a profile. Everything a
group records (predictions, observations, interviews, reflections) is about pupils' learning,
never a judgement of the teacher. Authorship is kept as a membership id, so erasing a person
turns their membership into an anonymous "former member" without losing the group's record.

It stays one file although it is long: each service keeps all its tables in one models.py
(the convention the Alembic env and the other services follow), so the whole schema, and the
unique constraints behind its "one X per Y" rules, can be read in one place.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata
from cpd_common.directory import PersonMixin, SchoolMixin
from cpd_common.events.inbox import DeadLetterMixin, InboxMixin
from cpd_common.events.outbox import OutboxMixin
from cpd_common.heartbeat import WorkerHeartbeatMixin
from cpd_common.idempotency import IdempotencyKeyMixin
from cpd_common.revocation import TokenRevocationMixin

STUDY_STATUSES = ("planning", "in_cycle", "findings", "completed", "shared")
LESSON_STATUSES = ("planned", "taught", "completed")
MEMBER_ROLES = ("teacher", "observer", "facilitator", "knowledgeable_other")
OUTCOMES = ("met", "partly", "not_yet")
TIME_KINDS = ("meeting", "planning", "teaching", "observing")


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


# ---- collaborative enquiry: classroom action enquiries -----------------------------------------

ENQUIRY_STATUSES = ("planning", "active", "completed")
ENQUIRY_ROLES = ("coordinator", "member")
QUESTION_ANSWERS = ("yes", "not_yet")
DATA_METHODS = (
    "book_sample",
    "observation",
    "learning_walk",
    "assessment",
    "questionnaire",
    "interview",
    "concept_mapping",
    "climate_mapping",
    "hot_spotting",
    "other",
)
AGREEMENT = ("yes", "partly", "no")
TALLY = ("yes", "partly", "no", "not_checked")
CONCLUSIONS_HELD = ("pending", "held", "partly", "not_held")
DISSEMINATION_FORMS = (
    "sharing_session",
    "presentation",
    "written_report",
    "poster",
    "open_house",
    "tool_or_artefact",
    "pupil_feedback",
    "other",
)
PUPIL_VOICE_KINDS = ("views", "critique", "co_design")
ENQUIRY_TIME_KINDS = ("meeting", "data_collection", "analysis", "reporting", "other")


class Enquiry(IdMixin, TenantMixin, TimestampMixin, Base):
    """A classroom action enquiry: a focused question about some pupils' learning, answered
    through data collection, analysis, validity checking, replication and reporting."""

    __tablename__ = "enquiries"
    __table_args__ = (
        CheckConstraint(_one_of("status", ENQUIRY_STATUSES), name="status"),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates"
        ),
    )

    title: Mapped[str] = mapped_column(String(200))
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    subject: Mapped[str | None] = mapped_column(String(100))
    pupil_group: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    planned_approach: Mapped[str | None] = mapped_column(Text)
    need_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planning")
    replicates_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enquiries.id", ondelete="SET NULL"), index=True
    )
    community_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("learning_communities.id", ondelete="SET NULL"), index=True
    )
    community_cycle: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EnquiryMember(IdMixin, TenantMixin, TimestampMixin, Base):
    """A person's place in an enquiry; an anonymous former member once they were erased."""

    __tablename__ = "enquiry_members"
    __table_args__ = (
        UniqueConstraint("enquiry_id", "person_id"),
        CheckConstraint(_one_of("role", ENQUIRY_ROLES), name="role"),
        Index(
            "uq_enquiry_members_one_coordinator",
            "enquiry_id",
            unique=True,
            postgresql_where=text("role = 'coordinator'"),
        ),
    )

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    role: Mapped[str] = mapped_column(String(20))
    former_member: Mapped[bool] = mapped_column(Boolean, default=False)


class EnquiryQuestionAnswer(TenantMixin, TimestampMixin, Base):
    """The members' own answer to one of the five question rules (yes / not yet, with a note)."""

    __tablename__ = "enquiry_question_answers"
    __table_args__ = (
        CheckConstraint("rule BETWEEN 1 AND 5", name="rule"),
        CheckConstraint(_one_of("answer", QUESTION_ANSWERS), name="answer"),
    )

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)


class EnquiryCasePupil(IdMixin, TenantMixin, TimestampMixin, Base):
    """A pupil the enquiry follows closely: a label and an anonymous profile, as in lesson study."""

    __tablename__ = "enquiry_case_pupils"
    __table_args__ = (
        UniqueConstraint("enquiry_id", "label"),
        CheckConstraint("char_length(label) BETWEEN 1 AND 3", name="label_length"),
    )

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(3))
    profile: Mapped[str] = mapped_column(Text)


class EnquiryDataEntry(IdMixin, TenantMixin, TimestampMixin, Base):
    """(b) A dated piece of collected data; attachments are references (titles and links)."""

    __tablename__ = "enquiry_data_entries"
    __table_args__ = (CheckConstraint(_one_of("method", DATA_METHODS), name="method"),)

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(30))
    collected_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    # [{"title": "...", "reference": "..."}]
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enquiry_members.id"))


class EnquiryFinding(IdMixin, TenantMixin, TimestampMixin, Base):
    """(c) What the analysis found, the data it rests on and the other readings considered."""

    __tablename__ = "enquiry_findings"

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    statement: Mapped[str] = mapped_column(Text)
    data_entry_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    alternative_interpretations: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enquiry_members.id"))


class EnquiryValidityCheck(IdMixin, TenantMixin, TimestampMixin, Base):
    """(d) Whether others read the data the same way, and whether the counts tally with the
    qualitative conclusions."""

    __tablename__ = "enquiry_validity_checks"
    __table_args__ = (
        CheckConstraint(_one_of("others_agree", AGREEMENT), name="others_agree"),
        CheckConstraint(_one_of("counts_tally", TALLY), name="counts_tally"),
    )

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    checked_on: Mapped[date] = mapped_column(Date)
    interpreted_by: Mapped[str] = mapped_column(Text)
    others_agree: Mapped[str] = mapped_column(String(10))
    counts_tally: Mapped[str] = mapped_column(String(15))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enquiry_members.id"))


class EnquiryReplication(IdMixin, TenantMixin, TimestampMixin, Base):
    """(e) A follow-up enquiry that replicates this one, and whether the conclusions held."""

    __tablename__ = "enquiry_replications"
    __table_args__ = (
        CheckConstraint(_one_of("conclusions_held", CONCLUSIONS_HELD), name="conclusions_held"),
        CheckConstraint("enquiry_id <> follow_up_id", name="not_itself"),
    )

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    follow_up_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), unique=True
    )
    conclusions_held: Mapped[str] = mapped_column(String(10), default="pending")
    notes: Mapped[str | None] = mapped_column(Text)


class EnquiryDissemination(IdMixin, TenantMixin, TimestampMixin, Base):
    """(f) Reporting: to whom, in what form, and what changed as a result."""

    __tablename__ = "enquiry_disseminations"
    __table_args__ = (CheckConstraint(_one_of("form", DISSEMINATION_FORMS), name="form"),)

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    audience: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(String(20))
    beyond_school: Mapped[bool] = mapped_column(Boolean, default=False)
    what_changed: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enquiry_members.id"))


class EnquiryPupilVoice(IdMixin, TenantMixin, TimestampMixin, Base):
    """Pupils' views on, critique of or co-design of the techniques: anonymous, group-level."""

    __tablename__ = "enquiry_pupil_voice"
    __table_args__ = (
        CheckConstraint(_one_of("kind", PUPIL_VOICE_KINDS), name="kind"),
        CheckConstraint("group_size IS NULL OR group_size >= 1", name="group_size"),
    )

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    heard_on: Mapped[date] = mapped_column(Date)
    pupil_group: Mapped[str] = mapped_column(Text)
    group_size: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enquiry_members.id"))


class EnquiryTimeRecord(IdMixin, TenantMixin, TimestampMixin, Base):
    """Time the members spent on the enquiry (their CPD hours)."""

    __tablename__ = "enquiry_time_records"
    __table_args__ = (CheckConstraint(_one_of("kind", ENQUIRY_TIME_KINDS), name="kind"),)

    enquiry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enquiry_members.id"))


class EnquiryMemberMinutes(TenantMixin, Base):
    __tablename__ = "enquiry_member_minutes"
    __table_args__ = (CheckConstraint("minutes BETWEEN 1 AND 720", name="minutes"),)

    time_record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiry_time_records.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enquiry_members.id"), primary_key=True, index=True
    )
    minutes: Mapped[int] = mapped_column(Integer)


# ---- collaborative enquiry: learning communities ------------------------------------------------

COMMUNITY_ACTIVITY_KINDS = ("enquiry", "lesson_study", "peer_coaching")
SHARE_KINDS = ("sharing_session", "tool", "artefact", "open_house", "other")


class LearningCommunity(IdMixin, TenantMixin, TimestampMixin, Base):
    """A professional learning community (enquiry group, triad): members who run repeated
    enquiry cycles for a fixed period (half a term to a year) on a learning priority."""

    __tablename__ = "learning_communities"
    __table_args__ = (CheckConstraint("ends_on - starts_on BETWEEN 35 AND 366", name="period"),)

    name: Mapped[str] = mapped_column(String(200))
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    learning_priority: Mapped[str] = mapped_column(Text)
    need_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    membership_design: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class CommunityMember(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "community_members"
    __table_args__ = (
        UniqueConstraint("community_id", "person_id"),
        CheckConstraint(_one_of("role", ENQUIRY_ROLES), name="role"),
        Index(
            "uq_community_members_one_coordinator",
            "community_id",
            unique=True,
            postgresql_where=text("role = 'coordinator'"),
        ),
    )

    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("learning_communities.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    role: Mapped[str] = mapped_column(String(20))
    former_member: Mapped[bool] = mapped_column(Boolean, default=False)


class CommunityMeeting(IdMixin, TenantMixin, TimestampMixin, Base):
    """A meeting: when, how long, its minutes, who came and what was shared."""

    __tablename__ = "community_meetings"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 720", name="duration"),
        CheckConstraint("cycle IS NULL OR cycle BETWEEN 1 AND 20", name="cycle"),
    )

    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("learning_communities.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    cycle: Mapped[int | None] = mapped_column(Integer)
    minutes_text: Mapped[str] = mapped_column(Text)
    shared: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_members.id"))


class CommunityAttendance(TenantMixin, Base):
    __tablename__ = "community_attendance"

    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community_meetings.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community_members.id"), primary_key=True, index=True
    )


class CommunityActivity(IdMixin, TenantMixin, TimestampMixin, Base):
    """An enquiry, lesson study or peer-coaching pair the community runs, in one of its cycles."""

    __tablename__ = "community_activities"
    __table_args__ = (
        CheckConstraint(_one_of("kind", COMMUNITY_ACTIVITY_KINDS), name="kind"),
        CheckConstraint("cycle BETWEEN 1 AND 20", name="cycle"),
        CheckConstraint(
            "(kind = 'enquiry') = (enquiry_id IS NOT NULL) "
            "AND (kind = 'lesson_study') = (lesson_study_id IS NOT NULL) "
            "AND (kind = 'peer_coaching') = (coach_member_id IS NOT NULL "
            "AND coachee_member_id IS NOT NULL AND coach_member_id <> coachee_member_id)",
            name="kind_fields",
        ),
    )

    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("learning_communities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    cycle: Mapped[int] = mapped_column(Integer)
    enquiry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), unique=True
    )
    lesson_study_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("lesson_studies.id", ondelete="CASCADE"), unique=True
    )
    coach_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_members.id"))
    coachee_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_members.id"))
    focus: Mapped[str | None] = mapped_column(Text)


class CommunityShare(IdMixin, TenantMixin, TimestampMixin, Base):
    """Work in progress shared with colleagues: a sharing session, a tool or an artefact."""

    __tablename__ = "community_shares"
    __table_args__ = (CheckConstraint(_one_of("kind", SHARE_KINDS), name="kind"),)

    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("learning_communities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    shared_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_members.id"))


class KnownNeed(TenantMixin, Base):
    """Needs of the register (audit service) known from ``audit.need.recorded``: links from
    enquiries and learning communities must name a need of the caller's trust."""

    __tablename__ = "known_needs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    school_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    level: Mapped[str] = mapped_column(String(20))
