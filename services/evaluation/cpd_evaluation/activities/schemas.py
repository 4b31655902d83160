"""Activities in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_evaluation.terms import ActivityKind, ActivitySource, ActivityStatus

Money = Annotated[Decimal, Field(ge=0, le=10_000_000, max_digits=10, decimal_places=2)]

INTENT = "Training with a gap task: what the training should change for pupils."
GAP_TASK = "The task delegates carry out in their classrooms between sessions."
SUBJECT_SPECIFIC = (
    "Whether the activity develops teaching of a subject (about half of a teacher's CPD "
    "should); `subject` names it."
)


class SessionIn(Input):
    """A dated session. On PATCH, a session with an id is changed, one without is added and
    sessions left out are removed (with their attendance)."""

    id: uuid.UUID | None = None
    title: str | None = Field(None, max_length=200)
    held_on: date
    duration_minutes: int = Field(ge=1, le=1440, description="Length of the session in minutes.")


class CostsIn(Input):
    """In pounds. On PATCH, a cost left out keeps its value."""

    fees: Money = Decimal(0)
    materials: Money = Decimal(0)
    supply_cover: Money = Decimal(0)


def _unique(values: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(values))


def _check_sessions(sessions: list[SessionIn] | None) -> None:
    if sessions is None:
        return
    ids = [s.id for s in sessions if s.id is not None]
    if len(set(ids)) != len(ids):
        raise ValueError("a session id is listed twice")


def _check_subject(subject_specific: bool | None, subject: str | None) -> None:
    if subject_specific and not subject:
        raise ValueError("a subject-specific activity names its subject")
    if subject_specific is False and subject:
        raise ValueError("a generic activity has no subject: set subject_specific or drop it")


class ActivityCreate(Input):
    title: str = Field(min_length=1, max_length=200)
    kind: ActivityKind
    provider_id: uuid.UUID | None = Field(None, description="Who provides it (a provider id).")
    school_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=50,
        description="The schools whose staff take part. Unless you are a trust admin, one "
        "of them must be yours.",
    )
    subject_specific: bool = Field(False, description=SUBJECT_SPECIFIC)
    subject: str | None = Field(None, min_length=1, max_length=100)
    focus: str | None = Field(None, max_length=4000, description="What the activity develops.")
    need_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Needs of the needs register it answers."
    )
    sessions: list[SessionIn] = Field(default_factory=list, max_length=200)
    costs: CostsIn = Field(default_factory=CostsIn)
    release_time_hours: Decimal = Field(
        Decimal(0),
        ge=0,
        le=100_000,
        max_digits=7,
        decimal_places=2,
        description="Staff time released from teaching for it, in hours.",
    )
    intent: str | None = Field(None, max_length=4000, description=INTENT)
    gap_task: str | None = Field(None, max_length=4000, description=GAP_TASK)
    gap_task_due_on: date | None = None

    @field_validator("school_ids", "need_ids")
    @classmethod
    def _no_repeats(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return _unique(value)

    @model_validator(mode="after")
    def _consistent(self) -> ActivityCreate:
        _check_subject(self.subject_specific, self.subject)
        _check_sessions(self.sessions)
        if any(s.id is not None for s in self.sessions):
            raise ValueError("new sessions have no id")
        if self.gap_task_due_on is not None and not self.gap_task:
            raise ValueError("a gap task due date needs the gap task")
        return self


class ActivityUpdate(Input):
    """Fields to change. ``sessions``, when given, is the full list of sessions."""

    title: str | None = Field(None, min_length=1, max_length=200)
    kind: ActivityKind | None = None
    provider_id: uuid.UUID | None = None
    school_ids: list[uuid.UUID] | None = Field(None, min_length=1, max_length=50)
    subject_specific: bool | None = Field(None, description=SUBJECT_SPECIFIC)
    subject: str | None = Field(None, min_length=1, max_length=100)
    focus: str | None = Field(None, max_length=4000)
    need_ids: list[uuid.UUID] | None = Field(None, max_length=50)
    sessions: list[SessionIn] | None = Field(None, max_length=200)
    costs: CostsIn | None = None
    release_time_hours: Decimal | None = Field(
        None, ge=0, le=100_000, max_digits=7, decimal_places=2
    )
    intent: str | None = Field(None, max_length=4000, description=INTENT)
    gap_task: str | None = Field(None, max_length=4000, description=GAP_TASK)
    gap_task_due_on: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ActivityUpdate:
        for name in (
            "title",
            "kind",
            "school_ids",
            "subject_specific",
            "need_ids",
            "sessions",
            "costs",
            "release_time_hours",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        _check_sessions(self.sessions)
        if self.school_ids is not None:
            self.school_ids = _unique(self.school_ids)
        if self.need_ids is not None:
            self.need_ids = _unique(self.need_ids)
        return self


class CancelIn(Input):
    reason: str | None = Field(None, max_length=2000)


class ImpactNoteIn(Input):
    note: str = Field(
        min_length=1,
        max_length=8000,
        description="The school's longer-term note on what the activity changed (for pupils).",
    )


class SessionRead(OutputModel):
    id: uuid.UUID
    title: str | None
    held_on: date
    duration_minutes: int


class CostsRead(OutputModel):
    fees: float
    materials: float
    supply_cover: float
    total: float


class SustainedRead(OutputModel):
    """Derived from the sessions, never typed."""

    pattern: Literal["sustained", "one_off"]
    sustained: bool
    reason: str
    span_days: int | None = Field(description="Days from the first session to the last.")
    follow_up_sessions: int = Field(description="Sessions after the day of the first one.")


class ActivityRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    title: str
    kind: ActivityKind
    status: ActivityStatus
    provider_id: uuid.UUID | None
    school_ids: list[uuid.UUID]
    subject_specific: bool
    subject: str | None
    focus: str | None
    need_ids: list[uuid.UUID]
    sessions: list[SessionRead]
    starts_on: date | None
    ends_on: date | None
    session_hours: float = Field(description="Total length of the sessions, in hours.")
    sustained: SustainedRead
    costs: CostsRead
    release_time_hours: float
    intent: str | None = Field(description=INTENT)
    gap_task: str | None = Field(description=GAP_TASK)
    gap_task_due_on: date | None
    impact_note: str | None
    impact_noted_at: datetime | None
    participant_count: int
    source: ActivitySource = Field(
        description="`manual`, or `lessonstudy` when it arrives from the lesson study service "
        "(its members and hours then come from there)."
    )
    source_id: uuid.UUID | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
