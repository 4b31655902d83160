"""Research lessons: one per cycle, planned with a prediction for every stage x case pupil,
taught and observed, then completed once the post-lesson discussion is done.

The order is the method: predictions before teaching (409 otherwise), discussion before the
next lesson, and the next lesson only after the previous one is completed.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import utcnow, uuid7
from cpd_common.events import catalogue
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import (
    CasePupil,
    Discussion,
    LessonStage,
    LessonStudy,
    Observation,
    Prediction,
    PupilReflection,
    ResearchLesson,
    StudyMember,
)
from cpd_lessonstudy.research_lessons.errors import (
    DiscussionUnfinished,
    InvalidLesson,
    LessonNotFound,
    LessonOutOfOrder,
    PredictionsMissing,
)
from cpd_lessonstudy.research_lessons.schemas import (
    Cell,
    LessonCreate,
    LessonRead,
    LessonUpdate,
    PredictionGrid,
    PredictionRead,
    PredictionsPut,
    StageInput,
    StageRead,
    TaughtInput,
)
from cpd_lessonstudy.studies.access import Access, ensure_open, get_access
from cpd_lessonstudy.studies.errors import IllegalTransition
from cpd_lessonstudy.terms import OUTCOME_CAUTION
from cpd_lessonstudy.time_records import service as time_service


def today() -> date:
    return datetime.now(UTC).date()


async def _teacher(session: AsyncSession, study_id: uuid.UUID, member_id: uuid.UUID) -> StudyMember:
    member = await session.scalar(
        select(StudyMember).where(StudyMember.id == member_id, StudyMember.study_id == study_id)
    )
    if member is None or member.former_member:
        raise InvalidLesson(
            "The teacher must be a member of the study.",
            errors=[{"loc": "body.teacher_member_id", "msg": "not a member of this study"}],
        )
    return member


def _stages(lesson: ResearchLesson, data: list[StageInput]) -> list[LessonStage]:
    return [
        LessonStage(
            lesson_id=lesson.id,
            trust_id=lesson.trust_id,
            position=i,
            title=s.title,
            description=s.description,
        )
        for i, s in enumerate(data, start=1)
    ]


async def latest_lesson(session: AsyncSession, study_id: uuid.UUID) -> ResearchLesson | None:
    return await session.scalar(
        select(ResearchLesson)
        .where(ResearchLesson.study_id == study_id)
        .order_by(ResearchLesson.cycle.desc())
        .limit(1)
    )


async def create_lesson(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal, data: LessonCreate
) -> ResearchLesson:
    """Plans the next cycle's research lesson. The previous lesson must be completed (its
    discussion is where this one's plan comes from)."""
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    if study.status not in ("planning", "in_cycle"):
        raise IllegalTransition(f"The study is {study.status}: its research lessons are over.")
    previous = await latest_lesson(session, study_id)
    if previous is not None and previous.status != "completed":
        raise LessonOutOfOrder(
            f"Research lesson {previous.cycle} is not completed yet: finish its observation and "
            "post-lesson discussion, which is where the next lesson's plan comes from."
        )
    if previous is not None and study.status == "planning":
        raise LessonOutOfOrder("Start the study before planning a second research lesson.")
    cycle = previous.cycle + 1 if previous is not None else 1
    if cycle > study.planned_cycles:
        raise LessonOutOfOrder(
            f"All {study.planned_cycles} planned cycles are done: agree the findings, or raise "
            "planned_cycles (PATCH the study) to add another research lesson."
        )
    await _teacher(session, study_id, data.teacher_member_id)
    lesson = ResearchLesson(
        study_id=study_id,
        trust_id=study.trust_id,
        cycle=cycle,
        title=data.title,
        planned_for=data.planned_for,
        teacher_member_id=data.teacher_member_id,
        plan_summary=data.plan_summary,
        changes_from_previous=data.changes_from_previous,
        status="planned",
    )
    session.add(lesson)
    await session.flush()
    session.add_all(_stages(lesson, data.stages))
    await session.flush()
    return lesson


def lessons_query(study_id: uuid.UUID) -> Select[ResearchLesson]:
    return select(ResearchLesson).where(ResearchLesson.study_id == study_id)


async def load(
    session: AsyncSession, study_id: uuid.UUID, lesson_id: uuid.UUID, *, lock: bool = False
) -> ResearchLesson:
    stmt = select(ResearchLesson).where(
        ResearchLesson.id == lesson_id, ResearchLesson.study_id == study_id
    )
    if lock:
        stmt = stmt.with_for_update()
    lesson = await session.scalar(stmt)
    if lesson is None:
        raise LessonNotFound()
    return lesson


async def lesson_for(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    write: bool = False,
) -> tuple[Access, ResearchLesson]:
    """The study access and the lesson (a write locks both and refuses closed studies)."""
    access = await get_access(session, study_id, principal=principal, write=write)
    if write:
        ensure_open(access.study)
    return access, await load(session, study_id, lesson_id, lock=write)


