"""Response payloads. What a respondent sends is never sent back."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import Field

from cpd_audit.audits.schemas import AuditStatus
from cpd_common.schemas import InputModel, OutputModel


class Answer(InputModel):
    """One item's answer: `values` and `practice` for a paired item; `score` (1 = strongly
    disagree) or `dont_know` for an agreement item, with an optional `comment` where the item
    allows one; `choice` for a single-choice item; `text` for a free-text item."""

    score: int | None = None
    values: int | None = None
    practice: int | None = None
    dont_know: bool = False
    choice: str | None = Field(None, max_length=60)
    text: str | None = Field(None, max_length=10000)
    comment: str | None = Field(None, max_length=2000)


class ResponseCreate(InputModel):
    answers: dict[Annotated[str, Field(max_length=40)], Answer] = Field(
        max_length=500, description="Answers keyed by item key."
    )


class ResponseReceipt(OutputModel):
    """Confirms a response was recorded. The answers are stored apart from who gave them and
    are never shown back, not even to the respondent."""

    audit_id: uuid.UUID
    responded: bool = True
    responded_on: date
    answered_items: int


class MyResponse(OutputModel):
    audit_id: uuid.UUID
    status: AuditStatus
    responded: bool
    responded_on: date | None = Field(None, description="The day only.")
    can_respond: bool
    reason: str | None = Field(None, description="Why you cannot respond, when you cannot.")
