"""Request and response bodies of career plans.

A career plan follows the individual career plan and reflective journal (where I have come
from, where I am, where I want to be in 3 and 5 years, action plans; each with my notes,
discussions with my mentor and my reflections) together with the self-review before
appraisal (strengths with evidence, aspects to develop with how they were identified and the
preferred CPD model).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from cpd_audit.academic_year import MONTH_PATTERN
from cpd_common.schemas import InputModel, OutputModel

Text = Annotated[str, Field(max_length=8000)]
CpdModel = Literal[
    "coaching",
    "mentoring",
    "lesson_study",
    "enquiry_group",
    "research_self_directed",
    "school_based",
    "school_to_school",
    "formal_course",
    "higher_education_accreditation",
    "online_blended",
    "other",
]


class Journal(InputModel):
    """The reflective journal's three columns for one stage."""

    notes: Text = Field("", description="My notes.")
    mentor_discussion: Text = Field("", description="Discussions with my mentor.")
    reflections: Text = Field("", description="My personal reflections.")


class Aims(InputModel):
    """Where I would like to be, and what it will take."""

    aim: Text = Field("", description="What I would like to be doing.")
    qualifications: Text = Field("", description="Professional study or qualifications.")
    experience: Text = Field("", description="Experience I will need to gain.")
    skills: Text = Field("", description="Qualities and skills I will need to develop.")
    opportunities: Text = Field("", description="Opportunities for such development.")
    notes: Text = ""
    mentor_discussion: Text = ""
    reflections: Text = ""


class Strength(InputModel):
    strength: str = Field(min_length=1, max_length=2000, description="What I am confident in.")
    evidence: Text = Field("", description="How I know: the evidence.")


class AspectToDevelop(InputModel):
    aspect: str = Field(
        min_length=1, max_length=2000, description="What I want to learn more about."
    )
    kind: Literal["knowledge", "skills", "attitudes"]
    how_identified: Text = Field("", description="How I came to identify it; the evidence.")
    preferred_cpd_model: CpdModel | None = None
    notes: Text = ""


class ActionStep(InputModel):
    action: str = Field(min_length=1, max_length=2000)
    month: str | None = Field(None, pattern=MONTH_PATTERN, description="YYYY-MM")
    responsible: str = Field("", max_length=200, description="Who is responsible.")
    cost: str = Field("", max_length=200, description="Cost or funding implications.")
    success_criteria: Text = ""
    done: bool = False


class CareerPlanCreate(InputModel):
    title: str = Field("My career plan", min_length=1, max_length=200)
    start_year: int | None = Field(
        None, ge=2000, le=2100, description="The academic year it starts (2026 means 2026/27)."
    )
    came_from: Journal = Field(default_factory=Journal, description="Where I have come from.")
    where_i_am: Journal = Field(default_factory=Journal, description="Where I am now.")
    aims_three_years: Aims = Field(default_factory=Aims)
    aims_five_years: Aims = Field(default_factory=Aims)
    strengths: list[Strength] = Field(default_factory=list, max_length=50)
    aspects_to_develop: list[AspectToDevelop] = Field(default_factory=list, max_length=50)
    action_plan: list[ActionStep] = Field(default_factory=list, max_length=100)


class CareerPlanUpdate(InputModel):
    """Send only the sections that change; each replaces the whole section."""

    title: str | None = Field(None, min_length=1, max_length=200)
    start_year: int | None = Field(None, ge=2000, le=2100)
    came_from: Journal | None = None
    where_i_am: Journal | None = None
    aims_three_years: Aims | None = None
    aims_five_years: Aims | None = None
    strengths: list[Strength] | None = Field(None, max_length=50)
    aspects_to_develop: list[AspectToDevelop] | None = Field(None, max_length=50)
    action_plan: list[ActionStep] | None = Field(None, max_length=100)


class ShareCreate(InputModel):
    mentor_id: uuid.UUID = Field(description="A person in your trust who mentors or coaches you.")


class ShareRead(OutputModel):
    plan_id: uuid.UUID
    mentor_id: uuid.UUID
    mentor_name: str | None
    shared_at: datetime


class JournalRead(OutputModel):
    notes: str
    mentor_discussion: str
    reflections: str


class AimsRead(OutputModel):
    aim: str
    qualifications: str
    experience: str
    skills: str
    opportunities: str
    notes: str
    mentor_discussion: str
    reflections: str


class StrengthRead(OutputModel):
    strength: str
    evidence: str


class AspectToDevelopRead(OutputModel):
    aspect: str
    kind: Literal["knowledge", "skills", "attitudes"]
    how_identified: str
    preferred_cpd_model: CpdModel | None
    notes: str


class ActionStepRead(OutputModel):
    action: str
    month: str | None
    responsible: str
    cost: str
    success_criteria: str
    done: bool


class CareerPlanRead(OutputModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    start_year: int | None
    came_from: JournalRead
    where_i_am: JournalRead
    aims_three_years: AimsRead
    aims_five_years: AimsRead
    strengths: list[StrengthRead]
    aspects_to_develop: list[AspectToDevelopRead]
    action_plan: list[ActionStepRead]
    shared_with: list[ShareRead] | None = Field(
        description="The mentors it is shared with (shown to the owner only; null for a mentor)."
    )
    created_at: datetime
    updated_at: datetime
