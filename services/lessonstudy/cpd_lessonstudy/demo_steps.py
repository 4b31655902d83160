"""The steps the demo lesson studies are built from (:mod:`cpd_lessonstudy.demo` walks
``demo.yaml`` through them): each one calls the service functions a real group's requests
would, on behalf of a demo person given by key."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_demo import trust as demo_data
from cpd_demo.trust import principal_of
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.case_pupils.schemas import CasePupilCreate
from cpd_lessonstudy.discussions import service as discussions_service
from cpd_lessonstudy.discussions.schemas import DiscussionInput, ReflectionInput
from cpd_lessonstudy.interviews import service as interviews_service
from cpd_lessonstudy.interviews.schemas import InterviewCreate
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.members.schemas import MemberCreate
from cpd_lessonstudy.models import CasePupil, LessonStudy, ResearchLesson
from cpd_lessonstudy.observations import service as observations_service
from cpd_lessonstudy.observations.schemas import ObservationCreate
from cpd_lessonstudy.research_lessons import predictions as lesson_predictions
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.research_lessons import teaching as lesson_teaching
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


async def study(
    session: AsyncSession, creator: str, group: dict[str, str], **fields: Any
) -> tuple[LessonStudy, dict[str, uuid.UUID]]:
    people = demo_data.PEOPLE_BY_KEY
    study = await studies_service.create_study(
        session,
        principal=principal_of(creator),
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


async def case_pupils(
    session: AsyncSession, study: LessonStudy, who: str, pupils: list[dict[str, str]]
) -> list[CasePupil]:
    out = []
    for pupil in pupils:
        out.append(
            await case_pupils_service.add_case_pupil(
                session, study.id, principal=principal_of(who), data=CasePupilCreate(**pupil)
            )
        )
    return out


async def time(
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
        principal=principal_of(who),
        data=TimeRecordCreate(
            kind=kind,
            held_on=held_on,
            research_lesson_id=lesson.id if lesson else None,
            attendance=[
                AttendanceInput(member_id=members[k], minutes=m) for k, m in minutes.items()
            ],
        ),
    )


async def lesson_time(
    session: AsyncSession,
    study: LessonStudy,
    members: dict[str, uuid.UUID],
    who: str,
    lesson: ResearchLesson,
    *,
    taught_on: date,
    teacher: str,
    observers: Iterable[str],
    group: Iterable[str],
    minutes: dict[str, int],
) -> None:
    """A research lesson's time: its teaching, its observers' observing, and the group's
    post-lesson meeting, all on the day it was taught."""
    await time(
        session, study, members, who, "teaching", taught_on, {teacher: minutes["teaching"]}, lesson
    )
    await time(
        session,
        study,
        members,
        who,
        "observing",
        taught_on,
        dict.fromkeys(observers, minutes["observing"]),
        lesson,
    )
    await time(
        session,
        study,
        members,
        who,
        "meeting",
        taught_on,
        dict.fromkeys(group, minutes["meeting"]),
        lesson,
    )


async def plan(
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
        principal=principal_of(who),
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
    await lesson_predictions.put_predictions(
        session,
        study.id,
        lesson.id,
        principal=principal_of(who),
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


async def teach_and_observe(
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
    await lesson_teaching.mark_taught(
        session,
        study.id,
        lesson.id,
        principal=principal_of(teacher),
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
                    principal=principal_of(observer),
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
            principal=principal_of(interviewer),
            data=InterviewCreate(case_pupil_id=labels[label] if label else None, notes=notes),
        )


async def discuss_and_complete(
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
    principal = principal_of(who)
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
    await lesson_teaching.complete_lesson(session, study.id, lesson.id, principal=principal)


def obs(outcomes: str, did: list[str]) -> list[tuple[str, str]]:
    """'npm' -> not_yet, partly, met, paired with what the pupil did at each stage."""
    words = {"n": "not_yet", "p": "partly", "m": "met"}
    return [(words[o], d) for o, d in zip(outcomes, did, strict=True)]
