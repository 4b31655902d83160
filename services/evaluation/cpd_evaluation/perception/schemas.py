"""A plan's baseline and outcome audit rounds in and out."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel


class AuditRoundsSet(Input):
    """A closed audit round as baseline and a later closed round of the same instrument as
    outcome, both of your trust (and, unless you are a trust admin, trust-wide or of a school
    you lead)."""

    baseline_audit_id: uuid.UUID = Field(description="The closed round before the CPD.")
    outcome_audit_id: uuid.UUID = Field(description="A later closed round of the same instrument.")


class RoundRead(OutputModel):
    audit_id: uuid.UUID
    title: str
    instrument_id: uuid.UUID
    instrument_key: str | None
    instrument_version: int
    scope_kind: str
    school_ids: list[uuid.UUID]
    respondent_count: int | None
    closed_at: datetime


class AuditRoundsRead(OutputModel):
    plan_id: uuid.UUID
    baseline: RoundRead
    outcome: RoundRead
    set_by: uuid.UUID | None
    updated_at: datetime