async def stages_of(
    session: AsyncSession, lesson_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[LessonStage]]:
    out: dict[uuid.UUID, list[LessonStage]] = {i: [] for i in lesson_ids}
    if lesson_ids:
        rows = await session.scalars(
            select(LessonStage)
            .where(LessonStage.lesson_id.in_(lesson_ids))
            .order_by(LessonStage.lesson_id, LessonStage.position)
        )
        for stage in rows:
            out[stage.lesson_id].append(stage)
    return out


async def lesson_reads(session: AsyncSession, lessons: list[ResearchLesson]) -> list[LessonRead]:
    if not lessons:
        return []
    ids = [lesson.id for lesson in lessons]
    study_id = lessons[0].study_id
    stages = await stages_of(session, ids)
    names = await members_service.member_views(session, study_id)
    pupils = int(
        await session.scalar(select(func.count()).where(CasePupil.study_id == study_id)) or 0
    )
    predicted = dict(
        (
            await session.execute(
                select(Prediction.lesson_id, func.count())
                .where(Prediction.lesson_id.in_(ids))
                .group_by(Prediction.lesson_id)
            )
        ).all()
    )
    out = []
    for lesson in lessons:
        teacher = names.get(lesson.teacher_member_id)
        missing = max(len(stages[lesson.id]) * pupils - int(predicted.get(lesson.id, 0)), 0)
        out.append(
            LessonRead(
                id=lesson.id,
                study_id=lesson.study_id,
                cycle=lesson.cycle,
                title=lesson.title,
                planned_for=lesson.planned_for,
                teacher_member_id=lesson.teacher_member_id,
                teacher_name=teacher.name if teacher else "Unknown",
                plan_summary=lesson.plan_summary,
                changes_from_previous=lesson.changes_from_previous,
                status=lesson.status,
                taught_on=lesson.taught_on,
                marked_taught_at=lesson.marked_taught_at,
                completed_at=lesson.completed_at,
                stages=[StageRead.model_validate(s) for s in stages[lesson.id]],
                predictions_missing=missing if lesson.status == "planned" else 0,
                created_at=lesson.created_at,
                updated_at=lesson.updated_at,
            )
        )
    return out


async def lesson_read(session: AsyncSession, lesson: ResearchLesson) -> LessonRead:
    return (await lesson_reads(session, [lesson]))[0]


async def get_lesson(
    session: AsyncSession, study_id: uuid.UUID, lesson_id: uuid.UUID, *, principal: Principal
) -> ResearchLesson:
    return (await lesson_for(session, study_id, lesson_id, principal=principal))[1]


def _ensure_planned(lesson: ResearchLesson, action: str) -> None:
    if lesson.status != "planned":
        raise LessonOutOfOrder(
            f"Research lesson {lesson.cycle} was already taught: {action} only before teaching."
        )


async def update_lesson(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    data: LessonUpdate,
) -> ResearchLesson:
    _, lesson = await lesson_for(session, study_id, lesson_id, principal=principal, write=True)
    changes = data.model_dump(exclude_unset=True, exclude={"stages"})
    if (
        changes.keys() - {"plan_summary", "changes_from_previous", "title"}
        or data.stages is not None
    ):
        _ensure_planned(lesson, "its teacher, date and stages can change")
    if "teacher_member_id" in changes:
        await _teacher(session, study_id, changes["teacher_member_id"])
    if data.stages is not None:
        predicted = await session.scalar(
            select(func.count()).where(Prediction.lesson_id == lesson.id)
        )
        if predicted:
            raise LessonOutOfOrder(
                "Predictions are already written against these stages: change a stage's wording "
                "without replacing the list, or plan the lesson again."
            )
        await session.execute(delete(LessonStage).where(LessonStage.lesson_id == lesson.id))
        session.add_all(_stages(lesson, data.stages))
    for name, value in changes.items():
        setattr(lesson, name, value)
    lesson.updated_at = utcnow()
    await session.flush()
    return lesson


async def delete_lesson(
    session: AsyncSession, study_id: uuid.UUID, lesson_id: uuid.UUID, *, principal: Principal
) -> None:
    _, lesson = await lesson_for(session, study_id, lesson_id, principal=principal, write=True)
    _ensure_planned(lesson, "a research lesson can be withdrawn")
    await session.execute(delete(ResearchLesson).where(ResearchLesson.id == lesson.id))


# ---- predictions ----------------------------------------------------------------------------


async def prediction_grid(session: AsyncSession, lesson: ResearchLesson) -> PredictionGrid:
    stages = (await stages_of(session, [lesson.id]))[lesson.id]
    pupils = await case_pupils_service.case_pupils_of(session, lesson.study_id)
    names = await members_service.member_views(session, lesson.study_id)
    rows = (
        await session.scalars(select(Prediction).where(Prediction.lesson_id == lesson.id))
    ).all()
    by_cell = {(p.stage_id, p.case_pupil_id): p for p in rows}
    items, missing = [], []
    for stage in stages:
        for pupil in pupils:
            p = by_cell.get((stage.id, pupil.id))
            if p is None:
                missing.append(
                    Cell(
                        stage_id=stage.id,
                        stage_position=stage.position,
                        case_pupil_id=pupil.id,
                        case_pupil_label=pupil.label,
                    )
                )
                continue
            author = names.get(p.recorded_by) if p.recorded_by else None
            items.append(
                PredictionRead(
                    id=p.id,
                    stage_id=stage.id,
                    stage_position=stage.position,
                    case_pupil_id=pupil.id,
                    case_pupil_label=pupil.label,
                    response=p.response,
                    recorded_by=p.recorded_by,
                    recorded_by_name=author.name if author else None,
                    updated_at=p.updated_at,
                )
            )
    return PredictionGrid(
        lesson_id=lesson.id,
        cycle=lesson.cycle,
        complete=not missing and bool(stages) and bool(pupils),
        items=items,
        missing=missing,
    )


