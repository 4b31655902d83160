"""Tables of professional learning communities: members, meetings and attendance, the
enquiry cycles and lesson studies they run, and what they share."""

from __future__ import annotations

import uuid
from datetime import date
from typing import get_args

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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin
from cpd_lessonstudy import terms
from cpd_lessonstudy.models import Base, _one_of
from cpd_lessonstudy.models.enquiries import ENQUIRY_ROLES

COMMUNITY_ACTIVITY_KINDS: tuple[str, ...] = get_args(terms.CommunityActivityKind)
SHARE_KINDS: tuple[str, ...] = get_args(terms.ShareKind)


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
