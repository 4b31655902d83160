"""Measures in and out."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_evaluation.terms.measures import MeasureKind, MeasureSubjects

# Values are bounded so that sums over a large upload stay exact and readable.
MAX_MAGNITUDE = Decimal(10) ** 12
ScaleValue = Annotated[
    Decimal, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False, decimal_places=6)
]

# Which subjects each kind measures (an observation rating may rate pupils' work in a lesson
# or a teacher's practice).
PUPIL_KINDS = frozenset(
    {
        "test_score",
        "teacher_assessment",
        "work_sample_rating",
        "pupil_attitude_survey",
        "attendance",
        "behaviour_points",
    }
)
STAFF_KINDS = frozenset({"staff_survey_item", "staff_confidence"})

NAME = 'What is measured, as the plan\'s data sets name it (e.g. "Year 5 reasoning test").'
KIND = (
    "test_score, teacher_assessment, observation_rating, work_sample_rating, "
    "pupil_attitude_survey, attendance, behaviour_points (pupils); staff_survey_item, "
    "staff_confidence (staff); observation_rating may be either."
)
SUBJECTS = (
    "Who is measured: `pupils` (each keyed by a pseudonym of the school's pupil id) or "
    "`staff` (each by their person id)."
)
HIGHER_IS_BETTER = "Whether a rise is an improvement (false for e.g. behaviour points)."


class Scale(Input):
    """The measure's range (both ends, one or neither) and, for a rating, what the points
    mean. Observations outside the range are refused."""

    min: ScaleValue | None = None
    max: ScaleValue | None = None
    description: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("scale min must be below max")
        return self


def check_kind(kind: str | None, subjects: str | None) -> None:
    if kind is None or subjects is None:
        return
    if kind in PUPIL_KINDS and subjects != "pupils":
        raise ValueError(f"a {kind} measures pupils")
    if kind in STAFF_KINDS and subjects != "staff":
        raise ValueError(f"a {kind} measures staff")


class MeasureCreate(Input):
    name: str = Field(min_length=1, max_length=200, description=NAME)
    kind: MeasureKind = Field(description=KIND)
    subjects: MeasureSubjects = Field(description=SUBJECTS)
    scale: Scale = Field(default_factory=Scale)
    higher_is_better: bool = Field(True, description=HIGHER_IS_BETTER)

    @model_validator(mode="after")
    def _consistent(self) -> MeasureCreate:
        check_kind(self.kind, self.subjects)
        return self


class MeasureUpdate(Input):
    """Fields to change. ``kind`` and ``subjects`` change only while the measure holds no
    observations (409 otherwise); ``scale``, when given, is the whole scale."""

    name: str | None = Field(None, min_length=1, max_length=200, description=NAME)
    kind: MeasureKind | None = Field(None, description=KIND)
    subjects: MeasureSubjects | None = Field(None, description=SUBJECTS)
    scale: Scale | None = None
    higher_is_better: bool | None = Field(None, description=HIGHER_IS_BETTER)

    @model_validator(mode="after")
    def _not_null(self) -> MeasureUpdate:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ScaleRead(OutputModel):
    min: float | None
    max: float | None
    description: str | None


class PhaseCounts(OutputModel):
    """How many subjects have a value at each phase."""

    baseline: int = 0
    short_term: int = 0
    medium_term: int = 0


class MeasureRead(OutputModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    trust_id: uuid.UUID
    name: str = Field(description=NAME)
    kind: MeasureKind
    subjects: MeasureSubjects
    scale: ScaleRead
    higher_is_better: bool = Field(description=HIGHER_IS_BETTER)
    observations: PhaseCounts
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
