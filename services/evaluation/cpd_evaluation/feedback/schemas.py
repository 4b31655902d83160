"""Feedback in and out: one participant's own answers, and the released aggregates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel

RATING = "1 (not at all) to 5 (very much)."


class FeedbackCreate(Input):
    relevance: int = Field(ge=1, le=5, description="How relevant it was to your work: " + RATING)
    quality: int = Field(ge=1, le=5, description="How good the CPD was: " + RATING)
    expected_impact: int = Field(
        ge=1, le=5, description="How far you expect it to change things for pupils: " + RATING
    )
    will_do_differently: str | None = Field(
        None, max_length=2000, description="What you will do differently in your classroom."
    )
    comment: str | None = Field(None, max_length=2000)


class FeedbackRead(OutputModel):
    """Your own feedback (nobody else reads it one by one)."""

    id: uuid.UUID
    activity_id: uuid.UUID
    relevance: int
    quality: int
    expected_impact: int
    will_do_differently: str | None
    comment: str | None
    given_on: date


class WindowIn(Input):
    closes_at: AwareDatetime = Field(
        description="When feedback closes. A time already past closes it now; a closed window "
        "never reopens."
    )


class WindowRead(BaseModel):
    activity_id: uuid.UUID
    closes_at: datetime | None = Field(
        description="Null while the activity has no sessions and no feedback yet."
    )
    status: Literal["open", "closed"]
    fixed: bool = Field(
        description="Whether the closing time is stored (set by a leader or fixed by the first "
        "feedback); otherwise it follows the last session."
    )


class RatingSummary(BaseModel):
    mean: float
    # How many gave each rating, from 1 to 5.
    distribution: list[int]


class FeedbackSummary(BaseModel):
    """What anyone but the author sees: while the window is open, only how many responded;
    after it closes, the aggregates when at least ``min_group_size`` responded."""

    activity_id: uuid.UUID
    status: Literal["open", "closed"]
    closes_at: datetime | None
    responses: int
    participants: int
    min_group_size: int
    released: bool
    withheld_reason: str | None = None
    relevance: RatingSummary | None = None
    quality: RatingSummary | None = None
    expected_impact: RatingSummary | None = None
    will_do_differently: list[str] = Field(
        default_factory=list, description="Unattributed, in alphabetical order."
    )
    comments: list[str] = Field(
        default_factory=list, description="Unattributed, in alphabetical order."
    )
