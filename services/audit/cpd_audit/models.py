"""Every table of the audit service.

Infrastructure tables (outbox, inbox, dead letters, idempotency keys) and the directory
projection come from cpd_common mixins; the domain tables follow.
"""

from __future__ import annotations

from cpd_common.db import new_metadata
from cpd_common.directory import PersonMixin, SchoolMixin
from cpd_common.events.inbox import DeadLetterMixin, InboxMixin
from cpd_common.events.outbox import OutboxMixin
from cpd_common.idempotency import IdempotencyKeyMixin
from sqlalchemy.orm import DeclarativeBase


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


class School(SchoolMixin, Base):
    __tablename__ = "schools"


from cpd_audit import models_planning  # noqa: E402,F401
