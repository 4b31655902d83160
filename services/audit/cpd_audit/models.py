"""Every table of the audit service.

Infrastructure tables (outbox, inbox, dead letters, idempotency keys) and the directory
projection come from cpd_common mixins; the domain tables follow: instruments (survey
templates) and their immutable versions, audits (rounds), anonymous responses and their
answers, and participation (who has responded, kept apart from what they answered).
Planning tables live in :mod:`cpd_audit.models_planning` on the same ``Base``.
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
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata, utcnow
from cpd_common.directory import PersonMixin, SchoolMixin
from cpd_common.events.inbox import DeadLetterMixin, InboxMixin
from cpd_common.events.outbox import OutboxMixin
from cpd_common.heartbeat import WorkerHeartbeatMixin
from cpd_common.idempotency import IdempotencyKeyMixin
from cpd_common.revocation import TokenRevocationMixin


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


class Instrument(IdMixin, TimestampMixin, Base):
    """A survey template. Built-in instruments (shipped with the service, the same for every
    trust) have no ``trust_id``; a trust's custom instruments have one. The questions live in
    :class:`InstrumentVersion`."""

    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("trust_id", "key"),)

    trust_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    key: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    framework: Mapped[str | None] = mapped_column(String(200))
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class InstrumentVersion(IdMixin, Base):
    """One version of an instrument's sections and items. Immutable once an audit uses it:
    an edit after that makes the next version."""

    __tablename__ = "instrument_versions"
    __table_args__ = (UniqueConstraint("instrument_id", "version"),)

    instrument_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    trust_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # [{"key": "1", "title": "..."}]
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # [{"key": "3c", "section": "3", "type": "agreement", "text": "...", "required": true,
    #   "scale": {...}, "dont_know": true, "comment": false, "choices": [...]}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class Audit(IdMixin, TenantMixin, TimestampMixin, Base):
    """A round of an instrument in one school, several schools or the whole trust, answered
    by the staff groups in its audience: draft -> open -> closed."""

    __tablename__ = "audits"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("scope_kind IN ('school', 'schools', 'trust')", name="scope_kind"),
        CheckConstraint("min_group_size >= 3", name="min_group_size"),
    )

    instrument_version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("instrument_versions.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    scope_kind: Mapped[str] = mapped_column(String(10))
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    audience_groups: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    min_group_size: Mapped[int] = mapped_column(SmallInteger, default=5)
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    audience_size: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class AuditResponse(Base):
    """One anonymous set of answers. No person id and no link to :class:`AuditParticipation`:
    the id is random (UUIDv4, which carries no time), the date is truncated to the day and
    the respondent's attributes are copied coarsely for breakdowns."""

    __tablename__ = "audit_responses"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    audit_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("audits.id", ondelete="CASCADE"), index=True
    )
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    school_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    staff_group: Mapped[str | None] = mapped_column(String(40))
    department: Mapped[str | None] = mapped_column(String(100))
    career_stage: Mapped[str | None] = mapped_column(String(40))
    leadership: Mapped[str] = mapped_column(String(10))
    submitted_on: Mapped[date] = mapped_column(Date)


class AuditAnswer(Base):
    """One item's answer in a response. Paired items fill ``values_score`` and
    ``practice_score``; agreement and scale items ``score`` (null with ``dont_know``);
    single-choice items ``choice``; free-text items and item comments ``text``."""

    __tablename__ = "audit_answers"
    __table_args__ = (Index("ix_audit_answers_audit_id_item_key", "audit_id", "item_key"),)

    response_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("audit_responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    audit_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    values_score: Mapped[int | None] = mapped_column(SmallInteger)
    practice_score: Mapped[int | None] = mapped_column(SmallInteger)
    dont_know: Mapped[bool] = mapped_column(Boolean, default=False)
    choice: Mapped[str | None] = mapped_column(String(60))
    text: Mapped[str | None] = mapped_column(Text)


class AuditAudienceMember(Base):
    """Who may answer an audit: the scope's eligible staff, frozen when it opens, with the
    attributes their response will carry. People created or moved afterwards are not in it,
    so nobody can pad a small group with made-up respondents once answers come in."""

    __tablename__ = "audit_audience"

    audit_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    school_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    staff_group: Mapped[str | None] = mapped_column(String(40))
    department: Mapped[str | None] = mapped_column(String(100))
    career_stage: Mapped[str | None] = mapped_column(String(40))
    leadership: Mapped[str] = mapped_column(String(10))


class AuditParticipation(Base):
    """That a person has responded to an audit (to stop a second response), on the day only.
    Shares nothing with the response: no id, no time of day."""

    __tablename__ = "audit_participations"
    __table_args__ = (UniqueConstraint("audit_id", "person_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    audit_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("audits.id", ondelete="CASCADE"), index=True
    )
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    responded_on: Mapped[date] = mapped_column(Date)


class SelfAudit(IdMixin, TenantMixin, TimestampMixin, Base):
    """One person answering an instrument for themself, to reflect. Private: only its author
    reads it, and it never enters an audit or any aggregate."""

    __tablename__ = "self_audits"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    instrument_version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("instrument_versions.id", ondelete="RESTRICT"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    # {"3c": {"values": 4, "practice": 2}, ...}: the answers as validated.
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


from cpd_audit import models_planning  # noqa: E402,F401
