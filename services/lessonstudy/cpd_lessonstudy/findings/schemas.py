"""Findings, completion and the open-house lesson, in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import PupilNote

Statement = Field(min_length=1, max_length=4000)


class WhatWorkedInput(Input):
    case_pupil_ids: list[uuid.UUID] = Field(min_length=1, max_length=6)
    text: PupilNote = Field(min_length=1, max_length=4000)


class FindingsInput(Input):
    summary: PupilNote | None = Field(None, max_length=8000)
    practices: list[PupilNote] = Field(
        min_length=1, max_length=20, description="Practices the group discovered."
    )
    what_worked: list[WhatWorkedInput] = Field(
        default_factory=list, max_length=20, description="What worked, and for which case pupils."
    )
    to_share: list[PupilNote] = Field(
        default_factory=list, max_length=20, description="What to share with colleagues."
    )


class WhatWorkedRead(OutputModel):
    case_pupil_ids: list[uuid.UUID]
    case_pupil_labels: list[str]
    text: str


class FindingsRead(OutputModel):
    study_id: uuid.UUID
    summary: str | None
    practices: list[str]
    what_worked: list[WhatWorkedRead]
    to_share: list[str]
    agreed_at: datetime | None
    updated_at: datetime


class OpenHouseInput(Input):
    held_on: date = Field(description="The day of the open-house research lesson.")
    audience_count: int = Field(ge=0, le=10000, description="Colleagues who came to watch.")
    notes: PupilNote | None = Field(None, max_length=8000)


class OpenHouseRead(OutputModel):
    id: uuid.UUID
    study_id: uuid.UUID
    held_on: date
    audience_count: int
    notes: str | None
    created_at: datetime
