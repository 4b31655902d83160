"""Demo planning data for the demo trust: a few needs at Northfield and Southbank (whole
school, team and individual; one from the demo's values-v-practice round), Northfield's three-year alignment plan and its strategic CPD
plan for the current academic year. Called from :func:`cpd_audit.demo.seed_demo`.

Fixed ids (UUIDv5 from the gateway's demo namespace), so scripts and front-end developers can
rely on them; idempotent; never commits; adds the events a real request would.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.alignment_plans.schemas import AlignmentGrid
from cpd_audit.models import AlignmentPlan, CpdPlan, CpdPlanRow, Need, NeedAuditItem
from cpd_common import events
from cpd_common.db import utcnow
from cpd_common.demo_data import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, SOUTHBANK, demo_id
from cpd_common.events import catalogue

NEED_WRITING = demo_id("need", "northfield-writing")
NEED_KS1_MATHS = demo_id("need", "northfield-ks1-maths")
NEED_ECT_BEHAVIOUR = demo_id("need", "northfield-ect-behaviour")
NEED_SEND = demo_id("need", "southbank-send")
NEED_SCIENCE = demo_id("need", "southbank-science-practicals")
NEED_ENQUIRY = demo_id("need", "southbank-classroom-enquiry")
# The demo's closed values-v-practice round (see cpd_audit.demo), where principle 2 lags.
VALUES_AUDIT = demo_id("audit", "autumn-values-v-practice")
ALIGNMENT_PLAN = demo_id("alignment-plan", "northfield")
CPD_PLAN = demo_id("cpd-plan", "northfield")


def current_start_year(today: date | None = None) -> int:
    """The academic year under way (September to August): 2026 for 2026/27."""
    today = today or utcnow().date()
    return today.year if today.month >= 9 else today.year - 1


def _needs() -> list[dict[str, Any]]:
    head, deputy = PEOPLE_BY_KEY["n-head"].id, PEOPLE_BY_KEY["n-deputy"].id
    return [
        {
            "id": NEED_WRITING,
            "school_id": NORTHFIELD,
            "level": "whole_school",
            "title": "Writing at greater depth in key stage 2",
            "description": "Too few pupils reach greater depth in writing, disadvantaged pupils "
            "least of all; teachers model and check editing too little.",
            "need_types": ["knowledge", "skills"],
            "evidence": [
                {"source": "data_analysis", "notes": "Greater depth 12% against 20% nationally."},
                {"source": "learning_walk", "notes": "Editing modelled in 3 of 10 lessons."},
            ],
            "priority": "high",
            "outcome_short_term": "Every KS2 teacher models editing weekly.",
            "outcome_medium_term": "Book looks show pupils editing independently by Easter.",
            "outcome_long_term": "Greater depth in writing in line with national in two years.",
            "status": "planned",
            "recorded_by": head,
        },
        {
            "id": NEED_KS1_MATHS,
            "school_id": NORTHFIELD,
            "level": "team",
            "team_kind": "phase",
            "team_name": "KS1",
            "title": "Mastery routines in key stage 1 maths",
            "description": "Number fluency routines vary from class to class.",
            "need_types": ["skills"],
            "evidence": [
                {"source": "observation", "notes": "Routines seen in 2 of 4 KS1 classes."},
                {"source": "staff_self_audit", "notes": "KS1 staff asked for maths hub support."},
            ],
            "priority": "medium",
            "outcome_short_term": "Daily fluency sessions in every KS1 class.",
            "outcome_medium_term": "Fewer pupils below expected in the spring assessment.",
            "status": "identified",
            "recorded_by": head,
        },
        {
            "id": NEED_ECT_BEHAVIOUR,
            "school_id": NORTHFIELD,
            "level": "individual",
            "person_id": PEOPLE_BY_KEY["n-t2"].id,
            "title": "Consistent routines for transitions",
            "description": "Time is lost when the class moves between activities.",
            "need_types": ["skills", "attitudes"],
            "evidence": [
                {"source": "observation", "notes": "Mentor observation in the first half term."},
                {"source": "self_evaluation", "notes": "Named in the ECT's own reflection."},
            ],
            "priority": "high",
            "outcome_short_term": "Transitions take under a minute.",
            "status": "in_progress",
            "recorded_by": deputy,
        },
        {
            "id": NEED_SEND,
            "school_id": SOUTHBANK,
            "level": "whole_school",
            "title": "Adaptive teaching for pupils with SEND",
            "description": "Lessons are adapted too little for pupils with SEND.",
            "need_types": ["knowledge", "skills"],
            "evidence": [
                {"source": "external_review", "notes": "Trust review in the summer term."},
                {
                    "source": "pupil_discussion",
                    "notes": "Pupils with SEND describe work as too hard.",
                },
            ],
            "priority": "high",
            "outcome_short_term": "Teachers plan one adaptation per lesson.",
            "outcome_long_term": "The progress gap for pupils with SEND narrows.",
            "status": "identified",
            "recorded_by": PEOPLE_BY_KEY["s-head"].id,
        },
        {
            "id": NEED_SCIENCE,
            "school_id": SOUTHBANK,
            "level": "team",
            "team_kind": "department",
            "team_name": "Science",
            "title": "Practical work that builds understanding",
            "description": "Practicals are followed as recipes; pupils rarely explain results.",
            "need_types": ["knowledge"],
            "evidence": [{"source": "learning_walk", "notes": "Science learning walk, October."}],
            "priority": "medium",
            "status": "identified",
            "recorded_by": PEOPLE_BY_KEY["s-head"].id,
        },
        {
            "id": NEED_ENQUIRY,
            "school_id": SOUTHBANK,
            "level": "whole_school",
            "title": "More CPD as classroom enquiry with a colleague",
            "description": "Staff value sustained CPD built on classroom enquiry (principle 2) "
            "far more than they see it happen; most CPD is still one-off sessions.",
            "need_types": ["skills", "attitudes"],
            "evidence": [
                {
                    "source": "survey",
                    "notes": "Autumn values-v-practice round: principle 2 has one of the "
                    "largest gaps between values and practice.",
                }
            ],
            "priority": "high",
            "outcome_short_term": "Every teacher in an enquiry pair or lesson study by spring.",
            "outcome_medium_term": "The summer round shows the gap on principle 2 narrowing.",
            "status": "planned",
            "recorded_by": PEOPLE_BY_KEY["s-head"].id,
            "audit_items": (VALUES_AUDIT, ["2"]),
        },
    ]


def _alignment_grid() -> dict[str, Any]:
    grid = AlignmentGrid.model_validate(
        {
            "attainment_and_progress": {
                "this_year": {
                    "strengths": ["Phonics screening above national three years running"],
                    "weaknesses": ["Writing at greater depth in KS2", "KS1 number fluency"],
                    "opportunities": ["English hub partnership", "Trust maths network"],
                    "threats": ["Two experienced KS2 teachers leave in July"],
                },
                "next_year": {
                    "strengths": ["Editing routines in place across KS2"],
                    "weaknesses": ["Reasoning in upper KS2 maths"],
                    "opportunities": ["Lesson study in maths with Southbank"],
                },
                "year_after": {"opportunities": ["Lead the trust's writing network"]},
            },
            "ethos_and_wider_development": {
                "this_year": {
                    "strengths": ["Pupils feel safe and like school"],
                    "weaknesses": ["Persistent absence of disadvantaged pupils"],
                    "threats": ["Falling rolls in reception"],
                },
                "next_year": {"opportunities": ["Pupil voice in curriculum design"]},
            },
        }
    )
    return grid.model_dump()


def _cpd_rows(start_year: int) -> list[tuple[uuid.UUID, date, str, str, str, str]]:
    y1 = start_year + 1
    return [
        (
            NEED_WRITING,
            date(start_year, 9, 1),
            "INSET: modelling and editing writing",
            "English lead",
            "0.00",
            "cpd_budget",
        ),
        (
            NEED_WRITING,
            date(start_year, 10, 1),
            "English hub: writing for greater depth (3 days)",
            "English lead",
            "450.00",
            "grant",
        ),
        (
            NEED_WRITING,
            date(start_year, 11, 1),
            "Supply cover for hub days",
            "School business manager",
            "540.00",
            "cpd_budget",
        ),
        (
            NEED_WRITING,
            date(y1, 2, 1),
            "Peer coaching on editing, two cycles",
            "Tom Fletcher",
            "0.00",
            "cpd_budget",
        ),
        (
            NEED_KS1_MATHS,
            date(start_year, 10, 1),
            "Maths hub work group for KS1 teachers",
            "Maths lead",
            "0.00",
            "national_funding",
        ),
        (
            NEED_KS1_MATHS,
            date(y1, 1, 1),
            "Lesson study cycle on number fluency",
            "Maths lead",
            "380.00",
            "cpd_budget",
        ),
        (
            NEED_ECT_BEHAVIOUR,
            date(start_year, 11, 1),
            "Observe an expert colleague's transitions",
            "ECT mentor",
            "95.00",
            "pupil_premium",
        ),
    ]


async def seed_planning_demo(session: AsyncSession) -> bool:
    """Adds the demo needs (with their ``audit.need.recorded`` events), Northfield's alignment
    plan and CPD plan. Does nothing (returns False) when they are already there."""
    if await session.scalar(select(Need.id).where(Need.id == NEED_WRITING)) is not None:
        return False
    for data in _needs():
        audit_id, item_keys = data.pop("audit_items", (None, []))
        need = Need(trust_id=OAKRIDGE, **data)
        session.add(need)
        session.add_all(
            NeedAuditItem(need_id=need.id, audit_id=audit_id, item_key=key, position=i)
            for i, key in enumerate(item_keys)
        )
        events.add(
            session,
            catalogue.NeedRecorded(
                need_id=need.id,
                trust_id=OAKRIDGE,
                school_id=need.school_id,
                level=need.level,
                need_types=need.need_types,
                priority=need.priority,
                audit_id=audit_id,
                item_keys=item_keys,
            ),
        )
    start_year = current_start_year()
    session.add(
        AlignmentPlan(
            id=ALIGNMENT_PLAN,
            trust_id=OAKRIDGE,
            school_id=NORTHFIELD,
            start_year=start_year,
            title="Northfield alignment framework",
            notes="Agreed by the senior leadership team with governors' input.",
            grid=_alignment_grid(),
        )
    )
    session.add(
        CpdPlan(
            id=CPD_PLAN,
            trust_id=OAKRIDGE,
            school_id=NORTHFIELD,
            start_year=start_year,
            title="Northfield strategic CPD plan",
            notes="Reviewed each half term by the CPD lead.",
        )
    )
    await session.flush()
    for need_id, month, activity, responsible, cost, source in _cpd_rows(start_year):
        session.add(
            CpdPlanRow(
                id=uuid.uuid5(CPD_PLAN, f"{need_id}:{month}:{activity}"),
                trust_id=OAKRIDGE,
                plan_id=CPD_PLAN,
                need_id=need_id,
                month=month,
                activity=activity,
                responsible=responsible,
                cost=Decimal(cost),
                funding_source=source,
            )
        )
    await session.flush()
    return True
