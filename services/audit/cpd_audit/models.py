"""Every table of the audit service.

Infrastructure tables (outbox, inbox, dead letters, idempotency keys) and the directory
projection come from cpd_common mixins; the domain tables follow: instruments (survey
templates) and their immutable versions, audits (rounds), anonymous responses and their
answers, and participation (who has responded, kept apart from what they answered); then
needs analysis and planning: the needs register, the three-year alignment framework, the
strategic CPD plan and personal career plans (with their mentor shares).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin, TimestampMixin, new_metadata, sync_indexes, utcnow
from cpd_common.directory import PersonMixin, SchoolMixin
from cpd_common.events.inbox import DeadLetterMixin, InboxMixin
from cpd_common.events.outbox import OutboxMixin
from cpd_common.heartbeat import WorkerHeartbeatMixin
from cpd_common.idempotency import IdempotencyKeyMixin
from cpd_common.revocation import TokenRevocationMixin
from cpd_common.tombstones import TombstoneMixin


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


class Instrument(IdMixin, TimestampMixin, Base):
    """A survey template. Built-in instruments (shipped with the service, the same for every
    trust) have no ``trust_id``; a trust's custom instruments have one. The questions live in
    :class:`InstrumentVersion`."""

    __tablename__ = "instruments"
    __table_args__ = (
        UniqueConstraint("trust_id", "key"),
        # One built-in per key (built-ins have no trust, and NULLs never collide above).
        Index(
            "uq_instruments_builtin_key",
            "key",
            unique=True,
            postgresql_where=text("trust_id IS NULL"),
        ),
    )

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


class AuditResultTotals(Base):
    """A closed audit's whole-audit figures (no breakdown), stored by the close in its
    transaction: once closed an audit takes no responses, so its results are read from here
    instead of scanning every answer again. The SQL rows of ``results.queries`` (items,
    sections) and the respondent count; comments are always read live (erasure removes
    them), breakdowns too."""

    __tablename__ = "audit_result_totals"

    audit_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True
    )
    respondents: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditResultAtoms(Base):
    """A closed audit's atom counts (``results.queries.atom_counts``: respondents, and those
    who answered and scored each item and section not everybody answered with a score, per
    combination of the five attributes), stored by the close in its transaction: the inputs
    suppression is decided on, before suppression. ``units``: one list per row,
    ``[unit_kind, unit, school_id, staff_group, department, career_stage, leadership,
    answered, scored]``."""

    __tablename__ = "audit_result_atoms"

    audit_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True
    )
    units: Mapped[list[list[Any]]] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditResultBreakdown(Base):
    """A closed audit's breakdown rows for one set of dimensions (``dims``: comma-separated,
    in ``suppression.DIMENSIONS`` order), stored by the close: the SQL rows of
    ``results.queries`` (items, sections) per cell, before suppression, which every read
    still applies."""

    __tablename__ = "audit_result_breakdowns"

    audit_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True
    )
    dims: Mapped[str] = mapped_column(Text, primary_key=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


# ---- needs analysis and planning ------------------------------------------------------------


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


# Incremental sync (``?updated_since=``) of the big lists reads (trust, updated_at, id) in order.
Index("ix_audits_trust_id_updated_at_id", Audit.trust_id, Audit.updated_at, Audit.id)
Index("ix_needs_trust_id_updated_at_id", Need.trust_id, Need.updated_at, Need.id)

# Incremental sync of every other list: (trust or parent, updated_at, id), the list's filter first.
SYNC_INDEXES = {
    "instruments": "trust_id",
    "alignment_plans": "trust_id",
    "cpd_plans": "trust_id",
    "career_plans": "trust_id",
    "self_audits": "trust_id",
}
sync_indexes(Base.metadata, SYNC_INDEXES)