async def get_predictions(
    session: AsyncSession, study_id: uuid.UUID, lesson_id: uuid.UUID, *, principal: Principal
) -> PredictionGrid:
    _, lesson = await lesson_for(session, study_id, lesson_id, principal=principal)
    return await prediction_grid(session, lesson)


async def check_cell(
    session: AsyncSession,
    lesson: ResearchLesson,
    *,
    stage_id: uuid.UUID,
    case_pupil_id: uuid.UUID,
    loc: str,
) -> tuple[LessonStage, CasePupil]:
    stage = await session.scalar(
        select(LessonStage).where(LessonStage.id == stage_id, LessonStage.lesson_id == lesson.id)
    )
    pupil = await session.scalar(
        select(CasePupil).where(
            CasePupil.id == case_pupil_id, CasePupil.study_id == lesson.study_id
        )
    )
    errors = []
    if stage is None:
        errors.append({"loc": f"{loc}.stage_id", "msg": "not a stage of this research lesson"})
    if pupil is None:
        errors.append({"loc": f"{loc}.case_pupil_id", "msg": "not a case pupil of this study"})
    if errors:
        raise InvalidLesson("Unknown stage or case pupil.", errors=errors)
    assert stage is not None and pupil is not None
    return stage, pupil


async def put_predictions(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    data: PredictionsPut,
) -> PredictionGrid:
    """Writes (or rewrites) predictions for the given cells, before the lesson is taught."""
    access, lesson = await lesson_for(session, study_id, lesson_id, principal=principal, write=True)
    _ensure_planned(lesson, "predictions are written")
    stage_ids = set(
        (
            await session.scalars(select(LessonStage.id).where(LessonStage.lesson_id == lesson.id))
        ).all()
    )
    pupil_ids = set(
        (await session.scalars(select(CasePupil.id).where(CasePupil.study_id == study_id))).all()
    )
    errors = []
    seen = set()
    for i, p in enumerate(data.predictions):
        if p.stage_id not in stage_ids:
            errors.append(
                {
                    "loc": f"body.predictions.{i}.stage_id",
                    "msg": "not a stage of this research lesson",
                }
            )
        if p.case_pupil_id not in pupil_ids:
            errors.append(
                {
                    "loc": f"body.predictions.{i}.case_pupil_id",
                    "msg": "not a case pupil of this study",
                }
            )
        if (p.stage_id, p.case_pupil_id) in seen:
            errors.append({"loc": f"body.predictions.{i}", "msg": "the same cell twice"})
        seen.add((p.stage_id, p.case_pupil_id))
    if errors:
        raise InvalidLesson("Some predictions do not fit this lesson's grid.", errors=errors)
    now = utcnow()
    stmt = insert(Prediction).values(
        [
            {
                "id": uuid7(),
                "trust_id": lesson.trust_id,
                "lesson_id": lesson.id,
                "stage_id": p.stage_id,
                "case_pupil_id": p.case_pupil_id,
                "response": p.response,
                "recorded_by": access.member_id,
                "created_at": now,
                "updated_at": now,
            }
            for p in data.predictions
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["stage_id", "case_pupil_id"],
        set_={
            "response": stmt.excluded.response,
            "recorded_by": stmt.excluded.recorded_by,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    await session.execute(stmt)
    return await prediction_grid(session, lesson)


# ---- teaching and completion ---------------------------------------------------------------


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
    access, lesson = await lesson_for(session, study_id, lesson_id, principal=principal, write=True)
    if access.study.status != "in_cycle":
        raise IllegalTransition(
            f"The study is {access.study.status}: research lessons are taught while it is in "
            "its cycles (start the study first)."
        )
    _ensure_planned(lesson, "a lesson is marked taught")
    grid = await prediction_grid(session, lesson)
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


def ensure_taught(lesson: ResearchLesson, what: str) -> None:
    """Evidence (observations, interviews, discussion) belongs to a taught, not yet completed
    lesson."""
    if lesson.status == "planned":
        raise LessonOutOfOrder(
            f"Research lesson {lesson.cycle} is not taught yet: {what} once it has been taught "
            "(predictions first, then mark it taught)."
        )
    if lesson.status == "completed":
        raise LessonOutOfOrder(
            f"Research lesson {lesson.cycle} is completed: its evidence is part of the record."
        )


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
    access, lesson = await lesson_for(session, study_id, lesson_id, principal=principal, write=True)
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
    stages = (await stages_of(session, [lesson.id]))[lesson.id]
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
