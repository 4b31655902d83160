"""Dashboard figures: each group carries the reason when it is withheld."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class Quartiles(BaseModel):
    lower_quartile: float
    median: float
    upper_quartile: float


class PeopleFigures(BaseModel):
    """Staff (people with the staff role and an FTE above 0, employed by the year's end)."""

    staff: int
    fte: float | None = None
    staff_covered: int | None = Field(None, description="Staff with any CPD hours this year.")
    covered_share: float | None = None
    hours_per_fte: Quartiles | None = Field(
        None, description="Each person's hours divided by their FTE: quartiles across staff."
    )
    meeting_entitlement_share: float | None = Field(
        None, description="Share of staff whose hours reach their pro-rated entitlement."
    )
    withheld_reason: str | None = None


class HoursFigures(BaseModel):
    total_hours: float | None = None
    subject_specific_share: float | None = None
    subject_specific_aim: float = Field(
        0.5, description="About half of CPD time should be subject-specific."
    )
    meets_subject_aim: bool | None = None
    sustained_share: float | None = None
    one_off_share: float | None = None
    withheld_reason: str | None = None


class SpendFigures(BaseModel):
    total: float
    per_fte: float | None = None
    withheld_reason: str | None = None


class KindCount(BaseModel):
    kind: str
    activities: int


class ActivityFigures(BaseModel):
    activities: int
    by_kind: list[KindCount]
    lesson_studies_running: int
    lesson_studies_completed: int


class CoachingFigures(BaseModel):
    pairs: int
    sessions: int | None = None
    minutes: int | None = None
    mean_days_between_sessions: float | None = None
    pairs_met_last_30_days: int | None = None
    withheld_reason: str | None = None


class Figures(BaseModel):
    people: PeopleFigures
    hours: HoursFigures
    spend: SpendFigures
    activities: ActivityFigures
    coaching: CoachingFigures


class SchoolDashboard(Figures):
    school_id: uuid.UUID
    name: str
    academic_year: str


class TrustDashboard(Figures):
    trust_id: uuid.UUID
    academic_year: str
    min_group_size: int
    schools: list[SchoolDashboard] = Field(description="Every school of the trust, side by side.")
