"""Coaching agreements, learning log entries and the cadence leaders see."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_evaluation.terms.voice import CoachingEvidence


class AgreementCreate(Input):
    coach_id: uuid.UUID = Field(description="The coach (or mentor): a participant.")
    coachee_id: uuid.UUID = Field(description="The coachee (or mentee): a participant.")
    agreed_outcomes: str = Field(
        min_length=1, max_length=8000, description="What the pair agreed to work towards."
    )

    @model_validator(mode="after")
    def _two_people(self) -> AgreementCreate:
        if self.coach_id == self.coachee_id:
            raise ValueError("the coach and the coachee are two people")
        return self


class AgreementUpdate(Input):
    agreed_outcomes: str = Field(min_length=1, max_length=8000)


class AgreementRead(OutputModel):
    id: uuid.UUID
    activity_id: uuid.UUID
    coach_id: uuid.UUID
    coachee_id: uuid.UUID
    agreed_outcomes: str
    created_at: datetime
    updated_at: datetime


class CoachingSessionCreate(Input):
    held_on: date
    minutes: int = Field(ge=1, le=1440)
    focus: str = Field(min_length=1, max_length=4000)
    evidence: list[CoachingEvidence] = Field(
        default_factory=list,
        max_length=5,
        description="What the pair looked at: an observation, video, pupils' work ...",
    )
    next_steps: str | None = Field(None, max_length=4000)
    impact_noted: str | None = Field(None, max_length=4000)
    next_session_on: date | None = Field(
        None, description="When the pair meets next (a follow-up falls due then)."
    )

    @model_validator(mode="after")
    def _next_after(self) -> CoachingSessionCreate:
        if self.next_session_on is not None and self.next_session_on < self.held_on:
            raise ValueError("next_session_on is before held_on")
        if len(set(self.evidence)) != len(self.evidence):
            raise ValueError("evidence lists a kind twice")
        return self


class CoachingSessionUpdate(Input):
    held_on: date | None = None
    minutes: int | None = Field(None, ge=1, le=1440)
    focus: str | None = Field(None, min_length=1, max_length=4000)
    evidence: list[CoachingEvidence] | None = Field(None, max_length=5)
    next_steps: str | None = Field(None, max_length=4000)
    impact_noted: str | None = Field(None, max_length=4000)
    next_session_on: date | None = None

    @model_validator(mode="after")
    def _no_null_required(self) -> CoachingSessionUpdate:
        for name in ("held_on", "minutes", "focus", "evidence"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CoachingSessionRead(OutputModel):
    id: uuid.UUID
    activity_id: uuid.UUID
    held_on: date
    minutes: int
    focus: str
    evidence: list[str]
    next_steps: str | None
    impact_noted: str | None
    next_session_on: date | None
    created_at: datetime
    updated_at: datetime


class CoachingCadence(BaseModel):
    """That coaching happens, and how often: what leaders and trust admins see. Never who said
    what, the agreed outcomes or the log."""

    activity_id: uuid.UUID
    agreement_in_place: bool
    sessions: int
    minutes: int
    mean_days_between: float | None = Field(
        description="Mean days between consecutive sessions (null below two sessions)."
    )
    longest_gap_days: int | None
    first_session_on: date | None
    last_session_on: date | None
