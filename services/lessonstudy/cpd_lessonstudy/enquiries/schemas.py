"""Classroom action enquiries in and out, with the question check."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import ProfileText, PupilNote
from cpd_lessonstudy.groups.schemas import GroupMemberRead
from cpd_lessonstudy.terms import EnquiryStatus
from cpd_lessonstudy.terms import QuestionAnswer as Answer

Stage = Literal[
    "question", "data_collection", "analysis", "validity_checking", "replication", "reporting"
]
StageOrCompleted = Literal[
    "question",
    "data_collection",
    "analysis",
    "validity_checking",
    "replication",
    "reporting",
    "completed",
]
STAGES: tuple[Stage, ...] = (
    "question",
    "data_collection",
    "analysis",
    "validity_checking",
    "replication",
    "reporting",
)

PUPIL_GROUP = (
    "The pupils the enquiry is about, described and never named (e.g. 'Year 5 pupils eligible "
    "for pupil premium who still rely on drawings for fractions'). Text carrying an obvious "
    "identifier (email, pupil number, date of birth, phone) is refused."
)
QUESTION = (
    "The enquiry question. Checked against five rules (see `question_check`): guidance, "
    "never a refusal."
)
APPROACH = (
    "What you plan to do, with which pupils, and which data will answer each part of the "
    "question (so a colleague could replicate it)."
)


def _dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValueError("ends_on must not be before starts_on")


class EnquiryCreate(Input):
    title: str = Field(min_length=1, max_length=200)
    school_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=20,
        description="The schools involved (one, or several schools of the trust). Unless you "
        "are a trust admin, one must be yours.",
    )
    subject: str | None = Field(None, max_length=100)
    pupil_group: ProfileText = Field(min_length=1, max_length=2000, description=PUPIL_GROUP)
    question: PupilNote = Field(min_length=1, max_length=2000, description=QUESTION)
    planned_approach: PupilNote | None = Field(None, max_length=4000, description=APPROACH)
    need_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="Needs (from /v1/needs) it answers."
    )
    starts_on: date | None = None
    ends_on: date | None = None
    coordinator_id: uuid.UUID | None = Field(
        None, description="The person who coordinates it; you, when omitted."
    )
    member_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=30,
        description="People (from /v1/people) at the schools involved. You join as well.",
    )
    replicates_enquiry_id: uuid.UUID | None = Field(
        None,
        description="Makes this a replicate of an earlier enquiry (component e): that "
        "enquiry must have analysed its data (409 otherwise).",
    )

    @field_validator("school_ids", "need_ids", "member_ids")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _check_dates(self) -> EnquiryCreate:
        _dates(self.starts_on, self.ends_on)
        return self


class EnquiryUpdate(Input):
    """Fields to change. Schools change only while planning; a completed enquiry is a record."""

    title: str | None = Field(None, min_length=1, max_length=200)
    school_ids: list[uuid.UUID] | None = Field(None, min_length=1, max_length=20)
    subject: str | None = Field(None, max_length=100)
    pupil_group: ProfileText | None = Field(
        None, min_length=1, max_length=2000, description=PUPIL_GROUP
    )
    question: PupilNote | None = Field(None, min_length=1, max_length=2000, description=QUESTION)
    planned_approach: PupilNote | None = Field(None, max_length=4000, description=APPROACH)
    need_ids: list[uuid.UUID] | None = Field(None, max_length=20)
    starts_on: date | None = None
    ends_on: date | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> EnquiryUpdate:
        for name in ("title", "school_ids", "pupil_group", "question", "need_ids"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        for name in ("school_ids", "need_ids"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, list(dict.fromkeys(value)))
        _dates(self.starts_on, self.ends_on)
        return self


class Signal(OutputModel):
    key: str
    ok: bool
    message: str


class RuleCheck(OutputModel):
    rule: int = Field(description="1-5, in the guide's order.")
    key: str
    title: str
    prompt: str = Field(description="The question the members answer.")
    answer: Answer = Field(description="The members' answer: yes or not_yet.")
    note: str | None
    signals: list[Signal] = Field(description="What the service can see in the text.")
    met: bool = Field(description="Answered yes and no signal raises a concern.")


class QuestionCheck(OutputModel):
    question: str
    rules: list[RuleCheck]
    unmet: list[int] = Field(description="Rules not met yet.")
    all_met: bool
    guidance: list[str] = Field(description="For each unmet rule, what to do about it.")


class AnswerInput(Input):
    rule: int = Field(ge=1, le=5)
    answer: Answer
    note: PupilNote | None = Field(None, max_length=2000)


class QuestionUpdate(Input):
    question: PupilNote | None = Field(None, min_length=1, max_length=2000, description=QUESTION)
    answers: list[AnswerInput] = Field(default_factory=list, max_length=5)

    @field_validator("answers")
    @classmethod
    def _once_each(cls, value: list[AnswerInput]) -> list[AnswerInput]:
        rules = [a.rule for a in value]
        if len(set(rules)) != len(rules):
            raise ValueError("answer each rule at most once")
        return value


class QuestionDraft(Input):
    """A question to check before an enquiry exists (nothing is stored)."""

    question: PupilNote = Field(min_length=1, max_length=2000)
    pupil_group: ProfileText | None = Field(None, max_length=2000)
    subject: str | None = Field(None, max_length=100)
    planned_approach: PupilNote | None = Field(None, max_length=4000)


class EnquiryRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    title: str
    school_ids: list[uuid.UUID]
    subject: str | None
    pupil_group: str = Field(description=PUPIL_GROUP)
    question: str
    planned_approach: str | None
    need_ids: list[uuid.UUID]
    starts_on: date | None
    ends_on: date | None
    status: EnquiryStatus = Field(
        description="planning (framing the question) -> active (collecting and analysing) -> "
        "completed."
    )
    stage: StageOrCompleted = Field(description="The furthest component reached.")
    stages_reached: list[Stage]
    question_rules_unmet: list[int] = Field(description="Rules of the question check not met yet.")
    question_check: QuestionCheck = Field(
        description="The question checked against the five rules: each prompt with the "
        "members' answer and the signals computed from the text (guidance, never an error)."
    )
    replicates_enquiry_id: uuid.UUID | None
    replicated_by: list[uuid.UUID] = Field(description="Follow-up enquiries replicating this one.")
    community_id: uuid.UUID | None
    community_cycle: int | None
    members: list[GroupMemberRead]
    next_step: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
