"""Demo lesson studies for ``make up`` and the tests: one completed three-cycle study at
Northfield (shared in an open-house lesson, with its full report) and one networked
Northfield-Southbank study in its second cycle.

The content is data (``demo.yaml``); everything is written through the service functions, as the API would, so the outbox holds
the same events a real group would have produced.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.demo import load_demo
from cpd_demo import trust as demo_data
from cpd_demo.trust import days_ago, principal_of
from cpd_lessonstudy import demo_enquiry
from cpd_lessonstudy import demo_steps as steps
from cpd_lessonstudy.findings import service as findings_service
from cpd_lessonstudy.findings.schemas import FindingsInput, OpenHouseInput, WhatWorkedInput
from cpd_lessonstudy.models import CasePupil, LessonStudy, Person, ResearchLesson, School
from cpd_lessonstudy.studies import service as studies_service

# The content lives in ``demo.yaml``; this module only applies it.
CONTENT: dict[str, Any] = load_demo("cpd_lessonstudy", "demo.yaml")
FRACTIONS_TITLE: str = CONTENT["fractions"]["title"]
WRITING_TITLE: str = CONTENT["writing"]["title"]
DEMO_KEYS = sorted(
    {*CONTENT["fractions"]["group"], *CONTENT["writing"]["group"], *demo_enquiry.people()}
)


async def projection_ready(session: AsyncSession) -> bool:
    """True once the directory events for the demo people and schools have arrived."""
    people = await session.scalar(
        select(func.count()).where(
            Person.id.in_([demo_data.PEOPLE_BY_KEY[k].id for k in DEMO_KEYS]),
            Person.active.is_(True),
        )
    )
    schools = await session.scalar(
        select(func.count()).where(School.id.in_([demo_data.NORTHFIELD, demo_data.SOUTHBANK]))
    )
    return people == len(DEMO_KEYS) and schools == 2


async def seed_demo(session: AsyncSession) -> None:
    """Adds the two demo studies, then the demo learning community and its enquiries, unless
    they are there already. Never commits."""
    exists = await session.scalar(
        select(LessonStudy.id).where(
            LessonStudy.trust_id == demo_data.OAKRIDGE, LessonStudy.title == FRACTIONS_TITLE
        )
    )
    if exists is None:
        await _fractions_study(session)
        await _writing_study(session)
    # The learning community and its enquiries (each checks whether it is there already).
    await demo_enquiry.seed_demo(session)


async def _set_up(
    session: AsyncSession, spec: dict[str, Any]
) -> tuple[LessonStudy, dict[str, uuid.UUID], list[CasePupil]]:
    """A demo study created by its creator with its group and case pupils, and the group's
    kick-off meeting."""
    creator = spec["creator"]
    group: dict[str, str] = spec["group"]
    study, m = await steps.study(
        session,
        creator,
        group,
        title=spec["title"],
        school_ids=[demo_enquiry.SCHOOLS[s] for s in spec["schools"]],
        **spec["study"],
    )
    pupils = await steps.case_pupils(session, study, creator, spec["case_pupils"])
    await _group_meeting(session, study, m, spec, spec["kickoff"])
    return study, m, pupils


async def _group_meeting(
    session: AsyncSession,
    study: LessonStudy,
    m: dict[str, uuid.UUID],
    spec: dict[str, Any],
    meeting: dict[str, Any],
) -> None:
    """A meeting of the whole group (the kick-off, the closing one), the same minutes each."""
    await steps.time(
        session,
        study,
        m,
        spec["creator"],
        "meeting",
        days_ago(meeting["ago"]),
        dict.fromkeys(spec["group"], meeting["minutes"]),
    )


async def _plan(
    session: AsyncSession,
    study: LessonStudy,
    m: dict[str, uuid.UUID],
    pupils: list[CasePupil],
    spec: dict[str, Any],
    lesson: dict[str, Any],
    *,
    planned_for: date,
    stages: list[Any],
) -> ResearchLesson:
    """A research lesson planned by the study's creator, with its stages and predictions."""
    return await steps.plan(
        session,
        study,
        m,
        spec["creator"],
        teacher=lesson["teacher"],
        title=lesson["title"],
        planned_for=planned_for,
        plan=lesson["plan"],
        changes=lesson["changes"],
        stages=stages,
        pupils=pupils,
        predictions=lesson["predictions"],
    )


