"""A plan's lesson studies and its case pupils' outcomes out."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel

MAX_STUDIES = 20


class LessonStudiesSet(Input):
    study_ids: list[uuid.UUID] = Field(
        max_length=MAX_STUDIES,
        description="The whole list of lesson studies whose case pupils are evidence for the "
        "plan (empty: none). Each a lesson study of your trust; unless you are a trust admin, "
        "of a school you lead.",
    )


class LinkedStudy(OutputModel):
    study_id: uuid.UUID
    activity_id: uuid.UUID = Field(description="The study as a CPD activity.")
    title: str


class LessonStudiesRead(OutputModel):
    plan_id: uuid.UUID
    items: list[LinkedStudy]


class LessonPoint(OutputModel):
    lesson_id: uuid.UUID
    cycle: int
    taught_on: date | None


class StageCounts(OutputModel):
    """A case pupil in one research lesson: of the lesson's stages, how many they met, partly
    met or had not yet met (stages without a recorded outcome count in ``stages`` only)."""

    stages: int
    met: int
    partly: int
    not_yet: int


class CasePupilRead(OutputModel):
    label: str = Field(description="The case pupil's label (A, B, C ...): never a name.")
    starting_point: str | None
    success_criteria: str | None
    first: StageCounts | None = Field(description="In the study's first research lesson.")
    last: StageCounts | None = Field(
        description="In its last research lesson (null while it has had only one)."
    )
    met_change: int | None = Field(
        description="Stages met in the last lesson minus in the first (null without both)."
    )


class StudyCasePupils(OutputModel):
    study_id: uuid.UUID
    title: str
    lessons: int = Field(description="Research lessons completed so far.")
    first_lesson: LessonPoint | None
    last_lesson: LessonPoint | None
    case_pupils: list[CasePupilRead]


class CasePupilsRead(OutputModel):
    plan_id: uuid.UUID
    studies: list[StudyCasePupils]
