"""Providers in and out, and their figures across the trust."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_evaluation.feedback.schemas import RatingSummary
from cpd_evaluation.terms.voice import ProviderKind

EVIDENCE = "Where is the evidence that what they offer works?"
FOLLOW_UP = "What follow-up do they offer after the sessions?"
IMPACT = "How can the impact on pupils be evaluated?"
QUALITY = "Who corroborates the quality of what they offer?"


class ProviderCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    kind: ProviderKind = Field(description="In-house, a teaching school or hub, or external.")
    website: str | None = Field(None, max_length=500, pattern=r"^https?://\S+$")
    evidence: str | None = Field(None, description=EVIDENCE, max_length=8000)
    follow_up: str | None = Field(None, description=FOLLOW_UP, max_length=8000)
    impact_evaluation: str | None = Field(None, description=IMPACT, max_length=8000)
    quality_corroboration: str | None = Field(None, description=QUALITY, max_length=8000)


class ProviderUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: ProviderKind | None = None
    website: str | None = Field(None, max_length=500, pattern=r"^https?://\S+$")
    evidence: str | None = Field(None, description=EVIDENCE, max_length=8000)
    follow_up: str | None = Field(None, description=FOLLOW_UP, max_length=8000)
    impact_evaluation: str | None = Field(None, description=IMPACT, max_length=8000)
    quality_corroboration: str | None = Field(None, description=QUALITY, max_length=8000)


class Question(BaseModel):
    key: str
    question: str
    answer: str | None


class ProviderRead(OutputModel):
    id: uuid.UUID
    name: str
    kind: str
    website: str | None
    evidence: str | None
    follow_up: str | None
    impact_evaluation: str | None
    quality_corroboration: str | None
    questions: list[Question] = Field(
        description="The four questions a school should ask of a provider, with the answers."
    )
    unanswered: int
    created_at: datetime
    updated_at: datetime


class ProviderFeedback(BaseModel):
    responses: int
    released: bool
    withheld_reason: str | None = None
    relevance: RatingSummary | None = None
    quality: RatingSummary | None = None
    expected_impact: RatingSummary | None = None


class ProviderSummary(BaseModel):
    """The provider's CPD across the trust (cancelled activities left out)."""

    provider_id: uuid.UUID
    activities: int
    participants: int
    hours: float = Field(description="Participant hours, counted as everywhere else.")
    total_cost: float
    cost_per_participant_hour: float | None
    feedback: ProviderFeedback = Field(
        description="Ratings from activities whose feedback results were released (window "
        "closed, at least 5 responses); withheld below 5 in all."
    )
