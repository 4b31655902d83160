"""The CPD calendar out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from cpd_common.schemas import OutputModel

Scope = Literal["me", "school", "trust"]


class CalendarEntry(OutputModel):
    uid: str = Field(description="Stable across reads (the iCalendar UID).")
    title: str
    starts_at: datetime | None = Field(description="Timed sessions (runs of the offer).")
    ends_at: datetime | None
    on: date = Field(description="The day, in Europe/London.")
    all_day: bool = Field(description="Sessions of activities recorded by date only.")
    place: str | None = None
    link: str | None = None
    programme_id: uuid.UUID | None = None
    run_id: uuid.UUID | None = None
    activity_id: uuid.UUID | None = None
    places_left: int | None = None
    booked: bool = Field(False, description="The caller takes part.")


class Calendar(OutputModel):
    scope: Scope
    school_id: uuid.UUID | None = None
    time_zone: str = "Europe/London"
    entries: list[CalendarEntry]


class FeedUrls(OutputModel):
    """Secret addresses for calendar clients (which cannot send a bearer token). Shown once;
    rotating makes the old ones stop working at once."""

    token: str
    me: str
    trust: str
    schools: dict[str, str] = Field(description="Per school id you may see.")
