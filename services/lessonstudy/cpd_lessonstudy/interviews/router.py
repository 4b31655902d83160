"""``/v1/lesson-studies/{id}/research-lessons/{lid}/interviews``: pupil voice."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.interviews import schemas, service
from cpd_lessonstudy.models import PupilInterview
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.studies.routing import (
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
    study_router,
)

router = study_router("lesson studies: pupil interviews")
BASE = "/{study_id}/research-lessons/{lesson_id}/interviews"


@router.get(
    BASE,
    response_model=Page[schemas.InterviewRead],
    summary="List pupil interviews",
    responses=NOT_FOUND,
)
async def list_interviews(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
) -> Any:
    _, lesson = await lessons_service.lesson_for(session, study_id, lesson_id, principal=principal)
    rows, cursor = await paginate(
        session, service.interviews_query(lesson.id), PupilInterview.id, page
    )
    return Page[schemas.InterviewRead](
        items=await service.interview_reads(session, study_id, rows), next_cursor=cursor
    )


@router.post(
    BASE,
    status_code=201,
    response_model=schemas.InterviewRead,
    summary="Record a pupil interview",
    description="Short notes from interviewing a case pupil (or another pupil: no case pupil "
    "id) after a taught lesson, before the post-lesson discussion. Never the pupil's name.",
    responses={
        **WRITE_RESPONSES,
        422: {"description": "Unknown case pupil, or an identifier in the notes."},
    },
)
async def record_interview(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    data: schemas.InterviewCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    interview = await service.record_interview(
        session, study_id, lesson_id, principal=principal, data=data
    )
    read = (await service.interview_reads(session, study_id, [interview]))[0]
    return resource_response(
        read,
        status_code=201,
        location=f"{PREFIX}/{study_id}/research-lessons/{lesson_id}/interviews/{interview.id}",
    )


@router.get(
    BASE + "/{interview_id}",
    response_model=schemas.InterviewRead,
    summary="Get a pupil interview",
    responses=NOT_FOUND,
)
async def get_interview(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    interview_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    return resource_response(
        await service.get_interview(session, study_id, lesson_id, interview_id, principal=principal)
    )


@router.patch(
    BASE + "/{interview_id}",
    response_model=schemas.InterviewRead,
    summary="Change interview notes",
    description="With If-Match; only the member who interviewed, until the lesson is completed.",
    responses={**PATCH_RESPONSES, 409: {"description": "The lesson is completed."}},
)
async def update_interview(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    interview_id: uuid.UUID,
    data: schemas.InterviewUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_interview(
        session, study_id, lesson_id, interview_id, principal=principal
    )
    require_if_match(request, current)
    return resource_response(
        await service.update_interview(
            session, study_id, lesson_id, interview_id, principal=principal, data=data
        )
    )
