"""Tables of what people add to an activity's record, and of follow-through.

- **Participant voice** (evaluation levels 1 and 2): one feedback per participant, released to
  leaders only as aggregates after the activity's feedback window closes; reflections (a
  participant's journal, private unless shared with a mentor or marked as shared evidence).
- **Coaching and mentoring**: the pair's agreement and learning log, read only by the coach and
  the coachee (leaders see that coaching happens, never what was said).
- **Providers** of CPD with the four questions a school should ask of them.
- **Follow-ups**: one notice per item and due date, so the worker tells each item once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin
from cpd_evaluation.models import Base, _one_of
from cpd_evaluation.terms.voice import NOTICE_KINDS, PROVIDER_KINDS

# ---- participant voice --------------------------------------------------------------------


class FeedbackWindow(TenantMixin, Base):
    """When an activity's feedback window closes. Stored once the first feedback arrives (or a
    leader sets it), so a closed window stays closed whatever later happens to the sessions:
    results are released once, never recomputed from a reopened window."""

    __tablename__ = "feedback_windows"

    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    set_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Feedback(IdMixin, TenantMixin, Base):
    """A participant's end-of-activity feedback. ``participant_id`` ties it to the participant
    (one each: unique) until they are erased or removed; the ratings then stay, anonymous.
    Only the day it was given is kept."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("participant_id"),
        CheckConstraint("relevance BETWEEN 1 AND 5", name="relevance"),
        CheckConstraint("quality BETWEEN 1 AND 5", name="quality"),
        CheckConstraint("expected_impact BETWEEN 1 AND 5", name="expected_impact"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    # SET NULL: removing a participant after results were released must not change them
    # (a leader could otherwise read one person's answers from the difference).
    participant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    relevance: Mapped[int] = mapped_column(SmallInteger)
    quality: Mapped[int] = mapped_column(SmallInteger)
    expected_impact: Mapped[int] = mapped_column(SmallInteger)
    will_do_differently: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    given_on: Mapped[date] = mapped_column(Date)


class Reflection(IdMixin, TenantMixin, TimestampMixin, Base):
    """A participant's journal entry on an activity. Private to the author and the mentor they
    share it with, unless the author marks it as shared evidence."""

    __tablename__ = "reflections"
    __table_args__ = (
        CheckConstraint("mentor_id IS NULL OR mentor_id <> author_id", name="mentor"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    mentor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    written_on: Mapped[date] = mapped_column(Date)
    tried: Mapped[str | None] = mapped_column(Text)
    pupil_effect: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    shared_as_evidence: Mapped[bool] = mapped_column(Boolean, default=False)


# ---- coaching and mentoring ---------------------------------------------------------------


class CoachingAgreement(IdMixin, TenantMixin, TimestampMixin, Base):
    """The agreement of a coaching, mentoring or peer-coaching activity: one pair per activity
    (peer coaches swap roles within it), and the outcomes they agreed."""

    __tablename__ = "coaching_agreements"
    __table_args__ = (
        UniqueConstraint("activity_id"),
        CheckConstraint("coach_id <> coachee_id", name="pair"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    coach_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    coachee_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    agreed_outcomes: Mapped[str] = mapped_column(Text)


class CoachingSession(IdMixin, TenantMixin, TimestampMixin, Base):
    """An entry of the coaching learning log. Read only by the coach and the coachee."""

    __tablename__ = "coaching_sessions"
    __table_args__ = (
        CheckConstraint("minutes BETWEEN 1 AND 1440", name="minutes"),
        CheckConstraint("next_session_on IS NULL OR next_session_on >= held_on", name="next"),
        Index("ix_coaching_sessions_activity_id_held_on", "activity_id", "held_on"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    focus: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    next_steps: Mapped[str | None] = mapped_column(Text)
    impact_noted: Mapped[str | None] = mapped_column(Text)
    next_session_on: Mapped[date | None] = mapped_column(Date)


# ---- providers ----------------------------------------------------------------------------


class Provider(IdMixin, TenantMixin, TimestampMixin, Base):
    """Who provides CPD (in-house, a teaching school or hub, an external provider), with the
    school's answers to the four questions to ask of any provider."""

    __tablename__ = "providers"
    __table_args__ = (
        CheckConstraint(_one_of("kind", PROVIDER_KINDS), name="kind"),
        UniqueConstraint("trust_id", "name"),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    website: Mapped[str | None] = mapped_column(String(500))
    evidence: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    impact_evaluation: Mapped[str | None] = mapped_column(Text)
    quality_corroboration: Mapped[str | None] = mapped_column(Text)


# ---- follow-through -----------------------------------------------------------------------


class FollowUpNotice(TenantMixin, Base):
    """A follow-up item that fell due and was announced (``evaluation.follow_up.due``): one row
    per item and due date, inserted with the event, so restarts and replicas tell it once."""

    __tablename__ = "follow_up_notices"
    __table_args__ = (CheckConstraint(_one_of("kind", NOTICE_KINDS), name="kind"),)

    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    noticed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
