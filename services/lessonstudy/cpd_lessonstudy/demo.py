"""Demo lesson studies for ``make up`` and the tests: one completed three-cycle study at
Northfield (shared in an open-house lesson, with its full report) and one networked
Northfield-Southbank study in its second cycle.

The content is data (``demo.yaml``); everything is written through the service functions, as the API would, so the outbox holds
the same events a real group would have produced.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.demo import load_demo
from cpd_demo import trust as demo_data
from cpd_lessonstudy import demo_enquiry
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.case_pupils.schemas import CasePupilCreate
from cpd_lessonstudy.discussions import service as discussions_service
from cpd_lessonstudy.discussions.schemas import DiscussionInput, ReflectionInput
from cpd_lessonstudy.findings import service as findings_service
from cpd_lessonstudy.findings.schemas import FindingsInput, OpenHouseInput, WhatWorkedInput
from cpd_lessonstudy.interviews import service as interviews_service
from cpd_lessonstudy.interviews.schemas import InterviewCreate
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.members.schemas import MemberCreate
from cpd_lessonstudy.models import CasePupil, LessonStudy, Person, ResearchLesson, School
from cpd_lessonstudy.observations import service as observations_service
from cpd_lessonstudy.observations.schemas import ObservationCreate
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.research_lessons.schemas import (
    LessonCreate,
    PredictionInput,
    PredictionsPut,
    StageInput,
    TaughtInput,
)
from cpd_lessonstudy.studies import service as studies_service
from cpd_lessonstudy.studies.schemas import StudyCreate
from cpd_lessonstudy.time_records import service as time_service
from cpd_lessonstudy.time_records.schemas import AttendanceInput, TimeRecordCreate

# The content lives in ``demo.yaml``; this module only applies it.
CONTENT: dict[str, Any] = load_demo("cpd_lessonstudy", "demo.yaml")
FRACTIONS_TITLE: str = CONTENT["fractions"]["title"]
WRITING_TITLE: str = CONTENT["writing"]["title"]
DEMO_KEYS = sorted(
    {*CONTENT["fractions"]["group"], *CONTENT["writing"]["group"], *demo_enquiry.people()}
)


def _principal(key: str) -> Principal:
    p = demo_data.PEOPLE_BY_KEY[key]
    return Principal(
        sub=f"person:{p.id}",
        trust_id=p.trust_id,
        school_ids=frozenset(p.school_ids),
        roles=frozenset(p.roles),
        person_id=p.id,
    )


def _ago(days: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=days)


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


# ---- shared steps ------------------------------------------------------------------------------


async def _study(
    session: AsyncSession, creator: str, group: dict[str, str], **fields: Any
) -> tuple[LessonStudy, dict[str, uuid.UUID]]:
    people = demo_data.PEOPLE_BY_KEY
    study = await studies_service.create_study(
        session,
        principal=_principal(creator),
        data=StudyCreate(
            members=[
                MemberCreate(person_id=people[k].id, role=r)
                for k, r in group.items()
                if k != creator
            ],
            **fields,
        ),
    )
    members = (await members_service.members_of(session, [study.id]))[study.id]
    by_person = {m.person_id: m.id for m in members}
    return study, {k: by_person[people[k].id] for k in group}


async def _case_pupils(
    session: AsyncSession, study: LessonStudy, who: str, pupils: list[dict[str, str]]
) -> list[CasePupil]:
    out = []
    for pupil in pupils:
        out.append(
            await case_pupils_service.add_case_pupil(
                session, study.id, principal=_principal(who), data=CasePupilCreate(**pupil)
            )
        )
    return out


async def _time(
    session: AsyncSession,
    study: LessonStudy,
    members: dict[str, uuid.UUID],
    who: str,
    kind: str,
    held_on: date,
    minutes: dict[str, int],
    lesson: ResearchLesson | None = None,
) -> None:
    await time_service.record_time(
        session,
        study.id,
        principal=_principal(who),
        data=TimeRecordCreate(
            kind=kind,
            held_on=held_on,
            research_lesson_id=lesson.id if lesson else None,
            attendance=[
                AttendanceInput(member_id=members[k], minutes=m) for k, m in minutes.items()
            ],
        ),
    )


async def _plan(
    session: AsyncSession,
    study: LessonStudy,
    members: dict[str, uuid.UUID],
    who: str,
    *,
    teacher: str,
    title: str,
    planned_for: date,
    plan: str,
    changes: str | None,
    stages: list[str],
    pupils: list[CasePupil],
    predictions: dict[str, list[str]],
) -> ResearchLesson:
    lesson = await lessons_service.create_lesson(
        session,
        study.id,
        principal=_principal(who),
        data=LessonCreate(
            teacher_member_id=members[teacher],
            title=title,
            planned_for=planned_for,
            plan_summary=plan,
            changes_from_previous=changes,
            stages=[StageInput(title=s) for s in stages],
        ),
    )
    stage_rows = (await lessons_service.stages_of(session, [lesson.id]))[lesson.id]
    await lessons_service.put_predictions(
        session,
        study.id,
        lesson.id,
        principal=_principal(who),
        data=PredictionsPut(
            predictions=[
                PredictionInput(
                    stage_id=stage.id,
                    case_pupil_id=pupil.id,
                    response=predictions[pupil.label][stage.position - 1],
                )
                for stage in stage_rows
                for pupil in pupils
            ]
        ),
    )
    return lesson


async def _teach_and_observe(
    session: AsyncSession,
    study: LessonStudy,
    lesson: ResearchLesson,
    *,
    teacher: str,
    taught_on: date,
    pupils: list[CasePupil],
    observed: dict[str, dict[str, list[tuple[str, str]]]],
    interviews: dict[str | None, str],
    interviewer: str,
) -> None:
    """``observed[observer][label]`` lists (outcome, what the pupil did) per stage."""
    await lessons_service.mark_taught(
        session,
        study.id,
        lesson.id,
        principal=_principal(teacher),
        data=TaughtInput(taught_on=taught_on),
    )
    stage_rows = (await lessons_service.stages_of(session, [lesson.id]))[lesson.id]
    for observer, by_pupil in observed.items():
        for pupil in pupils:
            for stage, (outcome, response) in zip(stage_rows, by_pupil[pupil.label], strict=True):
                await observations_service.record_observation(
                    session,
                    study.id,
                    lesson.id,
                    principal=_principal(observer),
                    data=ObservationCreate(
                        stage_id=stage.id,
                        case_pupil_id=pupil.id,
                        response=response,
                        outcome=outcome,
                    ),
                )
    labels = {p.label: p.id for p in pupils}
    for label, notes in interviews.items():
        await interviews_service.record_interview(
            session,
            study.id,
            lesson.id,
            principal=_principal(interviewer),
            data=InterviewCreate(case_pupil_id=labels[label] if label else None, notes=notes),
        )


async def _discuss_and_complete(
    session: AsyncSession,
    study: LessonStudy,
    lesson: ResearchLesson,
    who: str,
    *,
    pupils: list[CasePupil],
    reflections: dict[str, str],
    change: str,
    next_plan: str | None,
) -> None:
    principal = _principal(who)
    await discussions_service.start_discussion(
        session,
        study.id,
        lesson.id,
        principal=principal,
        data=DiscussionInput(
            reflections=[
                ReflectionInput(case_pupil_id=p.id, learning=reflections[p.label]) for p in pupils
            ]
        ),
    )
    await discussions_service.update_discussion(
        session,
        study.id,
        lesson.id,
        principal=principal,
        data=DiscussionInput(what_to_change=change, next_lesson_plan=next_plan),
    )
    await lessons_service.complete_lesson(session, study.id, lesson.id, principal=principal)


def _obs(outcomes: str, did: list[str]) -> list[tuple[str, str]]:
    """'npm' -> not_yet, partly, met, paired with what the pupil did at each stage."""
    words = {"n": "not_yet", "p": "partly", "m": "met"}
    return [(words[o], d) for o, d in zip(outcomes, did, strict=True)]


# ---- the completed study --------------------------------------------------------------------------


async def _fractions_study(session: AsyncSession) -> None:
    spec = CONTENT["fractions"]
    creator = spec["creator"]
    group: dict[str, str] = spec["group"]
    study, m = await _study(
        session,
        creator,
        group,
        title=spec["title"],
        school_ids=[demo_enquiry.SCHOOLS[s] for s in spec["schools"]],
        **spec["study"],
    )
    pupils = await _case_pupils(session, study, creator, spec["case_pupils"])
    kickoff = spec["kickoff"]
    await _time(
        session,
        study,
        m,
        creator,
        "meeting",
        _ago(kickoff["ago"]),
        dict.fromkeys(group, kickoff["minutes"]),
    )
    planning = spec["planning"]
    minutes = spec["lesson_minutes"]
    for n, c in enumerate(spec["cycles"], start=1):
        lesson = await _plan(
            session,
            study,
            m,
            creator,
            teacher=c["teacher"],
            title=c["title"],
            planned_for=_ago(c["taught"]),
            plan=c["plan"],
            changes=c["changes"],
            stages=spec["stages"][n - 1],
            pupils=pupils,
            predictions=c["predictions"],
        )
        if n == 1:
            await studies_service.start_study(session, study.id, principal=_principal(creator))
        await _time(
            session,
            study,
            m,
            creator,
            "planning",
            _ago(c["taught"] + planning["days_before"]),
            planning["minutes"],
            lesson,
        )
        # The second observer saw the same as the first, except where the data says otherwise.
        first, second = c["observers"]
        observed = {
            first: {k: _obs(o, did) for k, (o, did) in c["observed"].items()},
            second: {
                k: _obs(c["second_observer_changes"].get(k, o), did)
                for k, (o, did) in c["observed"].items()
            },
        }
        await _teach_and_observe(
            session,
            study,
            lesson,
            teacher=c["teacher"],
            taught_on=_ago(c["taught"]),
            pupils=pupils,
            observed=observed,
            interviews=c["interviews"],
            interviewer=spec["interviewer"],
        )
        taught_on = _ago(c["taught"])
        await _time(
            session,
            study,
            m,
            creator,
            "teaching",
            taught_on,
            {c["teacher"]: minutes["teaching"]},
            lesson,
        )
        await _time(
            session,
            study,
            m,
            creator,
            "observing",
            taught_on,
            dict.fromkeys(c["observers"], minutes["observing"]),
            lesson,
        )
        await _time(
            session,
            study,
            m,
            creator,
            "meeting",
            taught_on,
            dict.fromkeys(group, minutes["meeting"]),
            lesson,
        )
        await _discuss_and_complete(
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
    await _time(
        session,
        study,
        m,
        creator,
        "meeting",
        _ago(closing["ago"]),
        dict.fromkeys(group, closing["minutes"]),
    )
    findings = spec["findings"]
    by_label = {p.label: p.id for p in pupils}
    await findings_service.agree_findings(
        session,
        study.id,
        principal=_principal(creator),
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
    await findings_service.complete_study(session, study.id, principal=_principal(creator))
    open_house = spec["open_house"]
    await findings_service.record_open_house(
        session,
        study.id,
        principal=_principal(open_house["by"]),
        data=OpenHouseInput(
            held_on=_ago(open_house["ago"]),
            audience_count=open_house["audience_count"],
            notes=open_house["notes"],
        ),
    )


# ---- the study in its second cycle ----------------------------------------------------------------


async def _writing_study(session: AsyncSession) -> None:
    spec = CONTENT["writing"]
    creator = spec["creator"]
    group: dict[str, str] = spec["group"]
    study, m = await _study(
        session,
        creator,
        group,
        title=spec["title"],
        school_ids=[demo_enquiry.SCHOOLS[s] for s in spec["schools"]],
        **spec["study"],
    )
    pupils = await _case_pupils(session, study, creator, spec["case_pupils"])
    kickoff = spec["kickoff"]
    await _time(
        session,
        study,
        m,
        creator,
        "meeting",
        _ago(kickoff["ago"]),
        dict.fromkeys(group, kickoff["minutes"]),
    )
    taught = spec["taught"]
    lesson = await _plan(
        session,
        study,
        m,
        creator,
        teacher=taught["teacher"],
        title=taught["title"],
        planned_for=_ago(taught["ago"]),
        plan=taught["plan"],
        changes=taught["changes"],
        stages=spec["stages"],
        pupils=pupils,
        predictions=taught["predictions"],
    )
    await studies_service.start_study(session, study.id, principal=_principal(creator))
    planning = taught["planning"]
    await _time(
        session, study, m, creator, "planning", _ago(planning["ago"]), planning["minutes"], lesson
    )
    taught_on = _ago(taught["ago"])
    await _teach_and_observe(
        session,
        study,
        lesson,
        teacher=taught["teacher"],
        taught_on=taught_on,
        pupils=pupils,
        observed={
            observer: {k: _obs(o, did) for k, (o, did) in by_pupil.items()}
            for observer, by_pupil in taught["observed"].items()
        },
        interviewer=taught["interviewer"],
        interviews=taught["interviews"],
    )
    minutes = taught["minutes"]
    await _time(
        session,
        study,
        m,
        creator,
        "teaching",
        taught_on,
        {taught["teacher"]: minutes["teaching"]},
        lesson,
    )
    await _time(
        session,
        study,
        m,
        creator,
        "observing",
        taught_on,
        dict.fromkeys(taught["observed"], minutes["observing"]),
        lesson,
    )
    await _time(
        session,
        study,
        m,
        creator,
        "meeting",
        taught_on,
        dict.fromkeys(group, minutes["meeting"]),
        lesson,
    )
    await _discuss_and_complete(
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
    await _plan(
        session,
        study,
        m,
        creator,
        teacher=planned["teacher"],
        title=planned["title"],
        planned_for=_ago(planned["ago"]),
        plan=planned["plan"],
        changes=planned["changes"],
        stages=spec["stages"],
        pupils=pupils,
        predictions=planned["predictions"],
    )
