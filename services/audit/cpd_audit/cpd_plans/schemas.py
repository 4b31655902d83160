"""Request and response bodies of strategic CPD plans."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from cpd_audit.academic_year import MONTH_PATTERN
from cpd_common.schemas import InputModel, OutputModel

# Money in pounds, exact to the penny; a JSON number on the wire.
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
MoneyOut = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
Month = Annotated[str, Field(pattern=MONTH_PATTERN, examples=["2026-10"], description="YYYY-MM")]
FundingSource = Literal[
    "cpd_budget", "pupil_premium", "trust_central", "national_funding", "grant", "other"
]
FUNDING_TEXT = (
    "Where the money comes from: the school's CPD budget, pupil premium, the trust's central "
    "budget, national funding (e.g. NPQ or early-career funding), a grant, or other."
)


class CpdPlanRowCreate(InputModel):
    need_id: uuid.UUID = Field(description="The need this CPD addresses (a need of the school).")
    month: Month = Field(description="YYYY-MM, within the plan's academic year (Sep-Aug).")
    activity: str = Field(min_length=1, max_length=4000, description="What is planned.")
    responsible: str = Field(
        min_length=1, max_length=200, description="Who is responsible (a name or a role)."
    )
    responsible_person_id: uuid.UUID | None = Field(
        None, description="The responsible person, when they are in the directory."
    )
    cost: Money = Field(Decimal("0"), description="In pounds.")
    funding_source: FundingSource = Field("cpd_budget", description=FUNDING_TEXT)
    notes: str = Field("", max_length=4000)


class CpdPlanRowUpdate(InputModel):
    need_id: uuid.UUID | None = None
    month: Month | None = None
    activity: str | None = Field(None, min_length=1, max_length=4000)
    responsible: str | None = Field(None, min_length=1, max_length=200)
    responsible_person_id: uuid.UUID | None = None
    cost: Money | None = None
    funding_source: FundingSource | None = None
    notes: str | None = Field(None, max_length=4000)


class CpdPlanCreate(InputModel):
    school_id: uuid.UUID
    start_year: int = Field(ge=2000, le=2100, description="2026 means the year 2026/27.")
    title: str | None = Field(None, min_length=1, max_length=200)
    notes: str = Field("", max_length=8000)
    rows: list[CpdPlanRowCreate] = Field(default_factory=list, max_length=500)


class CpdPlanUpdate(InputModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    notes: str | None = Field(None, max_length=8000)


class CpdPlanRowRead(OutputModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    need_id: uuid.UUID | None = Field(description="Null once the need was erased with its person.")
    month: str
    activity: str
    responsible: str
    responsible_person_id: uuid.UUID | None
    cost: MoneyOut
    funding_source: FundingSource
    notes: str
    created_at: datetime
    updated_at: datetime


class MonthTotal(OutputModel):
    month: str
    rows: int
    cost: MoneyOut


class NeedTotal(OutputModel):
    need_id: uuid.UUID | None
    need_title: str | None
    rows: int
    cost: MoneyOut


class FundingTotal(OutputModel):
    funding_source: FundingSource
    rows: int
    cost: MoneyOut


class CpdPlanTotals(OutputModel):
    rows: int
    cost: MoneyOut
    by_month: list[MonthTotal] = Field(
        description="Every month of the academic year, September to August (zero when empty)."
    )
    by_need: list[NeedTotal]
    by_funding_source: list[FundingTotal]


class CpdPlanRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    school_id: uuid.UUID
    start_year: int
    academic_year: str = Field(examples=["2026/27"])
    title: str
    notes: str
    rows: list[CpdPlanRowRead]
    totals: CpdPlanTotals
    created_at: datetime
    updated_at: datetime


class CpdPlanSummary(OutputModel):
    """A plan in a list, without its rows and totals (GET the plan for those)."""

    id: uuid.UUID
    trust_id: uuid.UUID
    school_id: uuid.UUID
    start_year: int
    academic_year: str
    title: str
    notes: str
    created_at: datetime
    updated_at: datetime
