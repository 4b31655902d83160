"""Research lessons: one per cycle, planned with a prediction for every stage x case pupil,
taught and observed, then completed once the post-lesson discussion is done.

The order is the method: predictions before teaching (409 otherwise), discussion before the
next lesson, and the next lesson only after the previous one is completed. This module plans
lessons, reads them and guards their state; predictions are in
:mod:`cpd_lessonstudy.research_lessons.predictions`, teaching and completion in
:mod:`cpd_lessonstudy.research_lessons.teaching`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, utcnow
from cpd_common.schemas import from_row
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import (
    CasePupil,
    LessonStage,
    Prediction,
    ResearchLesson,
    StudyMember,
)
from cpd_lessonstudy.research_lessons.errors import (
    InvalidLesson,
    LessonNotFound,
    LessonOutOfOrder,
)
from cpd_lessonstudy.research_lessons.schemas import (
    LessonCreate,
    LessonRead,
    LessonUpdate,
    StageInput,
    StageRead,
)
from cpd_lessonstudy.studies.access import Access, ensure_open, get_access
from cpd_lessonstudy.studies.errors import IllegalTransition


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
    return await scalar_or_raise(session, stmt, LessonNotFound)


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
            from_row(
                LessonRead,
                lesson,
                teacher_name=teacher.name if teacher else "Unknown",
                stages=[StageRead.model_validate(s) for s in stages[lesson.id]],
                predictions_missing=missing if lesson.status == "planned" else 0,
            )
        )
    return out


async def lesson_read(session: AsyncSession, lesson: ResearchLesson) -> LessonRead:
    return (await lesson_reads(session, [lesson]))[0]


async def get_lesson(
    session: AsyncSession, study_id: uuid.UUID, lesson_id: uuid.UUID, *, principal: Principal
) -> ResearchLesson:
    return (await lesson_for(session, study_id, lesson_id, principal=principal))[1]


def ensure_planned(lesson: ResearchLesson, action: str) -> None:
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
        ensure_planned(lesson, "its teacher, date and stages can change")
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
    ensure_planned(lesson, "a research lesson can be withdrawn")
    await tombstones.delete_where(
        session, ResearchLesson, ResearchLesson.id == lesson.id, parent=ResearchLesson.study_id
    )


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
