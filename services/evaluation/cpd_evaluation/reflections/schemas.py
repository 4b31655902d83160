"""Reflections in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel

MENTOR = (
    "A member of staff of your trust you share this entry with (your mentor). They read it; "
    "nobody else does unless you mark it as shared evidence."
)
EVIDENCE = (
    "Share the entry as evidence of what changed: then everyone who can read the activity "
    "(its leaders, trust admins, other participants) reads it too."
)


class ReflectionCreate(Input):
    written_on: date | None = Field(None, description="Defaults to today.")
    tried: str | None = Field(None, max_length=8000, description="What I tried.")
    pupil_effect: str | None = Field(None, max_length=8000, description="What happened for pupils.")
    next_steps: str | None = Field(None, max_length=8000, description="What next.")
    mentor_id: uuid.UUID | None = Field(None, description=MENTOR)
    shared_as_evidence: bool = Field(False, description=EVIDENCE)

    @model_validator(mode="after")
    def _says_something(self) -> ReflectionCreate:
        if not (self.tried or self.pupil_effect or self.next_steps):
            raise ValueError("write at least one of tried, pupil_effect and next_steps")
        return self


class ReflectionUpdate(Input):
    written_on: date | None = None
    tried: str | None = Field(None, max_length=8000)
    pupil_effect: str | None = Field(None, max_length=8000)
    next_steps: str | None = Field(None, max_length=8000)
    mentor_id: uuid.UUID | None = Field(None, description=MENTOR + " Null stops sharing.")
    shared_as_evidence: bool | None = None

    @model_validator(mode="after")
    def _no_null_flags(self) -> ReflectionUpdate:
        for name in ("written_on", "shared_as_evidence"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ReflectionRead(OutputModel):
    id: uuid.UUID
    activity_id: uuid.UUID
    author_id: uuid.UUID
    mentor_id: uuid.UUID | None
    written_on: date
    tried: str | None
    pupil_effect: str | None
    next_steps: str | None
    shared_as_evidence: bool
    created_at: datetime
    updated_at: datetime


class ReflectionCounts(BaseModel):
    """What leaders see of the journal: how many entries, never what they say (unless shared
    as evidence)."""

    activity_id: uuid.UUID
    private: int = Field(description="Entries only their authors (and mentors) read.")
    shared_as_evidence: int
