"""Self-audit payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from cpd_audit.audits.schemas import InstrumentRef
from cpd_audit.responses.schemas import Answer
from cpd_common.schemas import InputModel, OutputModel


class SelfAuditCreate(InputModel):
    instrument_id: uuid.UUID = Field(description="A built-in instrument or one of your trust's.")
    instrument_version: int | None = Field(
        None, ge=1, le=1_000_000, description="Which version; the latest when absent."
    )
    note: str = Field("", max_length=4000, description="Your own note, e.g. why now.")
    answers: dict[Annotated[str, Field(max_length=40)], Answer] = Field(
        max_length=500, description="Answers keyed by item key, as for an audit response."
    )


class SelfAuditItem(OutputModel):
    item_key: str
    section: str | None
    type: str
    text: str
    answer: dict[str, Any] | None = Field(None, description="Your answer; null when skipped.")
    gap: int | None = Field(
        None, description="Paired items: values minus practice (how far practice lags)."
    )


class SelfAuditRead(OutputModel):
    """Your own answers to an instrument, readable by you alone; never part of any audit's
    results or any other aggregate."""

    id: uuid.UUID
    instrument: InstrumentRef
    note: str
    items: list[SelfAuditItem] = Field(description="In the instrument's order.")
    ranked_by_gap: list[str] = Field(
        description="Paired items you answered, largest gap first (where to look first)."
    )
    created_at: datetime
    updated_at: datetime
