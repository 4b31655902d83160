"""The post-lesson discussion in and out."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import PupilNote

ORDER = (
    "The discussion starts from the pupils: a reflection on every case pupil is required before "
    "`what_to_change` is accepted (422 otherwise), and `what_to_change` before "
    "`next_lesson_plan`. It is about the pupils' learning, not the teacher."
)


class ReflectionInput(Input):
    case_pupil_id: uuid.UUID
    learning: PupilNote = Field(
        min_length=1,
        max_length=4000,
        description="What the group learnt about this pupil's learning in this lesson.",
    )


class DiscussionInput(Input):
    reflections: list[ReflectionInput] = Field(
        default_factory=list,
        max_length=6,
        description="Per case pupil; a pupil's earlier reflection is replaced.",
    )
    what_to_change: PupilNote | None = Field(
        None, max_length=8000, description="What to change for the next lesson, and why."
    )
    next_lesson_plan: str | None = Field(
        None, max_length=8000, description="The initial plan for the next research lesson."
    )

    @field_validator("reflections")
    @classmethod
    def _once_each(cls, value: list[ReflectionInput]) -> list[ReflectionInput]:
        ids = [r.case_pupil_id for r in value]
        if len(set(ids)) != len(ids):
            raise ValueError("a case pupil is listed twice")
        return value


class ReflectionRead(OutputModel):
    case_pupil_id: uuid.UUID
    case_pupil_label: str
    learning: str
    recorded_by: uuid.UUID | None
    recorded_by_name: str | None
    created_at: datetime
    updated_at: datetime


class DiscussionRead(OutputModel):
    id: uuid.UUID
    lesson_id: uuid.UUID
    cycle: int
    reflections: list[ReflectionRead]
    pupils_without_reflection: list[str] = Field(
        description="Labels of case pupils not yet reflected on (what_to_change waits for them)."
    )
    what_to_change: str | None
    what_to_change_at: datetime | None
    next_lesson_plan: str | None
    started_by: uuid.UUID
    started_by_name: str
    created_at: datetime
    updated_at: datetime
