"""Observations in and out: what a case pupil actually did, never a judgement of the teacher."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import PupilNote
from cpd_lessonstudy.terms import Outcome

OUTCOME_DOC = "Whether the pupil met their success criteria at this point: met, partly or not_yet."


class ObservationCreate(Input):
    stage_id: uuid.UUID
    case_pupil_id: uuid.UUID
    response: PupilNote = Field(
        min_length=1, max_length=4000, description="What the pupil actually did and said."
    )
    outcome: Outcome = Field(description=OUTCOME_DOC)
    notes: PupilNote | None = Field(None, max_length=4000)


class ObservationUpdate(Input):
    response: PupilNote | None = Field(None, min_length=1, max_length=4000)
    outcome: Outcome | None = Field(None, description=OUTCOME_DOC)
    notes: PupilNote | None = Field(None, max_length=4000)

    @field_validator("response", "outcome")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value


class ObservationRead(OutputModel):
    id: uuid.UUID
    lesson_id: uuid.UUID
    stage_id: uuid.UUID
    stage_position: int
    case_pupil_id: uuid.UUID
    case_pupil_label: str
    observer_member_id: uuid.UUID
    observer_name: str
    response: str
    outcome: Outcome
    notes: str | None
    created_at: datetime
    updated_at: datetime
