"""Pupil interviews in and out (pupil voice; pupils are never named)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import PupilNote

NOTES_DOC = (
    "Short notes of what the pupil said about the lesson and their learning. Never the pupil's "
    "name or anything that identifies them."
)


class InterviewCreate(Input):
    case_pupil_id: uuid.UUID | None = Field(
        None, description="The case pupil interviewed; null for another pupil of the class."
    )
    notes: PupilNote = Field(min_length=1, max_length=4000, description=NOTES_DOC)


class InterviewUpdate(Input):
    notes: PupilNote = Field(min_length=1, max_length=4000, description=NOTES_DOC)


class InterviewRead(OutputModel):
    id: uuid.UUID
    lesson_id: uuid.UUID
    case_pupil_id: uuid.UUID | None
    case_pupil_label: str | None = Field(description="Null for a pupil who is not a case pupil.")
    interviewer_member_id: uuid.UUID
    interviewer_name: str
    notes: str
    created_at: datetime
    updated_at: datetime
