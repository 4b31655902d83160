"""Demo lesson studies for ``make up`` and the tests: one completed three-cycle study at
Northfield (shared in an open-house lesson, with its full report) and one networked
Northfield-Southbank study in its second cycle.

The content is data (``demo.yaml``); everything is written through the service functions, as the API would, so the outbox holds
the same events a real group would have produced.
"""

from __future__ import annotations

import uuid
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
from cpd_lessonstudy.models import CasePupil, LessonStudy, Person, School
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
    kickoff = spec["kickoff"]
    await steps.time(
        session,
        study,
        m,
        creator,
        "meeting",
        days_ago(kickoff["ago"]),
        dict.fromkeys(group, kickoff["minutes"]),
    )
    return study, m, pupils


# ---- the completed study --------------------------------------------------------------------------


async def _fractions_study(session: AsyncSession) -> None:
    spec = CONTENT["fractions"]
    creator = spec["creator"]
    group: dict[str, str] = spec["group"]
    study, m, pupils = await _set_up(session, spec)
    planning = spec["planning"]
    minutes = spec["lesson_minutes"]
    for n, c in enumerate(spec["cycles"], start=1):
        lesson = await steps.plan(
            session,
            study,
            m,
            creator,
            teacher=c["teacher"],
            title=c["title"],
            planned_for=days_ago(c["taught"]),
            plan=c["plan"],
            changes=c["changes"],
            stages=spec["stages"][n - 1],
            pupils=pupils,
            predictions=c["predictions"],
        )
        if n == 1:
            await studies_service.start_study(session, study.id, principal=principal_of(creator))
        await steps.time(
            session,
            study,
            m,
            creator,
            "planning",
            days_ago(c["taught"] + planning["days_before"]),
            planning["minutes"],
            lesson,
        )
        # The second observer saw the same as the first, except where the data says otherwise.
        first, second = c["observers"]
        observed = {
            first: {k: steps.obs(o, did) for k, (o, did) in c["observed"].items()},
            second: {
                k: steps.obs(c["second_observer_changes"].get(k, o), did)
                for k, (o, did) in c["observed"].items()
            },
        }
        await steps.teach_and_observe(
            session,
            study,
            lesson,
            teacher=c["teacher"],
            taught_on=days_ago(c["taught"]),
            pupils=pupils,
            observed=observed,
            interviews=c["interviews"],
            interviewer=spec["interviewer"],
        )
        await steps.lesson_time(
            session,
            study,
            m,
            creator,
            lesson,
            taught_on=days_ago(c["taught"]),
            teacher=c["teacher"],
            observers=c["observers"],
            group=group,
            minutes=minutes,
        )
        await steps.discuss_and_complete(
            session,
            study,
            lesson,
            creator,
            pupils=pupils,
            reflections=c["reflections"],
            change=c["change"],
            next_plan=c["next"],
        )
    closing = spec["closing_meeting"]
    await steps.time(
        session,
        study,
        m,
        creator,
        "meeting",
        days_ago(closing["ago"]),
        dict.fromkeys(group, closing["minutes"]),
    )
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
    creator = spec["creator"]
    group: dict[str, str] = spec["group"]
    study, m, pupils = await _set_up(session, spec)
    taught = spec["taught"]
    lesson = await steps.plan(
        session,
        study,
        m,
        creator,
        teacher=taught["teacher"],
        title=taught["title"],
        planned_for=days_ago(taught["ago"]),
        plan=taught["plan"],
        changes=taught["changes"],
        stages=spec["stages"],
        pupils=pupils,
        predictions=taught["predictions"],
    )
    await studies_service.start_study(session, study.id, principal=principal_of(creator))
    planning = taught["planning"]
    await steps.time(
        session,
        study,
        m,
        creator,
        "planning",
        days_ago(planning["ago"]),
        planning["minutes"],
        lesson,
    )
    taught_on = days_ago(taught["ago"])
    await steps.teach_and_observe(
        session,
        study,
        lesson,
        teacher=taught["teacher"],
        taught_on=taught_on,
        pupils=pupils,
        observed={
            observer: {k: steps.obs(o, did) for k, (o, did) in by_pupil.items()}
            for observer, by_pupil in taught["observed"].items()
        },
        interviewer=taught["interviewer"],
        interviews=taught["interviews"],
    )
    minutes = taught["minutes"]
    await steps.lesson_time(
        session,
        study,
        m,
        creator,
        lesson,
        taught_on=taught_on,
        teacher=taught["teacher"],
        observers=taught["observed"],
        group=group,
        minutes=minutes,
    )
    await steps.discuss_and_complete(
        session,
        study,
        lesson,
        creator,
        pupils=pupils,
        reflections=taught["reflections"],
        change=taught["change"],
        next_plan=taught["next"],
    )
    planned = spec["planned"]
    await steps.plan(
        session,
        study,
        m,
        creator,
        teacher=planned["teacher"],
        title=planned["title"],
        planned_for=days_ago(planned["ago"]),
        plan=planned["plan"],
        changes=planned["changes"],
        stages=spec["stages"],
        pupils=pupils,
        predictions=planned["predictions"],
    )
