"""Learning communities in and out: the group, its meetings, what it runs and what it shares."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import PupilNote
from cpd_lessonstudy.enquiries.schemas import StageOrCompleted
from cpd_lessonstudy.groups.schemas import GroupMemberRead
from cpd_lessonstudy.terms import CommunityActivityKind as ActivityKind
from cpd_lessonstudy.terms import ShareKind

MIN_DAYS, MAX_DAYS = 35, 366
PERIOD = (
    f"A fixed period of half a term to a year: ends_on is {MIN_DAYS} to {MAX_DAYS} days after "
    "starts_on."
)
CommunityStatus = Literal["forming", "running", "ended"]


def period_problem(starts_on: date, ends_on: date) -> str | None:
    days = (ends_on - starts_on).days
    if days < MIN_DAYS:
        return (
            f"{days} days is shorter than half a term: a learning community works together for "
            f"at least {MIN_DAYS} days"
        )
    if days > MAX_DAYS:
        return f"{days} days is longer than a year: plan a new community for the next year"
    return None


class CommunityCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    school_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)
    learning_priority: PupilNote = Field(
        min_length=1,
        max_length=4000,
        description="The learning priority the community was formed for.",
    )
    need_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="Needs (from /v1/needs) it answers."
    )
    starts_on: date
    ends_on: date = Field(description=PERIOD)
    membership_design: PupilNote | None = Field(
        None,
        max_length=2000,
        description="Why these members: e.g. mixed across departments or schools on purpose.",
    )
    coordinator_id: uuid.UUID | None = Field(None, description="You, when omitted.")
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=40)

    @field_validator("school_ids", "need_ids", "member_ids")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _period(self) -> CommunityCreate:
        problem = period_problem(self.starts_on, self.ends_on)
        if problem:
            raise ValueError(problem)
        return self


class CommunityUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    school_ids: list[uuid.UUID] | None = Field(None, min_length=1, max_length=20)
    learning_priority: PupilNote | None = Field(None, min_length=1, max_length=4000)
    need_ids: list[uuid.UUID] | None = Field(None, max_length=20)
    starts_on: date | None = None
    ends_on: date | None = Field(None, description=PERIOD)
    membership_design: PupilNote | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _required_stay_set(self) -> CommunityUpdate:
        for name in ("name", "school_ids", "learning_priority", "need_ids", "starts_on", "ends_on"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class Mix(OutputModel):
    schools: int = Field(description="Schools the current members come from.")
    departments: int = Field(description="Departments the current members come from.")


class CommunityRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    name: str
    school_ids: list[uuid.UUID]
    learning_priority: str
    need_ids: list[uuid.UUID]
    starts_on: date
    ends_on: date
    status: CommunityStatus = Field(description="forming before starts_on, ended after ends_on.")
    membership_design: str | None
    members: list[GroupMemberRead]
    mix: Mix
    cycles: int = Field(description="Highest cycle of its meetings and activities.")
    meetings_held: int
    last_met_on: date | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class Authored(OutputModel):
    recorded_by: uuid.UUID | None
    recorded_by_name: str | None
    created_at: datetime


class MeetingCreate(Input):
    held_on: date = Field(description="Within the community's period, not in the future.")
    duration_minutes: int = Field(ge=5, le=720)
    cycle: int | None = Field(None, ge=1, le=20, description="The enquiry cycle it belongs to.")
    minutes: PupilNote = Field(min_length=1, max_length=8000, description="The meeting's notes.")
    shared: PupilNote | None = Field(
        None, max_length=4000, description="What members shared (work in progress, findings)."
    )
    attended: list[uuid.UUID] = Field(
        min_length=1, max_length=40, description="Membership ids of those who came."
    )

    @field_validator("attended")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))


class MeetingUpdate(Input):
    minutes: PupilNote | None = Field(None, min_length=1, max_length=8000)
    shared: PupilNote | None = Field(None, max_length=4000)

    @model_validator(mode="after")
    def _minutes_stay(self) -> MeetingUpdate:
        if "minutes" in self.model_fields_set and self.minutes is None:
            raise ValueError("minutes cannot be null")
        return self


class Attendee(OutputModel):
    member_id: uuid.UUID
    name: str


class MeetingRead(Authored):
    id: uuid.UUID
    community_id: uuid.UUID
    held_on: date
    duration_minutes: int
    hours: float
    cycle: int | None
    minutes: str
    shared: str | None
    attendance: list[Attendee]


class ActivityCreate(Input):
    kind: ActivityKind
    cycle: int = Field(ge=1, le=20)
    enquiry_id: uuid.UUID | None = Field(None, description="kind=enquiry")
    lesson_study_id: uuid.UUID | None = Field(None, description="kind=lesson_study")
    coach_member_id: uuid.UUID | None = Field(None, description="kind=peer_coaching")
    coachee_member_id: uuid.UUID | None = Field(None, description="kind=peer_coaching")
    focus: PupilNote | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> ActivityCreate:
        wanted = {
            "enquiry": {"enquiry_id"},
            "lesson_study": {"lesson_study_id"},
            "peer_coaching": {"coach_member_id", "coachee_member_id"},
        }[self.kind]
        given = {
            n
            for n in ("enquiry_id", "lesson_study_id", "coach_member_id", "coachee_member_id")
            if getattr(self, n) is not None
        }
        if given != wanted:
            raise ValueError(f"a {self.kind} activity takes exactly: {', '.join(sorted(wanted))}")
        if self.kind == "peer_coaching" and self.coach_member_id == self.coachee_member_id:
            raise ValueError("coach and coachee are two different members")
        return self


class ActivityRead(OutputModel):
    id: uuid.UUID
    community_id: uuid.UUID
    kind: ActivityKind
    cycle: int
    enquiry_id: uuid.UUID | None
    lesson_study_id: uuid.UUID | None
    title: str | None = Field(description="The enquiry's or lesson study's title.")
    progress: str | None = Field(description="The enquiry's stage or the lesson study's status.")
    coach_member_id: uuid.UUID | None
    coach_name: str | None
    coachee_member_id: uuid.UUID | None
    coachee_name: str | None
    focus: str | None
    created_at: datetime


class ShareCreate(Input):
    kind: ShareKind = Field(
        description="sharing_session, tool or artefact (made for others), open_house or other."
    )
    shared_on: date
    title: PupilNote = Field(min_length=1, max_length=200)
    audience: PupilNote = Field(
        min_length=1, max_length=1000, description="Who it was shared with."
    )
    description: PupilNote | None = Field(None, max_length=4000)
    reference: str | None = Field(None, max_length=500, description="Where to find it.")


class ShareRead(Authored):
    id: uuid.UUID
    community_id: uuid.UUID
    kind: ShareKind
    shared_on: date
    title: str
    audience: str
    description: str | None
    reference: str | None


# ---- trust and school views -------------------------------------------------------------------


class Cadence(OutputModel):
    meetings: int
    last_met_on: date | None
    mean_days_between_meetings: float | None


class CommunitySummary(Cadence):
    community_id: uuid.UUID
    name: str
    status: CommunityStatus
    school_ids: list[uuid.UUID]
    starts_on: date
    ends_on: date
    members: int
    cycles: int
    enquiries_by_stage: dict[StageOrCompleted, int]
    lesson_studies: int
    coaching_pairs: int
    shares: int


class SchoolCommunities(Cadence):
    school_id: uuid.UUID
    school_name: str
    communities: int
    running: int
    members: int = Field(description="Distinct people in the school's communities.")
    enquiries_by_stage: dict[StageOrCompleted, int] = Field(
        description="Every enquiry involving the school, by the furthest component reached."
    )


class CommunityTotals(Cadence):
    communities: int
    running: int
    members: int
    enquiries_by_stage: dict[StageOrCompleted, int]


class CommunityOverview(OutputModel):
    trust_id: uuid.UUID
    as_of: date
    totals: CommunityTotals
    schools: list[SchoolCommunities]
    communities: list[CommunitySummary]
