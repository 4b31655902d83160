"""An enquiry's process health: how far it follows the six components, never a judgement of
a teacher."""

from __future__ import annotations

import uuid

from pydantic import Field

from cpd_common.schemas import OutputModel
from cpd_lessonstudy.enquiries.schemas import EnquiryStatus, Stage, StageOrCompleted
from cpd_lessonstudy.enquiry_stages.schemas import DataMethod


class EnquiryHealth(OutputModel):
    enquiry_id: uuid.UUID
    title: str
    status: EnquiryStatus
    stage: StageOrCompleted
    stages_reached: list[Stage]
    question_rules_met: int = Field(description="Of the five rules of the question check.")
    data_entries: int
    data_sources_used: list[DataMethod]
    primary_data: int = Field(
        description="Book samples, observations, learning walks, assessments."
    )
    secondary_data: int = Field(description="Questionnaires, interviews.")
    techniques: int = Field(description="Concept mapping, climate mapping, hot spotting.")
    findings: int
    findings_with_alternatives: int = Field(
        description="Findings that record other interpretations considered."
    )
    validity_checked: bool
    counts_tallied: bool = Field(description="A validity check compared counts with conclusions.")
    replicated: bool = Field(description="A follow-up enquiry replicates this one.")
    replication_outcomes: list[str] = Field(
        description="Per follow-up: pending, held, partly, not_held."
    )
    is_replicate: bool
    disseminated: bool
    disseminated_beyond_school: bool
    pupil_voice_entries: int
    total_hours: float
