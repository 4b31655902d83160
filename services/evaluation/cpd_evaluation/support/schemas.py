"""Organisational support records in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import Field, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel

HOURS = "Time the school gave the CPD (protected time, meetings, cover arranged), in hours."
RESOURCES = "Resources provided: materials, budget, access to expertise, space."
BARRIERS = "What got in the way (time, staffing, competing priorities ...)."
FIELDS = ("hours_given", "resources", "barriers", "notes")


class SupportCreate(Input):
    recorded_on: date | None = Field(None, description="The day it refers to; today if omitted.")
    hours_given: Decimal | None = Field(
        None, ge=0, le=100_000, max_digits=8, decimal_places=2, description=HOURS
    )
    resources: str | None = Field(None, min_length=1, max_length=4000, description=RESOURCES)
    barriers: str | None = Field(None, min_length=1, max_length=4000, description=BARRIERS)
    notes: str | None = Field(None, min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _says_something(self) -> SupportCreate:
        if all(getattr(self, name) is None for name in FIELDS):
            raise ValueError("give at least one of hours_given, resources, barriers, notes")
        return self


class SupportUpdate(Input):
    """Fields to change; null clears one (a record keeps at least one)."""

    recorded_on: date | None = None
    hours_given: Decimal | None = Field(
        None, ge=0, le=100_000, max_digits=8, decimal_places=2, description=HOURS
    )
    resources: str | None = Field(None, min_length=1, max_length=4000, description=RESOURCES)
    barriers: str | None = Field(None, min_length=1, max_length=4000, description=BARRIERS)
    notes: str | None = Field(None, min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _date_not_null(self) -> SupportUpdate:
        if "recorded_on" in self.model_fields_set and self.recorded_on is None:
            raise ValueError("recorded_on cannot be null")
        return self


class SupportRead(OutputModel):
    id: uuid.UUID
    evaluation_id: uuid.UUID
    recorded_on: date
    hours_given: float | None = Field(description=HOURS)
    resources: str | None
    barriers: str | None
    notes: str | None
    recorded_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
