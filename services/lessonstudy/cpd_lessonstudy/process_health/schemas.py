"""Process health out: figures about the process, never about a teacher."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from cpd_common.schemas import OutputModel
from cpd_lessonstudy.terms import LessonStatus, StudyStatus


class Figures(OutputModel):
    cycles_planned: int
    cycles_completed: int
    prediction_cells: int = Field(
        description="Stage x case pupil cells of the taught lessons (case pupils the study had "
        "when each lesson was taught)."
    )
    predictions_before_teaching: int = Field(
        description="Cells whose prediction was written before the lesson was marked taught."
    )
    prediction_rate: float | None = Field(
        description="predictions_before_teaching / prediction_cells"
    )
    cells_observed: int = Field(description="Cells with at least one observation.")
    observation_coverage: float | None = Field(description="cells_observed / prediction_cells")
    discussions_held: int
    discussions_from_pupil_evidence: int = Field(
        description="Discussions where every case pupil had been observed and was reflected on "
        "before what to change was agreed."
    )
    mean_days_between_cycles: float | None


class LessonHealth(OutputModel):
    cycle: int
    status: LessonStatus
    taught_on: date | None
    cells: int
    predicted_before_teaching: int
    cells_observed: int
    discussion_held: bool
    discussion_from_pupil_evidence: bool
    days_since_previous: int | None


class StudyHealth(Figures):
    study_id: uuid.UUID
    title: str
    status: StudyStatus
    school_ids: list[uuid.UUID]
    lessons_taught: int
    days_between_cycles: list[int]
    lessons: list[LessonHealth]


class SchoolHealth(Figures):
    school_id: uuid.UUID
    school_name: str
    studies: int


class TrustTotals(Figures):
    studies: int


class TrustHealth(OutputModel):
    trust_id: uuid.UUID
    totals: TrustTotals
    schools: list[SchoolHealth] = Field(
        description="A networked study counts in each of its schools."
    )
    studies: list[StudyHealth]