async def _lesson_cycle(
    session: AsyncSession,
    study: LessonStudy,
    m: dict[str, uuid.UUID],
    pupils: list[CasePupil],
    spec: dict[str, Any],
    cycle: dict[str, Any],
    *,
    taught_ago: int,
    stages: list[Any],
    planning: tuple[int, dict[str, int]],
    observed: dict[str, dict[str, list[tuple[str, str]]]],
    interviewer: str,
    minutes: dict[str, int],
    starts_study: bool,
) -> None:
    """One research lesson from plan to completion, as a group works it: planned (with its
    predictions; the first one starts the study), the planning time, taught and observed,
    the lesson's time, then discussed and completed. ``planning`` is (days ago, minutes)."""
    creator = spec["creator"]
    taught_on = days_ago(taught_ago)
    lesson = await _plan(
        session, study, m, pupils, spec, cycle, planned_for=taught_on, stages=stages
    )
    if starts_study:
        await studies_service.start_study(session, study.id, principal=principal_of(creator))
    planning_ago, planning_minutes = planning
    await steps.time(
        session, study, m, creator, "planning", days_ago(planning_ago), planning_minutes, lesson
    )
    await steps.teach_and_observe(
        session,
        study,
        lesson,
        teacher=cycle["teacher"],
        taught_on=taught_on,
        pupils=pupils,
        observed=observed,
        interviews=cycle["interviews"],
        interviewer=interviewer,
    )
    await steps.lesson_time(
        session,
        study,
        m,
        creator,
        lesson,
        taught_on=taught_on,
        teacher=cycle["teacher"],
        observers=observed,
        group=spec["group"],
        minutes=minutes,
    )
    await steps.discuss_and_complete(
        session,
        study,
        lesson,
        creator,
        pupils=pupils,
        reflections=cycle["reflections"],
        change=cycle["change"],
        next_plan=cycle["next"],
    )


# ---- the completed study --------------------------------------------------------------------------


async def _fractions_study(session: AsyncSession) -> None:
    spec = CONTENT["fractions"]
    creator = spec["creator"]
    study, m, pupils = await _set_up(session, spec)
    planning = spec["planning"]
    for n, c in enumerate(spec["cycles"], start=1):
        # The second observer saw the same as the first, except where the data says otherwise.
        first, second = c["observers"]
        await _lesson_cycle(
            session,
            study,
            m,
            pupils,
            spec,
            c,
            taught_ago=c["taught"],
            stages=spec["stages"][n - 1],
            planning=(c["taught"] + planning["days_before"], planning["minutes"]),
            observed={
                first: {k: steps.obs(o, did) for k, (o, did) in c["observed"].items()},
                second: {
                    k: steps.obs(c["second_observer_changes"].get(k, o), did)
                    for k, (o, did) in c["observed"].items()
                },
            },
            interviewer=spec["interviewer"],
            minutes=spec["lesson_minutes"],
            starts_study=n == 1,
        )
    await _group_meeting(session, study, m, spec, spec["closing_meeting"])
    findings = spec["findings"]
    by_label = {p.label: p.id for p in pupils}
    await findings_service.agree_findings(
        session,
        study.id,
        principal=principal_of(creator),
        data=FindingsInput(
            summary=findings["summary"],
            practices=findings["practices"],
            what_worked=[
                WhatWorkedInput(case_pupil_ids=[by_label[p] for p in w["pupils"]], text=w["text"])
                for w in findings["what_worked"]
            ],
            to_share=findings["to_share"],
        ),
    )
    await findings_service.complete_study(session, study.id, principal=principal_of(creator))
    open_house = spec["open_house"]
    await findings_service.record_open_house(
        session,
        study.id,
        principal=principal_of(open_house["by"]),
        data=OpenHouseInput(
            held_on=days_ago(open_house["ago"]),
            audience_count=open_house["audience_count"],
            notes=open_house["notes"],
        ),
    )


# ---- the study in its second cycle ----------------------------------------------------------------


async def _writing_study(session: AsyncSession) -> None:
    spec = CONTENT["writing"]
    study, m, pupils = await _set_up(session, spec)
    taught = spec["taught"]
    await _lesson_cycle(
        session,
        study,
        m,
        pupils,
        spec,
        taught,
        taught_ago=taught["ago"],
        stages=spec["stages"],
        planning=(taught["planning"]["ago"], taught["planning"]["minutes"]),
        observed={
            observer: {k: steps.obs(o, did) for k, (o, did) in by_pupil.items()}
            for observer, by_pupil in taught["observed"].items()
        },
        interviewer=taught["interviewer"],
        minutes=taught["minutes"],
        starts_study=True,
    )
    planned = spec["planned"]
    await _plan(
        session,
        study,
        m,
        pupils,
        spec,
        planned,
        planned_for=days_ago(planned["ago"]),
        stages=spec["stages"],
    )
