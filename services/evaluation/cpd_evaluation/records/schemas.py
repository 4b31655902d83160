"""A person's CPD record for an academic year."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from cpd_common.schemas import OutputModel
from cpd_evaluation.terms import ActivityKind, HoursBasis, ParticipantRole


class RecordActivity(OutputModel):
    activity_id: uuid.UUID
    title: str
    kind: ActivityKind
    role: ParticipantRole
    starts_on: date | None
    ends_on: date | None
    hours: float
    hours_basis: HoursBasis
    subject_specific: bool
    subject: str | None
    sustained: bool


class KindHours(OutputModel):
    kind: ActivityKind
    activities: int
    hours: float


class EntitlementProgress(OutputModel):
    annual_hours: float = Field(description="The trust's entitlement for full-time staff.")
    fte: float = Field(description="The person's FTE (1.0 when the directory does not say).")
    fte_recorded: bool
    start_date: date | None
    employed_from: date = Field(description="Their start date or the 1st of September.")
    employed_share: float = Field(description="Share of the year employed (0 to 1).")
    target_hours: float = Field(description="annual_hours x fte x employed_share.")
    progress: float | None = Field(description="total_hours / target_hours (null for a 0 target).")
    met: bool
    remaining_hours: float


class CpdRecord(OutputModel):
    person_id: uuid.UUID
    name: str
    academic_year: str = Field(description="September to August, e.g. 2025-26.")
    period_start: date
    period_end: date
    activities: list[RecordActivity] = Field(
        description="Activities that start in the year (cancelled ones count nothing)."
    )
    total_hours: float
    subject_specific_hours: float
    subject_specific_share: float | None = Field(
        description="Share of hours that are subject-specific (aim: about half)."
    )
    sustained_hours: float
    sustained_share: float | None = Field(description="Share of hours in sustained activities.")
    by_kind: list[KindHours]
    entitlement: EntitlementProgress
