"""``/v1/lesson-studies/{id}/research-lessons``: one research lesson per cycle, its stages and
the predictions written before it is taught."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.models import ResearchLesson
from cpd_lessonstudy.research_lessons import predictions, schemas, service, teaching
from cpd_lessonstudy.studies.access import get_access
from cpd_lessonstudy.studies.routing import (
    CONFLICT,
    IF_MATCH_DELETE,
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
    study_router,
)

router = study_router("lesson studies: research lessons")
LESSON = "/{study_id}/research-lessons/{lesson_id}"


@router.get(
    "/{study_id}/research-lessons",
    response_model=Page[schemas.LessonRead],
    summary="List research lessons",
    description="In cycle order.",
    responses=NOT_FOUND,
)
async def list_lessons(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    await get_access(session, study_id, principal=principal)
    rows, cursor = await paginate(session, service.lessons_query(study_id), ResearchLesson.id, page)
    return Page[schemas.LessonRead](
        items=await service.lesson_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "/{study_id}/research-lessons",
    status_code=201,
    response_model=schemas.LessonRead,
    summary="Plan the next research lesson",
    description="Creates the next cycle's lesson: who teaches, the date, and the ordered stages. "
    "Lesson 1 can be planned while the study is in planning; each later lesson only once the "
    "previous one is completed (its discussion is where the plan comes from), and not beyond "
    "`planned_cycles`. Next: `PUT .../predictions` for every stage x case pupil.",
    responses=WRITE_RESPONSES,
)
async def create_lesson(
    study_id: uuid.UUID,
    data: schemas.LessonCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    lesson = await service.create_lesson(session, study_id, principal=principal, data=data)
    return resource_response(
        await service.lesson_read(session, lesson),
        status_code=201,
        location=f"{PREFIX}/{study_id}/research-lessons/{lesson.id}",
    )


@router.get(
    LESSON, response_model=schemas.LessonRead, summary="Get a research lesson", responses=NOT_FOUND
)
async def get_lesson(
    study_id: uuid.UUID, lesson_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    lesson = await service.get_lesson(session, study_id, lesson_id, principal=principal)
    return resource_response(await service.lesson_read(session, lesson))


@router.patch(
    LESSON,
    response_model=schemas.LessonRead,
    summary="Change a research lesson",
    description="With If-Match. Teacher, date and stages change only before teaching; stages "
    "cannot be replaced once predictions are written against them.",
    responses={**PATCH_RESPONSES, **CONFLICT},
)
async def update_lesson(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    data: schemas.LessonUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_lesson(session, study_id, lesson_id, principal=principal)
    require_if_match(request, await service.lesson_read(session, current))
    lesson = await service.update_lesson(
        session, study_id, lesson_id, principal=principal, data=data
    )
    return resource_response(await service.lesson_read(session, lesson))


@router.delete(
    LESSON,
    status_code=204,
    summary="Withdraw a planned research lesson",
    description="Only before it is taught. " + IF_MATCH_DELETE,
    responses={**WRITE_RESPONSES, **PATCH_RESPONSES},
)
async def delete_lesson(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_lesson(session, study_id, lesson_id, principal=principal)
    require_if_match(request, await service.lesson_read(session, current))
    await service.delete_lesson(session, study_id, lesson_id, principal=principal)
    return Response(status_code=204)


@router.get(
    LESSON + "/predictions",
    response_model=schemas.PredictionGrid,
    summary="The lesson's predictions",
    description="Every stage x case pupil prediction, and the cells still empty.",
    responses=NOT_FOUND,
)
async def get_predictions(
    study_id: uuid.UUID, lesson_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await predictions.get_predictions(session, study_id, lesson_id, principal=principal)
    )


@router.put(
    LESSON + "/predictions",
    response_model=schemas.PredictionGrid,
    summary="Write predictions",
    description="For each given stage x case pupil: how you predict the pupil will respond. "
    "Cells already written are rewritten; others stay. Only before the lesson is taught (409 "
    "after): predicting, then observing, is the method.",
    responses={
        **WRITE_RESPONSES,
        422: {"description": "A stage or case pupil not of this lesson."},
    },
)
async def put_predictions(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    data: schemas.PredictionsPut,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    return resource_response(
        await predictions.put_predictions(
            session, study_id, lesson_id, principal=principal, data=data
        )
    )


@router.post(
    LESSON + "/taught",
    response_model=schemas.LessonRead,
    summary="Mark the lesson taught",
    description="planned -> taught, while the study is `in_cycle`. **409 unless every stage x "
    "case pupil has a prediction** (the detail lists the empty cells). Then observers record "
    "observations, the group interviews pupils and holds the post-lesson discussion.",
    responses={
        **WRITE_RESPONSES,
        422: {"description": "Date in the future or before the previous lesson."},
    },
)
async def mark_taught(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    data: schemas.TaughtInput,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    lesson = await teaching.mark_taught(
        session, study_id, lesson_id, principal=principal, data=data
    )
    return resource_response(await service.lesson_read(session, lesson))


@router.post(
    LESSON + "/complete",
    response_model=schemas.LessonRead,
    summary="Complete the lesson's cycle",
    description="taught -> completed once the post-lesson discussion has a reflection on every "
    "case pupil, what to change and (unless this is the last planned cycle) the next lesson's "
    "plan. Publishes `lessonstudy.lesson.completed` with each case pupil's per-stage outcomes "
    "and the cycle's hours per member.",
    responses=WRITE_RESPONSES,
)
async def complete_lesson(
    study_id: uuid.UUID, lesson_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    lesson = await teaching.complete_lesson(session, study_id, lesson_id, principal=principal)
    return resource_response(await service.lesson_read(session, lesson))
