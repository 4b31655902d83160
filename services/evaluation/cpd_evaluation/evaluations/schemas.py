"""Evaluation plans in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_evaluation.terms.plans import EvaluationLevel, PlanStatus, PlanWarningCode

DataItem = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=8000)]

SHORT_TERM = "What should have changed by the end of the CPD."
MEDIUM_TERM = "What should have changed a couple of terms later (for pupils, ideally)."
REPORTED_TO = "Who the findings are reported to."
LEADS_TO_ACTION = "How the findings lead to action."
LEVELS = (
    "The evaluation levels the plan covers: reactions, learning, organisational support, use "
    "of new knowledge and skills, pupil outcomes."
)
PUPILS_REACHED = (
    "How many pupils the CPD reaches (the classes of the staff taking part): value for money "
    "is also given per pupil."
)
RESPONSIBLE = (
    "Who gathers the data: told (follow-ups) when a data point falls due and is not captured. "
    "The plan's author unless given; a member of staff of the trust."
)
ACTIVITIES = (
    "The activities the plan evaluates (several for a programme). An activity belongs to at "
    "most one plan; unless you are a trust admin, you lead a school of each."
)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class DataSet(Input):
    """Data held or to gather at one point, and how it will be analysed. Name the same items
    at each point (e.g. "Year 5 reasoning test") so outcomes can be set against the baseline."""

    quantitative: list[DataItem] = Field(default_factory=list, max_length=50)
    qualitative: list[DataItem] = Field(default_factory=list, max_length=50)
    analysis: str | None = Field(
        None, max_length=4000, description="How this set will be analysed."
    )

    @field_validator("quantitative", "qualitative")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        return _unique(value)


class DesignCheck(Input):
    reaches_pupil_outcomes: bool = Field(
        description="Does the design reach from staff learning, through practice, to pupil "
        "outcomes?"
    )
    note: str | None = Field(None, max_length=4000)


class DueDates(Input):
    baseline: date | None = None
    short_term: date | None = None
    medium_term: date | None = None
    report: date | None = None


def _check_due(due: DueDates | None) -> None:
    if due is None:
        return
    dated = [d for d in (due.baseline, due.short_term, due.medium_term, due.report) if d]
    if dated != sorted(dated):
        raise ValueError("due dates run baseline, short term, medium term, report")


class PlanCreate(Input):
    title: str = Field(min_length=1, max_length=200)
    activity_ids: list[uuid.UUID] = Field(min_length=1, max_length=50, description=ACTIVITIES)
    design_check: DesignCheck
    short_term_outcome: LongText = Field(description=SHORT_TERM)
    medium_term_outcome: LongText = Field(description=MEDIUM_TERM)
    baseline: DataSet = Field(default_factory=DataSet, description="Baseline data held.")
    short_term_data: DataSet = Field(default_factory=DataSet)
    medium_term_data: DataSet = Field(default_factory=DataSet)
    reported_to: str | None = Field(None, max_length=2000, description=REPORTED_TO)
    leads_to_action: str | None = Field(None, max_length=4000, description=LEADS_TO_ACTION)
    levels: list[EvaluationLevel] = Field(min_length=1, max_length=5, description=LEVELS)
    due: DueDates = Field(default_factory=DueDates)
    responsible_id: uuid.UUID | None = Field(None, description=RESPONSIBLE)
    pupils_reached: int | None = Field(None, ge=0, le=1_000_000, description=PUPILS_REACHED)

    @field_validator("activity_ids")
    @classmethod
    def _unique_ids(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))

    @field_validator("levels")
    @classmethod
    def _unique_levels(cls, value: list[EvaluationLevel]) -> list[EvaluationLevel]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _consistent(self) -> PlanCreate:
        _check_due(self.due)
        return self


class PlanUpdate(Input):
    """Fields to change. ``activity_ids``, when given, is the whole list. ``status`` only moves
    forward (planned, baseline_captured, short_term_captured, medium_term_captured, reported);
    a step back is a 409."""

    title: str | None = Field(None, min_length=1, max_length=200)
    activity_ids: list[uuid.UUID] | None = Field(None, min_length=1, max_length=50)
    design_check: DesignCheck | None = None
    short_term_outcome: LongText | None = Field(None, description=SHORT_TERM)
    medium_term_outcome: LongText | None = Field(None, description=MEDIUM_TERM)
    baseline: DataSet | None = None
    short_term_data: DataSet | None = None
    medium_term_data: DataSet | None = None
    reported_to: str | None = Field(None, max_length=2000, description=REPORTED_TO)
    leads_to_action: str | None = Field(None, max_length=4000, description=LEADS_TO_ACTION)
    levels: list[EvaluationLevel] | None = Field(None, min_length=1, max_length=5)
    due: DueDates | None = Field(None, description="Whole set of due dates when given.")
    status: PlanStatus | None = None
    responsible_id: uuid.UUID | None = Field(None, description=RESPONSIBLE)
    pupils_reached: int | None = Field(None, ge=0, le=1_000_000, description=PUPILS_REACHED)

    @model_validator(mode="after")
    def _consistent(self) -> PlanUpdate:
        for name in (
            "title",
            "activity_ids",
            "design_check",
            "short_term_outcome",
            "medium_term_outcome",
            "baseline",
            "short_term_data",
            "medium_term_data",
            "levels",
            "due",
            "status",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if self.activity_ids is not None:
            self.activity_ids = list(dict.fromkeys(self.activity_ids))
        if self.levels is not None:
            self.levels = list(dict.fromkeys(self.levels))
        _check_due(self.due)
        return self


class DataSetRead(OutputModel):
    quantitative: list[str]
    qualitative: list[str]
    analysis: str | None


class DesignCheckRead(OutputModel):
    reaches_pupil_outcomes: bool
    note: str | None


class DueDatesRead(OutputModel):
    baseline: date | None
    short_term: date | None
    medium_term: date | None
    report: date | None


class PlanWarning(OutputModel):
    """Something a sound evaluation would have; the plan is kept all the same."""

    code: PlanWarningCode
    message: str


class PlanRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    title: str
    status: PlanStatus
    activity_ids: list[uuid.UUID]
    design_check: DesignCheckRead
    short_term_outcome: str = Field(description=SHORT_TERM)
    medium_term_outcome: str = Field(description=MEDIUM_TERM)
    baseline: DataSetRead
    short_term_data: DataSetRead
    medium_term_data: DataSetRead
    reported_to: str | None = Field(description=REPORTED_TO)
    leads_to_action: str | None = Field(description=LEADS_TO_ACTION)
    levels: list[EvaluationLevel]
    due: DueDatesRead
    warnings: list[PlanWarning]
    created_by: uuid.UUID | None
    responsible_id: uuid.UUID | None = Field(description=RESPONSIBLE)
    pupils_reached: int | None = Field(description=PUPILS_REACHED)
    school_ids: list[uuid.UUID] = Field(
        description="The schools of the activities the plan covered when its list was last "
        "set; kept if an activity is later deleted, so the plan stays with those schools."
    )
    created_at: datetime
    updated_at: datetime
