"""The trust's annual CPD entitlement in and out."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel

ANNUAL = (
    "Hours of CPD a year for a full-time member of staff employed all year (35 unless the "
    "trust sets its own). Each person's target is pro-rated by FTE and the part of the "
    "year employed."
)


class EntitlementIn(Input):
    annual_hours: Decimal = Field(ge=0, le=500, max_digits=6, decimal_places=2, description=ANNUAL)


class EntitlementRead(OutputModel):
    trust_id: uuid.UUID
    annual_hours: float = Field(description=ANNUAL)
    is_default: bool = Field(description="True until the trust sets its own figure.")
    updated_at: datetime | None
