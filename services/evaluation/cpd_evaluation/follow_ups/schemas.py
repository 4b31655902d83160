"""Follow-ups out: what is due for me, and counts for the schools I lead."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from cpd_evaluation.terms.voice import FollowUpKind


class FollowUpItem(BaseModel):
    kind: FollowUpKind
    item_id: uuid.UUID = Field(
        description="The participation (gap task, impact report, feedback), the coaching "
        "log entry that set the next session, or the evaluation plan (`evaluation_*`: a data "
        "point or the report due and not captured)."
    )
    activity_id: uuid.UUID | None = Field(description="Null for an evaluation plan's items.")
    activity_title: str | None
    evaluation_id: uuid.UUID | None = Field(
        description="The evaluation plan of an `evaluation_*` item; null otherwise."
    )
    evaluation_title: str | None
    request_id: uuid.UUID | None = Field(
        None, description="The request for CPD of a `request_decision` item; null otherwise."
    )
    due_on: date
    overdue: bool


class SchoolFollowUps(BaseModel):
    """Open follow-ups of a school's staff, by kind: counts only."""

    school_id: uuid.UUID
    gap_task: int
    impact_report: int
    coaching_session: int
    feedback: int
    evaluation_baseline: int
    evaluation_short_term: int
    evaluation_medium_term: int
    evaluation_report: int
    request_decision: int
    overdue: int


class FollowUps(BaseModel):
    items: list[FollowUpItem] = Field(description="What is due from you, soonest first.")
    schools: list[SchoolFollowUps] = Field(
        description="Leaders: each school you lead; trust admins: every school of the trust."
    )
