"""Request and response bodies of the needs register."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from cpd_common.schemas import InputModel, OutputModel

NeedLevel = Literal["whole_school", "team", "individual"]
TeamKind = Literal["phase", "department", "subject"]
NeedType = Literal["knowledge", "skills", "attitudes"]
Priority = Literal["high", "medium", "low"]
NeedStatus = Literal["identified", "planned", "in_progress", "met", "dropped"]
# Where a need can come from (the handbook's list of needs-analysis evidence).
EvidenceSource = Literal[
    "self_evaluation",
    "observation",
    "learning_walk",
    "pupil_discussion",
    "data_analysis",
    "appraisal",
    "staff_self_audit",
    "survey",
    "external_review",
    "feedback_360",
]
ItemKey = Annotated[str, Field(min_length=1, max_length=40)]


class Evidence(InputModel):
    source: EvidenceSource = Field(description="Where the evidence comes from.")
    notes: str = Field("", max_length=4000, description="What the evidence shows.")


class IntendedOutcomes(InputModel):
    short_term: str | None = Field(
        None, max_length=4000, description="Success at the end of the CPD."
    )
    medium_term: str | None = Field(
        None, max_length=4000, description="A couple of terms later, or by the end of the year."
    )
    long_term: str | None = Field(None, max_length=4000, description="Beyond this year.")


class AuditItemLink(InputModel):
    audit_id: uuid.UUID
    item_keys: list[ItemKey] = Field(
        min_length=1, max_length=100, description="Item keys as the instrument numbers them."
    )


class NeedCreate(InputModel):
    """Record a need. ``team`` needs name the team (``team_kind`` + ``team_name``);
    ``individual`` needs name the person (``person_id``)."""

    school_id: uuid.UUID
    level: NeedLevel
    team_kind: TeamKind | None = Field(None, description="For team needs only.")
    team_name: str | None = Field(
        None, min_length=1, max_length=100, description="E.g. 'KS2', 'Maths'. Team needs only."
    )
    person_id: uuid.UUID | None = Field(None, description="For individual needs only.")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=8000)
    need_types: list[NeedType] = Field(
        min_length=1, max_length=3, description="Knowledge, skills and/or attitudes."
    )
    evidence: list[Evidence] = Field(default_factory=list, max_length=50)
    priority: Priority = "medium"
    intended_outcomes: IntendedOutcomes = Field(default_factory=IntendedOutcomes)
    status: NeedStatus = "identified"
    audit_items: list[AuditItemLink] = Field(default_factory=list, max_length=20)


class NeedUpdate(InputModel):
    """Change a need (send only what changes). Level, school and person are fixed: record a
    new need instead. ``audit_items`` and ``evidence`` replace the whole list."""

    team_kind: TeamKind | None = None
    team_name: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=8000)
    need_types: list[NeedType] | None = Field(None, min_length=1, max_length=3)
    evidence: list[Evidence] | None = Field(None, max_length=50)
    priority: Priority | None = None
    intended_outcomes: IntendedOutcomes | None = None
    status: NeedStatus | None = None
    audit_items: list[AuditItemLink] | None = Field(None, max_length=20)


class SuggestionAccept(InputModel):
    """Turn one of the audit's suggested needs into a need. The suggestion's item, figures
    and wording are used; anything given here overrides them."""

    item_key: ItemKey = Field(description="The suggested need's item key.")
    school_id: uuid.UUID | None = Field(
        None, description="Required when the audit covers more than one school."
    )
    level: Literal["whole_school", "team"] = "whole_school"
    team_kind: TeamKind | None = None
    team_name: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=8000)
    need_types: list[NeedType] = Field(
        min_length=1, max_length=3, description="Knowledge, skills and/or attitudes."
    )
    priority: Priority = "medium"
    intended_outcomes: IntendedOutcomes = Field(default_factory=IntendedOutcomes)


class EvidenceRead(OutputModel):
    source: EvidenceSource
    notes: str


class IntendedOutcomesRead(OutputModel):
    short_term: str | None
    medium_term: str | None
    long_term: str | None


class AuditItemLinkRead(OutputModel):
    audit_id: uuid.UUID
    item_keys: list[str]


class NeedRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    school_id: uuid.UUID
    level: NeedLevel
    team_kind: TeamKind | None
    team_name: str | None
    person_id: uuid.UUID | None
    title: str
    description: str
    need_types: list[NeedType]
    evidence: list[EvidenceRead]
    priority: Priority
    intended_outcomes: IntendedOutcomesRead
    status: NeedStatus
    audit_items: list[AuditItemLinkRead]
    recorded_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
