"""The progression ladder in and out."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from cpd_common.schemas import InputModel, OutputModel
from cpd_evaluation.terms.offer import Track

StageKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=40)]
STAFF_GROUPS = "Directory staff groups whose people sit on this rung (e.g. teacher)."
CAREER_STAGES = "Directory career stages (ect, early_career, mid_career, experienced) on it."


class CareerStageCreate(InputModel):
    track: Track
    key: StageKey = Field(description="A short name programmes refer to, e.g. middle_leader.")
    name: str = Field(min_length=1, max_length=100)
    rank: int = Field(ge=1, le=50, description="Position on its track's ladder (1 = first).")
    description: str | None = Field(None, max_length=2000)
    staff_groups: list[Label] = Field(default_factory=list, max_length=10, description=STAFF_GROUPS)
    career_stages: list[Label] = Field(
        default_factory=list, max_length=10, description=CAREER_STAGES
    )


class CareerStageUpdate(InputModel):
    """Fields to change; ``key`` and ``track`` stay (programmes refer to the key)."""

    name: str | None = Field(None, min_length=1, max_length=100)
    rank: int | None = Field(None, ge=1, le=50)
    description: str | None = Field(None, max_length=2000)
    staff_groups: list[Label] | None = Field(None, max_length=10, description=STAFF_GROUPS)
    career_stages: list[Label] | None = Field(None, max_length=10, description=CAREER_STAGES)


class CareerStageRead(OutputModel):
    id: uuid.UUID
    track: Track
    key: str
    name: str
    rank: int
    description: str | None
    staff_groups: list[str]
    career_stages: list[str]


class Ladder(OutputModel):
    """The trust's ladder, teaching track first, each in rank order; ``my_stage`` is the
    caller's rung (null when none matches them)."""

    items: list[CareerStageRead]
    my_stage: str | None = None
