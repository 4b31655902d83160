"""The records of an enquiry's components in and out: data, findings, validity checks,
replications, reporting; plus pupil voice, case pupils and time."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator
from pydantic.config import JsonDict

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import LABEL_PATTERN, ProfileText, PupilNote, label_problem
from cpd_lessonstudy.terms import (
    Agreement,
    ConclusionsHeld,
    DataMethod,
    DisseminationForm,
    PupilVoiceKind,
    Tally,
)
from cpd_lessonstudy.terms import EnquiryTimeKind as TimeKind

DataSource = Literal["primary", "secondary", "technique"]
SOURCE_OF: dict[str, DataSource] = {
    "book_sample": "primary",
    "observation": "primary",
    "learning_walk": "primary",
    "assessment": "primary",
    "questionnaire": "secondary",
    "interview": "secondary",
    "concept_mapping": "technique",
    "climate_mapping": "technique",
    "hot_spotting": "technique",
    "other": "secondary",
}
MIN_VOICE_GROUP = 3


class Authored(OutputModel):
    recorded_by: uuid.UUID | None = Field(description="The membership that recorded it.")
    recorded_by_name: str | None = Field(description='"Former member" once erased.')
    created_at: datetime


class Attachment(Input):
    title: str = Field(min_length=1, max_length=200)
    reference: str = Field(
        min_length=1,
        max_length=500,
        description="Where the file lives (a link or a shelf mark): files are referenced, "
        "never uploaded here.",
    )


class DataEntryCreate(Input):
    method: DataMethod = Field(
        description="Primary data: book_sample, observation, learning_walk, assessment; "
        "secondary: questionnaire, interview; techniques: concept_mapping, climate_mapping, "
        "hot_spotting."
    )
    collected_on: date
    summary: PupilNote = Field(min_length=1, max_length=4000)
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)


class DataEntryRead(Authored):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    method: DataMethod
    source: DataSource
    collected_on: date
    summary: str
    attachments: list[dict[str, str]]


class FindingCreate(Input):
    statement: PupilNote = Field(min_length=1, max_length=4000)
    data_entry_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=50, description="The data the finding rests on."
    )
    alternative_interpretations: PupilNote | None = Field(
        None, max_length=4000, description="Other readings of the same data you considered."
    )

    @field_validator("data_entry_ids")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))


class FindingRead(Authored):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    statement: str
    data_entry_ids: list[uuid.UUID]
    alternative_interpretations: str | None


class ValidityCheckCreate(Input):
    checked_on: date
    interpreted_by: PupilNote = Field(
        min_length=1,
        max_length=1000,
        description="Who else interpreted the data (roles or teams, e.g. 'the Year 6 team').",
    )
    others_agree: Agreement = Field(description="Did they read the data as you did?")
    counts_tally: Tally = Field(
        description="Counted in chunks, do the figures tally with the qualitative conclusions?"
    )
    notes: PupilNote | None = Field(None, max_length=4000)


class ValidityCheckRead(Authored):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    checked_on: date
    interpreted_by: str
    others_agree: Agreement
    counts_tally: Tally
    notes: str | None


class ReplicationUpdate(Input):
    conclusions_held: ConclusionsHeld = Field(
        description="Whether the follow-up reached the same conclusions (pending until it has "
        "analysed its data)."
    )
    notes: PupilNote | None = Field(None, max_length=4000)


class ReplicationRead(OutputModel):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    follow_up_id: uuid.UUID
    follow_up_title: str
    follow_up_status: str
    conclusions_held: ConclusionsHeld
    notes: str | None
    created_at: datetime
    updated_at: datetime


class DisseminationCreate(Input):
    held_on: date
    audience: PupilNote = Field(min_length=1, max_length=1000, description="To whom.")
    form: DisseminationForm
    beyond_school: bool = Field(False, description="Shared beyond the school(s) involved.")
    what_changed: PupilNote | None = Field(
        None, max_length=4000, description="What changed in practice as a result."
    )


class DisseminationRead(Authored):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    held_on: date
    audience: str
    form: DisseminationForm
    beyond_school: bool
    what_changed: str | None


class PupilVoiceCreate(Input):
    kind: PupilVoiceKind = Field(
        description="views (on the techniques), critique, or co_design (pupils shaping them)."
    )
    heard_on: date
    pupil_group: ProfileText = Field(
        min_length=1,
        max_length=500,
        description="The group heard, described (e.g. 'six Year 5 pupils from the focus group'), "
        "never named.",
    )
    group_size: int = Field(
        ge=MIN_VOICE_GROUP,
        le=500,
        description=f"At least {MIN_VOICE_GROUP}: pupil voice is recorded per group, never per "
        "pupil.",
    )
    summary: PupilNote = Field(min_length=1, max_length=4000)


class PupilVoiceRead(Authored):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    kind: PupilVoiceKind
    heard_on: date
    pupil_group: str
    group_size: int | None
    summary: str


LABEL_SCHEMA: JsonDict = {"minLength": 1, "maxLength": 3, "pattern": LABEL_PATTERN}


class CasePupilCreate(Input):
    label: str = Field(
        description="1-3 letters or digits (A, B, C), never a name.",
        json_schema_extra=LABEL_SCHEMA,
    )
    profile: ProfileText = Field(
        min_length=1,
        max_length=2000,
        description="The kind of learner the case pupil stands for, never the child.",
    )

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        problem = label_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value.upper()


class CasePupilRead(OutputModel):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    label: str
    profile: str
    created_at: datetime


class AttendanceInput(Input):
    member_id: uuid.UUID
    minutes: int = Field(ge=1, le=720)


class TimeRecordCreate(Input):
    kind: TimeKind
    held_on: date
    description: PupilNote | None = Field(None, max_length=2000)
    attendance: list[AttendanceInput] = Field(min_length=1, max_length=30)

    @field_validator("attendance")
    @classmethod
    def _once_each(cls, value: list[AttendanceInput]) -> list[AttendanceInput]:
        ids = [a.member_id for a in value]
        if len(set(ids)) != len(ids):
            raise ValueError("list each member once")
        return value


class AttendanceRead(OutputModel):
    member_id: uuid.UUID
    name: str
    minutes: int


class TimeRecordRead(Authored):
    id: uuid.UUID
    enquiry_id: uuid.UUID
    kind: TimeKind
    held_on: date
    description: str | None
    attendance: list[AttendanceRead]


class MemberHoursRead(OutputModel):
    member_id: uuid.UUID
    person_id: uuid.UUID | None
    name: str
    hours: float


class EnquiryHours(OutputModel):
    enquiry_id: uuid.UUID
    total_hours: float
    members: list[MemberHoursRead]
