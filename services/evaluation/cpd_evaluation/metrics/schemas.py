"""QA metrics out: the definitions, a release (the trust and each school, every figure with
its value or the symbol that stands for it), and the release log."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Symbol = Literal["[c]", "[x]"]
MetricKind = Literal["count", "share", "ratio", "mean", "median"]


class MetricDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: int = Field(ge=1)
    name: str
    kind: MetricKind
    unit: str
    places: int = Field(0, ge=0, le=4, description="Decimal places of the value.")
    per_principle: bool = Field(
        False, description="One figure per principle of effective CPD (principle '1' to '8')."
    )
    description: str
    base: str = Field(description="Who the figure is built from (the people it counts).")
    disclosure: str = Field(description="How the figure is rounded and when it is withheld.")


class Definitions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_people: int = Field(description="A figure built from fewer people is withheld.")
    rounding_base: int = Field(description="Counts are rounded to the nearest multiple of this.")
    symbols: dict[str, str] = Field(description="What each symbol for a withheld cell means.")
    metrics: list[MetricDefinition]


class Figure(BaseModel):
    """One cell: a value, or a symbol (with the reason) in its place. Never about one person."""

    metric: str
    version: int
    principle: str | None = Field(None, description="For per-principle metrics: '1' to '8'.")
    value: int | float | None = Field(None, description="Null when withheld or not available.")
    symbol: Symbol | None = Field(None, description="[c] confidential, [x] not available.")
    note: str | None = Field(None, description="Why the value is withheld or not available.")


class Area(BaseModel):
    area: Literal["trust", "school"]
    school_id: uuid.UUID | None = None
    school_name: str | None = None
    figures: list[Figure]


class MetricsRelease(BaseModel):
    release_id: uuid.UUID = Field(description="The release log entry of this pull.")
    trust_id: uuid.UUID
    academic_year: str
    period_start: date
    period_end: date
    released_at: datetime
    min_people: int
    rounding_base: int
    symbols: dict[str, str]
    trust: Area
    schools: list[Area]


class WithheldCell(BaseModel):
    area: str = Field(description="'trust' or the school's id.")
    metric: str
    principle: str | None = None
    symbol: Symbol
    rule: Literal["small_group", "complementary", "not_available"]


class ReleaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: str
    released_at: datetime
    academic_year: str
    school_id: uuid.UUID | None
    format: Literal["json", "csv"]
    definitions: dict[str, int] = Field(description="Each metric id and the version released.")
    cells_released: int
    withheld: list[WithheldCell]


class ReleasePage(BaseModel):
    items: list[ReleaseRead]
    next_cursor: str | None = None
