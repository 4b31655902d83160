"""Request and response bodies of alignment plans.

The grid: two domains (pupil attainment, progress and achievement; ethos, engagement and
wider development) x three years (this year, next year, the year after) x SWOT (strengths,
weaknesses, opportunities, threats). Each cell is a list of short points.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from cpd_common.schemas import InputModel, OutputModel

Point = Annotated[str, Field(min_length=1, max_length=2000)]
Points = Annotated[list[Point], Field(max_length=50)]
StartYear = Annotated[
    int, Field(ge=2000, le=2100, description="First academic year: 2026 means 2026/27.")
]

DOMAIN_TEXT = {
    "attainment_and_progress": "Pupil attainment, progress and achievement.",
    "ethos_and_wider_development": "Ethos, engagement and wider development.",
}
YEARS = ("this_year", "next_year", "year_after")
SWOT = ("strengths", "weaknesses", "opportunities", "threats")


class Swot(InputModel):
    strengths: Points = Field(default_factory=list)
    weaknesses: Points = Field(default_factory=list)
    opportunities: Points = Field(default_factory=list)
    threats: Points = Field(default_factory=list)


class DomainYears(InputModel):
    this_year: Swot = Field(default_factory=Swot)
    next_year: Swot = Field(default_factory=Swot)
    year_after: Swot = Field(default_factory=Swot)


class AlignmentGrid(InputModel):
    attainment_and_progress: DomainYears = Field(
        default_factory=DomainYears, description=DOMAIN_TEXT["attainment_and_progress"]
    )
    ethos_and_wider_development: DomainYears = Field(
        default_factory=DomainYears, description=DOMAIN_TEXT["ethos_and_wider_development"]
    )


class SwotPatch(InputModel):
    """Cells to replace; ``null`` empties a cell; absent cells stay as they are."""

    strengths: Points | None = None
    weaknesses: Points | None = None
    opportunities: Points | None = None
    threats: Points | None = None


class DomainYearsPatch(InputModel):
    this_year: SwotPatch | None = None
    next_year: SwotPatch | None = None
    year_after: SwotPatch | None = None


class AlignmentGridPatch(InputModel):
    attainment_and_progress: DomainYearsPatch | None = None
    ethos_and_wider_development: DomainYearsPatch | None = None


class AlignmentPlanCreate(InputModel):
    school_id: uuid.UUID
    start_year: StartYear
    title: str | None = Field(
        None, min_length=1, max_length=200, description="Defaults to the school years covered."
    )
    notes: str = Field("", max_length=8000)
    grid: AlignmentGrid = Field(default_factory=AlignmentGrid)


class AlignmentPlanUpdate(InputModel):
    """Send only what changes; ``grid`` is merged cell by cell (JSON merge patch)."""

    title: str | None = Field(None, min_length=1, max_length=200)
    notes: str | None = Field(None, max_length=8000)
    grid: AlignmentGridPatch | None = None


class AcademicYears(OutputModel):
    this_year: str = Field(examples=["2026/27"])
    next_year: str
    year_after: str


class SwotRead(OutputModel):
    strengths: list[str]
    weaknesses: list[str]
    opportunities: list[str]
    threats: list[str]


class DomainYearsRead(OutputModel):
    this_year: SwotRead
    next_year: SwotRead
    year_after: SwotRead


class AlignmentGridRead(OutputModel):
    attainment_and_progress: DomainYearsRead
    ethos_and_wider_development: DomainYearsRead


class AlignmentPlanRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    school_id: uuid.UUID
    start_year: int
    academic_years: AcademicYears
    title: str
    notes: str
    grid: AlignmentGridRead
    created_at: datetime
    updated_at: datetime
