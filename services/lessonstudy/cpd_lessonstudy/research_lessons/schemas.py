"""Research lessons, their stages and predictions, in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field, field_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import PupilNote
from cpd_lessonstudy.terms import LessonStatus


class StageInput(Input):
    title: str = Field(min_length=1, max_length=200, description="e.g. 'Starter: estimate first'.")
    description: str | None = Field(
        None, max_length=4000, description="What happens in this stage."
    )


class LessonCreate(Input):
    teacher_member_id: uuid.UUID = Field(description="The member who will teach the lesson.")
    title: str | None = Field(None, max_length=200)
    planned_for: date | None = None
    plan_summary: str | None = Field(None, max_length=8000)
    changes_from_previous: str | None = Field(
        None,
        max_length=8000,
        description="What the group changed from the previous research lesson, and why.",
    )
    stages: list[StageInput] = Field(
        min_length=1, max_length=12, description="The lesson's stages, in teaching order."
    )


class LessonUpdate(Input):
    """Changes while the lesson is planned. Replacing ``stages`` is refused once predictions
    were written against them."""

    teacher_member_id: uuid.UUID | None = None
    title: str | None = Field(None, max_length=200)
    planned_for: date | None = None
    plan_summary: str | None = Field(None, max_length=8000)
    changes_from_previous: str | None = Field(None, max_length=8000)
    stages: list[StageInput] | None = Field(None, min_length=1, max_length=12)

    @field_validator("teacher_member_id", "stages")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value


class StageRead(OutputModel):
    id: uuid.UUID
    position: int
    title: str
    description: str | None


class LessonRead(OutputModel):
    id: uuid.UUID
    study_id: uuid.UUID
    cycle: int
    title: str | None
    planned_for: date | None
    teacher_member_id: uuid.UUID
    teacher_name: str
    plan_summary: str | None
    changes_from_previous: str | None
    status: LessonStatus = Field(
        description="planned (predictions being written) -> taught (observations, interviews, "
        "discussion) -> completed (discussion done)."
    )
    taught_on: date | None
    marked_taught_at: datetime | None
    completed_at: datetime | None
    stages: list[StageRead]
    predictions_missing: int = Field(
        description="Stage x case pupil cells without a prediction; must be 0 before teaching."
    )
    created_at: datetime
    updated_at: datetime


class PredictionInput(Input):
    stage_id: uuid.UUID
    case_pupil_id: uuid.UUID
    response: PupilNote = Field(
        min_length=1, max_length=4000, description="How you predict the case pupil will respond."
    )


class PredictionsPut(Input):
    predictions: list[PredictionInput] = Field(min_length=1, max_length=200)


class PredictionRead(OutputModel):
    id: uuid.UUID
    stage_id: uuid.UUID
    stage_position: int
    case_pupil_id: uuid.UUID
    case_pupil_label: str
    response: str
    recorded_by: uuid.UUID | None
    recorded_by_name: str | None
    updated_at: datetime


class Cell(OutputModel):
    stage_id: uuid.UUID
    stage_position: int
    case_pupil_id: uuid.UUID
    case_pupil_label: str


class PredictionGrid(OutputModel):
    lesson_id: uuid.UUID
    cycle: int
    complete: bool = Field(description="Every stage x case pupil cell has a prediction.")
    items: list[PredictionRead]
    missing: list[Cell]


class TaughtInput(Input):
    taught_on: date = Field(description="The day the lesson was taught (not in the future).")
