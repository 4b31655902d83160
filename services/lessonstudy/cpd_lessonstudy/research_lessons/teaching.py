"""Teaching and completing a research lesson: planned -> taught once every prediction is
written, taught -> completed once the post-lesson discussion is done (publishing
``lessonstudy.lesson.completed`` with each case pupil's consensus outcomes)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.events import catalogue
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.models import (
    CasePupil,
    Discussion,
    LessonStudy,
    Observation,
    PupilReflection,
    ResearchLesson,
)
from cpd_lessonstudy.research_lessons import predictions
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.research_lessons.errors import (
    DiscussionUnfinished,
    InvalidLesson,
    LessonOutOfOrder,
    PredictionsMissing,
)
from cpd_lessonstudy.research_lessons.schemas import TaughtInput
from cpd_lessonstudy.studies.errors import IllegalTransition
from cpd_lessonstudy.terms import OUTCOME_CAUTION
from cpd_lessonstudy.time_records import service as time_service


def today() -> date:
    return datetime.now(UTC).date()


async def mark_taught(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    data: TaughtInput,
) -> ResearchLesson:
    """planned -> taught. Every stage x case pupil cell needs its prediction first: predicting
    and then observing is the method (409 otherwise, listing the empty cells)."""
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    if access.study.status != "in_cycle":
        raise IllegalTransition(
            f"The study is {access.study.status}: research lessons are taught while it is in "
            "its cycles (start the study first)."
        )
    lessons_service.ensure_planned(lesson, "a lesson is marked taught")
    grid = await predictions.prediction_grid(session, lesson)
    if not grid.complete:
        raise PredictionsMissing(
            f"Write a prediction for every stage and case pupil before teaching research lesson "
            f"{lesson.cycle}: {len(grid.missing)} cells are empty "
            f"({', '.join(f'stage {c.stage_position} x {c.case_pupil_label}' for c in grid.missing[:6])}"
            f"{', ...' if len(grid.missing) > 6 else ''}).",
            errors=[
                {
                    "loc": f"predictions.stage_{c.stage_position}.{c.case_pupil_label}",
                    "msg": "no prediction",
                }
                for c in grid.missing
            ],
        )
    if data.taught_on > today():
        raise InvalidLesson(
            "A lesson is marked taught once it has been taught.",
            errors=[{"loc": "body.taught_on", "msg": "in the future"}],
        )
    previous = await session.scalar(
        select(ResearchLesson.taught_on).where(
            ResearchLesson.study_id == study_id, ResearchLesson.cycle == lesson.cycle - 1
        )
    )
    if previous is not None and data.taught_on < previous:
        raise InvalidLesson(
            f"Research lesson {lesson.cycle} cannot be taught before lesson {lesson.cycle - 1} "
            f"({previous.isoformat()}).",
            errors=[{"loc": "body.taught_on", "msg": "before the previous research lesson"}],
        )
    lesson.status = "taught"
    lesson.taught_on = data.taught_on
    lesson.marked_taught_at = utcnow()
    await session.flush()
    return lesson


async def consensus_outcomes(
    session: AsyncSession, lesson_id: uuid.UUID
) -> dict[tuple[uuid.UUID, uuid.UUID], str]:
    """Per (stage, case pupil): the outcome most observers recorded; a tie takes the more
    cautious one."""
    rows = (
        await session.execute(
            select(
                Observation.stage_id,
                Observation.case_pupil_id,
                Observation.outcome,
                func.count(),
            )
            .where(Observation.lesson_id == lesson_id)
            .group_by(Observation.stage_id, Observation.case_pupil_id, Observation.outcome)
        )
    ).all()
    tallies: dict[tuple[uuid.UUID, uuid.UUID], Counter[str]] = defaultdict(Counter)
    for stage_id, pupil_id, outcome, n in rows:
        tallies[(stage_id, pupil_id)][outcome] += n
    return {
        cell: max(tally, key=lambda o: (tally[o], -OUTCOME_CAUTION[o]))
        for cell, tally in tallies.items()
    }


async def complete_lesson(
    session: AsyncSession, study_id: uuid.UUID, lesson_id: uuid.UUID, *, principal: Principal
) -> ResearchLesson:
    """taught -> completed, once the discussion has a reflection on every case pupil, what to
    change, and (unless this was the last planned cycle) the plan for the next lesson.
    Publishes ``lessonstudy.lesson.completed``."""
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    study = access.study
    if lesson.status != "taught":
        raise LessonOutOfOrder(
            f"Research lesson {lesson.cycle} is {lesson.status}: only a taught lesson whose "
            "discussion is done can be completed."
        )
    discussion = await session.scalar(select(Discussion).where(Discussion.lesson_id == lesson.id))
    pupils = await case_pupils_service.case_pupils_of(session, study_id)
    problems = []
    if discussion is None:
        problems.append({"loc": "discussion", "msg": "hold the post-lesson discussion"})
    else:
        reflected = set(
            (
                await session.scalars(
                    select(PupilReflection.case_pupil_id).where(
                        PupilReflection.discussion_id == discussion.id
                    )
                )
            ).all()
        )
        for pupil in pupils:
            if pupil.id not in reflected:
                problems.append(
                    {
                        "loc": f"discussion.reflections.{pupil.label}",
                        "msg": f"no reflection on case pupil {pupil.label}",
                    }
                )
        if not discussion.what_to_change:
            problems.append({"loc": "discussion.what_to_change", "msg": "agree what to change"})
        if not discussion.next_lesson_plan and lesson.cycle < study.planned_cycles:
            problems.append(
                {"loc": "discussion.next_lesson_plan", "msg": "plan the next research lesson"}
            )
    if problems:
        raise DiscussionUnfinished(
            f"Research lesson {lesson.cycle} cannot be completed yet: "
            + "; ".join(p["msg"] for p in problems)
            + ".",
            errors=problems,
        )
    lesson.status = "completed"
    lesson.completed_at = utcnow()
    await session.flush()
    events.add(
        session,
        await lesson_completed_payload(session, study, lesson, pupils),
    )
    return lesson


async def lesson_completed_payload(
    session: AsyncSession,
    study: LessonStudy,
    lesson: ResearchLesson,
    pupils: list[CasePupil],
) -> catalogue.LessonCompleted:
    stages = (await lessons_service.stages_of(session, [lesson.id]))[lesson.id]
    outcomes = await consensus_outcomes(session, lesson.id)
    hours = await time_service.member_hours(session, study.id, lesson_id=lesson.id)
    return catalogue.LessonCompleted(
        study_id=study.id,
        lesson_id=lesson.id,
        trust_id=study.trust_id,
        school_ids=list(study.school_ids),
        cycle=lesson.cycle,
        taught_on=lesson.taught_on,
        case_pupils=[
            catalogue.CasePupilProgress(
                label=pupil.label,
                starting_point=pupil.starting_point,
                success_criteria=pupil.success_criteria,
                stages=[
                    catalogue.StagePoint(
                        stage=stage.position,
                        outcome=outcomes.get((stage.id, pupil.id)),
                    )
                    for stage in stages
                ],
            )
            for pupil in pupils
        ],
        hours=[catalogue.MemberHours(person_id=h.person_id, hours=h.hours) for h in hours],
    )
