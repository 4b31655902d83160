"""Requests for places and for professional study, in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from cpd_common.schemas import InputModel, OutputModel
from cpd_evaluation.terms.offer import RequestKind, RequestStatus

Money = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=10, decimal_places=2)]
RATIONALE = "How it meets a need or the person's career plan."


class RequestCreate(InputModel):
    """``kind: place`` names a published run; ``kind: study`` describes the course."""

    kind: RequestKind
    run_id: uuid.UUID | None = Field(None, description="The run (for a place).")
    school_id: uuid.UUID | None = Field(
        None, description="Which of your schools it is for (default: your first that fits)."
    )
    institution: str | None = Field(None, min_length=1, max_length=200)
    course: str | None = Field(None, min_length=1, max_length=200)
    starts_on: date | None = None
    ends_on: date | None = None
    cost: Money | None = Field(None, description="Fees in pounds (for study).")
    time_off_days: Decimal | None = Field(None, ge=0, le=365, max_digits=5, decimal_places=1)
    rationale: str | None = Field(None, max_length=4000, description=RATIONALE)
    need_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)

    @field_validator("need_ids")
    @classmethod
    def _no_repeats(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _shape(self) -> RequestCreate:
        if self.kind == "place":
            if self.run_id is None:
                raise ValueError("a request for a place names the run (run_id)")
            extra = [
                n
                for n in ("institution", "course", "starts_on", "ends_on", "cost")
                if getattr(self, n) is not None
            ]
            if extra:
                raise ValueError(f"a place comes with the run's details; drop {', '.join(extra)}")
        else:
            if self.run_id is not None:
                raise ValueError("a request for study names no run")
            missing = [
                n
                for n in ("institution", "course", "starts_on", "ends_on", "cost")
                if getattr(self, n) is None
            ]
            if missing:
                raise ValueError(f"a request for study gives {', '.join(missing)}")
            if self.ends_on < self.starts_on:  # type: ignore[operator]
                raise ValueError("ends_on is on or after starts_on")
        return self


class Decision(InputModel):
    decision: Literal["approve", "decline"]
    reason: str | None = Field(None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _reason(self) -> Decision:
        if self.decision == "decline" and not self.reason:
            raise ValueError("a decline gives its reason")
        return self


class Cancellation(InputModel):
    reason: str | None = Field(None, max_length=2000)


class RequestRead(OutputModel):
    id: uuid.UUID
    person_id: uuid.UUID | None = Field(description="Null once the person was erased.")
    school_id: uuid.UUID
    kind: RequestKind
    status: RequestStatus
    run_id: uuid.UUID | None
    programme_id: uuid.UUID | None
    title: str = Field(description="The programme's title or the course's.")
    institution: str | None
    course: str | None
    starts_on: date
    ends_on: date
    cost: Decimal
    time_off_days: Decimal | None
    rationale: str | None
    need_ids: list[uuid.UUID]
    decided_by_trust: bool = Field(description="Trust-funded: the trust team decides.")
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    reason: str | None
    created_at: datetime
    updated_at: datetime


class DecisionRead(RequestRead):
    warnings: list[str] = Field(
        default_factory=list,
        description="`over_budget` (the approval takes the school past its budget) or "
        "`no_budget` (no budget is set for that year); approvals still go ahead.",
    )
