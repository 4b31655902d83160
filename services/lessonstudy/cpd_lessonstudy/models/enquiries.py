"""Tables of classroom action enquiries: a focused question about some pupils' learning,
answered through data collection, analysis, validity checking, replication and reporting,
with the members' time."""

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
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin
from cpd_lessonstudy import terms
from cpd_lessonstudy.models import Base, _one_of

# The words CHECK constraints allow: the vocabulary of :mod:`cpd_lessonstudy.terms`.
ENQUIRY_STATUSES: tuple[str, ...] = get_args(terms.EnquiryStatus)
ENQUIRY_ROLES: tuple[str, ...] = get_args(terms.GroupRole)
QUESTION_ANSWERS: tuple[str, ...] = get_args(terms.QuestionAnswer)
DATA_METHODS: tuple[str, ...] = get_args(terms.DataMethod)
AGREEMENT: tuple[str, ...] = get_args(terms.Agreement)
TALLY: tuple[str, ...] = get_args(terms.Tally)
CONCLUSIONS_HELD: tuple[str, ...] = get_args(terms.ConclusionsHeld)
DISSEMINATION_FORMS: tuple[str, ...] = get_args(terms.DisseminationForm)
PUPIL_VOICE_KINDS: tuple[str, ...] = get_args(terms.PupilVoiceKind)
ENQUIRY_TIME_KINDS: tuple[str, ...] = get_args(terms.EnquiryTimeKind)


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
