"""School CPD budgets in and out."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import Field

from cpd_common.schemas import InputModel, OutputModel


class BudgetSet(InputModel):
    amount: Decimal = Field(ge=0, le=100_000_000, max_digits=12, decimal_places=2)


class Spend(OutputModel):
    key: str = Field(description="A need id, `unassigned`, a format or `professional_study`.")
    committed: Decimal
    spent: Decimal


class SchoolBudget(OutputModel):
    school_id: uuid.UUID
    school_name: str
    academic_year: str
    amount: Decimal | None = Field(description="Null when no budget is set for the year.")
    committed: Decimal = Field(description="Approved, not yet taken place.")
    spent: Decimal = Field(description="Taken place (approved CPD and recorded activities).")
    remaining: Decimal | None
    by_need: list[Spend]
    by_format: list[Spend]


class TrustBudgets(OutputModel):
    """Every school the caller may see, side by side, with the trust's sums."""

    academic_year: str
    schools: list[SchoolBudget]
    amount: Decimal
    committed: Decimal
    spent: Decimal
    remaining: Decimal
