"""Lesson studies in and out."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.members.schemas import MemberCreate, MemberRead
from cpd_lessonstudy.terms import StudyStatus

LEARNING_GOAL = (
    "Precisely what pupils should learn better: 'By the end of the lesson pupils will be able "
    "to ...'."
)
SUCCESS_EVIDENCE = "How the group will know: '... and we will know this when ...'."
TECHNIQUE = "The learning or teaching technique the research aims to develop: 'We are hoping to improve ...'."


class StudyCreate(Input):
    title: str = Field(min_length=1, max_length=200)
    school_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=20,
        description="One school, or several schools of the trust for a networked lesson study. "
        "Unless you are a trust admin, one of them must be yours.",
    )
    subject: str | None = Field(None, max_length=100)
    year_group: str | None = Field(None, max_length=40)
    learning_goal: str = Field(min_length=1, max_length=4000, description=LEARNING_GOAL)
    success_evidence: str | None = Field(None, max_length=4000, description=SUCCESS_EVIDENCE)
    technique: str | None = Field(None, max_length=4000, description=TECHNIQUE)
    research_question: str | None = Field(None, max_length=2000)
    planned_cycles: int = Field(
        3, ge=1, le=10, description="Research lessons planned (usually three)."
    )
    members: list[MemberCreate] = Field(
        default_factory=list,
        max_length=30,
        description="The group. You join as facilitator unless you list yourself.",
    )

    @field_validator("school_ids")
    @classmethod
    def _unique_schools(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))


class StudyUpdate(Input):
    """Fields to change. School ids can only change while the study is being planned."""

    title: str | None = Field(None, min_length=1, max_length=200)
    school_ids: list[uuid.UUID] | None = Field(None, min_length=1, max_length=20)
    subject: str | None = Field(None, max_length=100)
    year_group: str | None = Field(None, max_length=40)
    learning_goal: str | None = Field(
        None, min_length=1, max_length=4000, description=LEARNING_GOAL
    )
    success_evidence: str | None = Field(None, max_length=4000, description=SUCCESS_EVIDENCE)
    technique: str | None = Field(None, max_length=4000, description=TECHNIQUE)
    research_question: str | None = Field(None, max_length=2000)
    planned_cycles: int | None = Field(None, ge=1, le=10)

    @model_validator(mode="after")
    def _required_stay_set(self) -> StudyUpdate:
        for name in ("title", "school_ids", "learning_goal", "planned_cycles"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if self.school_ids is not None:
            self.school_ids = list(dict.fromkeys(self.school_ids))
        return self


class StudyRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    title: str
    school_ids: list[uuid.UUID]
    subject: str | None
    year_group: str | None
    learning_goal: str = Field(description=LEARNING_GOAL)
    success_evidence: str | None = Field(description=SUCCESS_EVIDENCE)
    technique: str | None = Field(description=TECHNIQUE)
    research_question: str | None
    planned_cycles: int
    status: StudyStatus = Field(
        description="planning -> in_cycle -> findings -> completed -> shared (open house held)."
    )
    cycles_completed: int = Field(
        description="Research lessons whose post-lesson discussion is done."
    )
    case_pupil_count: int
    members: list[MemberRead]
    next_step: str | None = Field(
        description="What the group should do next to follow the lesson study process."
    )
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    findings_agreed_at: datetime | None
    completed_at: datetime | None
    shared_at: datetime | None
