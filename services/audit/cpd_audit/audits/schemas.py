"""Audit (round) payloads."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from cpd_common.schemas import InputModel, OutputModel

AuditStatus = Literal["draft", "open", "closed"]
StaffGroup = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]
DEFAULT_AUDIENCE = ["teacher", "teaching_assistant", "support", "leader"]


class Scope(InputModel):
    """One school, several schools, or the whole trust (every school, present and future)."""

    kind: Literal["school", "schools", "trust"]
    school_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _shape(self) -> Scope:
        if len(set(self.school_ids)) != len(self.school_ids):
            raise ValueError("school_ids must not repeat")
        if self.kind == "school" and len(self.school_ids) != 1:
            raise ValueError("a one-school scope names exactly one school")
        if self.kind == "schools" and len(self.school_ids) < 1:
            raise ValueError("a several-schools scope names its schools")
        if self.kind == "trust" and self.school_ids:
            raise ValueError("a trust scope names no schools")
        return self


class Audience(InputModel):
    staff_groups: list[StaffGroup] = Field(
        default_factory=lambda: list(DEFAULT_AUDIENCE),
        min_length=1,
        max_length=20,
        description="Staff groups who answer (from the staff directory).",
    )


class AuditCreate(InputModel):
    instrument_id: uuid.UUID
    instrument_version: int | None = Field(
        None, ge=1, le=1_000_000, description="Which version; the latest when absent."
    )
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    scope: Scope
    audience: Audience = Field(default_factory=Audience)
    opens_on: date | None = Field(None, description="Planned opening day (informative).")
    closes_on: date | None = Field(None, description="Planned closing day (informative).")
    min_group_size: int = Field(
        5,
        ge=3,
        le=100,
        description="Result cells built from fewer respondents are withheld (never below 3).",
    )

    @model_validator(mode="after")
    def _dates(self) -> AuditCreate:
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            raise ValueError("closes_on is before opens_on")
        return self


class AuditUpdate(InputModel):
    """Changes to a draft (title and description may change at any time)."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    scope: Scope | None = None
    audience: Audience | None = None
    opens_on: date | None = None
    closes_on: date | None = None
    min_group_size: int | None = Field(None, ge=3, le=100)


class InstrumentRef(OutputModel):
    id: uuid.UUID
    key: str
    title: str
    version: int
    version_id: uuid.UUID
    paired: bool = Field(description="Its items are scored twice (values v practice).")


class ScopeRead(OutputModel):
    kind: Literal["school", "schools", "trust"]
    school_ids: list[uuid.UUID]


class AudienceRead(OutputModel):
    staff_groups: list[str]


class AuditLinks(OutputModel):
    responses: str
    my_response: str
    response_counts: str
    results: str
    chart: str
    csv: str
    suggested_needs: str


class MyPart(OutputModel):
    """The caller's own part in the audit, shown to them alone: nobody else can learn
    whether someone has responded."""

    in_audience: bool = Field(
        False, description="You were in the audience frozen when the audit opened."
    )
    responded: bool = Field(False, description="You have responded (responded_by_me).")
    awaiting_response: bool = Field(
        False, description="It is open, you are in its audience and have not responded yet."
    )


class AuditRead(OutputModel):
    id: uuid.UUID
    instrument: InstrumentRef
    title: str
    description: str
    status: AuditStatus
    scope: ScopeRead
    audience: AudienceRead
    min_group_size: int
    opens_on: date | None
    closes_on: date | None
    opened_at: datetime | None
    closed_at: datetime | None
    audience_size: int | None = Field(description="People in the audience when it opened.")
    created_at: datetime
    updated_at: datetime
    me: MyPart = Field(description="Your own part in it (never anyone else's).")
    links: AuditLinks


class CountCell(OutputModel):
    school_id: uuid.UUID | None = None
    staff_group: str | None = None
    responses: int | None = Field(description="Null when withheld.")
    withheld: str | None = None


class ResponseCounts(OutputModel):
    """How many have responded, never who. While the audit is open only the whole audit's
    count and rate; once closed also per school and staff group, with cells under the
    minimum group size withheld (with complementary suppression, as in the results)."""

    audit_id: uuid.UUID
    status: AuditStatus
    min_group_size: int
    audience_size: int | None = Field(description="People in the audience frozen at opening.")
    responses: int = Field(description="Responses over the whole audit.")
    response_rate: float | None = Field(
        None, description="Responses as a percent of `audience_size` (one decimal)."
    )
    by_school: list[CountCell] | None = Field(
        None,
        description="Null until the audit closes. In an audit across schools, only your own "
        "schools' cells unless you are a trust admin.",
    )
    by_staff_group: list[CountCell] | None = Field(
        None,
        description="Null until the audit closes, and for anyone but a trust admin in an "
        "audit across schools other than their own.",
    )
    by_school_and_staff_group: list[CountCell] | None = Field(
        None, description="Null until the audit closes; own schools only, as `by_school`."
    )
