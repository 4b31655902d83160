"""Observations in and out. A JSON batch and a CSV upload carry the same fields (the CSV's
``date`` column is ``observed_on`` here)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_evaluation.measures.schemas import MAX_MAGNITUDE
from cpd_evaluation.terms.measures import ObservationGroup, Phase

MAX_JSON_ROWS = 5000
YEAR_GROUP_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,19}$"

PUPIL_ID = (
    "The school's pupil id (e.g. the UPN), for a pupil measure. Pseudonymised on arrival: only "
    "its keyed hash is stored or shown."
)
PERSON_ID = "The member of staff's person id, for a staff measure."
GROUP = "The arm of the design: `cpd` (taught by the CPD's participants) or `comparison`."
SUBJECT_KEY = (
    "The subject: a pupil's pseudonym (64 hex characters, the same for the same pupil id "
    "within the trust) or a member of staff's person id."
)

Value = Annotated[
    Decimal,
    Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False, decimal_places=6),
]


class ObservationIn(Input):
    pupil_id: str | None = Field(None, min_length=1, max_length=64, description=PUPIL_ID)
    person_id: uuid.UUID | None = Field(None, description=PERSON_ID)
    phase: Phase
    value: Value
    observed_on: date | None = Field(None, description="When the value was taken.")
    disadvantaged: bool = False
    send: bool = Field(False, description="Special educational needs and disabilities.")
    year_group: str | None = Field(None, pattern=YEAR_GROUP_PATTERN)
    group: ObservationGroup = Field("cpd", description=GROUP)

    @model_validator(mode="after")
    def _one_subject(self) -> ObservationIn:
        if (self.pupil_id is None) == (self.person_id is None):
            raise ValueError("give pupil_id (pupil measure) or person_id (staff measure)")
        return self


class ObservationBatch(Input):
    observations: list[ObservationIn] = Field(min_length=1, max_length=MAX_JSON_ROWS)


class ObservationRead(OutputModel):
    id: uuid.UUID
    measure_id: uuid.UUID
    subject_key: str = Field(description=SUBJECT_KEY)
    phase: Phase
    value: float
    observed_on: date | None
    disadvantaged: bool
    send: bool
    year_group: str | None
    group: ObservationGroup = Field(description=GROUP)
    created_at: datetime


class PhaseRows(OutputModel):
    baseline: int = 0
    short_term: int = 0
    medium_term: int = 0


class UploadRead(OutputModel):
    """What an upload stored. No pupil id is echoed: read the pseudonyms from the list."""

    measure_id: uuid.UUID
    rows: int = Field(description="Rows received (and stored).")
    inserted: int = Field(description="Values for a subject and phase not held before.")
    replaced: int = Field(description="Values that replaced a held one (with `replace=true`).")
    phases: PhaseRows = Field(description="Rows received per phase.")
