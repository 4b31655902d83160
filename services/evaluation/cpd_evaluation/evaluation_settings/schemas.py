"""The trust's evaluation settings in and out."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel

HOURLY = (
    "What an hour of a participant's time costs the school (salary and on-costs), in pounds. "
    "Value for money prices participants' hours with it; null until the trust sets it, and "
    "staff time is then left out of the costs (and said to be)."
)


class SettingsIn(Input):
    hourly_staff_cost: Decimal | None = Field(
        ge=0, le=10_000, max_digits=8, decimal_places=2, description=HOURLY
    )


class SettingsRead(OutputModel):
    trust_id: uuid.UUID
    currency: str = Field("GBP", description="Every cost is in pounds sterling.")
    hourly_staff_cost: float | None = Field(description=HOURLY)
    updated_at: datetime | None
