"""Programmes and their runs in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from cpd_common.schemas import InputModel, OutputModel
from cpd_evaluation.terms.offer import ProgrammeFormat, RunStatus

Money = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=10, decimal_places=2)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=40)]
FORMAT = (
    "in_house, teaching_school_hub, external, higher_education (or accredited), "
    "school_to_school, online_blended."
)
STAGES = "Keys of the career-stage rungs it is for (`/v1/career-stages`); empty: everyone."


def _unique(values: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(values))


class ProgrammeCreate(InputModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=8000)
    provider_id: uuid.UUID | None = Field(None, description="A provider of your trust.")
    format: ProgrammeFormat = Field(description=FORMAT)
    stage_keys: list[Key] = Field(default_factory=list, max_length=20, description=STAGES)
    staff_groups: list[Key] = Field(
        default_factory=list, max_length=10, description="Staff groups (roles) it is for."
    )
    need_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Needs of the needs register it meets."
    )
    subject_specific: bool = False
    subject: str | None = Field(None, min_length=1, max_length=100)
    cost_per_place: Money = Decimal(0)
    trust_funded: bool = Field(
        False, description="Places paid centrally: the trust team decides requests."
    )

    @field_validator("need_ids")
    @classmethod
    def _no_repeats(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return _unique(value)

    @model_validator(mode="after")
    def _subject(self) -> ProgrammeCreate:
        if self.subject_specific and not self.subject:
            raise ValueError("a subject-specific programme names its subject")
        if not self.subject_specific and self.subject:
            raise ValueError("a generic programme has no subject: set subject_specific")
        return self


class ProgrammeUpdate(InputModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=8000)
    provider_id: uuid.UUID | None = None
    format: ProgrammeFormat | None = None
    stage_keys: list[Key] | None = Field(None, max_length=20)
    staff_groups: list[Key] | None = Field(None, max_length=10)
    need_ids: list[uuid.UUID] | None = Field(None, max_length=50)
    subject_specific: bool | None = None
    subject: str | None = Field(None, min_length=1, max_length=100)
    cost_per_place: Money | None = None
    trust_funded: bool | None = None


class RunSessionIn(InputModel):
    """Times with an offset (``2026-10-26T09:00:00+00:00``) or UTC (``Z``)."""

    title: str | None = Field(None, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place: str | None = Field(None, max_length=300)
    link: str | None = Field(None, max_length=500, pattern=r"^https://")

    @model_validator(mode="after")
    def _order(self) -> RunSessionIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("a session ends after it starts")
        if (self.ends_at - self.starts_at).total_seconds() > 24 * 3600:
            raise ValueError("a session lasts at most a day")
        return self


class RunCreate(InputModel):
    school_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="Whose staff may book it; empty: every school of the trust.",
    )
    capacity: int = Field(ge=1, le=10000)
    sessions: list[RunSessionIn] = Field(min_length=1, max_length=100)

    @field_validator("school_ids")
    @classmethod
    def _no_repeats(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return _unique(value)


class RunSessionRead(OutputModel):
    id: uuid.UUID
    title: str | None
    starts_at: datetime
    ends_at: datetime
    place: str | None
    link: str | None


class RunRead(OutputModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    activity_id: uuid.UUID = Field(description="The activity attendance and hours go on.")
    status: RunStatus
    school_ids: list[uuid.UUID]
    capacity: int
    places_booked: int
    places_left: int
    starts_on: date
    ends_on: date
    sustained: bool = Field(description="Sessions over at least six weeks (derived).")
    sessions: list[RunSessionRead]
    created_at: datetime
    updated_at: datetime


class ProgrammeRead(OutputModel):
    id: uuid.UUID
    title: str
    description: str | None
    provider_id: uuid.UUID | None
    format: ProgrammeFormat
    stage_keys: list[str]
    staff_groups: list[str]
    need_ids: list[uuid.UUID]
    subject_specific: bool
    subject: str | None
    cost_per_place: Decimal
    trust_funded: bool
    sustained: bool = Field(description="Whether any published run is sustained (derived).")
    upcoming_runs: int = Field(description="Published runs that have not ended.")
    places_left: int = Field(description="Places left on published runs that have not started.")
    created_at: datetime
    updated_at: datetime
