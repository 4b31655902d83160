"""Participants, attendance and delegates' impact reports in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import Field, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_evaluation.terms import ActivitySource, HoursBasis, ParticipantRole

HOURS = (
    "Hours to count for this person. Leave it out (or null) to count the sessions they "
    "attended (or, for a lesson study, the hours its group recorded)."
)


class ParticipantCreate(Input):
    person_id: uuid.UUID
    role: ParticipantRole = "participant"
    hours: Decimal | None = Field(
        None, ge=0, le=2000, max_digits=7, decimal_places=2, description=HOURS
    )


class ParticipantUpdate(Input):
    role: ParticipantRole | None = None
    hours: Decimal | None = Field(
        None, ge=0, le=2000, max_digits=7, decimal_places=2, description=HOURS
    )

    @model_validator(mode="after")
    def _role_not_null(self) -> ParticipantUpdate:
        if "role" in self.model_fields_set and self.role is None:
            raise ValueError("role cannot be null")
        return self


class AttendanceMark(Input):
    participant_id: uuid.UUID
    session_id: uuid.UUID
    attended: bool
    minutes: int | None = Field(
        None, ge=0, le=1440, description="Minutes attended when not the whole session."
    )


class AttendanceIn(Input):
    marks: list[AttendanceMark] = Field(min_length=1, max_length=5000)

    @model_validator(mode="after")
    def _once_each(self) -> AttendanceIn:
        keys = [(m.participant_id, m.session_id) for m in self.marks]
        if len(set(keys)) != len(keys):
            raise ValueError("a participant and session pair is listed twice")
        return self


class AttendanceRead(OutputModel):
    participant_id: uuid.UUID
    session_id: uuid.UUID
    attended: bool
    minutes: int | None


class AttendanceGrid(OutputModel):
    items: list[AttendanceRead]


class ImpactReportIn(Input):
    """The delegate's report after training with a gap task."""

    report: str = Field(
        min_length=1,
        max_length=8000,
        description="What you tried in the gap task and what it changed for your pupils.",
    )
    gap_task_done_on: date | None = Field(None, description="When you carried out the gap task.")


class ParticipantRead(OutputModel):
    id: uuid.UUID
    activity_id: uuid.UUID
    person_id: uuid.UUID | None
    name: str = Field(description='"Former participant" once the person was erased.')
    role: ParticipantRole
    hours: float
    hours_basis: HoursBasis = Field(
        description="`recorded` (set for this person), `lesson_study` (from the study's "
        "time records) or `attendance` (sessions attended)."
    )
    former_participant: bool
    source: ActivitySource
    attendance: list[AttendanceRead]
    gap_task_done_on: date | None
    impact_report: str | None
    impact_reported_at: datetime | None
    created_at: datetime
    updated_at: datetime
