"""Time records and hours, in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field, field_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.terms import TimeKind


class AttendanceInput(Input):
    member_id: uuid.UUID
    minutes: int = Field(ge=1, le=720)


class TimeRecordCreate(Input):
    kind: TimeKind = Field(
        description="meeting (including the post-lesson discussion and interviews), planning, "
        "teaching or observing."
    )
    held_on: date
    research_lesson_id: uuid.UUID | None = Field(
        None,
        description="The cycle this time belongs to; its hours travel with "
        "`lessonstudy.lesson.completed`.",
    )
    description: str | None = Field(None, max_length=2000)
    attendance: list[AttendanceInput] = Field(
        min_length=1, max_length=30, description="Minutes per member who took part."
    )

    @field_validator("attendance")
    @classmethod
    def _once_each(cls, value: list[AttendanceInput]) -> list[AttendanceInput]:
        ids = [a.member_id for a in value]
        if len(set(ids)) != len(ids):
            raise ValueError("a member is listed twice")
        return value


class AttendanceRead(OutputModel):
    member_id: uuid.UUID
    name: str
    minutes: int


class TimeRecordRead(OutputModel):
    id: uuid.UUID
    study_id: uuid.UUID
    kind: TimeKind
    held_on: date
    research_lesson_id: uuid.UUID | None
    description: str | None
    attendance: list[AttendanceRead]
    total_minutes: int
    recorded_by: uuid.UUID | None
    created_at: datetime


class MemberHoursRead(OutputModel):
    member_id: uuid.UUID
    person_id: uuid.UUID | None
    name: str
    role: str
    former_member: bool
    minutes: int
    hours: float
    hours_by_kind: dict[str, float] = Field(description="meeting, planning, teaching, observing")


class StudyHours(OutputModel):
    study_id: uuid.UUID
    members: list[MemberHoursRead]
    total_hours: float
