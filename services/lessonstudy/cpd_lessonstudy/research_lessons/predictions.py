"""Predictions of a research lesson: the grid of stage x case pupil cells, and writing
(or rewriting) them before the lesson is taught."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import utcnow, uuid7
from cpd_common.schemas import from_row
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import CasePupil, LessonStage, Prediction, ResearchLesson
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.research_lessons.errors import InvalidLesson
from cpd_lessonstudy.research_lessons.schemas import (
    Cell,
    PredictionGrid,
    PredictionRead,
    PredictionsPut,
)


async def prediction_grid(session: AsyncSession, lesson: ResearchLesson) -> PredictionGrid:
    stages = (await lessons_service.stages_of(session, [lesson.id]))[lesson.id]
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
                from_row(
                    PredictionRead,
                    p,
                    stage_id=stage.id,
                    stage_position=stage.position,
                    case_pupil_id=pupil.id,
                    case_pupil_label=pupil.label,
                    recorded_by_name=author.name if author else None,
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
    _, lesson = await lessons_service.lesson_for(session, study_id, lesson_id, principal=principal)
    return await prediction_grid(session, lesson)


async def put_predictions(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    data: PredictionsPut,
) -> PredictionGrid:
    """Writes (or rewrites) predictions for the given cells, before the lesson is taught."""
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    lessons_service.ensure_planned(lesson, "predictions are written")
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
